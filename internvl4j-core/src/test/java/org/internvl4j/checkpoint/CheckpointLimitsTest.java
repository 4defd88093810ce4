package org.internvl4j.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.internvl4j.util.Limits;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The safetensors header length, tensor and shard counts, and JSON depth and size limits, each at its edge. */
class CheckpointLimitsTest {
    @AfterEach
    void clear() {
        for (String k : new String[] {"headerBytes", "tensors", "shards", "jsonBytes"}) System.clearProperty(Limits.PREFIX + k);
    }

    static String header(int tensors) {
        StringBuilder h = new StringBuilder("{");
        for (int i = 0; i < tensors; i++) {
            if (i > 0) h.append(',');
            h.append(RawSafeTensors.entry("t" + i, "F32", "[1]", 4L * i, 4L * i + 4));
        }
        return h.append('}').toString();
    }

    @Test
    void theHeaderLengthIsCheckedAgainstTheLimitAndTheFile(@TempDir Path dir) throws IOException {
        // a declared length of 2^40 in a tiny file: refused from the 8 bytes, before any buffer is sized by it
        Path bomb = RawSafeTensors.write(dir.resolve("bomb.safetensors"), 1L << 40, "{}".getBytes(), new byte[0]);
        assertThatThrownBy(() -> SafeTensorsFile.open(bomb)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("header length 1099511627776 is not plausible (expected 2 to 100,000,000 bytes");
        Path f = RawSafeTensors.write(dir.resolve("ok.safetensors"), header(3), new byte[12]);
        long headerLen = Files.size(f) - 8 - 12;
        System.setProperty(Limits.PREFIX + "headerBytes", Long.toString(headerLen));
        SafeTensorsFile.open(f).close();
        System.setProperty(Limits.PREFIX + "headerBytes", Long.toString(headerLen - 1));
        assertThatThrownBy(() -> SafeTensorsFile.open(f)).hasMessageContaining("-Dinternvl.limit.headerBytes");
    }

    @Test
    void tensorsPerFileAndPerIndex(@TempDir Path dir) throws IOException {
        Path f = RawSafeTensors.write(dir.resolve("model.safetensors"), header(5), new byte[20]);
        System.setProperty(Limits.PREFIX + "tensors", "5");
        try (SafeTensorsFile st = SafeTensorsFile.open(f)) {
            assertThat(st.tensors()).hasSize(5);
        }
        System.setProperty(Limits.PREFIX + "tensors", "4");
        assertThatThrownBy(() -> SafeTensorsFile.open(f)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("header lists 5 tensors, above the limit of 4 (-Dinternvl.limit.tensors)");
    }

    @Test
    void shardsAndTensorsOfAnIndexAreCountedBeforeTheShardsAreOpened(@TempDir Path dir) throws IOException {
        Path ckpt = copyTinyA(dir);
        // tiny-a has two shards
        System.setProperty(Limits.PREFIX + "shards", "2");
        Checkpoint.open(ckpt).close();
        System.setProperty(Limits.PREFIX + "shards", "1");
        assertThatThrownBy(() -> Checkpoint.open(ckpt)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("weight_map names more than 1 shard files, the limit (-Dinternvl.limit.shards)");
        System.clearProperty(Limits.PREFIX + "shards");
        System.setProperty(Limits.PREFIX + "tensors", "10");
        assertThatThrownBy(() -> Checkpoint.open(ckpt)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("tensors, above the limit of 10 (-Dinternvl.limit.tensors)");
    }

    @Test
    void configJsonDepthAndSize(@TempDir Path dir) throws IOException {
        Path ckpt = copyTinyA(dir);
        Path config = ckpt.resolve("config.json");
        String good = Files.readString(config);
        // 1000 nested arrays (Jackson's own default allows 1000; ours stops at 200)
        Files.writeString(config, good.replaceFirst("\\{", "{\"deep\": " + "[".repeat(1000) + "]".repeat(1000) + ","));
        assertThatThrownBy(() -> Checkpoint.open(ckpt)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("config.json: JSON beyond a limit").hasMessageContaining("nesting depth")
                .hasMessageContaining("-Dinternvl.limit.jsonDepth");
        Files.writeString(config, good);
        System.setProperty(Limits.PREFIX + "jsonBytes", Long.toString(Files.size(config) - 1));
        assertThatThrownBy(() -> Checkpoint.open(ckpt)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("above the limit of").hasMessageContaining("bytes for a JSON file (-Dinternvl.limit.jsonBytes)");
    }

    static Path copyTinyA(Path dir) throws IOException {
        Path src = org.internvl4j.testing.TestData.dir("tiny-models").resolve("tiny-a");
        try (Stream<Path> files = Files.list(src)) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        return dir;
    }
}
