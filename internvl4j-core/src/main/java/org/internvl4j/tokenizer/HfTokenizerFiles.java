package org.internvl4j.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.internvl4j.util.Json;
import org.internvl4j.util.AtomicFiles;

/**
 * Writes the Hugging Face tokenizer files of an InternVL2 checkpoint (tokenizer_config.json,
 * added_tokens.json, special_tokens_map.json) for an N-piece SentencePiece model laid out like
 * InternLM2's: the last 6 pieces are the chat tokens, and the 9 InternVL tokens get ids N..N+8.
 */
public final class HfTokenizerFiles {
    /** HF names of the last 6 SentencePiece pieces ({@code [UNUSED_TOKEN_141..146]}), in id order. */
    public static final List<String> CHAT_TOKENS = List.of("<|plugin|>", "<|interpreter|>", "<|action_end|>",
            "<|action_start|>", "<|im_end|>", "<|im_start|>");
    /** The InternVL added tokens, in id order after the SentencePiece pieces. */
    public static final List<String> INTERNVL_TOKENS = List.of("<img>", "</img>", "<IMG_CONTEXT>", "<quad>", "</quad>",
            "<ref>", "</ref>", "<box>", "</box>");
    private static final String CHAT_TEMPLATE = "{{ bos_token }}{% for message in messages %}{{'<|im_start|>' + message['role']"
            + " + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
            + "{{ '<|im_start|>assistant\\n' }}{% endif %}";

    private HfTokenizerFiles() {
    }

    /** Writes tokenizer.model and the three JSON files into dir (created if needed). */
    public static void writeTokenizerDir(Path dir, SentencePieceModel model) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
        SentencePieceModelWriter.write(model, dir.resolve("tokenizer.model"));
        writeJson(dir, model.size());
    }

    /** Writes the three JSON files for a model of spPieces pieces. */
    public static void writeJson(Path dir, int spPieces) {
        Map<String, Object> decoder = new LinkedHashMap<>();
        decoder.put("0", token("<unk>", true));
        decoder.put("1", token("<s>", true));
        decoder.put("2", token("</s>", true));
        for (int k = 0; k < CHAT_TOKENS.size(); k++) decoder.put(Integer.toString(spPieces - 6 + k), token(CHAT_TOKENS.get(k), true));
        Map<String, Object> added = new LinkedHashMap<>();
        for (int k = 0; k < INTERNVL_TOKENS.size(); k++) {
            decoder.put(Integer.toString(spPieces + k), token(INTERNVL_TOKENS.get(k), true));
            added.put(INTERNVL_TOKENS.get(k), spPieces + k);
        }
        List<String> additional = new java.util.ArrayList<>(List.of("<|im_start|>", "<|im_end|>", "<|action_start|>",
                "<|action_end|>", "<|interpreter|>", "<|plugin|>"));
        additional.addAll(INTERNVL_TOKENS);

        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("add_bos_token", true);
        cfg.put("add_eos_token", false);
        cfg.put("added_tokens_decoder", decoder);
        cfg.put("additional_special_tokens", additional);
        cfg.put("auto_map", Map.of("AutoTokenizer", java.util.Arrays.asList("tokenization_internlm2.InternLM2Tokenizer", null)));
        cfg.put("bos_token", "<s>");
        cfg.put("chat_template", CHAT_TEMPLATE);
        cfg.put("clean_up_tokenization_spaces", false);
        cfg.put("eos_token", "</s>");
        cfg.put("model_max_length", 4096);
        cfg.put("pad_token", "</s>");
        cfg.put("tokenizer_class", "InternLM2Tokenizer");
        cfg.put("unk_token", "<unk>");

        Map<String, Object> stm = new LinkedHashMap<>();
        stm.put("additional_special_tokens", additional);
        stm.put("bos_token", token("<s>", null));
        stm.put("eos_token", token("</s>", null));
        stm.put("pad_token", token("</s>", null));
        stm.put("unk_token", token("<unk>", null));

        ObjectMapper json = Json.mapper().enable(SerializationFeature.INDENT_OUTPUT);
        try {
            AtomicFiles.write(dir.resolve("tokenizer_config.json"), json.writeValueAsBytes(cfg));
            AtomicFiles.write(dir.resolve("added_tokens.json"), json.writeValueAsBytes(added));
            AtomicFiles.write(dir.resolve("special_tokens_map.json"), json.writeValueAsBytes(stm));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write tokenizer JSON files in " + dir, e);
        }
    }

    private static Map<String, Object> token(String content, Boolean special) {
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("content", content);
        t.put("lstrip", false);
        t.put("normalized", false);
        t.put("rstrip", false);
        t.put("single_word", false);
        if (special != null) t.put("special", special);
        return t;
    }
}
