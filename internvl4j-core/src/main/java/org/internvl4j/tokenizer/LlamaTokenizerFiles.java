package org.internvl4j.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.internvl4j.tokenizer.SentencePieceModel.NormalizerSpec;
import org.internvl4j.tokenizer.SentencePieceModel.Piece;
import org.internvl4j.tokenizer.SentencePieceModel.PieceType;
import org.internvl4j.tokenizer.SentencePieceModel.TrainerSpec;
import org.internvl4j.util.Json;

/**
 * Tiny tokenizers in the layout of transformers' {@code LlamaTokenizer} checkpoints, for test checkpoints of the
 * Llama-family language models that use SentencePiece: a BPE model trained by {@link TinyBpeTrainer} with the
 * normalizer flags of the real model, plus tokenizer_config.json, special_tokens_map.json and added_tokens.json.
 * The flags and tokens below are those of the published files as this project understood them (see docs/family.md).
 */
public final class LlamaTokenizerFiles {
    /** Phi-3-mini's added chat tokens after the 32000 Llama 2 pieces (ids 32000..32010), in id order. */
    public static final List<String> PHI3_TOKENS = List.of("<|endoftext|>", "<|assistant|>", "<|placeholder1|>",
            "<|placeholder2|>", "<|placeholder3|>", "<|placeholder4|>", "<|system|>", "<|end|>", "<|placeholder5|>",
            "<|placeholder6|>", "<|user|>");
    /** Yi's ChatML tokens, pieces of its SentencePiece model (ids 6 and 7 in Yi's 64000). */
    public static final List<String> YI_CHAT_PIECES = List.of("<|im_start|>", "<|im_end|>");

    /** Which model's tokenizer to imitate. */
    public enum Flavor {
        /**
         * Phi-3-mini (InternVL2-4B): Llama 2's SentencePiece model (identity normalizer, add_dummy_prefix, whitespace
         * kept, byte fallback), {@code legacy: false}, BOS added, 11 added tokens after the pieces (the chat ones
         * with rstrip), then the 9 InternVL tokens.
         */
        PHI3,
        /**
         * Yi (Nous-Hermes-2-Yi-34B, InternVL2-40B): no dummy prefix, whitespace kept, byte fallback; BOS
         * {@code <|startoftext|>} (id 1) and {@code <|endoftext|>} (id 2), {@code <|im_start|>}/{@code <|im_end|>}
         * pieces of the model, no BOS added, {@code legacy} left at the class default (true); then the 9 InternVL tokens.
         */
        YI
    }

    private LlamaTokenizerFiles() {
    }

    /** The SentencePiece model of a flavor: trained on corpus with that flavor's normalizer flags and special pieces. */
    public static SentencePieceModel model(Flavor flavor, String corpus, int pieces) {
        boolean phi3 = flavor == Flavor.PHI3;
        List<String> extra = phi3 ? List.of() : YI_CHAT_PIECES;
        // the trainer ends with its 6 InternLM2 chat pieces: train 6 - extra more pieces, then replace those
        SentencePieceModel m = TinyBpeTrainer.train(corpus, pieces + TinyBpeTrainer.CHAT_PIECES.size() - extra.size(),
                NormalizerSpec.identity(phi3, false, true));
        List<Piece> list = new ArrayList<>(m.pieces().subList(0, m.size() - TinyBpeTrainer.CHAT_PIECES.size()));
        String bos = phi3 ? "<s>" : "<|startoftext|>";
        String eos = phi3 ? "</s>" : "<|endoftext|>";
        list.set(1, new Piece(bos, 0f, PieceType.CONTROL));
        list.set(2, new Piece(eos, 0f, PieceType.CONTROL));
        for (String p : extra) list.add(new Piece(p, 0f, PieceType.USER_DEFINED));
        TrainerSpec t = m.trainerSpec();
        TrainerSpec spec = new TrainerSpec(t.modelType(), list.size(), t.byteFallback(), t.treatWhitespaceAsSuffix(),
                t.unkId(), t.bosId(), t.eosId(), t.padId(), t.unkPiece(), bos, eos, t.padPiece(), t.unkSurface(), t.unknownFields());
        return new SentencePieceModel(list, spec, m.normalizerSpec());
    }

    /** Writes tokenizer.model and the three JSON files; returns the id of the first InternVL token (the vocabulary is it + 9). */
    public static int write(Path dir, Flavor flavor, SentencePieceModel model) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
        SentencePieceModelWriter.write(model, dir.resolve("tokenizer.model"));
        int n = model.size();
        boolean phi3 = flavor == Flavor.PHI3;
        Map<String, Object> decoder = new LinkedHashMap<>();
        decoder.put("0", token("<unk>", true, false));
        decoder.put("1", token(model.pieces().get(1).piece(), true, false));
        decoder.put("2", token(model.pieces().get(2).piece(), true, false));
        int next = n;
        if (phi3) {
            for (String t : PHI3_TOKENS) decoder.put(Integer.toString(next++), token(t, true, !t.equals("<|endoftext|>")));
        } else {
            for (String t : YI_CHAT_PIECES) decoder.put(Integer.toString(model.pieces().indexOf(new Piece(t, 0f, PieceType.USER_DEFINED))), token(t, true, false));
        }
        int firstInternVL = next;
        Map<String, Object> added = new LinkedHashMap<>();
        for (String t : HfTokenizerFiles.INTERNVL_TOKENS) {
            decoder.put(Integer.toString(next), token(t, true, false));
            added.put(t, next++);
        }
        List<String> additional = new ArrayList<>(HfTokenizerFiles.INTERNVL_TOKENS);
        String bos = model.pieces().get(1).piece();
        String eos = phi3 ? "<|endoftext|>" : "<|im_end|>";
        String pad = phi3 ? "<|endoftext|>" : "<unk>";

        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("add_bos_token", phi3);
        cfg.put("add_eos_token", false);
        cfg.put("added_tokens_decoder", decoder);
        cfg.put("additional_special_tokens", additional);
        cfg.put("bos_token", bos);
        cfg.put("clean_up_tokenization_spaces", false);
        cfg.put("eos_token", eos);
        if (phi3) cfg.put("legacy", false);
        cfg.put("model_max_length", phi3 ? 131072 : 4096);
        cfg.put("pad_token", pad);
        cfg.put("sp_model_kwargs", Map.of());
        cfg.put("tokenizer_class", "LlamaTokenizer");
        cfg.put("unk_token", "<unk>");
        cfg.put("use_default_system_prompt", false);

        Map<String, Object> stm = new LinkedHashMap<>();
        stm.put("additional_special_tokens", additional);
        stm.put("bos_token", token(bos, null, false));
        stm.put("eos_token", token(eos, null, false));
        stm.put("pad_token", token(pad, null, false));
        stm.put("unk_token", token("<unk>", null, false));

        ObjectMapper json = Json.mapper().enable(SerializationFeature.INDENT_OUTPUT);
        try {
            json.writeValue(dir.resolve("tokenizer_config.json").toFile(), cfg);
            json.writeValue(dir.resolve("added_tokens.json").toFile(), added);
            json.writeValue(dir.resolve("special_tokens_map.json").toFile(), stm);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write tokenizer JSON files in " + dir, e);
        }
        return firstInternVL;
    }

    private static Map<String, Object> token(String content, Boolean special, boolean rstrip) {
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("content", content);
        t.put("lstrip", false);
        t.put("normalized", false);
        t.put("rstrip", rstrip);
        t.put("single_word", false);
        if (special != null) t.put("special", special);
        return t;
    }
}
