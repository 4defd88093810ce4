package org.internvl4j.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.internvl4j.chat.ChatModel;
import org.internvl4j.chat.ChatRequest;
import org.internvl4j.chat.ChatResult;
import org.internvl4j.generate.GenerationRequest;
import org.internvl4j.generate.Generator;
import org.internvl4j.generate.SamplingParams;
import org.internvl4j.generate.TokenLogprob;
import org.internvl4j.image.ImagePreprocessor;
import org.internvl4j.image.PixelValues;
import org.internvl4j.model.Fixtures;
import org.internvl4j.model.InternVLModel;
import org.internvl4j.tokenizer.InternLM2Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The continuous-batching engine on the tiny-a checkpoint, checked against the one-request Generator. */
class EngineTest {
    static InternVLModel model;
    static ChatModel chat;
    static final long BUDGET = 256L << 20; // plenty for tiny-a (768 bytes a token), and it fits any test JVM's heap

    @BeforeAll
    static void load() {
        model = InternVLModel.load(Fixtures.tinyModel("tiny-a"));
        chat = new ChatModel(model, InternLM2Tokenizer.load(Fixtures.tinyModel("tiny-a")), new Generator(model));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** What the engine hands a listener, collected. */
    static class Collect implements SequenceListener {
        final List<Integer> tokens = new ArrayList<>();
        final List<Float> logprobs = new ArrayList<>();
        final CompletableFuture<Finish> done = new CompletableFuture<>();
        volatile Usage usage;
        volatile int stopAfter = Integer.MAX_VALUE;

        @Override
        public boolean onToken(int tokenId, float logprob, List<TokenLogprob> top) {
            tokens.add(tokenId);
            logprobs.add(logprob);
            return tokens.size() < stopAfter;
        }

        @Override
        public void onFinish(Finish finish, Usage u, RuntimeException error) {
            usage = u;
            if (error != null) done.completeExceptionally(error);
            else done.complete(finish);
        }

        int[] ids() {
            return tokens.stream().mapToInt(Integer::intValue).toArray();
        }

        Finish await() throws Exception {
            return done.get(120, TimeUnit.SECONDS);
        }
    }

    static int[] prompt(int i) {
        int[] p = new int[5 + i % 7];
        p[0] = 1;
        for (int k = 1; k < p.length; k++) p[k] = 300 + (i * 37 + k * 11) % 3000;
        return p;
    }

    static SamplingParams sampled(int i, int maxNew) {
        return SamplingParams.sample(maxNew, 0.9f, 40, 0.95f, 1000 + i, Set.of());
    }

    @Test
    void aRequestGetsTheSameTokensAloneAndAmong31Others() throws Exception {
        EngineOptions opts = EngineOptions.defaults(BUDGET, 4096).withMaxBatch(32);
        int[] alone;
        try (Engine e = new Engine(model, opts)) {
            Collect c = new Collect();
            e.submit(EngineRequest.text(prompt(0), sampled(0, 20)), c);
            assertThat(c.await()).isEqualTo(Finish.LENGTH);
            alone = c.ids();
        }
        assertThat(alone).hasSize(20);
        // the same request in the middle of 31 others that arrive before and after it
        try (Engine e = new Engine(model, opts.withPrefillChunkTokens(7))) {
            List<Collect> all = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                int k = (i + 16) % 32;
                Collect c = new Collect();
                e.submit(EngineRequest.text(prompt(k), sampled(k, k == 0 ? 20 : 10 + k % 13)), c);
                all.add(c);
            }
            for (Collect c : all) c.await();
            assertThat(all.get(16).ids()).containsExactly(alone);
            assertThat(e.stats().finished()).isEqualTo(32);
        }
        // and the Generator, which decodes one request alone, agrees
        int[] gen = new Generator(model).generate(GenerationRequest.text(prompt(0), sampled(0, 20))).tokenIds();
        assertThat(alone).containsExactly(gen);
    }

    @Test
    void imagesAndChunkedPrefillGiveTheChatModelsAnswer() throws Exception {
        PixelValues img = ImagePreprocessor.builder().inputSize(model.imageSize()).maxNum(2).build()
                .load(Fixtures.testdata().resolve("chat/img_a.png"));
        ChatResult want = chat.chat(ChatRequest.of("describe", img).withMaxNewTokens(12));
        try (Engine e = new Engine(model, EngineOptions.defaults(BUDGET, 4096).withPrefillChunkTokens(100))) {
            SamplingParams p = SamplingParams.greedy(12, Set.of(chat.stopTokenId()));
            for (int round = 0; round < 2; round++) {
                Collect c = new Collect();
                e.submit(new EngineRequest(want.promptIds(), List.of(img), chat.imageContextTokenId(), p, true), c);
                c.await();
                assertThat(c.ids()).containsExactly(want.tokenIds());
                assertThat(c.logprobs).allMatch(f -> f <= 0);
            }
            EngineStats s = e.stats();
            assertThat(s.featureLookups()).isEqualTo(1); // the second round reused the whole prompt's KV
            assertThat(s.prefixHits()).isEqualTo(1);
            assertThat(s.prefixHitTokens()).isEqualTo(want.promptIds().length - 1);
        }
    }

