package org.internvl4j.checkpoint;

import org.internvl4j.testing.TestData;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.internvl4j.tokenizer.InternLM2Tokenizer;
import org.internvl4j.tokenizer.SentencePieceModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** make-tiny against what the reference's make_tiny.py writes (fixtures from the reference). */
class TinyCheckpointTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Numbers compare by value and kind (integral or not), so 1000000 equals 1000000 whatever its Java type. */
    private static final Comparator<JsonNode> NUMBERS = (a, b) -> {
        if (a.isNumber() && b.isNumber()) {
            return a.isIntegralNumber() == b.isIntegralNumber() && a.doubleValue() == b.doubleValue() ? 0 : 1;
        }
        return a.equals(b) ? 0 : 1;
    };

    @TempDir
    Path tmp;

    private static byte[] reference(String variant, String file) throws IOException {
        try (InputStream in = TinyCheckpointTest.class.getResourceAsStream("/checkpoint/reference-tiny/tiny-" + variant + "/" + file)) {
            assertThat(in).as("fixture " + file).isNotNull();
            return in.readAllBytes();
        }
    }

    private static void assertSameJson(Path ours, byte[] theirs) throws IOException {
        JsonNode a = JSON.readTree(Files.readAllBytes(ours));
        JsonNode b = JSON.readTree(theirs);
        assertThat(a.equals(NUMBERS, b)).as("%s equals the reference's\nours:   %s\ntheirs: %s", ours.getFileName(), a, b).isTrue();
    }

    private static byte[] header(Path shard) throws IOException {
        long length;
        try (SafeTensorsFile f = SafeTensorsFile.open(shard)) {
            length = f.headerBytes();
        }
        return java.util.Arrays.copyOfRange(readAll(shard), 8, (int) (8 + length));
    }

    private static byte[] readAll(Path p) throws IOException {
        return Files.readAllBytes(p);
    }

    /**
     * Same tensor names, shapes, dtypes, offsets and shard split (the shard headers are byte-identical),
     * same config.json, generation_config.json and index as the reference's tiny checkpoints.
     */
    @ParameterizedTest
    @EnumSource(value = TinyCheckpoint.Variant.class, names = {"A", "B", "C"}) // the reference make_tiny.py variants
    void writesTheReferenceLayout(TinyCheckpoint.Variant variant) throws IOException {
        String v = variant.name().toLowerCase();
        Path dir = tmp.resolve("tiny-" + v);
        TinyCheckpoint.write(dir, TinyCheckpoint.Options.of(variant).withoutTokenizer());
        for (String shard : List.of(TinyCheckpoint.SHARD_1, TinyCheckpoint.SHARD_2)) {
            assertThat(new String(header(dir.resolve(shard)))).as(shard).isEqualTo(new String(reference(v, shard + ".header.json")));
        }
        assertSameJson(dir.resolve("config.json"), reference(v, "config.json"));
        assertSameJson(dir.resolve("generation_config.json"), reference(v, "generation_config.json"));
        assertSameJson(dir.resolve("model.safetensors.index.json"), reference(v, "model.safetensors.index.json"));
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertThat(c.config()).isEqualTo(variant.config(variant == TinyCheckpoint.Variant.C ? 2500 : 4096));
        }
    }

    /** The HF tokenizer files written for an N-piece model have the reference's ids (plus the release's chat_template). */
    @ParameterizedTest
    @EnumSource(value = TinyCheckpoint.Variant.class, names = {"A", "B", "C"}) // the reference make_tiny.py variants
    void tokenizerJsonFilesMatchTheReference(TinyCheckpoint.Variant variant) throws IOException {
        String v = variant.name().toLowerCase();
        org.internvl4j.tokenizer.HfTokenizerFiles.writeJson(tmp, variant.defaultPieces());
        for (String f : List.of("added_tokens.json", "special_tokens_map.json")) assertSameJson(tmp.resolve(f), reference(v, f));
        ObjectNode ours = (ObjectNode) JSON.readTree(readAll(tmp.resolve("tokenizer_config.json")));
        assertThat(ours.remove("chat_template")).isNotNull();
        assertThat(ours).isEqualTo(JSON.readTree(reference(v, "tokenizer_config.json")));
    }

    /**
     * The default tiny checkpoint comes with a trained tokenizer whose ids fit config.json: the
     * InternLM2 layout (chat tokens on the last 6 pieces, then the 9 InternVL tokens), loadable by
     * our tokenizer, and the same bytes for the same options.
     */
    @ParameterizedTest
    @EnumSource(value = TinyCheckpoint.Variant.class, names = {"A", "B", "C"}) // the reference make_tiny.py variants
    void defaultCheckpointHasATrainedTokenizerThatFitsTheVocabulary(TinyCheckpoint.Variant variant) throws IOException {
        Path dir = tmp.resolve("t");
        InternVLConfig c = TinyCheckpoint.write(dir, TinyCheckpoint.Options.of(variant));
        int n = TinyTokenizer.DEFAULT_PIECES;
        assertThat(c.llm().vocabSize()).isEqualTo(n + 9);
        InternLM2Tokenizer tok = InternLM2Tokenizer.load(dir);
        assertThat(tok.vocabSize()).isEqualTo(c.llm().vocabSize());
        assertThat(tok.tokenId("<|im_end|>")).isEqualTo(n - 2);
        assertThat(tok.tokenId("<|im_start|>")).isEqualTo(n - 1);
        assertThat(tok.tokenId("<img>")).isEqualTo(n);
        assertThat(tok.tokenId("<IMG_CONTEXT>")).isEqualTo(n + 2);
        assertThat(tok.tokenId("</box>")).isEqualTo(n + 8);
        String text = "<|im_start|>user\n<image>\nDescribe the picture, please.<|im_end|>";
        int[] ids = tok.encode(text);
        assertThat(ids[0]).isEqualTo(1);
        assertThat(ids).contains(n - 1, n - 2);
        assertThat(java.util.Arrays.stream(ids).allMatch(id -> id >= 0 && id < c.llm().vocabSize())).isTrue();
        String plain = "A small dog is running on the grass.";
        assertThat(tok.decode(tok.encode(plain), true)).isEqualTo(plain);
        // alt flags for variant c, as in the reference
        boolean dummyPrefix = SentencePieceModel.read(dir.resolve("tokenizer.model")).normalizerSpec().addDummyPrefix();
        assertThat(dummyPrefix).isEqualTo(variant == TinyCheckpoint.Variant.C);
    }

    @Test
    void sameSeedSameBytesOtherSeedOtherWeights() throws IOException {
        Path one = tmp.resolve("one");
        Path two = tmp.resolve("two");
        Path other = tmp.resolve("other");
        TinyCheckpoint.write(one, TinyCheckpoint.Options.of(TinyCheckpoint.Variant.B).withSeed(7));
        TinyCheckpoint.write(two, TinyCheckpoint.Options.of(TinyCheckpoint.Variant.B).withSeed(7));
        TinyCheckpoint.write(other, TinyCheckpoint.Options.of(TinyCheckpoint.Variant.B).withSeed(8)
                .withTokenizer(new TinyTokenizer.None(TinyTokenizer.DEFAULT_PIECES)));
        List<String> files;
        try (Stream<Path> s = Files.list(one)) {
            files = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertThat(files).containsExactly("added_tokens.json", "config.json", "generation_config.json", TinyCheckpoint.SHARD_1,
                TinyCheckpoint.SHARD_2, "model.safetensors.index.json", "special_tokens_map.json", "tokenizer.model", "tokenizer_config.json");
        for (String f : files) assertThat(readAll(two.resolve(f))).as(f).isEqualTo(readAll(one.resolve(f)));
        assertThat(readAll(other.resolve(TinyCheckpoint.SHARD_2))).isNotEqualTo(readAll(one.resolve(TinyCheckpoint.SHARD_2)));
        assertThat(header(other.resolve(TinyCheckpoint.SHARD_2))).isEqualTo(header(one.resolve(TinyCheckpoint.SHARD_2)));
    }

    /** The documented distributions: fan-in scaled normals, norms N(1, 0.1), layer scales N(0.6, 0.2). */
    @Test
    void weightsFollowTheDescribedDistributions() {
        Path dir = tmp.resolve("a");
        TinyCheckpoint.write(dir);
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertMoments(c, "language_model.model.layers.0.feed_forward.w2.weight", 0, 1 / Math.sqrt(256));
            assertMoments(c, "language_model.model.layers.1.attention.wqkv.weight", 0, 2 / Math.sqrt(128));
            assertMoments(c, "language_model.output.weight", 0, 3 / Math.sqrt(128));
            assertMoments(c, "language_model.model.tok_embeddings.weight", 0, 1);
            assertMoments(c, "vision_model.embeddings.patch_embedding.weight", 0, 1 / Math.sqrt(3 * 14 * 14));
            assertMoments(c, "vision_model.encoder.layers.0.attn.qkv.weight", 0, 1.5 / Math.sqrt(64));
            assertMoments(c, "mlp1.1.weight", 0, 1 / Math.sqrt(256));
            assertMoments(c, "mlp1.0.weight", 1, 0.1);
            assertMoments(c, "vision_model.encoder.layers.2.ls1", 0.6, 0.2);
        }
    }

    private static void assertMoments(Checkpoint c, String name, double mean, double std) {
        float[] v = c.tensors().get(name).toFloatArray();
        double s = 0, s2 = 0;
        for (float x : v) {
            s += x;
            s2 += (double) x * x;
        }
        double m = s / v.length;
        double sd = Math.sqrt(s2 / v.length - m * m);
        double tol = 5 * std / Math.sqrt(v.length); // five standard errors of the mean
        assertThat(m).as("mean of %s", name).isBetween(mean - tol, mean + tol);
        assertThat(sd).as("std of %s", name).isBetween(std * 0.85, std * 1.15);
    }

    @Test
    void tokenizerModelSetsTheVocabularyAndIsCopied() throws IOException {
        Path real = findShared().resolve("tokenizers/internvl2-8b/tokenizer.model");
        TestData.assumeShared(Files.exists(real), real + " not found");
        assertThat(TinyTokenizer.checkedPieces(real)).isEqualTo(92544);
        Path dir = tmp.resolve("realvocab");
        InternVLConfig c = TinyCheckpoint.write(dir, TinyCheckpoint.Options.of(TinyCheckpoint.Variant.C)
                .withTokenizer(new TinyTokenizer.FromModel(real)));
        assertThat(c.llm().vocabSize()).isEqualTo(92553);
        assertThat(readAll(dir.resolve("tokenizer.model"))).isEqualTo(readAll(real));
        Path hf = real.getParent().resolve("internvl2-2b-hf-json");
        // the real release's files, token for token
        assertSameJson(dir.resolve("added_tokens.json"), readAll(hf.resolve("added_tokens.json")));
        assertSameJson(dir.resolve("special_tokens_map.json"), readAll(hf.resolve("special_tokens_map.json")));
        JsonNode ours = JSON.readTree(readAll(dir.resolve("tokenizer_config.json")));
        JsonNode theirs = JSON.readTree(readAll(hf.resolve("tokenizer_config.json")));
        assertThat(ours.get("added_tokens_decoder")).isEqualTo(theirs.get("added_tokens_decoder"));
        assertThat(InternLM2Tokenizer.load(dir).tokenId("<IMG_CONTEXT>")).isEqualTo(92546);
        try (Checkpoint ck = Checkpoint.open(dir)) {
            assertThat(ck.tensors().get("language_model.output.weight").shape()).containsExactly(92553, 64);
        }
        // copying a whole tokenizer directory
        Path copy = tmp.resolve("copy");
        TinyCheckpoint.write(copy, TinyCheckpoint.Options.of(TinyCheckpoint.Variant.C).withTokenizer(new TinyTokenizer.FromDir(dir)));
        for (String f : List.of("tokenizer.model", "tokenizer_config.json", "added_tokens.json", "special_tokens_map.json")) {
            assertThat(readAll(copy.resolve(f))).isEqualTo(readAll(dir.resolve(f)));
        }
    }

    @Test
    void tokenizerModelWithoutTheInternLmPiecesIsRefused() throws IOException {
        Path bogus = tmp.resolve("bogus.model");
        Files.write(bogus, new byte[] {0x0A, 0x03, 0x0A, 0x01, 'a'}); // one piece "a"
        assertThatThrownBy(() -> TinyTokenizer.checkedPieces(bogus)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(bogus + ": expected a SentencePiece model whose last 6 pieces are [UNUSED_TOKEN_141]")
                .hasMessageContaining("1 pieces, the last are [a]");
        Files.write(bogus, new byte[] {0x0A, (byte) 0xFF});
        assertThatThrownBy(() -> TinyTokenizer.checkedPieces(bogus)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(bogus + ": not a SentencePiece model");
    }

    /** The shared folder sits beside the repository root; tests run from a module directory. */
    static Path findShared() {
        return TestData.shared().orElse(Path.of("shared"));
    }

    /** make-tiny --arch qwen2, phi3, llama and llama3 reproduce the committed tiny-qwen2, -phi3, -llama and -llama3 byte for byte. */
    @ParameterizedTest
    @EnumSource(value = TinyCheckpoint.Variant.class, names = {"QWEN2", "PHI3", "LLAMA", "LLAMA3"})
    void theFamilyVariantsReproduceTheCommittedCheckpoints(TinyCheckpoint.Variant variant) throws IOException {
        Path dir = tmp.resolve(variant.name());
        InternVLConfig c = TinyCheckpoint.write(dir, TinyCheckpoint.Options.of(variant));
        assertThat(c.llm().arch()).isSameAs(LlmArchitecture.of(switch (variant) {
            case QWEN2 -> "Qwen2ForCausalLM";
            case PHI3 -> "Phi3ForCausalLM";
            default -> "LlamaForCausalLM";
        }));
        // Qwen2: 256 bytes + 3 chat tokens; Phi-3: 1536 pieces + its 11 chat tokens; Yi: 1536 pieces (ChatML among them); + 9 InternVL
        assertThat(c.llm().vocabSize()).isEqualTo(switch (variant) {
            case QWEN2 -> 256 + 3 + 9;
            case PHI3 -> 1536 + 11 + 9;
            case LLAMA3 -> 256 + 4 + 9;
            default -> 1536 + 9;
        });
        Path committed = org.internvl4j.testing.TestData.dir("tiny-models").resolve("tiny-" + variant.name().toLowerCase());
        try (var files = Files.list(committed)) {
            for (Path f : files.toList()) {
                assertThat(readAll(dir.resolve(f.getFileName()))).as(f.getFileName().toString()).isEqualTo(readAll(f));
            }
        }
        try (var files = Files.list(dir)) {
            assertThat(files.count()).as("no files beyond the committed ones").isEqualTo(Files.list(committed).count());
        }
    }
}
