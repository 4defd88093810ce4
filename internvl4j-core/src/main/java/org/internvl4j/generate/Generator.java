package org.internvl4j.generate;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.internvl4j.checkpoint.LlmConfig;
import org.internvl4j.llm.CausalLM;
import org.internvl4j.llm.KvCache;
import org.internvl4j.model.InternVLModel;
import org.internvl4j.util.Limits;

/**
 * The decode loop. A batch prefills together and then decodes together: each step runs one forward over
 * the next token of every unfinished request, so every weight is streamed once per step for all of them.
 * Results are identical to running the requests one by one. Holds no per-request state; one generator
 * may serve several threads, each with its own requests and caches.
 *
 * <p>The context window is an engine limit, not the model's: prompt + max_new_tokens must fit in it.
 * InternLM2 with dynamic NTK runs past max_position_embeddings (the reference does), so the default is
 * max(32768, max_position_embeddings * rope factor) — 65536 for InternVL2-8B; the KV cache costs
 * {@link KvCache#bytesPerToken()} per token (256 KiB for InternVL2-8B), so lower it for small machines.
 */
public final class Generator {
    public static final int MIN_DEFAULT_CONTEXT = 32768;

    private final CausalLM llm;
    private final int contextWindow;
    private final Duration timeLimit;

    public Generator(InternVLModel model) {
        this(model.llm());
    }

    public Generator(CausalLM llm) {
        this(llm, defaultContextWindow(llm.config()));
    }

    public Generator(CausalLM llm, int contextWindow) {
        this(llm, contextWindow, Limits.current().decodeTime());
    }

    private Generator(CausalLM llm, int contextWindow, Duration timeLimit) {
        if (contextWindow < 2) throw new IllegalArgumentException("context window must be >= 2 tokens, got " + contextWindow);
        if (timeLimit == null || timeLimit.isNegative()) throw new IllegalArgumentException("the time limit must be >= 0");
        this.llm = llm;
        this.contextWindow = contextWindow;
        this.timeLimit = timeLimit;
    }

    /**
     * This generator with a limit on the time of one {@link #generate} call (prefill included): sequences still
     * running when it passes end after their current step with {@link FinishReason#TIME_LIMIT}. Zero: no limit
     * (the default, unless {@code -Dinternvl.limit.decodeSeconds} says otherwise).
     */
    public Generator withTimeLimit(Duration limit) {
        return new Generator(llm, contextWindow, limit);
    }

    public Duration timeLimit() {
        return timeLimit;
    }

    public static int defaultContextWindow(LlmConfig c) {
        double factor = c.ropeScaling() == null ? 1.0 : c.ropeScaling().factor();
        return (int) Math.max(MIN_DEFAULT_CONTEXT, Math.min(Integer.MAX_VALUE / 2, c.maxPositionEmbeddings() * factor));
    }

    public int contextWindow() {
        return contextWindow;
    }

    /**
     * How many leading ids of promptIds a session cache can keep: the common prefix of its tokens and the
     * prompt, at most promptIds.length - 1 (the last prompt token must run to give logits). The request's
     * imageEmbeds must cover the {@code <IMG_CONTEXT>} ids from this position on.
     */
    public static int reusablePrefix(KvCache cache, int[] promptIds) {
        if (cache == null) return 0;
        int[] held = cache.tokens();
        int n = 0, max = Math.min(held.length, promptIds.length - 1);
        while (n < max && held[n] == promptIds[n]) n++;
        return n;
    }

    /** One request, no listener. */
    public GenerationResult generate(GenerationRequest request) {
        return generate(List.of(request), TokenListener.NONE).get(0);
    }

