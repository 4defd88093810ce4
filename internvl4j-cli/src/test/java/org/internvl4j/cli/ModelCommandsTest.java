package org.internvl4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ModelCommandsTest {
    @Test
    void makeSyntheticThenBenchModelPrintsEveryMeasurement(@TempDir Path dir) {
        StringWriter out = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out));
        assertThat(cl.execute("make-synthetic", "--tiny", dir.toString())).isZero();
        assertThat(out.toString()).contains("wrote");
        CommandLine bench = Main.commandLine();
        StringWriter b = new StringWriter();
        bench.setOut(new PrintWriter(b));
        assertThat(bench.execute("bench", "model", "--model", dir.toString(), "--tiles", "1", "--prompt-tokens", "8", "--decode-tokens", "2")).isZero();
        assertThat(b.toString()).contains("load:").contains("ms per tile").contains("prefill:").contains("decode:").contains("peak resident");
    }

    @Test
    void benchModelRejectsAMissingDirectory() {
        CommandLine bench = Main.commandLine();
        StringWriter err = new StringWriter();
        bench.setErr(new PrintWriter(err));
        assertThat(bench.execute("bench", "model", "--model", "./no/such/dir")).isNotZero();
        assertThat(err.toString()).contains("./no/such/dir").contains("no such directory");
        assertThat(bench.execute("bench", "model", "--model", ".", "--prompt-tokens", "0")).isEqualTo(2);
        assertThat(err.toString()).contains("--prompt-tokens must be at least 1");
    }
}
