package org.internvl4j.checkpoint;

import static org.internvl4j.testing.Fuzzing.expectOnly;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import org.internvl4j.testing.Fuzzing;

/**
 * Fuzzes the safetensors reader with whole files. Contract: {@link SafeTensorsFile#open} either opens
 * the file or throws {@link CheckpointException} with a message; never another exception or Error.
 * Corpus: SafeTensorsFuzzTestInputs/header (docs/RELIABILITY.md#fuzzing).
 */
class SafeTensorsFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void header(byte[] data) {
        Path f = Fuzzing.scratch("fuzz.safetensors", data);
        expectOnly(() -> {
            try (SafeTensorsFile st = SafeTensorsFile.open(f)) {
                for (TensorInfo t : st.tensors().values()) {
                    t.shapeString();
                    if (t.byteSize() <= 4096) t.toFloatArray();
                }
            }
        }, CheckpointException.class);
    }
}
