package org.internvl4j.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.internvl4j.model.Fixtures;
import org.internvl4j.model.InternVLModel;
import org.internvl4j.util.Limits;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The generator's time limit and interruption, on tiny-a. */
class GeneratorLimitsTest {
    static InternVLModel model;
    static final int[] PROMPT = {1, 300, 301, 302, 303, 304, 305, 306, 307, 308};
    static final SamplingParams LONG = SamplingParams.greedy(3000, Set.of()); // no stop token: runs to the limit

    @BeforeAll
    static void load() {
        model = InternVLModel.load(Fixtures.tinyModel("tiny-a"));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void theTimeLimitEndsSequencesBetweenSteps() {
        Generator g = new Generator(model.llm(), 4096);
        assertThat(g.timeLimit()).isZero();
        GenerationResult whole = g.generate(GenerationRequest.text(PROMPT, SamplingParams.greedy(40, Set.of())));
        assertThat(whole.finishReason()).isEqualTo(FinishReason.LENGTH);
        // a limit shorter than the prefill: the first token is sampled, then the sequence ends
        GenerationResult cut = g.withTimeLimit(Duration.ofNanos(1)).generate(GenerationRequest.text(PROMPT, LONG));
        assertThat(cut.finishReason()).isEqualTo(FinishReason.TIME_LIMIT);
        assertThat(cut.tokenIds()).hasSize(1).containsExactly(whole.tokenIds()[0]);
        // the property sets the default of new generators
        System.setProperty(Limits.PREFIX + "decodeSeconds", "0.25");
        try {
            assertThat(new Generator(model.llm(), 4096).timeLimit()).isEqualTo(Duration.ofMillis(250));
        } finally {
            System.clearProperty(Limits.PREFIX + "decodeSeconds");
        }
    }

    @Test
    void anInterruptEndsTheGenerationCleanlyAndLeavesTheFlagSet() throws Exception {
        Generator g = new Generator(model.llm(), 4096);
        int[] reference = g.generate(GenerationRequest.text(PROMPT, SamplingParams.greedy(40, Set.of()))).tokenIds();
        int threadsBefore = Thread.activeCount();
        for (int round = 0; round < 5; round++) {
            CountDownLatch started = new CountDownLatch(1);
            AtomicReference<GenerationResult> result = new AtomicReference<>();
            AtomicReference<Boolean> flag = new AtomicReference<>();
            Thread t = Thread.ofPlatform().start(() -> {
                result.set(g.generate(java.util.List.of(GenerationRequest.text(PROMPT, LONG)), (i, tok) -> {
                    started.countDown();
                    return true;
                }).get(0));
                flag.set(Thread.currentThread().isInterrupted());
            });
            assertThat(started.await(60, TimeUnit.SECONDS)).isTrue();
            t.interrupt();
            t.join(60_000);
            assertThat(t.isAlive()).isFalse();
            assertThat(result.get().finishReason()).isEqualTo(FinishReason.INTERRUPTED);
            assertThat(result.get().tokenIds().length).isBetween(1, 2999);
            // what was generated before the interrupt is the uninterrupted answer's beginning
            int n = Math.min(result.get().tokenIds().length, reference.length);
            assertThat(java.util.Arrays.copyOf(result.get().tokenIds(), n)).containsExactly(java.util.Arrays.copyOf(reference, n));
            assertThat(flag.get()).as("interrupt status kept for the caller").isTrue();
        }
        // no compute threads left behind, and the model still answers the same
        assertThat(Thread.activeCount()).isLessThanOrEqualTo(threadsBefore);
        assertThat(g.generate(GenerationRequest.text(PROMPT, SamplingParams.greedy(40, Set.of()))).tokenIds()).containsExactly(reference);
    }
}
