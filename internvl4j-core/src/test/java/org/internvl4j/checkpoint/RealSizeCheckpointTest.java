package org.internvl4j.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.internvl4j.tensor.DType;
import org.internvl4j.tensor.Weight;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint with InternVL2-8B's real config and tensor shapes, in four BF16 shards of up to 4.6 GB
 * like the release, written sparse (all-zero tensors are holes), so the full-size path runs in seconds
 * and uses almost no disk.
 */
class RealSizeCheckpointTest {
    @TempDir
    Path dir;

    static InternVLConfig internVL2_8B() {
        VisionConfig v = new VisionConfig(1024, 16, 24, 4096, 448, 14, "layer_norm", false, true, 1e-6, "gelu");
        LlmConfig l = new LlmConfig(LlmConfig.INTERNLM2, 4096, 32, 8, 32, 14336, 92553, 32768, 1e6,
                new LlmConfig.RopeScaling("dynamic", 2.0), false, 1e-5);
        return new InternVLConfig(InternVLConfig.MODEL_TYPE, v, l, "v2", -1, 0.5, 448, true, 12, 1, "internlm2-chat");
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void opensAndSummarisesTheRealSizedModel() throws IOException {
        InternVLConfig config = internVL2_8B();
        Files.writeString(dir.resolve("config.json"), JsonMapper.builder().build().writeValueAsString(TinyCheckpoint.configJson(config)));
        Map<String, long[]> expected = new TreeMap<>(InternVLTensors.expected(config));
        String norm = "language_model.model.norm.weight";
        float[] normValues = new float[4096];
        for (int i = 0; i < normValues.length; i++) normValues[i] = 1 + (i % 128) / 128f; // exact in bf16

        // shards in name order, each up to 4.6 GB, as the release is split
        long limit = 4_600_000_000L;
        List<SafeTensorsWriter> shards = new ArrayList<>();
        List<List<String>> names = new ArrayList<>();
        long size = 0;
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            long bytes = 2;
            for (long d : e.getValue()) bytes *= d;
            if (shards.isEmpty() || size + bytes > limit) {
                shards.add(new SafeTensorsWriter());
                names.add(new ArrayList<>());
                size = 0;
            }
            size += bytes;
            if (e.getKey().equals(norm)) shards.getLast().add(norm, DType.BF16, e.getValue(), normValues);
            else shards.getLast().addZeros(e.getKey(), DType.BF16, e.getValue());
            names.getLast().add(e.getKey());
        }
        assertThat(shards).hasSize(4);
        ObjectNode index = JsonMapper.builder().build().createObjectNode();
        ObjectNode map = index.putObject("weight_map");
        for (int k = 0; k < shards.size(); k++) {
            String file = "model-%05d-of-%05d.safetensors".formatted(k + 1, shards.size());
            shards.get(k).write(dir.resolve(file));
            for (String n : names.get(k)) map.put(n, file);
        }
        Files.writeString(dir.resolve(Checkpoint.INDEX), index.toString());

        try (Checkpoint c = Checkpoint.open(dir)) {
            CheckpointSummary s = CheckpointSummary.of(c);
            // InternVL2-8B: 8,075,365,376 parameters (the Hugging Face model card's 8.08 B)
            assertThat(s.total().parameters()).isEqualTo(8_075_365_376L);
            assertThat(s.total().bytes()).isEqualTo(2 * 8_075_365_376L);
            assertThat(s.parts().get(InternVLTensors.Part.VISION).parameters()).isEqualTo(304_012_288L);
            assertThat(s.files()).isEqualTo(4);
            long biggestShard = 0;
            for (SafeTensorsFile f : c.files()) biggestShard = Math.max(biggestShard, Files.size(f.path()));
            assertThat(biggestShard).isGreaterThan(4L << 30);

            // a tensor that starts more than 4 GiB into its shard's data area reads back
            SafeTensorsFile first = c.files().get(0);
            long base = first.tensors().values().stream().mapToLong(t -> t.data().address()).min().orElseThrow();
            TensorInfo late = first.tensors().values().stream()
                    .filter(t -> t.data().address() - base > (4L << 30)).findFirst().orElse(null);
            assertThat(late).as("a tensor beyond 4 GiB in the first shard").isNotNull();
            assertThat(late.toFloatArray()[0]).isZero();
            assertThat(c.floats(norm, 4096)).containsExactly(normValues);
            Weight out = c.weight("language_model.output.weight", 92553, 4096);
            assertThat(out.get(92552, 4095)).isZero();
        }
    }
}
