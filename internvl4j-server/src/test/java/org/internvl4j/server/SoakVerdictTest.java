package org.internvl4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntToDoubleFunction;
import java.util.function.IntUnaryOperator;
import org.junit.jupiter.api.Test;

/** The soak's growth rule ({@link ServerSoak#growth}) on made-up series: a leak fails it, G1's single spikes do not. */
class SoakVerdictTest {

    /** 180 samples, 10 s apart (30 minutes), with RSS, threads and open files given per sample index. */
    private static List<ServerSoak.Sample> series(IntToDoubleFunction rss, IntUnaryOperator threads, IntUnaryOperator fds) {
        List<ServerSoak.Sample> s = new ArrayList<>();
        for (int i = 0; i < 180; i++) s.add(new ServerSoak.Sample(10.0 * i, rss.applyAsDouble(i), threads.applyAsInt(i), fds.applyAsInt(i), 50, i));
        return s;
    }

    /** 280-320 MiB, as G1 breathes, with no trend. */
    private static double breathing(int i) {
        return 300 + 20 * Math.sin(i * 1.7);
    }

    @Test
    void aFlatRunWithOneSpikeInItsLastThirdIsFlat() {
        // the failing 2026-12-03 run's shape: one sample 45 MiB above the rest, late in the run
        var s = series(i -> i == 150 ? 371 : breathing(i), i -> i == 140 ? 28 : 27, i -> 107);
        assertThat(ServerSoak.growth(s, 300)).startsWith("flat").contains("max 3").contains("-> 371.0");
    }

    @Test
    void aSlowLeakIsGrowth() {
        // 2 MiB a minute: 50 MiB over the 25 minutes after warm-up, hidden under the same breathing
        var s = series(i -> breathing(i) + 2 * (i / 6.0), i -> 27, i -> 107);
        assertThat(ServerSoak.growth(s, 300)).startsWith("GROWTH");
    }

    @Test
    void threadsOrFilesThatPileUpAreGrowth() {
        assertThat(ServerSoak.growth(series(SoakVerdictTest::breathing, i -> 27 + i / 20, i -> 107), 300)).startsWith("GROWTH");
        assertThat(ServerSoak.growth(series(SoakVerdictTest::breathing, i -> 27, i -> 107 + i / 20), 300)).startsWith("GROWTH");
    }

    @Test
    void tooFewSamplesAfterWarmUpIsNoVerdict() {
        assertThat(ServerSoak.growth(series(SoakVerdictTest::breathing, i -> 27, i -> 107), 1790)).startsWith("too few samples");
    }
}
