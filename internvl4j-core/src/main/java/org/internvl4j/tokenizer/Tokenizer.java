package org.internvl4j.tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Text to token ids and back, as the checkpoint's Hugging Face tokenizer does it. Two implementations:
 * {@link InternLM2Tokenizer} (SentencePiece, {@code tokenizer.model}) and {@link ByteLevelBpeTokenizer}
 * (byte-level BPE from {@code tokenizer.json}: Qwen2/2.5, Llama 3). {@link #load(Path)} picks one from a
 * folder's files. Implementations are immutable and safe to share between threads.
 */
public interface Tokenizer {

    /** {@code tokenizer(text).input_ids}: with the special tokens the tokenizer adds by default (e.g. BOS). */
    default int[] encode(String text) {
        return encode(text, true);
    }

    /** With addSpecialTokens false this is {@code add_special_tokens=False}: no BOS/EOS or template tokens. */
    int[] encode(String text, boolean addSpecialTokens);

    /** {@code tokenizer.decode(ids, skip_special_tokens=...)}. */
    String decode(int[] ids, boolean skipSpecialTokens);

    /** {@code tokenizer.decode(ids)}: special tokens kept. */
    default String decode(int[] ids) {
        return decode(ids, false);
    }

    /** A detokenizer for streaming whose pieces concatenate to exactly {@link #decode(int[], boolean)}. */
    Detokenizer newStreamingDetokenizer(boolean skipSpecialTokens);

    /** {@code len(tokenizer)}: the distinct tokens of the vocabulary plus the added tokens. */
    int vocabSize();

    /** The id of the BOS token, or -1 when the tokenizer has none. */
    int bosId();

    /** The id of the tokenizer's EOS token ({@code eos_token}), or -1 when it has none. */
    int eosId();

    /** The id of an added token or a vocabulary token; throws IllegalArgumentException if the text is neither. */
    int tokenId(String tokenText);

    /** The token text of an id (for byte-level BPE in its byte-to-unicode form); throws for ids out of range. */
    String idToToken(int id);

    /** Whether the id is a special token (skipped by {@code skip_special_tokens=True}). */
    boolean isSpecial(int id);

    /** The added tokens (special or not): content -> id, in id order. */
    Map<String, Integer> addedTokens();

    /**
     * Loads the tokenizer of a checkpoint or tokenizer folder: {@code tokenizer.model} means SentencePiece,
     * under transformers' LlamaTokenizer rules ({@link LlamaTokenizer}: Phi-3, Yi) when tokenizer_config.json names
     * {@code LlamaTokenizer} or {@code LlamaTokenizerFast} as its {@code tokenizer_class}, else with InternLM2's Hugging Face rules (what InternVL2's {@code use_fast=False} loads, even when a
     * tokenizer.json lies beside it); otherwise {@code tokenizer.json} (or a gzip'ed {@code tokenizer.json.gz})
     * means byte-level BPE; otherwise {@code vocab.json} + {@code merges.txt} mean the slow Qwen2Tokenizer layout
     * (see {@link ByteLevelBpeTokenizer#loadVocabAndMerges}).
     */
    static Tokenizer load(Path dir) {
        if (Files.isRegularFile(dir.resolve("tokenizer.model"))) {
            return isLlamaTokenizer(dir) ? LlamaTokenizer.load(dir) : InternLM2Tokenizer.load(dir);
        }
        if (Files.isRegularFile(dir.resolve("tokenizer.json")) || Files.isRegularFile(dir.resolve("tokenizer.json.gz"))) {
            return ByteLevelBpeTokenizer.load(dir);
        }
        if (Files.isRegularFile(dir.resolve("vocab.json")) && Files.isRegularFile(dir.resolve("merges.txt"))) {
            return ByteLevelBpeTokenizer.loadVocabAndMerges(dir);
        }
        throw new TokenizerException("tokenizer.model not found: " + dir.resolve("tokenizer.model") + "; nor is there a"
                + " tokenizer.json or vocab.json + merges.txt (byte-level BPE): not a tokenizer folder");
    }

    /** Whether the folder's tokenizer_config.json names transformers' Llama tokenizer class. */
    private static boolean isLlamaTokenizer(Path dir) {
        Path cfg = dir.resolve("tokenizer_config.json");
        if (!Files.isRegularFile(cfg)) return false;
        try {
            com.fasterxml.jackson.databind.JsonNode n = new com.fasterxml.jackson.databind.ObjectMapper().readTree(cfg.toFile());
            String cls = n == null ? "" : n.path("tokenizer_class").asText("");
            return cls.equals("LlamaTokenizer") || cls.equals("LlamaTokenizerFast");
        } catch (java.io.IOException e) {
            throw new TokenizerException(cfg + ": not valid JSON: " + e.getMessage(), e);
        }
    }
}