    /**
     * Generates for every request of the batch; listener (nullable) sees every token as it is made.
     *
     * @throws ContextLengthExceededException if a prompt plus its max_new_tokens exceed the context window
     * @throws IllegalArgumentException       on bad ids or image embeddings that do not match the prompt
     */
    public List<GenerationResult> generate(List<GenerationRequest> batch, TokenListener listener) {
        TokenListener out = listener == null ? TokenListener.NONE : listener;
        int b = batch.size();
        for (int i = 0; i < b; i++) {
            GenerationRequest r = batch.get(i);
            if ((long) r.promptIds().length + r.params().maxNewTokens() > contextWindow) {
                throw new ContextLengthExceededException(i, r.promptIds().length, r.params().maxNewTokens(), contextWindow);
            }
            for (int j = 0; j < i; j++) {
                if (r.cache() != null && r.cache() == batch.get(j).cache()) throw new IllegalArgumentException("requests " + j + " and " + i + " share one KV cache");
            }
        }
        KvCache[] caches = new KvCache[b];
        List<int[]> newIds = new ArrayList<>();
        List<float[]> embeds = new ArrayList<>();
        for (int i = 0; i < b; i++) {
            GenerationRequest r = batch.get(i);
            int[] prompt = r.promptIds();
            KvCache c = r.cache();
            if (c == null) c = llm.newCache(prompt.length + r.params().maxNewTokens());
            else c.truncate(reusablePrefix(c, prompt));
            caches[i] = c;
            int[] ids = Arrays.copyOfRange(prompt, c.length(), prompt.length);
            newIds.add(ids);
            try {
                embeds.add(InternVLModel.inputEmbeddings(llm, ids, r.imageEmbeds(), r.imageContextTokenId()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("request " + i + ": " + e.getMessage(), e);
            }
        }

        long t0 = System.nanoTime();
        long deadline = timeLimit.isZero() ? Long.MAX_VALUE : t0 + timeLimit.toNanos();
        float[] logits = llm.forward(Arrays.asList(caches), newIds, embeds, true);
        long prefillNanos = System.nanoTime() - t0;

        int vocab = llm.vocabSize();
        int[][] generated = new int[b][];
        int[] count = new int[b];
        List<List<List<TokenLogprob>>> logprobs = new ArrayList<>();
        SplittableRandom[] rngs = new SplittableRandom[b];
        FinishReason[] finish = new FinishReason[b];
        long[] decodeNanos = new long[b];
        int[] decodeSteps = new int[b];
        int[] rowOf = new int[b]; // row of request i in the current logits
        for (int i = 0; i < b; i++) {
            generated[i] = new int[batch.get(i).params().maxNewTokens()];
            logprobs.add(new ArrayList<>());
            rngs[i] = new SplittableRandom(batch.get(i).params().seed());
            rowOf[i] = i;
        }
        while (true) {
            List<Integer> active = new ArrayList<>();
            for (int i = 0; i < b; i++) {
                if (finish[i] != null) continue;
                SamplingParams p = batch.get(i).params();
                float[] row = Arrays.copyOfRange(logits, rowOf[i] * vocab, (rowOf[i] + 1) * vocab);
                if (p.logprobs() > 0) logprobs.get(i).add(LogitsProcessors.topLogprobs(row, p.logprobs()));
                int token = LogitsProcessors.next(row, generated[i], count[i], p, rngs[i]);
                generated[i][count[i]++] = token;
                boolean go = out.onToken(i, token);
                if (p.stopTokenIds().contains(token)) finish[i] = FinishReason.STOP;
                else if (!go) finish[i] = FinishReason.ABORTED;
                else if (count[i] == p.maxNewTokens()) finish[i] = FinishReason.LENGTH;
                else active.add(i);
            }
            if (active.isEmpty()) break;
            // between steps, so a cache never holds half a step: an interrupt or the time limit ends the rest
            FinishReason cut = Thread.currentThread().isInterrupted() ? FinishReason.INTERRUPTED
                    : System.nanoTime() - deadline > 0 && deadline != Long.MAX_VALUE ? FinishReason.TIME_LIMIT : null;
            if (cut != null) {
                for (int i : active) finish[i] = cut;
                break;
            }
            List<KvCache> stepCaches = new ArrayList<>();
            List<int[]> stepIds = new ArrayList<>();
            List<float[]> stepEmbeds = new ArrayList<>();
            for (int k = 0; k < active.size(); k++) {
                int i = active.get(k);
                int[] tok = {generated[i][count[i] - 1]};
                stepCaches.add(caches[i]);
                stepIds.add(tok);
                stepEmbeds.add(llm.embedTokens(tok));
                rowOf[i] = k;
            }
            long s0 = System.nanoTime();
            logits = llm.forward(stepCaches, stepIds, stepEmbeds, true);
            long dt = System.nanoTime() - s0;
            for (int i : active) {
                decodeNanos[i] += dt;
                decodeSteps[i]++;
            }
        }
        List<GenerationResult> results = new ArrayList<>(b);
        for (int i = 0; i < b; i++) {
            GenerationRequest r = batch.get(i);
            results.add(new GenerationResult(r.promptIds(), Arrays.copyOf(generated[i], count[i]),
                    List.copyOf(logprobs.get(i)), finish[i],
                    new Timings(prefillNanos, newIds.get(i).length, decodeNanos[i], decodeSteps[i], 0)));
        }
        return results;
    }
}
