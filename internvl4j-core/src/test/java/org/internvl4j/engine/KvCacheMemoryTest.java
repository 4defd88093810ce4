package org.internvl4j.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.internvl4j.chat.ChatModel;
import org.internvl4j.chat.ChatRequest;
import org.internvl4j.chat.ChatSession;
import org.internvl4j.generate.GenerationRequest;
import org.internvl4j.generate.Generator;
import org.internvl4j.generate.SamplingParams;
import org.internvl4j.llm.KvCache;
import org.internvl4j.llm.KvCacheMemoryException;
import org.internvl4j.model.Fixtures;
import org.internvl4j.model.InternVLModel;
import org.internvl4j.tokenizer.InternLM2Tokenizer;
import org.internvl4j.util.Faults;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Out of memory on a long context, on tiny-a: a KV budget the heap cannot hold is refused at engine start; the heap
 * running out while a cache takes a block ({@link Faults#KV_OUT_OF_MEMORY_AFTER} makes the allocation fail as a full
 * heap does) is a {@link KvCacheMemoryException} for that one generation, after which the model, the cache and the
 * engine go on as if it had not happened; a prompt larger than the whole budget is refused at once.
 */
class KvCacheMemoryTest {
    static InternVLModel model;
    static ChatModel chat;

    @BeforeAll
    static void load() {
        model = InternVLModel.load(Fixtures.tinyModel("tiny-a"));
        chat = new ChatModel(model, InternLM2Tokenizer.load(Fixtures.tinyModel("tiny-a")), new Generator(model));
    }

    @AfterAll
    static void close() {
        chat.close();
        model.close();
    }

    @AfterEach
    void noInjection() {
        System.clearProperty(Faults.KV_OUT_OF_MEMORY_AFTER);
    }

    static int[] longPrompt(int n) {
        int[] p = new int[n];
        p[0] = 1;
        for (int k = 1; k < n; k++) p[k] = 300 + (k * 13) % 3000;
        return p;
    }

    @Test
    void aBudgetTheHeapCannotHoldIsRefusedAtStart() {
        long max = Runtime.getRuntime().maxMemory();
        assertThatThrownBy(() -> new Engine(model, EngineOptions.defaults(2 * max, 4096)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("does not fit in the Java heap")
                .hasMessageContaining("lower --kv-cache-gib")
                .hasMessageContaining("INTERNVL_HEAP=-Xmx");
        // what the heap holds starts (and the budget is allocated only as it is used)
        long fits = Engine.kvBytesThatFit(max) / 2;
        try (Engine e = new Engine(model, EngineOptions.defaults(fits, 4096))) {
            assertThat(e.pool().allocated()).isZero();
        }
    }

    @Test
    void theHeapRunningOutInALibraryCacheIsAClearErrorAndTheNextGenerationIsUnchanged() {
        Generator gen = new Generator(model);
        SamplingParams p = SamplingParams.greedy(30, Set.of());
        int[] prompt = longPrompt(40);
        int[] want = gen.generate(GenerationRequest.text(prompt, p)).tokenIds();

        // the prompt's third 16-token block does not fit: the prefill fails before anything is computed
        System.setProperty(Faults.KV_OUT_OF_MEMORY_AFTER, "2");
        assertThatThrownBy(() -> gen.generate(GenerationRequest.text(prompt, p)))
                .isInstanceOf(KvCacheMemoryException.class)
                .hasMessageContaining("out of memory for the KV cache at a context of 40 tokens")
                .hasMessageContaining("INTERNVL_HEAP=-Xmx")
                .hasCauseInstanceOf(OutOfMemoryError.class);
        // the fourth block does not fit: the decode fails at 49 tokens, in a cache a caller keeps
        System.setProperty(Faults.KV_OUT_OF_MEMORY_AFTER, "3");
        KvCache kept = model.llm().newCache();
        assertThatThrownBy(() -> gen.generate(new GenerationRequest(prompt, null, -1, p, kept)))
                .isInstanceOf(KvCacheMemoryException.class)
                .hasMessageContaining("at a context of 49 tokens (it held 48")
                .satisfies(e -> assertThat(((KvCacheMemoryException) e).neededTokens()).isEqualTo(49));
        assertThat(kept.length()).isEqualTo(48);     // what it held stays
        assertThat(kept.blockCount()).isEqualTo(3);  // and no block taken ahead
        assertThat(kept.pool().allocated()).isEqualTo(3);

        System.clearProperty(Faults.KV_OUT_OF_MEMORY_AFTER);
        assertThat(gen.generate(GenerationRequest.text(prompt, p)).tokenIds()).containsExactly(want);
        // the kept cache continues: its 48 positions are the prompt and the first 8 tokens of the answer
        int[] again = gen.generate(new GenerationRequest(prompt, null, -1, p, kept)).tokenIds();
        assertThat(again).containsExactly(want);
    }

    @Test
    void aChatSessionTurnThatRunsOutOfHeapLeavesTheSessionAndTheEngineAsTheyWere() {
        Engine engine = chat.engine();
        String hello = chat.chat(ChatRequest.of("hello").withMaxNewTokens(6)).response();
        ChatSession undisturbed = chat.newSession().params(SamplingParams.greedy(12, Set.of()));
        String first = undisturbed.ask("Describe a long day.").response();
        String second = undisturbed.ask("And the night after it?").response();

        ChatSession s = chat.newSession().params(SamplingParams.greedy(12, Set.of()));
        assertThat(s.ask("Describe a long day.").response()).isEqualTo(first);
        System.setProperty(Faults.KV_OUT_OF_MEMORY_AFTER, "0"); // no new block anywhere
        assertThatThrownBy(() -> s.ask("And the night after it?")).isInstanceOf(KvCacheMemoryException.class)
                .hasMessageContaining("out of memory for the KV cache");
        System.clearProperty(Faults.KV_OUT_OF_MEMORY_AFTER);
        assertThat(chat.engine()).isSameAs(engine); // the engine did not fail with the request
        assertThat(engine.isClosed()).isFalse();
        assertThat(s.history()).hasSize(1);
        assertThat(s.ask("And the night after it?").response()).isEqualTo(second);
        assertThat(chat.chat(ChatRequest.of("hello").withMaxNewTokens(6)).response()).isEqualTo(hello);
    }

    /** A listener that records whether another request was still running when this one ended. */
    static final class Watch extends EngineTest.Collect {
        final CompletableFuture<?> other;
        volatile boolean otherRunningAtFinish;
        volatile RuntimeException error;

        Watch(CompletableFuture<?> other) {
            this.other = other;
        }

        @Override
        public void onFinish(Finish finish, Usage u, RuntimeException e) {
            otherRunningAtFinish = !other.isDone();
            error = e;
            super.onFinish(finish, u, e);
        }
    }

    @Test
    void inTheEngineOneRequestOutOfHeapEndsAloneAndTheOthersGoOn() throws Exception {
        SamplingParams p = SamplingParams.greedy(20, Set.of());
        int[] a = EngineTest.prompt(3);
        int[] want = new Generator(model).generate(GenerationRequest.text(a, p)).tokenIds();
        try (Engine e = new Engine(model, EngineOptions.defaults(EngineTest.BUDGET, 4096))) {
            // a pooled request (2 blocks of the budget) beside one whose own cache needs 13 blocks; 6 fit in the heap
            System.setProperty(Faults.KV_OUT_OF_MEMORY_AFTER, "6");
            EngineTest.Collect ok = new EngineTest.Collect();
            e.submit(EngineRequest.text(a, p), ok);
            Watch big = new Watch(ok.done);
            e.submit(new EngineRequest(longPrompt(200), List.of(), -1, p, false, null, model.llm().newCache()), big);
            assertThatThrownBy(big::await).isInstanceOf(ExecutionException.class).cause()
                    .isInstanceOf(KvCacheMemoryException.class).hasMessageContaining("at a context of 200 tokens");
            assertThat(ok.await()).isEqualTo(Finish.LENGTH);
            assertThat(ok.ids()).containsExactly(want);
            System.clearProperty(Faults.KV_OUT_OF_MEMORY_AFTER);
            assertThat(e.isClosed()).isFalse();
            EngineTest.Collect next = new EngineTest.Collect();
            e.submit(EngineRequest.text(a, p), next);
            assertThat(next.await()).isEqualTo(Finish.LENGTH);
            assertThat(next.ids()).containsExactly(want);
        }
    }

    @Test
    void aPromptLargerThanTheWholeBudgetIsRefusedAtOnceWhileAnotherRequestRuns() throws Exception {
        long perToken = model.llm().newCache().bytesPerToken();
        try (Engine e = new Engine(model, EngineOptions.defaults(perToken * 16 * 256, 8192))) { // 256 blocks: 4,096 tokens
            EngineTest.Collect running = new EngineTest.Collect(); // 3,000 decode steps: it runs for a while
            e.submit(EngineRequest.text(EngineTest.prompt(5), SamplingParams.greedy(3000, Set.of())), running);
            // straight to submit (the server validates first and answers 400; this is the engine's own guard)
            Watch tooBig = new Watch(running.done);
            e.submit(EngineRequest.text(longPrompt(5000), SamplingParams.greedy(4, Set.of())), tooBig);
            EngineTest.Collect after = new EngineTest.Collect();
            e.submit(EngineRequest.text(EngineTest.prompt(6), SamplingParams.greedy(4, Set.of())), after);

            assertThatThrownBy(tooBig::await).isInstanceOf(ExecutionException.class).cause()
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("the prompt of 5000 tokens needs 313 KV blocks but the whole KV cache has 256")
                    .hasMessageContaining("--kv-cache-gib");
            assertThat(tooBig.otherRunningAtFinish).as("refused while the first request still ran, not after it").isTrue();
            assertThat(after.await()).isEqualTo(Finish.LENGTH);
            assertThat(after.ids()).hasSize(4);
            assertThat(running.await()).isEqualTo(Finish.LENGTH);
            assertThat(running.ids()).hasSize(3000);
            assertThat(e.isClosed()).isFalse();
        }
    }
}
