package org.internvl4j.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.internvl4j.tokenizer.HfTokenizerFiles;
import org.internvl4j.tokenizer.LlamaTokenizerFiles;
import org.internvl4j.tokenizer.SentencePieceModel;
import org.internvl4j.tokenizer.SentencePieceModel.NormalizerSpec;
import org.internvl4j.tokenizer.TinyBpeTrainer;
import org.internvl4j.tokenizer.TokenizerException;
import org.internvl4j.util.AtomicFiles;

/**
 * Where the tokenizer files of a tiny checkpoint come from. Each kind writes tokenizer.model,
 * tokenizer_config.json, added_tokens.json and special_tokens_map.json (or none of them) into the
 * checkpoint directory and returns N, the ids before the 9 InternVL tokens (for InternLM2 the SentencePiece piece
 * count); the vocabulary is then N + 9.
 * The id layout is InternLM2's: unk 0, s 1, /s 2, bytes 3..258, the 6 chat tokens as the last 6
 * pieces, then the 9 InternVL tokens.
 */
public sealed interface TinyTokenizer {
    /** Pieces of the default trained tokenizer; the built-in corpus supports up to about 1770. */
    int DEFAULT_PIECES = 1536;

    List<String> FILES = List.of("tokenizer.model", "tokenizer_config.json", "added_tokens.json", "special_tokens_map.json");

    /** Writes the files into dir and returns the number of SentencePiece pieces. */
    int write(Path dir, TinyCheckpoint.Variant variant) throws IOException;

    /**
     * A BPE tokenizer trained by {@link TinyBpeTrainer} on corpus (null: the built-in multilingual
     * corpus, tiny-corpus.txt next to this class, written for this project). Variants a and b get the real InternLM2 normalizer, c the reference's "alt" flags
     * (dummy prefix, extra whitespace removed), as make_tiny.py does.
     */
    record Trained(int pieces, Path corpus) implements TinyTokenizer {
        @Override
        public int write(Path dir, TinyCheckpoint.Variant variant) throws IOException {
            String text;
            if (corpus == null) {
                try (InputStream in = TinyTokenizer.class.getResourceAsStream("tiny-corpus.txt")) {
                    text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
            } else {
                text = Files.readString(corpus);
            }
            // The tokenizer splits these out before SentencePiece sees the text, so a piece spelling one would be dead
            // weight and would make len(tokenizer) smaller than vocab_size.
            for (String special : specialTokens()) text = text.replace(special, "\n");
            boolean alt = variant.altTokenizer;
            SentencePieceModel model;
            try {
                model = TinyBpeTrainer.train(text, pieces, NormalizerSpec.identity(alt, alt, true));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException((corpus == null ? "built-in corpus" : corpus.toString()) + ": " + e.getMessage(), e);
            }
            HfTokenizerFiles.writeTokenizerDir(dir, model);
            return model.size();
        }
    }

    /**
     * A Qwen2-style byte-level BPE tokenizer.json without merges (see {@link ByteLevelTokenizerFiles}); stale
     * SentencePiece files are removed. Qwen2's layout for the qwen2 variant, Llama 3's for llama3.
     */
    record ByteLevel(ByteLevelTokenizerFiles.Flavor flavor) implements TinyTokenizer {
        /** Qwen2's layout. */
        public ByteLevel() {
            this(ByteLevelTokenizerFiles.Flavor.QWEN2);
        }

        @Override
        public int write(Path dir, TinyCheckpoint.Variant variant) throws IOException {
            for (String f : FILES) Files.deleteIfExists(dir.resolve(f));
            return ByteLevelTokenizerFiles.write(dir, flavor);
        }
    }

