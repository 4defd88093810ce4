package org.internvl4j.checkpoint;

import static org.internvl4j.testing.Fuzzing.expectOnly;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Files;
import java.nio.file.Path;
import org.internvl4j.testing.Fuzzing;

/**
 * Fuzzes config.json and generation_config.json. Contract: the readers return a config or throw
 * {@link CheckpointException} with a message (a config that reads must also give its derived numbers).
 * Corpus: ConfigFuzzTestInputs/{config,generationConfig}.
 */
class ConfigFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void config(byte[] data) {
        Path f = Fuzzing.scratch("config.json", data);
        expectOnly(() -> {
            InternVLConfig c = InternVLConfig.read(f);
            c.numImageTokens();
            InternVLTensors.expected(c);
        }, CheckpointException.class);
    }

    @FuzzTest(maxDuration = "30s")
    void generationConfig(byte[] data) throws Exception {
        Path dir = Fuzzing.scratchDir("generation");
        Files.write(dir.resolve(Checkpoint.GENERATION_CONFIG), data);
        expectOnly(() -> GenerationConfig.read(dir), CheckpointException.class);
    }
}
