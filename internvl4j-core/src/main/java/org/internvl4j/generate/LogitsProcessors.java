package org.internvl4j.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The logits processors and warpers of Hugging Face transformers 4.37 (generation/logits_process.py),
 * applied in generate()'s order: repetition penalty, then temperature, top-k, top-p; then a draw from
 * the softmax (sampling) or the argmax (greedy). All work in place on float32 logits; -inf removes a token.
 */
public final class LogitsProcessors {
    private LogitsProcessors() {
    }

    /**
     * RepetitionPenaltyLogitsProcessor: for every distinct id in ids[0, n), a negative logit is multiplied
     * by the penalty and a positive one divided by it.
     */
    public static void repetitionPenalty(float[] logits, int[] ids, int n, float penalty) {
        if (penalty == 1f) return;
        boolean[] seen = new boolean[logits.length];
        for (int i = 0; i < n; i++) {
            int id = ids[i];
            if (seen[id]) continue;
            seen[id] = true;
            float s = logits[id];
            logits[id] = s < 0 ? s * penalty : s / penalty;
        }
    }

    /** TemperatureLogitsWarper: scores / temperature. */
    public static void temperature(float[] logits, float temperature) {
        if (temperature == 1f) return;
        for (int i = 0; i < logits.length; i++) logits[i] = logits[i] / temperature;
    }

    /**
     * TopKLogitsWarper (min_tokens_to_keep 1): every logit below the k-th largest becomes -inf, so ties
     * with the k-th are kept.
     */
    public static void topK(float[] logits, int k) {
        if (k <= 0 || k >= logits.length) return;
        float[] sorted = logits.clone();
        Arrays.sort(sorted);
        float kth = sorted[sorted.length - k];
        for (int i = 0; i < logits.length; i++) if (logits[i] < kth) logits[i] = Float.NEGATIVE_INFINITY;
    }

    /**
     * TopPLogitsWarper (min_tokens_to_keep 1): sort ascending, cumulate the softmax; tokens whose cumulative
     * probability is <= 1 - topP are removed, the most likely token always stays. The kept set is the
     * smallest most-likely set whose probability reaches topP.
     */
    public static void topP(float[] logits, float topP) {
        if (topP >= 1f) return;
        int v = logits.length;
        Integer[] order = new Integer[v];
        for (int i = 0; i < v; i++) order[i] = i;
        // ascending by value; equal values: higher id first so the lower id ends nearer the kept end
        Arrays.sort(order, (a, b) -> logits[a] != logits[b] ? Float.compare(logits[a], logits[b]) : Integer.compare(b, a));
        float[] probs = softmax(logits);
        float cum = 0;
        float limit = 1 - topP;
        for (int r = 0; r < v - 1; r++) { // the last (most likely) token is always kept
            int id = order[r];
            cum += probs[id];
            if (cum <= limit) logits[id] = Float.NEGATIVE_INFINITY;
            else break; // cumulative sums only grow
        }
    }

    /** Softmax in float32 (exp in double, like torch's float32 result); -inf gives 0. */
    public static float[] softmax(float[] logits) {
        float max = Float.NEGATIVE_INFINITY;
        for (float x : logits) max = Math.max(max, x);
        float[] p = new float[logits.length];
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            p[i] = logits[i] == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(logits[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) p[i] = (float) (p[i] / sum);
        return p;
    }

    /** The first maximum (lowest id on exact ties), like torch.argmax. */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    /** Draws an id from softmax(logits) with one uniform number from rng. */
    public static int sample(float[] logits, SplittableRandom rng) {
        float[] p = softmax(logits);
        double u = rng.nextDouble(), cum = 0;
        int last = -1;
        for (int i = 0; i < p.length; i++) {
            if (p[i] == 0) continue;
            cum += p[i];
            last = i;
            if (u < cum) return i;
        }
        return last; // u beyond the rounded total
    }

    /** The n highest log_softmax values of the raw logits, best first, lower id first on ties. */
    public static java.util.List<TokenLogprob> topLogprobs(float[] logits, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (float x : logits) max = Math.max(max, x);
        double sum = 0;
        for (float x : logits) sum += Math.exp((double) x - max);
        double lse = max + Math.log(sum);
        n = Math.min(n, logits.length);
        int[] best = new int[n];
        int size = 0;
        for (int i = 0; i < logits.length; i++) {
            // insertion into a short sorted list; strict > keeps the lower id first on ties
            if (size == n && !(logits[i] > logits[best[n - 1]])) continue;
            int pos = size < n ? size++ : n - 1;
            while (pos > 0 && logits[i] > logits[best[pos - 1]]) {
                best[pos] = best[pos - 1];
                pos--;
            }
            best[pos] = i;
        }
        java.util.List<TokenLogprob> out = new java.util.ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(new TokenLogprob(best[i], (float) (logits[best[i]] - lse)));
        return out;
    }

    /** Picks the next token as generate() does for these parameters; logits are modified. */
    public static int next(float[] logits, int[] generated, int generatedCount, SamplingParams p, SplittableRandom rng) {
        repetitionPenalty(logits, generated, generatedCount, p.repetitionPenalty());
        if (!p.doSample()) return argmax(logits);
        temperature(logits, p.temperature());
        topK(logits, p.topK());
        topP(logits, p.topP());
        return sample(logits, rng);
    }
}
