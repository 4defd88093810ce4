package org.internvl4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.internvl4j.checkpoint.Quantization;
import org.internvl4j.util.Faults;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** internvl quantize, then generate --model OUT; and --quantize at load gives the same answer. */
class QuantizeCommandTest {
    @AfterEach
    void clear() {
        // --quantize sets a process-wide property for the loaders; other tests in this JVM must not see it
        System.clearProperty(Quantization.PROPERTY);
        System.clearProperty(Faults.DISK_FULL_AFTER);
        Quantization.listener(null);
    }

    @Test
    void aFullDiskIsAClearErrorAndLeavesNothingBehind(@TempDir Path tmp) throws Exception {
        Path tiny = Run.testdata("tiny-models/tiny-a");
        Path out = tmp.resolve("tiny-a-q8");
        System.setProperty(Faults.DISK_FULL_AFTER, "100000");
        Run q = Run.internvl("quantize", tiny.toString(), "--to", "q8", out.toString());
        assertThat(q.code()).isNotZero();
        assertThat(q.err()).contains("No space left on device").contains("was not created and the partial copy was removed");
        try (var left = Files.list(tmp)) {
            assertThat(left.toList()).isEmpty(); // neither OUT nor the hidden partial directory
        }
    }

    @Test
    void quantizeThenGenerateMatchesQuantizingAtLoad(@TempDir Path tmp) {
        Path tiny = Run.testdata("tiny-models/tiny-a");
        Path out = tmp.resolve("tiny-a-q4");
        Run q = Run.internvl("quantize", tiny.toString(), "--to", "q4", out.toString());
        assertThat(q.code()).as(q.err()).isZero();
        assertThat(q.out()).contains("q4").contains("% of the source");
        assertThat(out.resolve("config.json")).content().contains("\"quantization_config\"").contains("\"q4_0\"");
        assertThat(out.resolve("tokenizer.model")).exists();

        Run stored = Run.internvl("generate", "--model", out.toString(), "--max-new-tokens", "6", "Hello");
        assertThat(stored.code()).as(stored.err()).isZero();
        Run atLoad = Run.internvl("generate", "--model", tiny.toString(), "--quantize", "q4", "--max-new-tokens", "6", "Hello");
        assertThat(atLoad.code()).as(atLoad.err()).isZero();
        assertThat(atLoad.err()).contains("quantizing to q4");
        assertThat(atLoad.out()).isEqualTo(stored.out()).isNotBlank();
    }

    @Test
    void badFormatsAndAnExistingOutputAreUsageErrors(@TempDir Path tmp) throws Exception {
        Path tiny = Run.testdata("tiny-models/tiny-a");
        Run bad = Run.internvl("quantize", tiny.toString(), "--to", "q5", tmp.resolve("x").toString());
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("--to must be q8 or q4");
        Files.createDirectories(tmp.resolve("exists"));
        Run exists = Run.internvl("quantize", tiny.toString(), "--to", "q8", tmp.resolve("exists").toString());
        assertThat(exists.code()).isNotZero();
        assertThat(exists.err()).contains("already exists");
        Run gen = Run.internvl("generate", "--model", tiny.toString(), "--quantize", "int3", "Hello");
        assertThat(gen.code()).isEqualTo(2);
        assertThat(gen.err()).contains("--quantize must be q8 or q4");
    }
}
