package org.internvl4j.checkpoint;

import static org.internvl4j.testing.Fuzzing.expectOnly;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.internvl4j.testing.Fuzzing;
import org.internvl4j.testing.TestData;

/**
 * Fuzzes model.safetensors.index.json in a checkpoint folder whose config.json is tiny-a's and whose two
 * shards hold tensors a, b (first) and c (second). Contract: {@link Checkpoint#open(Path, boolean)}
 * opens it or throws {@link CheckpointException} with a message. Corpus: CheckpointIndexFuzzTestInputs/index.
 */
class CheckpointIndexFuzzTest {
    private static final Path DIR = setUp();

    private static Path setUp() {
        try {
            Path dir = Fuzzing.scratchDir("index-checkpoint");
            Files.copy(TestData.dir("tiny-models/tiny-a").resolve(Checkpoint.CONFIG), dir.resolve(Checkpoint.CONFIG));
            Files.write(dir.resolve("s1.safetensors"), shard("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                    + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[4,8]}}", 8));
            Files.write(dir.resolve("s2.safetensors"), shard("{\"c\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] shard(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h).array();
    }

    @FuzzTest(maxDuration = "30s")
    void index(byte[] data) throws IOException {
        Files.write(DIR.resolve(Checkpoint.INDEX), data);
        expectOnly(() -> {
            try (Checkpoint c = Checkpoint.open(DIR, false, WeightMemory.Mode.MMAP)) {
                c.tensors().size();
            }
        }, CheckpointException.class);
    }
}
