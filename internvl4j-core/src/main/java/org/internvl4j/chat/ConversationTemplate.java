package org.internvl4j.chat;

import java.util.List;
import java.util.Map;

/**
 * A conversation template of the InternVL2 family. All four use the MPT separator style of the official
 * {@code internvl_chat/internvl/conversation.py}: the system part, then the separator, then for every message
 * its role header followed by the message and the separator; a message that is null or empty leaves only the
 * role header (the official code tests {@code if message:}).
 *
 * @param name           the {@code template} value of config.json
 * @param systemTemplate the system part, with {@code {system_message}} where the message goes
 * @param systemMessage  the default system message
 * @param userRole       role header of user messages
 * @param assistantRole  role header of assistant messages
 * @param separator      written after the system part and after every message
 */
public record ConversationTemplate(
        String name, String systemTemplate, String systemMessage, String userRole, String assistantRole,
        String separator) {

    /** The InternVL2 system message (Hermes-2, internlm2-chat, phi3-chat). */
    public static final String INTERNVL2_SYSTEM_MESSAGE =
            "你是由上海人工智能实验室联合商汤科技开发的书生多模态大模型，英文名叫InternVL, 是一个有用无害的人工智能助手。";

    /** The InternVL2.5 system message. */
    public static final String INTERNVL2_5_SYSTEM_MESSAGE =
            "你是书生·万象，英文名是InternVL，是由上海人工智能实验室、清华大学及多家合作单位联合开发的多模态大语言模型。";

    public static final ConversationTemplate INTERNLM2_CHAT = chatml("internlm2-chat", INTERNVL2_SYSTEM_MESSAGE, "<|im_end|>");
    /** Same prompt as internlm2-chat at inference; they differ only in training-time BOS handling. */
    public static final ConversationTemplate HERMES_2 = chatml("Hermes-2", INTERNVL2_SYSTEM_MESSAGE, "<|im_end|>");
    public static final ConversationTemplate PHI3_CHAT = new ConversationTemplate(
            "phi3-chat", "<|system|>\n{system_message}", INTERNVL2_SYSTEM_MESSAGE, "<|user|>\n", "<|assistant|>\n",
            "<|end|>");
    /** Note the newline after {@code <|im_end|>}, unlike internlm2-chat. */
    public static final ConversationTemplate INTERNVL2_5 = chatml("internvl2_5", INTERNVL2_5_SYSTEM_MESSAGE, "<|im_end|>\n");

    private static final Map<String, ConversationTemplate> BY_NAME = Map.of(
            INTERNLM2_CHAT.name, INTERNLM2_CHAT, HERMES_2.name, HERMES_2, PHI3_CHAT.name, PHI3_CHAT,
            INTERNVL2_5.name, INTERNVL2_5);

    private static ConversationTemplate chatml(String name, String system, String sep) {
        return new ConversationTemplate(name, "<|im_start|>system\n{system_message}", system, "<|im_start|>user\n",
                "<|im_start|>assistant\n", sep);
    }

    /** The template named by config.json's {@code template}; an unknown name is an error listing the known ones. */
    public static ConversationTemplate forName(String name) {
        ConversationTemplate t = BY_NAME.get(name);
        if (t == null) {
            throw new IllegalArgumentException("config.json template '" + name + "' is not supported (supported: "
                    + String.join(", ", BY_NAME.keySet().stream().sorted().toList()) + ")");
        }
        return t;
    }

    /**
     * The stop token text: the separator without surrounding whitespace, as {@code chat()} computes
     * {@code eos_token_id = tokenizer.convert_tokens_to_ids(template.sep.strip())} and cuts the response there.
     */
    public String stopString() {
        return PyStrings.strip(separator);
    }

    /** One message of a conversation; {@code text} null (or empty) leaves the role header open. */
    public record Message(boolean user, String text) {}

    /** Conversation.get_prompt() for the MPT separator style. */
    public String prompt(String system, List<Message> messages) {
        StringBuilder sb = new StringBuilder(systemTemplate.replace("{system_message}", system)).append(separator);
        for (Message m : messages) {
            sb.append(m.user ? userRole : assistantRole);
            if (m.text != null && !m.text.isEmpty()) sb.append(m.text).append(separator);
        }
        return sb.toString();
    }
}
