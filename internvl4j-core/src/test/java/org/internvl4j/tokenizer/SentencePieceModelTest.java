package org.internvl4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;

import org.internvl4j.tokenizer.SentencePieceModel.ModelType;
import org.internvl4j.tokenizer.SentencePieceModel.PieceType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SentencePieceModelTest {

    @Test
    void readsTheRealInternLM2Model() throws Exception {
        SentencePieceModel m = SentencePieceModel.read(TestFiles.requireRealTokenizer().resolve("tokenizer.model"));
        // Counts and flags from the shared reference README ("SentencePiece model facts").
        assertThat(m.size()).isEqualTo(92544);
        Map<PieceType, Integer> counts = new EnumMap<>(PieceType.class);
        m.pieces().forEach(p -> counts.merge(p.type(), 1, Integer::sum));
        assertThat(counts).containsEntry(PieceType.UNKNOWN, 1).containsEntry(PieceType.CONTROL, 2)
                .containsEntry(PieceType.BYTE, 256).containsEntry(PieceType.NORMAL, 92093)
                .containsEntry(PieceType.USER_DEFINED, 192);
        assertThat(m.trainerSpec().modelType()).isEqualTo(ModelType.BPE);
        assertThat(m.trainerSpec().byteFallback()).isTrue();
        assertThat(m.trainerSpec().vocabSize()).isEqualTo(353);
        assertThat(m.trainerSpec().unkId()).isZero();
        assertThat(m.trainerSpec().bosId()).isEqualTo(1);
        assertThat(m.trainerSpec().eosId()).isEqualTo(2);
        assertThat(m.trainerSpec().padId()).isEqualTo(-1);
        assertThat(m.normalizerSpec().name()).isEqualTo("identity");
        assertThat(m.normalizerSpec().precompiledCharsmap()).isEmpty();
        assertThat(m.normalizerSpec().addDummyPrefix()).isFalse();
        assertThat(m.normalizerSpec().removeExtraWhitespaces()).isFalse();
        assertThat(m.normalizerSpec().escapeWhitespaces()).isTrue();
        assertThat(m.pieces().get(3).piece()).isEqualTo("<0x00>");
        assertThat(m.pieces().get(354).piece()).isEqualTo("\u0000");
        assertThat(m.pieces().get(92542).piece()).isEqualTo("[UNUSED_TOKEN_145]");

        // Writing it back gives a model that reads back the same, field by field.
        SentencePieceModel again = SentencePieceModel.parse(SentencePieceModelWriter.toBytes(m));
        assertSameModel(again, m);
    }

    @Test
    void writtenModelReadsBack() {
        SentencePieceModel m = TinyBpeTrainer.train(TinyCorpus.TEXT, 400);
        SentencePieceModel back = SentencePieceModel.parse(SentencePieceModelWriter.toBytes(m));
        assertSameModel(back, m);
    }

    @Test
    void tinyCheckpointLayout(@TempDir Path dir) throws Exception {
        SentencePieceModel m = TinyBpeTrainer.train(TinyCorpus.TEXT, 400);
        assertThat(m.size()).isEqualTo(400);
        assertThat(m.pieces().get(0).piece()).isEqualTo("<unk>");
        assertThat(m.pieces().get(0).type()).isEqualTo(PieceType.UNKNOWN);
        assertThat(m.pieces().get(1).type()).isEqualTo(PieceType.CONTROL);
        assertThat(m.pieces().get(2).piece()).isEqualTo("</s>");
        for (int b = 0; b < 256; b++) {
            assertThat(m.pieces().get(3 + b).piece()).isEqualTo(String.format("<0x%02X>", b));
            assertThat(m.pieces().get(3 + b).type()).isEqualTo(PieceType.BYTE);
        }
        for (int k = 0; k < 6; k++) {
            assertThat(m.pieces().get(394 + k).piece()).isEqualTo("[UNUSED_TOKEN_" + (141 + k) + "]");
            assertThat(m.pieces().get(394 + k).type()).isEqualTo(PieceType.USER_DEFINED);
        }
        for (int i = 260; i < 394; i++) {
            assertThat(m.pieces().get(i).type()).isEqualTo(PieceType.NORMAL);
            assertThat(m.pieces().get(i).score()).isLessThan(m.pieces().get(i - 1).score());
        }
        HfTokenizerFiles.writeTokenizerDir(dir, m);
        InternLM2Tokenizer tok = InternLM2Tokenizer.load(dir);
        assertThat(tok.vocabSize()).isEqualTo(409);
        assertThat(tok.tokenId("<|im_end|>")).isEqualTo(398);
        assertThat(tok.tokenId("<|im_start|>")).isEqualTo(399);
        assertThat(tok.tokenId("<img>")).isEqualTo(400);
        assertThat(tok.tokenId("<IMG_CONTEXT>")).isEqualTo(402);
        assertThat(tok.tokenId("</box>")).isEqualTo(408);
        String text = "<|im_start|>user\n<img><IMG_CONTEXT></img>\nDescribe the image.<|im_end|>";
        int[] ids = tok.encode(text);
        assertThat(ids[0]).isEqualTo(1);
        assertThat(ids[1]).isEqualTo(399);
        assertThat(tok.decode(ids, true)).isEqualTo("user\n\nDescribe the image.");
    }

    @Test
    void trainerIsDeterministic() {
        byte[] a = SentencePieceModelWriter.toBytes(TinyBpeTrainer.train(TinyCorpus.TEXT, 420));
        byte[] b = SentencePieceModelWriter.toBytes(TinyBpeTrainer.train(TinyCorpus.TEXT, 420));
        assertThat(a).isEqualTo(b);
        assertThatThrownBy(() -> TinyBpeTrainer.train(TinyCorpus.TEXT, 300))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("too small");
    }

    @Test
    void rejectsMalformedFiles(@TempDir Path dir) throws Exception {
        byte[] good = SentencePieceModelWriter.toBytes(TinyBpeTrainer.train(TinyCorpus.TEXT, 420));
        assertThatThrownBy(() -> SentencePieceModel.parse(Arrays.copyOf(good, good.length - 3)))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("malformed");
        assertThatThrownBy(() -> SentencePieceModel.parse(new byte[] {0x0F}))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("wire type 7");
        assertThatThrownBy(() -> SentencePieceModel.parse(new byte[0]))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("no pieces");
        assertThatThrownBy(() -> SentencePieceModel.parse("{\"not\": \"a model\"}".getBytes()))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("ModelProto");
        Path f = dir.resolve("tokenizer.model");
        Files.write(f, Arrays.copyOf(good, 100));
        assertThatThrownBy(() -> SentencePieceModel.read(f))
                .isInstanceOf(TokenizerException.class).hasMessageContaining(f.toString());
        // A model whose type is not BPE is refused by the processor with a clear message.
        SentencePieceModel m = SentencePieceModel.parse(good);
        SentencePieceModel unigram = new SentencePieceModel(m.pieces(),
                m.trainerSpec().withModel(ModelType.UNIGRAM, 420, true), m.normalizerSpec());
        assertThatThrownBy(() -> new SentencePieceProcessor(unigram))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("UNIGRAM").hasMessageContaining("not supported");
    }

    static void assertSameModel(SentencePieceModel actual, SentencePieceModel expected) {
        assertThat(actual.pieces()).isEqualTo(expected.pieces());
        var a = actual.trainerSpec();
        var e = expected.trainerSpec();
        assertThat(a.withModel(a.modelType(), a.vocabSize(), a.byteFallback()).toString().replaceAll("\\[B@\\w+", ""))
                .isEqualTo(e.toString().replaceAll("\\[B@\\w+", ""));
        assertThat(a.unknownFields()).isEqualTo(e.unknownFields());
        var an = actual.normalizerSpec();
        var en = expected.normalizerSpec();
        assertThat(an.name()).isEqualTo(en.name());
        assertThat(an.precompiledCharsmap()).isEqualTo(en.precompiledCharsmap());
        assertThat(an.addDummyPrefix()).isEqualTo(en.addDummyPrefix());
        assertThat(an.removeExtraWhitespaces()).isEqualTo(en.removeExtraWhitespaces());
        assertThat(an.escapeWhitespaces()).isEqualTo(en.escapeWhitespaces());
        assertThat(an.unknownFields()).isEqualTo(en.unknownFields());
        assertThat(actual.unknownFields()).isEqualTo(expected.unknownFields());
    }
}