    /**
     * A Llama-style SentencePiece tokenizer (transformers' LlamaTokenizer files) trained on corpus (null: the built-in
     * corpus), imitating Phi-3-mini's or Yi's (see {@link LlamaTokenizerFiles.Flavor}). For the phi3 and llama variants.
     * Returns the ids before the InternVL tokens: pieces + 11 added chat tokens for Phi-3, pieces for Yi.
     */
    record Llama(LlamaTokenizerFiles.Flavor flavor, int pieces, Path corpus) implements TinyTokenizer {
        @Override
        public int write(Path dir, TinyCheckpoint.Variant variant) throws IOException {
            String text;
            if (corpus == null) {
                try (InputStream in = TinyTokenizer.class.getResourceAsStream("tiny-corpus.txt")) {
                    text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
            } else {
                text = Files.readString(corpus);
            }
            for (String special : specialTokens()) text = text.replace(special, "\n");
            for (String special : LlamaTokenizerFiles.PHI3_TOKENS) text = text.replace(special, "\n");
            Files.deleteIfExists(dir.resolve("tokenizer.json"));
            SentencePieceModel model;
            try {
                model = LlamaTokenizerFiles.model(flavor, text, pieces);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException((corpus == null ? "built-in corpus" : corpus.toString()) + ": " + e.getMessage(), e);
            }
            return LlamaTokenizerFiles.write(dir, flavor, model);
        }
    }

    /** No tokenizer files (stale ones are removed); the vocabulary is pieces + 9. */
    record None(int pieces) implements TinyTokenizer {
        @Override
        public int write(Path dir, TinyCheckpoint.Variant variant) throws IOException {
            for (String f : FILES) Files.deleteIfExists(dir.resolve(f));
            Files.deleteIfExists(dir.resolve("tokenizer.json"));
            return pieces;
        }
    }

    /** Copies a tokenizer.model laid out like InternLM2's and writes the HF files for it. */
    record FromModel(Path model) implements TinyTokenizer {
        @Override
        public int write(Path dir, TinyCheckpoint.Variant variant) throws IOException {
            int n = checkedPieces(model);
            AtomicFiles.copy(model, dir.resolve("tokenizer.model"));
            HfTokenizerFiles.writeJson(dir, n);
            return n;
        }
    }

    /** Copies tokenizer.model and the three HF files from another checkpoint or tokenizer folder. */
    record FromDir(Path source) implements TinyTokenizer {
        @Override
        public int write(Path dir, TinyCheckpoint.Variant variant) throws IOException {
            int n = checkedPieces(source.resolve("tokenizer.model"));
            for (String f : FILES) {
                Path src = source.resolve(f);
                if (!Files.isRegularFile(src)) throw new CheckpointException(src + ": not found (a tokenizer folder needs " + String.join(", ", FILES) + ")");
                AtomicFiles.copy(src, dir.resolve(f));
            }
            return n;
        }
    }

    /** The 18 added-token strings of InternVL2: unk, s, /s, the 6 chat tokens and the 9 InternVL tokens. */
    private static List<String> specialTokens() {
        List<String> all = new java.util.ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        all.addAll(HfTokenizerFiles.CHAT_TOKENS);
        all.addAll(HfTokenizerFiles.INTERNVL_TOKENS);
        all.addAll(TinyBpeTrainer.CHAT_PIECES);
        return all;
    }

    /** The piece count of a SentencePiece model whose last 6 pieces are [UNUSED_TOKEN_141..146], like InternLM2's. */
    static int checkedPieces(Path model) {
        SentencePieceModel m;
        try {
            m = SentencePieceModel.read(model);
        } catch (TokenizerException e) {
            throw new CheckpointException(model + ": not a SentencePiece model: " + e.getMessage(), e);
        }
        int n = m.size();
        List<String> last = m.pieces().subList(Math.max(0, n - 6), n).stream().map(SentencePieceModel.Piece::piece).toList();
        if (n < 259 + 6 || !last.equals(TinyBpeTrainer.CHAT_PIECES)) {
            throw new CheckpointException(model + ": expected a SentencePiece model whose last 6 pieces are "
                    + "[UNUSED_TOKEN_141]..[UNUSED_TOKEN_146], like InternLM2's (" + n + " pieces, the last are " + last + ")");
        }
        return n;
    }
}
