package org.internvl4j.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.internvl4j.checkpoint.CheckpointException;
import org.internvl4j.checkpoint.WeightMemory;
import org.internvl4j.generate.GenerationRequest;
import org.internvl4j.generate.Generator;
import org.internvl4j.generate.SamplingParams;
import org.junit.jupiter.api.Test;

/** Loading on an interrupted thread: a clear error, the interrupt kept, nothing left open; the next load works. */
class InterruptedLoadTest {
    @Test
    void anInterruptedLoadFailsCleanly() throws Exception {
        for (WeightMemory.Mode mode : new WeightMemory.Mode[] {WeightMemory.Mode.MMAP, WeightMemory.Mode.COPY}) {
            AtomicReference<Throwable> error = new AtomicReference<>();
            AtomicReference<Boolean> stillInterrupted = new AtomicReference<>();
            Thread t = Thread.ofPlatform().start(() -> {
                Thread.currentThread().interrupt();
                try (InternVLModel m = InternVLModel.load(Fixtures.tinyModel("tiny-a"), mode)) {
                    error.set(null);
                } catch (Throwable e) {
                    error.set(e);
                }
                stillInterrupted.set(Thread.currentThread().isInterrupted());
            });
            t.join(60_000);
            assertThat(error.get()).as(mode.toString()).isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("interrupted while opening the file; nothing was loaded");
            assertThat(stillInterrupted.get()).isTrue();
        }
        int threads = Thread.activeCount();
        try (InternVLModel m = InternVLModel.load(Fixtures.tinyModel("tiny-a"), WeightMemory.Mode.MMAP)) {
            assertThat(new Generator(m.llm(), 256).generate(GenerationRequest.text(new int[] {1, 300, 301},
                    SamplingParams.greedy(4, Set.of()))).tokenIds()).hasSize(4);
        }
        assertThat(Thread.activeCount()).isLessThanOrEqualTo(threads + 2); // the compute pool may start once
    }
}
