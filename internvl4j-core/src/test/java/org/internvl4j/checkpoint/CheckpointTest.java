package org.internvl4j.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.internvl4j.tensor.DType;
import org.internvl4j.tensor.Weight;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opening whole checkpoint directories: the happy path, and one clear error per broken part. */
class CheckpointTest {
    private static final String NORM = "language_model.model.norm.weight";
    private static final String EMBED = "language_model.model.tok_embeddings.weight";

    @TempDir
    Path tmp;
    Path dir;
    Path shard1;
    Path shard2;
    Path index;

    @BeforeEach
    void tiny() {
        dir = tmp.resolve("tiny-a");
        TinyCheckpoint.write(dir);
        shard1 = dir.resolve(TinyCheckpoint.SHARD_1);
        shard2 = dir.resolve(TinyCheckpoint.SHARD_2);
        index = dir.resolve(Checkpoint.INDEX);
    }

    /** Copies a shard's tensors to the heap, drops some, adds some, and writes it again. */
    private static void rewriteShard(Path shard, Set<String> drop, Map<String, float[]> addBf16, Map<String, long[]> addShapes) {
        SafeTensorsWriter w = new SafeTensorsWriter();
        try (SafeTensorsFile f = SafeTensorsFile.open(shard)) {
            for (TensorInfo t : f.tensors().values()) {
                if (!drop.contains(t.name())) w.addRaw(t.name(), t.dtype().safetensorsName(), t.shape(), t.data().toArray(ValueLayout.JAVA_BYTE));
            }
        }
        addBf16.forEach((name, v) -> w.add(name, DType.BF16, addShapes.get(name), v));
        w.write(shard);
    }

    private void editFile(Path file, String from, String to) throws IOException {
        String s = Files.readString(file);
        assertThat(s).contains(from);
        int at = s.indexOf(from); // the first occurrence: llm_config comes before vision_config
        Files.writeString(file, s.substring(0, at) + to + s.substring(at + from.length()));
    }

    @Test
    void opensATinyCheckpointWithEveryTensorTheModelNeeds() {
        try (Checkpoint c = Checkpoint.open(dir)) {
            InternVLConfig cfg = c.config();
            assertThat(cfg).isEqualTo(TinyCheckpoint.Variant.A.config(TinyTokenizer.DEFAULT_PIECES));
            assertThat(cfg.numImageTokens()).isEqualTo(256);
            assertThat(c.files()).hasSize(2);
            assertThat(c.tensors().keySet()).containsExactlyInAnyOrderElementsOf(InternVLTensors.expected(cfg).keySet());
            Weight wqkv = c.weight("language_model.model.layers.0.attention.wqkv.weight", (8 + 2 * 2) * 16, 128);
            assertThat(wqkv.dtype()).isEqualTo(DType.BF16);
            assertThat(c.floats(NORM, 128)).hasSize(128);
            assertThat(c.has("mlp1.2.weight")).isFalse();
            assertThat(c.generationConfig().eosTokenIds()).containsExactly(2);
            assertThat(c.generationConfig().bosTokenId()).hasValue(1);
        }
    }

