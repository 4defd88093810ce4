package org.internvl4j.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.internvl4j.checkpoint.Checkpoint;
import org.internvl4j.generate.GenerationRequest;
import org.internvl4j.generate.Generator;
import org.internvl4j.generate.SamplingParams;
import org.internvl4j.tensor.Weight;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticCheckpointTest {
    @Test
    void writesAShardedCheckpointTheModelLoadsAndRuns(@TempDir Path dir) throws Exception {
        var spec = new SyntheticCheckpoint.Spec(32, 1, 2, 64, 64, 2, 4, 2, 96, 500, 64, 1e6, 2.0, 100_000);
        long bytes = SyntheticCheckpoint.write(dir, spec, 7);
        assertThat(Files.list(dir).filter(p -> p.toString().endsWith(".safetensors")).count()).isGreaterThan(1);
        try (Checkpoint ck = Checkpoint.open(dir)) {
            long sum = ck.tensors().values().stream().mapToLong(t -> t.elementCount() * 2).sum();
            assertThat(sum).isEqualTo(bytes);
            Weight w1 = ck.weight("language_model.model.layers.1.feed_forward.w1.weight", 96, 64);
            double bound = 1 / Math.sqrt(64), max = 0, mean = 0;
            for (int r = 0; r < 96; r++) for (int c = 0; c < 64; c++) {
                max = Math.max(max, Math.abs(w1.get(r, c)));
                mean += w1.get(r, c);
            }
            assertThat(max).isLessThanOrEqualTo(bound * 1.01).isGreaterThan(bound * 0.9);
            assertThat(Math.abs(mean / (96 * 64))).isLessThan(bound * 0.1);
            assertThat(ck.floats("language_model.model.norm.weight", 64)).containsOnly(1f);
        }
        try (InternVLModel m = InternVLModel.load(dir)) {
            assertThat(m.generationEosIds()).containsExactlyInAnyOrder(92542, 92543);
            float[] f = m.extractFeature(new float[3 * 448 * 448], 1);
            assertThat(f).hasSize(256 * 64);
            for (float v : f) assertThat(Float.isFinite(v)).isTrue();
            var r = new Generator(m).generate(GenerationRequest.text(new int[] {1, 2, 3}, SamplingParams.greedy(80, Set.of())));
            assertThat(r.tokenIds()).hasSize(80); // 83 tokens: past max_position_embeddings 64
        }
    }

    /**
     * The --like presets against published parameter counts: Qwen2-0.5B 494,032,768 and Phi-3-mini 3,821,079,552,
     * less the rows InternVL's vocabularies (151655, 32020) lack against theirs (151936, 32064).
     */
    @Test
    void presetsHaveThePublishedLanguageModelSizes() {
        assertThat(llmParameters("internvl2-1b")).isEqualTo(494_032_768L - (151936 - 151655) * 896L);
        assertThat(llmParameters("internvl2-4b")).isEqualTo(3_821_079_552L - (32064 - 32020) * 3072L * 2);
        assertThat(SyntheticCheckpoint.configOf(SyntheticCheckpoint.like("internvl2-1b")).template()).isEqualTo("Hermes-2");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SyntheticCheckpoint.like("internvl2-76b"))
                .hasMessageContaining("known: internvl2-1b, internvl2-2b, internvl2-4b, internvl2-8b, internvl2-26b");
    }

    /**
     * InternVL2-26B: InternViT-6B-448px-V1-5 (its model card: 5.5 B parameters, 45 layers) with RMSNorm and
     * qk-normalization, and internlm2-chat-20b (about 19.9 B with InternVL's 92553-token vocabulary).
     */
    @Test
    void the26bPresetHasAnInternViT6bTower() {
        var config = SyntheticCheckpoint.configOf(SyntheticCheckpoint.like("internvl2-26b"));
        assertThat(config.vision().normType()).isEqualTo("rms_norm");
        assertThat(config.vision().qkNormalization()).isTrue();
        assertThat(config.vision().qkvBias()).isFalse();
        assertThat(config.vision().numHiddenLayers()).isEqualTo(45);
        long vision = parameters("internvl2-26b", org.internvl4j.checkpoint.InternVLTensors.Part.VISION);
        assertThat(vision).isBetween(5_500_000_000L, 5_600_000_000L);
        assertThat(llmParameters("internvl2-26b")).isBetween(19_500_000_000L, 20_100_000_000L);
        assertThat(SyntheticCheckpoint.weightBytes(SyntheticCheckpoint.like("internvl2-26b"))).isBetween(50_000_000_000L, 53_000_000_000L);
    }

    private static long llmParameters(String like) {
        return parameters(like, org.internvl4j.checkpoint.InternVLTensors.Part.LANGUAGE_MODEL);
    }

    private static long parameters(String like, org.internvl4j.checkpoint.InternVLTensors.Part part) {
        var config = SyntheticCheckpoint.configOf(SyntheticCheckpoint.like(like));
        long n = 0;
        for (var e : org.internvl4j.checkpoint.InternVLTensors.expected(config).entrySet()) {
            if (org.internvl4j.checkpoint.InternVLTensors.Part.of(e.getKey()) != part) continue;
            long k = 1;
            for (long d : e.getValue()) k *= d;
            n += k;
        }
        return n;
    }
}
