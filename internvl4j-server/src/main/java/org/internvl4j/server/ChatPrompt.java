package org.internvl4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.internvl4j.chat.ChatQuery;
import org.internvl4j.chat.ConversationTemplate;
import org.internvl4j.image.PixelValues;

/**
 * OpenAI chat messages to the InternVL2 prompt, as LMDeploy's InternVL2 chat template lays them out: system
 * messages make the system part (the template's default without one), user and assistant messages follow in
 * order, and the prompt ends with the assistant's header. A user message's images go where its text has
 * {@code <image>} placeholders, one image each; without placeholders all of its images share one
 * {@code <img>...</img>} block before the text followed by a newline (LMDeploy's
 * {@code f'<img>{IMAGE_TOKEN * n_images}</img>\n' + prompt}), which is what {@link ChatQuery} gives for one
 * placeholder filled by all images' tiles.
 */
final class ChatPrompt {
    /** The prompt text (placeholders expanded) and its images in order. */
    record Built(String text, List<PixelValues> images) {}

    private ChatPrompt() {
    }

    static Built build(JsonNode messages, ConversationTemplate template, ImageInputs imageInputs, int tokensPerTile) {
        if (messages == null || messages.isNull()) throw ApiError.badRequest("'messages' is required", "messages");
        if (!messages.isArray()) throw ApiError.badRequest("'messages' must be an array, got " + Fields.describe(messages), "messages");
        if (messages.isEmpty()) throw ApiError.badRequest("'messages' must not be empty", "messages");
        StringBuilder system = null;
        List<ConversationTemplate.Message> turns = new ArrayList<>();
        List<PixelValues> images = new ArrayList<>();
        List<Integer> tilesPerPlaceholder = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            String where = "messages[" + i + "]";
            JsonNode m = messages.get(i);
            if (!m.isObject()) throw ApiError.badRequest(where + " must be an object", where);
            String role = Fields.string(m, "role");
            if (role == null) throw ApiError.badRequest(where + " has no 'role'", where + ".role");
            JsonNode content = m.get("content");
            switch (role) {
                case "system", "developer" -> {
                    String text = textOnly(content, where);
                    if (!turns.isEmpty()) throw ApiError.badRequest(where + ": system messages must come before the conversation", where + ".role");
                    system = system == null ? new StringBuilder(text) : system.append('\n').append(text);
                }
                case "assistant" -> turns.add(new ConversationTemplate.Message(false, textOnly(content, where)));
                case "user" -> turns.add(new ConversationTemplate.Message(true,
                        userText(content, where, imageInputs, images, tilesPerPlaceholder)));
                default -> throw ApiError.badRequest(where + ": role '" + role + "' is not supported (system, user, assistant)", where + ".role");
            }
        }
        if (turns.isEmpty() || !turns.get(turns.size() - 1).user()) {
            throw ApiError.badRequest("the last message must be a user message", "messages");
        }
        turns.add(new ConversationTemplate.Message(false, null));
        String query = template.prompt(system == null ? template.systemMessage() : system.toString(), turns);
        return new Built(ChatQuery.expandPlaceholders(query, tilesPerPlaceholder, tokensPerTile), List.copyOf(images));
    }

    private static String textOnly(JsonNode content, String where) {
        if (content == null || content.isNull()) return "";
        if (content.isTextual()) return content.textValue();
        if (!content.isArray()) throw ApiError.badRequest(where + ".content must be a string or an array of parts", where + ".content");
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < content.size(); k++) {
            JsonNode part = content.get(k);
            String type = part.isObject() ? Fields.string(part, "type") : null;
            if (!"text".equals(type)) {
                throw ApiError.badRequest(where + ".content[" + k + "]: only text parts are allowed here", where + ".content[" + k + "]");
            }
            if (!sb.isEmpty()) sb.append('\n');
            sb.append(textOf(part, where + ".content[" + k + "]"));
        }
        return sb.toString();
    }

    private static String textOf(JsonNode part, String where) {
        String t = Fields.string(part, "text");
        if (t == null) throw ApiError.badRequest(where + " has no 'text'", where + ".text");
        return t;
    }

    private static String userText(JsonNode content, String where, ImageInputs imageInputs, List<PixelValues> images,
                                    List<Integer> tilesPerPlaceholder) {
        if (content == null || content.isNull()) throw ApiError.badRequest(where + " has no 'content'", where + ".content");
        if (content.isTextual()) {
            if (ChatQuery.countPlaceholders(content.textValue()) > 0) {
                throw ApiError.badRequest(where + ": the text has <image> placeholders but the message has no images", where + ".content");
            }
            return content.textValue();
        }
        if (!content.isArray()) throw ApiError.badRequest(where + ".content must be a string or an array of parts", where + ".content");
        StringBuilder text = new StringBuilder();
        List<PixelValues> mine = new ArrayList<>();
        for (int k = 0; k < content.size(); k++) {
            String at = where + ".content[" + k + "]";
            JsonNode part = content.get(k);
            if (!part.isObject()) throw ApiError.badRequest(at + " must be an object", at);
            String type = Fields.string(part, "type");
            if ("text".equals(type)) {
                if (!text.isEmpty()) text.append('\n');
                text.append(textOf(part, at));
            } else if ("image_url".equals(type)) {
                JsonNode iu = part.get("image_url");
                String url = iu == null ? null : iu.isTextual() ? iu.textValue() : iu.isObject() ? Fields.string(iu, "url") : null;
                if (url == null) throw ApiError.badRequest(at + ".image_url.url is required", at + ".image_url");
                mine.add(imageInputs.load(url, at + ".image_url"));
                imageInputs.checkTiles(images.stream().mapToInt(PixelValues::tiles).sum()
                        + mine.stream().mapToInt(PixelValues::tiles).sum(), at + ".image_url");
            } else {
                throw ApiError.badRequest(at + ": part type '" + type + "' is not supported (text, image_url)", at + ".type");
            }
        }
        String t = text.toString();
        int placeholders = ChatQuery.countPlaceholders(t);
        if (mine.isEmpty() && placeholders > 0) {
            throw ApiError.badRequest(where + ": the text has <image> placeholders but the message has no images", where + ".content");
        }
        if (!mine.isEmpty()) {
            if (placeholders == 0) {
                t = ChatQuery.IMAGE_PLACEHOLDER + "\n" + t;
                tilesPerPlaceholder.add(mine.stream().mapToInt(PixelValues::tiles).sum());
            } else if (placeholders == mine.size()) {
                for (PixelValues p : mine) tilesPerPlaceholder.add(p.tiles());
            } else {
                throw ApiError.badRequest(where + ": the text has " + placeholders + " <image> placeholders but "
                        + mine.size() + " images", where + ".content");
            }
            images.addAll(mine);
        }
        return t;
    }
}