    @Test
    void aTightBudgetPreemptsAndRecomputesWithoutChangingOutputs() throws Exception {
        long perToken = 2L * 3 * 2 * 16 * 4; // tiny-a: 3 layers, 2 kv heads x 16, float32 keys and values
        EngineOptions tight = EngineOptions.defaults(perToken * 16 * 6, 4096).withMaxBatch(8).withPrefixCacheEntries(0);
        List<int[]> want = new ArrayList<>();
        Generator g = new Generator(model);
        for (int i = 0; i < 6; i++) want.add(g.generate(GenerationRequest.text(prompt(i), sampled(i, 30))).tokenIds());
        try (Engine e = new Engine(model, tight)) {
            List<Collect> all = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                Collect c = new Collect();
                e.submit(EngineRequest.text(prompt(i), sampled(i, 30)), c);
                all.add(c);
            }
            for (int i = 0; i < 6; i++) {
                all.get(i).await();
                assertThat(all.get(i).ids()).as("request " + i).containsExactly(want.get(i));
            }
            assertThat(e.stats().preemptions()).isPositive();
            assertThat(e.stats().kvBlocksUsed()).isZero();
        }
    }

    @Test
    void cancellingFreesBlocksAndTimeoutsEnd() throws Exception {
        try (Engine e = new Engine(model, EngineOptions.defaults(BUDGET, 4096).withPrefixCacheEntries(0)
                .withRequestTimeout(Duration.ofSeconds(30)))) {
            Collect c = new Collect();
            CountDownLatch started = new CountDownLatch(1);
            Engine.Handle h = e.submit(EngineRequest.text(prompt(1), SamplingParams.greedy(4000, Set.of())), new Collect() {
                @Override
                public boolean onToken(int tokenId, float logprob, List<TokenLogprob> top) {
                    started.countDown();
                    return true;
                }

                @Override
                public void onFinish(Finish finish, Usage u, RuntimeException error) {
                    c.onFinish(finish, u, error);
                }
            });
            assertThat(started.await(60, TimeUnit.SECONDS)).isTrue();
            assertThat(e.stats().kvBlocksUsed()).isPositive();
            h.cancel();
            assertThat(c.await()).isEqualTo(Finish.CANCELLED);
            assertThat(e.stats().kvBlocksUsed()).isZero();
            Collect stopped = new Collect();
            stopped.stopAfter = 3;
            e.submit(EngineRequest.text(prompt(2), SamplingParams.greedy(50, Set.of())), stopped);
            assertThat(stopped.await()).isEqualTo(Finish.CANCELLED);
            assertThat(stopped.tokens).hasSize(3);
        }
        try (Engine e = new Engine(model, EngineOptions.defaults(BUDGET, 8192).withRequestTimeout(Duration.ofMillis(300)))) {
            Collect c = new Collect();
            e.submit(EngineRequest.text(prompt(3), SamplingParams.greedy(8000, Set.of())), c);
            assertThat(c.await()).isEqualTo(Finish.TIMEOUT);
            assertThat(c.tokens.size()).isLessThan(8000);
        }
    }

    @Test
    void aFullQueueAndBadRequestsAreRefused() {
        try (Engine e = new Engine(model, EngineOptions.defaults(BUDGET, 64).withMaxBatch(1).withMaxWaiting(1))) {
            assertThatThrownBy(() -> e.validate(EngineRequest.text(new int[64], SamplingParams.greedy(1, Set.of()))))
                    .hasMessageContaining("context window is 64");
            assertThatThrownBy(() -> e.validate(new EngineRequest(new int[] {1, 4107}, List.of(), 4107, SamplingParams.greedy(1, Set.of()), false)))
                    .isInstanceOf(IllegalArgumentException.class);
            for (int i = 0; i < 2; i++) e.submit(EngineRequest.text(prompt(i), SamplingParams.greedy(60, Set.of())), new Collect());
            assertThatThrownBy(() -> {
                for (int i = 0; i < 3; i++) e.submit(EngineRequest.text(prompt(i), SamplingParams.greedy(60, Set.of())), new Collect());
            }).isInstanceOf(EngineFullException.class).hasMessageContaining("busy");
        }
        Engine closed = new Engine(model, EngineOptions.defaults(BUDGET, 64));
        closed.close();
        assertThatThrownBy(() -> closed.submit(EngineRequest.text(prompt(1), SamplingParams.greedy(1, Set.of())), new Collect()))
                .isInstanceOf(EngineFullException.class).hasMessageContaining("shut down");
    }

    @Test
    void pagedAttentionGivesTheLogitsOfAnUnpagedCacheBitForBit() {
        var llm = model.llm();
        // 3-token blocks: every attention row crosses block boundaries; one 16-token block holds the whole sequence
        org.internvl4j.llm.KvCache paged = new org.internvl4j.llm.KvBlockPool(llm.config(), 3, 1000).newCache();
        org.internvl4j.llm.KvCache whole = new org.internvl4j.llm.KvBlockPool(llm.config(), 64, 1).newCache();
        int[] p = new int[40];
        for (int i = 0; i < p.length; i++) p[i] = 300 + i * 13;
        int[] head = java.util.Arrays.copyOf(p, 30);
        assertThat(llm.forward(paged, head, null, -1, false)).containsExactly(llm.forward(whole, head, null, -1, false));
        for (int i = 30; i < 40; i++) {
            int[] one = {p[i]};
            assertThat(llm.forward(paged, one, null, -1, true)).as("position " + i).containsExactly(llm.forward(whole, one, null, -1, true));
        }
        assertThat(paged.blockCount()).isEqualTo(14);
        assertThat(whole.blockCount()).isEqualTo(1);
    }

    @Test
    void aPrefixHitSharesTheCachedBlocks() throws Exception {
        try (Engine e = new Engine(model, EngineOptions.defaults(BUDGET, 4096))) {
            int[] a = new int[40];
            for (int i = 0; i < a.length; i++) a[i] = 300 + i * 7;
            Collect first = new Collect();
            e.submit(EngineRequest.text(a, SamplingParams.greedy(4, Set.of())), first);
            first.await();
            assertThat(e.stats().kvBlocksUsed()).isEqualTo(3); // 43 positions kept in the prefix cache
            int[] b = java.util.Arrays.copyOf(a, 42);
            b[40] = first.ids()[0] == 999 ? 998 : 999;
            b[41] = 5;
            Collect second = new Collect();
            e.submit(EngineRequest.text(b, SamplingParams.greedy(1, Set.of())), second);
            second.await();
            EngineStats st = e.stats();
            assertThat(st.prefixHits()).isEqualTo(1);
            assertThat(st.prefixHitTokens()).isEqualTo(40);
            assertThat(second.usage.cachedTokens()).isEqualTo(40);
            // both entries stay: 3 blocks each, the first 2 (32 positions) shared, so 4 in the pool
            assertThat(st.kvBlocksUsed()).isEqualTo(4);
            assertThat(e.pool().used()).isEqualTo(4);
            assertThat(st.kvBlocksCached()).isEqualTo(4);
            // and the second request's token is the one it gets without the cache
            int[] alone = new Generator(model).generate(GenerationRequest.text(b, SamplingParams.greedy(1, Set.of()))).tokenIds();
            assertThat(second.ids()).containsExactly(alone);
        }
    }

    @Test
    void aRequestBiggerThanThePoolGetsAClearError() throws Exception {
        long perToken = 2L * 3 * 2 * 16 * 4;
        try (Engine e = new Engine(model, EngineOptions.defaults(perToken * 16 * 2, 4096))) { // 2 blocks of 16
            assertThatThrownBy(() -> e.validate(EngineRequest.text(new int[40], SamplingParams.greedy(1, Set.of()))))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("needs 3 KV blocks but the whole KV cache has 2").hasMessageContaining("--kv-cache-gib");
            // a prompt that fits but whose answer does not: it runs until the pool is full and ends with LENGTH
            Collect c = new Collect();
            e.submit(EngineRequest.text(prompt(1), SamplingParams.greedy(100, Set.of())), c);
            assertThat(c.await()).isEqualTo(Finish.LENGTH);
            assertThat(prompt(1).length + c.tokens.size()).isEqualTo(33); // 32 positions cached, and the last token
        }
    }

    @Test
    void theInProcessApiRunsOnTheModelsSharedEngine() throws Exception {
        long before = chat.engine().stats().finished();
        ChatRequest r = ChatRequest.of("hello").withMaxNewTokens(6);
        ChatResult want = chat.chat(r);
        assertThat(chat.engine().stats().finished()).isEqualTo(before + 1);
        assertThat(chat.engine()).isSameAs(chat.engine());
        // two threads at once: both on the one engine, each with the tokens it gets alone
        CompletableFuture<ChatResult> other = CompletableFuture.supplyAsync(() -> chat.chat(r));
        ChatResult mine = chat.chat(r);
        assertThat(other.get(60, TimeUnit.SECONDS).tokenIds()).containsExactly(want.tokenIds());
        assertThat(mine.tokenIds()).containsExactly(want.tokenIds());
        assertThat(chat.engine().stats().finished()).isEqualTo(before + 3);
        assertThat(want.timings().decodeTokens()).isEqualTo(want.tokenIds().length - 1);
        assertThatThrownBy(() -> chat.engine(chat.engine().options().withMaxBatch(3))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already runs");
    }
}
