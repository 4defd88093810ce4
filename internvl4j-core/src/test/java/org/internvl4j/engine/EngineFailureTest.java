package org.internvl4j.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.internvl4j.generate.SamplingParams;
import org.internvl4j.llm.KvCacheMemoryException;
import org.internvl4j.model.Fixtures;
import org.internvl4j.model.InternVLModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A request whose KV cache cannot be allocated ends alone; the engine keeps serving the others. */
class EngineFailureTest {
    static InternVLModel model;

    @BeforeAll
    static void load() {
        model = InternVLModel.load(Fixtures.tinyModel("tiny-a"));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void outOfMemoryForOneContextLeavesTheEngineServing() throws Exception {
        long perToken = model.llm().newCache(1).bytesPerToken();
        int huge = (int) Math.min(Integer.MAX_VALUE / 8, Runtime.getRuntime().maxMemory() / perToken + 4096);
        // a budget of blocks large enough that only the heap, not the engine's accounting, refuses it
        EngineOptions opts = EngineOptions.defaults(1L << 42, huge + 64);
        try (Engine e = new Engine(model, opts)) {
            EngineTest.Collect ok1 = new EngineTest.Collect();
            e.submit(EngineRequest.text(EngineTest.prompt(1), SamplingParams.greedy(30, Set.of())), ok1);
            int[] longPrompt = new int[huge];
            Arrays.fill(longPrompt, 300);
            longPrompt[0] = 1;
            EngineTest.Collect tooLong = new EngineTest.Collect();
            e.submit(EngineRequest.text(longPrompt, SamplingParams.greedy(4, Set.of())), tooLong);
            EngineTest.Collect ok2 = new EngineTest.Collect();
            e.submit(EngineRequest.text(EngineTest.prompt(2), SamplingParams.greedy(30, Set.of())), ok2);

            try {
                tooLong.await();
                throw new AssertionError("the long context was served");
            } catch (ExecutionException ex) {
                assertThat(ex.getCause()).isInstanceOf(KvCacheMemoryException.class)
                        .hasMessageContaining("out of memory for the KV cache");
            }
            assertThat(ok1.await()).isEqualTo(Finish.LENGTH);
            assertThat(ok2.await()).isEqualTo(Finish.LENGTH);
            assertThat(ok1.ids()).hasSize(30);
            // and after it, too
            EngineTest.Collect ok3 = new EngineTest.Collect();
            e.submit(EngineRequest.text(EngineTest.prompt(3), SamplingParams.greedy(10, Set.of())), ok3);
            assertThat(ok3.await()).isEqualTo(Finish.LENGTH);
            assertThat(e.stats().running()).isZero();
        }
    }
}
