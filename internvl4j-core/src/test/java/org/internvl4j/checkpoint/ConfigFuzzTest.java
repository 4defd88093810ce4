package org.internvl4j.checkpoint;

import static org.internvl4j.testing.Fuzzing.expectOnly;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Files;
import java.nio.file.Path;
import org.internvl4j.testing.Fuzzing;

/**
 * Fuzzes config.json and generation_config.json. Contract: the readers return a config or throw
 * {@link CheckpointException} with a message (a config that reads must also give its derived numbers).
 * Corpus: ConfigFuzzTestInputs/config.
 */
class ConfigFuzzTest {
    /** The same bytes as a model's config.json and as its generation_config.json. */
    @FuzzTest(maxDuration = "30s")
    void config(byte[] data) throws Exception {
        Path dir = Fuzzing.scratchDir("config");
        Path f = dir.resolve(Checkpoint.CONFIG);
        Files.write(f, data);
        expectOnly(() -> {
            InternVLConfig c = InternVLConfig.read(f);
            c.numImageTokens();
            InternVLTensors.expected(c);
        }, CheckpointException.class);
        // without generation_config.json the ids come from config.json's llm_config
        Files.deleteIfExists(dir.resolve(Checkpoint.GENERATION_CONFIG));
        expectOnly(() -> GenerationConfig.read(dir), CheckpointException.class);
        Files.write(dir.resolve(Checkpoint.GENERATION_CONFIG), data);
        expectOnly(() -> GenerationConfig.read(dir), CheckpointException.class);
    }
}
