package org.internvl4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Argument handling only: the benchmark itself is run by hand (docs/PERFORMANCE.md), never timed in tests. */
class BenchCommandTest {
    private static String[] run(String... args) {
        Run r = Run.internvl(args);
        return new String[] {String.valueOf(r.code()), r.out(), r.err()};
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
