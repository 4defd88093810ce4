package org.internvl4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.internvl4j.tokenizer.SentencePieceModel.Piece;
import org.internvl4j.tokenizer.SentencePieceModel.PieceType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerErrorsTest {
    static Path tinyA() {
        return TestFiles.testdata().resolve("hf/tiny-a");
    }

    static Path copyTinyA(Path dir) throws Exception {
        for (String f : List.of("tokenizer.model", "tokenizer_config.json", "added_tokens.json", "special_tokens_map.json")) {
            Files.copy(tinyA().resolve(f), dir.resolve(f));
        }
        return dir;
    }

    @Test
    void missingOrBrokenFilesAreNamed(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> InternLM2Tokenizer.load(dir))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("tokenizer.model not found");
        copyTinyA(dir);
        Files.writeString(dir.resolve("tokenizer_config.json"), "{ not json");
        assertThatThrownBy(() -> InternLM2Tokenizer.load(dir))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("tokenizer_config.json").hasMessageContaining("not valid JSON");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"added_tokens_decoder\": {\"x\": {\"content\": \"<a>\"}}}");
        assertThatThrownBy(() -> InternLM2Tokenizer.load(dir))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("added_tokens_decoder[\"x\"]").hasMessageContaining("integer");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"add_bos_token\": \"yes\"}");
        assertThatThrownBy(() -> InternLM2Tokenizer.load(dir))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("add_bos_token");
        Files.copy(tinyA().resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(dir.resolve("added_tokens.json"), "{\"<img>\": \"4096\"}");
        assertThatThrownBy(() -> InternLM2Tokenizer.load(dir))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("added_tokens.json").hasMessageContaining("<img>");
    }

    @Test
    void onlyTokenizerModelIsRequired(@TempDir Path dir) throws Exception {
        Files.copy(tinyA().resolve("tokenizer.model"), dir.resolve("tokenizer.model"));
        InternLM2Tokenizer bare = InternLM2Tokenizer.load(dir);
        InternLM2Tokenizer full = InternLM2Tokenizer.load(tinyA());
        assertThat(bare.vocabSize()).isEqualTo(4096);
        assertThat(bare.encode("Hello world")).containsExactly(full.encode("Hello world"));
        // without the HF files the chat tokens are plain user-defined pieces
        assertThat(bare.tokenId("[UNUSED_TOKEN_145]")).isEqualTo(4094);
        assertThatThrownBy(() -> bare.tokenId("<img>")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("<img>");
    }

    @Test
    void badIdsAndTextAreRejected() {
        InternLM2Tokenizer tok = InternLM2Tokenizer.load(tinyA());
        assertThatThrownBy(() -> tok.decode(new int[] {1, 5000}, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("5000").hasMessageContaining("out of range");
        assertThatThrownBy(() -> tok.decode(new int[] {-1}, true)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> tok.newStreamingDetokenizer(true).push(99999)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> tok.encode("a\uD800b"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unpaired surrogate");
        assertThatThrownBy(() -> tok.tokenId("no such token")).isInstanceOf(IllegalArgumentException.class);
        assertThat(tok.encode("a\uD83D\uDE00b")).startsWith(1); // a proper pair is fine
    }

    static List<Piece> basePieces(boolean withBytes) {
        List<Piece> p = new ArrayList<>();
        p.add(new Piece("<unk>", 0, PieceType.UNKNOWN));
        p.add(new Piece("<s>", 0, PieceType.CONTROL));
        p.add(new Piece("</s>", 0, PieceType.CONTROL));
        if (withBytes) for (int b = 0; b < 256; b++) p.add(new Piece(String.format("<0x%02X>", b), 0, PieceType.BYTE));
        p.add(new Piece("a", -1, PieceType.NORMAL));
        return p;
    }

    static SentencePieceModel model(List<Piece> pieces, boolean byteFallback) {
        var ts = SentencePieceModel.TrainerSpec.defaults().withModel(SentencePieceModel.ModelType.BPE, pieces.size(), byteFallback);
        return new SentencePieceModel(pieces, ts, SentencePieceModel.NormalizerSpec.identity(false, false, true));
    }

    @Test
    void inconsistentModelsAreRejected() {
        assertThatThrownBy(() -> new SentencePieceProcessor(model(basePieces(true), false)))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("byte_fallback is false");
        List<Piece> missing = basePieces(true);
        missing.remove(3 + 0x41);
        assertThatThrownBy(() -> new SentencePieceProcessor(model(missing, true)))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("<0x41> is missing");
        List<Piece> noUnk = basePieces(false);
        noUnk.set(0, new Piece("<unk>", 0, PieceType.CONTROL));
        assertThatThrownBy(() -> new SentencePieceProcessor(model(noUnk, false)))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("no UNKNOWN piece");
        List<Piece> dup = basePieces(false);
        dup.add(new Piece("a", -2, PieceType.NORMAL));
        assertThatThrownBy(() -> new SentencePieceProcessor(model(dup, false)))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("\"a\"").hasMessageContaining("already defined");
        // a minimal valid model: unknown characters without byte fallback become one <unk> per run
        SentencePieceProcessor sp = new SentencePieceProcessor(model(basePieces(false), false));
        assertThat(sp.encode("aXYa")).containsExactly(3, 0, 3);
        assertThat(sp.decode(new int[] {3, 0, 1, 3})).isEqualTo("a \u2047 a");
    }
}
