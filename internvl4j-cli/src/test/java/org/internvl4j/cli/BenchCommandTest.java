package org.internvl4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Argument handling only: the benchmark itself is run by hand (docs/PERFORMANCE.md), never timed in tests. */
class BenchCommandTest {
    private static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new String[] {String.valueOf(code), out.toString(), err.toString()};
    }

    @Test
    void benchListsTheKernelsSubcommand() {
        String[] r = run("bench", "--help");
        assertThat(r[0]).isEqualTo("0");
        assertThat(r[1]).contains("kernels");
    }

    @Test
    void badArgumentsAreNamedErrors() {
        String[] r = run("bench", "kernels", "--threads", "1,0");
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[2]).contains("--threads").contains("at least 1");
        r = run("bench", "kernels", "--seconds", "0");
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[2]).contains("--seconds");
        r = run("bench", "kernels", "--threads", "two");
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[2]).contains("two");
    }
}