    @Test
    void tensorWithTheWrongShapeIsNamedWithItsFile() {
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertThatThrownBy(() -> c.tensor(NORM, 64)).isInstanceOf(CheckpointException.class)
                    .hasMessageContaining(shard2 + ": tensor " + NORM + " has shape [128], but config.json implies [64]");
            assertThatThrownBy(() -> c.weight("nope", 1, 1)).isInstanceOf(CheckpointException.class)
                    .hasMessageContaining(index + ": tensor nope is missing");
        }
    }

    @Test
    void singleFileAndOtherDtypesHoldTheSameWeights() {
        Path f32 = tmp.resolve("f32");
        Path f16 = tmp.resolve("f16");
        TinyCheckpoint.write(f32, TinyCheckpoint.Options.of(TinyCheckpoint.Variant.A).withDtype(DType.F32).withSingleFile(true));
        TinyCheckpoint.write(f16, TinyCheckpoint.Options.of(TinyCheckpoint.Variant.A).withDtype(DType.F16).withSingleFile(true));
        assertThat(f32.resolve(Checkpoint.SINGLE_FILE)).exists();
        assertThat(f32.resolve(Checkpoint.INDEX)).doesNotExist();
        String name = "vision_model.encoder.layers.1.mlp.fc1.weight";
        try (Checkpoint a = Checkpoint.open(f32); Checkpoint b = Checkpoint.open(f16); Checkpoint c = Checkpoint.open(dir)) {
            float[] exact = a.floats(name, 256, 64);
            float[] half = b.floats(name, 256, 64);
            float[] bf = c.floats(name, 256, 64);
            assertThat(a.tensors().get(name).dtype()).isEqualTo(DType.F32);
            assertThat(b.tensors().get(name).dtype()).isEqualTo(DType.F16);
            for (int i = 0; i < exact.length; i++) {
                assertThat(half[i]).isCloseTo(exact[i], org.assertj.core.data.Offset.offset(Math.abs(exact[i]) / 1024 + 1e-7f));
                assertThat(bf[i]).isCloseTo(exact[i], org.assertj.core.data.Offset.offset(Math.abs(exact[i]) / 128));
            }
        }
    }

    @Test
    void missingDirectoryOrWeights() throws IOException {
        assertThatThrownBy(() -> Checkpoint.open(tmp.resolve("nowhere"))).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("nowhere").hasMessageContaining("not a checkpoint directory");
        Files.delete(index);
        assertThatThrownBy(() -> Checkpoint.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(dir + ": has neither model.safetensors nor model.safetensors.index.json");
    }

    @Test
    void indexNamingAMissingShard() throws IOException {
        Files.delete(shard2);
        assertThatThrownBy(() -> Checkpoint.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(index + ": names shard model-00002-of-00002.safetensors (for tensor language_model.")
                .hasMessageContaining("which does not exist");
    }

    @Test
    void indexSendingATensorToAShardThatLacksIt() throws IOException {
        editFile(index, "\"" + NORM + "\" : \"" + TinyCheckpoint.SHARD_2, "\"" + NORM + "\" : \"" + TinyCheckpoint.SHARD_1);
        assertThatThrownBy(() -> Checkpoint.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(index + ": tensor " + NORM + " is mapped to " + TinyCheckpoint.SHARD_1 + ", which lacks it");
    }

    @Test
    void tensorInTwoShards() {
        int vocab = TinyTokenizer.DEFAULT_PIECES + 9;
        rewriteShard(shard2, Set.of(), Map.of(EMBED, new float[vocab * 128]), Map.of(EMBED, new long[] {vocab, 128}));
        assertThatThrownBy(() -> Checkpoint.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(shard2 + ": holds tensor " + EMBED + ", which is also in " + TinyCheckpoint.SHARD_1)
                .hasMessageContaining("one shard only");
    }

    @Test
    void shardHoldingATensorTheIndexDoesNotList() {
        rewriteShard(shard2, Set.of(), Map.of("extra.weight", new float[3]), Map.of("extra.weight", new long[] {3}));
        assertThatThrownBy(() -> Checkpoint.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(shard2 + ": holds tensor extra.weight, which model.safetensors.index.json does not list");
    }

    @Test
    void malformedIndex() throws IOException {
        Files.writeString(index, "{\"weight_map\": {\"a\": ");
        assertThatThrownBy(() -> Checkpoint.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(index + ": malformed JSON");
        Files.writeString(index, "{\"metadata\": {}}");
        assertThatThrownBy(() -> Checkpoint.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(index + ": missing object 'weight_map'");
        Files.writeString(index, "{\"weight_map\": {\"a\": 3}}");
        assertThatThrownBy(() -> Checkpoint.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(index + ": weight_map entry for a must be a file name, got 3");
        Files.writeString(index, "{\"weight_map\": {\"a\": \"../secret.safetensors\"}}");
        assertThatThrownBy(() -> Checkpoint.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("'../secret.safetensors' (for tensor a), which is not a file inside the checkpoint directory");
        Files.writeString(index, "{\"weight_map\": {\"a\": \"x.safetensors\", \"a\": \"y.safetensors\"}}");
        assertThatThrownBy(() -> Checkpoint.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(index + ": malformed JSON").hasMessageContaining("Duplicate field 'a'");
    }

    @Test
    void tensorTheModelNeedsIsAbsent() throws IOException {
        rewriteShard(shard2, Set.of(NORM), Map.of(), Map.of());
        editFile(index, "\"" + NORM + "\" : \"" + TinyCheckpoint.SHARD_2 + "\",", "");
        assertThatThrownBy(() -> Checkpoint.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(index + ": tensor " + NORM + " is missing; the model needs it with shape [128]");
        // a partial checkpoint can still be opened for inspection
        try (Checkpoint c = Checkpoint.open(dir, false)) {
            assertThat(c.has(NORM)).isFalse();
            assertThatThrownBy(c::validate).hasMessageContaining(NORM);
        }
    }

    @Test
    void shapeThatContradictsConfigJson() throws IOException {
        editFile(dir.resolve("config.json"), "\"intermediate_size\" : 256", "\"intermediate_size\" : 512");
        assertThatThrownBy(() -> Checkpoint.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(shard2 + ": tensor language_model.model.layers.0.feed_forward.w1.weight has shape [256, 128], but config.json implies [512, 128]");
    }

    @Test
    void corruptShardIsNamed() throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(shard1.toFile(), "rw")) {
            f.seek(8);
            f.write("[]".getBytes());
        }
        assertThatThrownBy(() -> Checkpoint.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(shard1.toString()).hasMessageContaining("malformed safetensors header JSON");
    }

    /** Opening reads headers only: a data area full of garbage still opens and validates. */
    @Test
    void garbageWeightsStillOpenBecauseOpeningDoesNotReadThem() throws IOException {
        Random rng = new Random(1);
        for (Path shard : List.of(shard1, shard2)) {
            long dataStart;
            try (SafeTensorsFile f = SafeTensorsFile.open(shard)) {
                dataStart = 8 + f.headerBytes();
            }
            try (RandomAccessFile f = new RandomAccessFile(shard.toFile(), "rw")) {
                byte[] junk = new byte[(int) (f.length() - dataStart)];
                rng.nextBytes(junk);
                f.seek(dataStart);
                f.write(junk);
            }
        }
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertThat(c.tensors()).hasSize(InternVLTensors.expected(c.config()).size());
        }
    }

    @Test
    void unsupportedArchitecturesAreNamedWithTheSupportedOnes() throws IOException {
        Path config = dir.resolve("config.json");
        String original = Files.readString(config);
        editFile(config, "\"InternLM2ForCausalLM\"", "\"MistralForCausalLM\"");
        assertThatThrownBy(() -> Checkpoint.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(config + " llm_config: llm architecture 'MistralForCausalLM' is not supported (supported: InternLM2ForCausalLM, Qwen2ForCausalLM, Phi3ForCausalLM, LlamaForCausalLM)");
        Files.writeString(config, original.replace("\"model_type\" : \"internvl_chat\"", "\"model_type\" : \"llava\""));
        assertThatThrownBy(() -> Checkpoint.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(config + ": model_type 'llava' is not supported (supported: internvl_chat)");
        Files.writeString(config, original.replace("\"model_type\" : \"intern_vit_6b\"", "\"model_type\" : \"siglip\""));
        assertThatThrownBy(() -> Checkpoint.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(config + " vision_config: vision model_type 'siglip' is not supported (supported: intern_vit_6b)");
    }

    @Test
    void badConfigFieldsAreNamed() throws IOException {
        Path config = dir.resolve("config.json");
        String original = Files.readString(config);
        Files.writeString(config, original.replace("\"hidden_size\" : 128", "\"hidden_size\" : \"128\""));
        assertThatThrownBy(() -> Checkpoint.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(config + " llm_config: field 'hidden_size' must be an integer, got \"128\"");
        Files.writeString(config, original.replace("\"num_hidden_layers\" : 3,", ""));
        assertThatThrownBy(() -> Checkpoint.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("missing required field 'num_hidden_layers'");
        Files.writeString(config, original.replace("\"num_key_value_heads\" : 2", "\"num_key_value_heads\" : 3"));
        assertThatThrownBy(() -> Checkpoint.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("num_attention_heads 8 must be a multiple of num_key_value_heads 3");
        Files.writeString(config, "{");
        assertThatThrownBy(() -> Checkpoint.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(config + ": malformed JSON");
        Files.delete(config);
        assertThatThrownBy(() -> Checkpoint.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(config + ": not found");
    }

    @Test
    void generationConfigEosAsIntOrListAndDefaults() throws IOException {
        Path gen = dir.resolve("generation_config.json");
        Files.writeString(gen, "{\"eos_token_id\": [92542, 92543], \"do_sample\": true, \"temperature\": 0.7, \"top_p\": 0.9, \"max_new_tokens\": 512}");
        GenerationConfig g = GenerationConfig.read(dir);
        assertThat(g.eosTokenIds()).containsExactly(92542, 92543);
        assertThat(g.doSample()).isTrue();
        assertThat(g.temperature()).isEqualTo(0.7);
        assertThat(g.topP()).isEqualTo(0.9);
        assertThat(g.topK()).isEqualTo(50);
        assertThat(g.repetitionPenalty()).isEqualTo(1.0);
        assertThat(g.maxNewTokens()).hasValue(512);
        assertThat(g.bosTokenId()).isEmpty();

        Files.writeString(gen, "{\"eos_token_id\": \"</s>\"}");
        assertThatThrownBy(() -> GenerationConfig.read(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(gen + ": field 'eos_token_id' must be a token id or a list of token ids, got \"</s>\"");
        Files.writeString(gen, "{\"top_p\": 1.5}");
        assertThatThrownBy(() -> GenerationConfig.read(dir)).hasMessageContaining(gen + ": top_p 1.5 must be in (0, 1]");

        // absent: the ids come from config.json's llm_config, sampling keys keep transformers' defaults
        Files.delete(gen);
        GenerationConfig d = GenerationConfig.read(dir);
        assertThat(d.eosTokenIds()).containsExactly(2);
        assertThat(d.bosTokenId()).hasValue(1);
        assertThat(d.padTokenId()).hasValue(2);
        assertThat(d.doSample()).isFalse();
        assertThat(d.topK()).isEqualTo(50);
        assertThat(GenerationConfig.read(tmp.resolve("empty"))).isEqualTo(GenerationConfig.DEFAULTS);
    }

    /** InternVLTensors against plain formulas for InternVL2-8B (InternViT-300M + InternLM2.5-7B). */
    @Test
    void expectedTensorsOfTheRealEightBillionModel() {
        InternVLConfig real = TinyCheckpoint.Variant.A.config(92544);
        VisionConfig v = new VisionConfig(1024, 16, 24, 4096, 448, 14, "layer_norm", false, true, 1e-6, "gelu");
        LlmConfig l = new LlmConfig(LlmConfig.INTERNLM2, 4096, 32, 8, 32, 14336, 92553, 32768, 1e6, new LlmConfig.RopeScaling("dynamic", 2.0), false, 1e-5);
        real = new InternVLConfig(real.modelType(), v, l, "v2", -1, 0.5, 448, true, 12, 1, "internlm2-chat");
        Map<String, long[]> e = InternVLTensors.expected(real);
        long vision = 0, projector = 0, llm = 0;
        for (Map.Entry<String, long[]> t : e.entrySet()) {
            long n = 1;
            for (long d : t.getValue()) n *= d;
            switch (InternVLTensors.Part.of(t.getKey())) {
                case VISION -> vision += n;
                case PROJECTOR -> projector += n;
                case LANGUAGE_MODEL -> llm += n;
                default -> throw new AssertionError(t.getKey());
            }
        }
        long dv = 1024, iv = 4096;
        long visionLayer = 3 * dv * dv + 3 * dv + dv * dv + dv + iv * dv + iv + dv * iv + dv + 4 * dv + 2 * dv;
        assertThat(vision).isEqualTo(dv + dv * 3 * 14 * 14 + dv + (1 + 32 * 32) * dv + 24 * visionLayer);
        assertThat(projector).isEqualTo(2 * 4096 + 4096L * 4096 + 4096 + 4096L * 4096 + 4096);
        long dl = 4096, il = 14336, vocab = 92553;
        long llmLayer = (32 + 16) * 128 * dl + dl * dl + 2 * dl + 3 * il * dl;
        assertThat(llm).isEqualTo(2 * vocab * dl + dl + 32 * llmLayer);
        // published sizes: InternViT-300M (~0.30 B), InternLM2.5-7B (~7.7 B), InternVL2-8B ~8.1 B in total
        assertThat(vision).isBetween(300_000_000L, 310_000_000L);
        assertThat(llm).isBetween(7_700_000_000L, 7_800_000_000L);
        assertThat(e).containsKey("language_model.model.layers.31.attention.wqkv.weight");
        assertThat(e.get("language_model.model.layers.31.attention.wqkv.weight")).containsExactly(6144, 4096);
        assertThat(e).doesNotContainKey("language_model.model.layers.0.attention.wqkv.bias");
        assertThat(e).doesNotContainKey("vision_model.encoder.layers.0.attn.q_norm.weight");
    }
}
