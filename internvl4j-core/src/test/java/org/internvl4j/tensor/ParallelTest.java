package org.internvl4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ParallelTest {
    private final int before = Parallel.threads();

    @AfterEach
    void restore() {
        Parallel.setThreads(before);
    }

    @Test
    void everyIndexRunsExactlyOnceWithChunkStartsOnTheGrain() {
        for (int threads : new int[] {1, 2, 3, 8}) {
            Parallel.setThreads(threads);
            for (int n : new int[] {1, 5, 6, 7, 100, 1001}) {
                for (int grain : new int[] {1, 4, 6, 64}) {
                    AtomicIntegerArray hits = new AtomicIntegerArray(n);
                    Parallel.forRange(n, grain, (from, to) -> {
                        assertThat(from % grain).isZero();
                        for (int i = from; i < to; i++) hits.incrementAndGet(i);
                    });
                    for (int i = 0; i < n; i++) assertThat(hits.get(i)).as("n=%d grain=%d i=%d", n, grain, i).isEqualTo(1);
                }
            }
        }
    }

    @Test
    void nestedLoopsFinish() {
        Parallel.setThreads(2);
        AtomicIntegerArray hits = new AtomicIntegerArray(64);
        Parallel.forRange(8, 1, (a, b) -> {
            for (int i = a; i < b; i++) {
                int base = i * 8;
                Parallel.forRange(8, 1, (c, d) -> {
                    for (int j = c; j < d; j++) hits.incrementAndGet(base + j);
                });
            }
        });
        for (int i = 0; i < 64; i++) assertThat(hits.get(i)).isEqualTo(1);
    }

    @Test
    void exceptionsReachTheCaller() {
        Parallel.setThreads(2);
        assertThatThrownBy(() -> Parallel.forRange(100, 1, (a, b) -> {
            if (a <= 50 && 50 < b) throw new IllegalStateException("boom at 50");
        })).hasMessageContaining("boom at 50");
    }

    @Test
    void badSettingsAreRejected() {
        assertThatThrownBy(() -> Parallel.setThreads(0)).hasMessageContaining("at least 1");
        assertThatThrownBy(() -> Parallel.forRange(10, 0, (a, b) -> { })).hasMessageContaining("grain");
    }

    /** Loops from several caller threads at once (the engine and an in-process chat, say) each finish whole. */
    @Test
    void loopsFromSeveralThreadsAtOnceEachRunEveryIndexOnce() throws Exception {
        Parallel.setThreads(3);
        int callers = 4;
        int rounds = 300;
        var failures = new java.util.concurrent.ConcurrentLinkedQueue<Throwable>();
        Thread[] ts = new Thread[callers];
        for (int c = 0; c < callers; c++) {
            int n = 97 + c * 31;
            ts[c] = new Thread(() -> {
                try {
                    for (int r = 0; r < rounds; r++) {
                        AtomicIntegerArray hits = new AtomicIntegerArray(n);
                        Parallel.forRange(n, 3, (from, to) -> {
                            for (int i = from; i < to; i++) hits.incrementAndGet(i);
                        });
                        for (int i = 0; i < n; i++) {
                            if (hits.get(i) != 1) throw new AssertionError("round " + r + " index " + i + " ran " + hits.get(i) + " times");
                        }
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            ts[c].start();
        }
        for (Thread t : ts) t.join(60_000);
        assertThat(failures).isEmpty();
        for (Thread t : ts) assertThat(t.isAlive()).isFalse();
    }

    @Test
    void aFailedLoopLeavesThePoolUsable() {
        Parallel.setThreads(2);
        assertThatThrownBy(() -> Parallel.forRange(64, 1, (a, b) -> {
            throw new IllegalArgumentException("every chunk fails");
        })).hasMessageContaining("every chunk fails");
        AtomicIntegerArray hits = new AtomicIntegerArray(64);
        Parallel.forRange(64, 1, (a, b) -> {
            for (int i = a; i < b; i++) hits.incrementAndGet(i);
        });
        for (int i = 0; i < 64; i++) assertThat(hits.get(i)).isEqualTo(1);
    }
}
