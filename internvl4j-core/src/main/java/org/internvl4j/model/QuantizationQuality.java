package org.internvl4j.model;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.internvl4j.llm.CausalLM;
import org.internvl4j.llm.KvCache;

/**
 * How far a quantized language model strays from its BF16 original, measured on the same inputs:
 * relative error of the logits (||l_q - l_ref|| / ||l_ref|| per position), top-1 agreement (same argmax),
 * and greedy decoding run freely by each model. Used by {@code internvl bench quality} and the tests.
 */
public final class QuantizationQuality {
    private QuantizationQuality() {
    }

    /** Positions compared, how many had the same argmax, and the logits' relative error over them. */
    public record Agreement(int total, int matches, double meanRelativeError, double maxRelativeError) {
        public double share() {
            return total == 0 ? 0 : (double) matches / total;
        }
    }

    /**
     * Both models read tokens in one prefill each (teacher forcing: every position sees the same
     * history); positions from {@code from} on are compared.
     */
    public static Agreement teacherForced(CausalLM ref, CausalLM q, int[] tokens, int from) {
        float[] a = ref.forward(ref.newCache(tokens.length), tokens, null, -1, false);
        float[] b = q.forward(q.newCache(tokens.length), tokens, null, -1, false);
        int v = ref.vocabSize();
        int matches = 0, total = 0;
        double sumErr = 0, maxErr = 0;
        for (int p = from; p < tokens.length; p++) {
            double diff = 0, norm = 0;
            for (int i = 0; i < v; i++) {
                double d = (double) b[p * v + i] - a[p * v + i];
                diff += d * d;
                norm += (double) a[p * v + i] * a[p * v + i];
            }
            double err = Math.sqrt(diff / Math.max(norm, Double.MIN_NORMAL));
            sumErr += err;
            maxErr = Math.max(maxErr, err);
            if (argmax(a, p * v, v) == argmax(b, p * v, v)) matches++;
            total++;
        }
        return new Agreement(total, matches, total == 0 ? 0 : sumErr / total, maxErr);
    }

    /** steps tokens chosen greedily after prompt. */
    public static int[] greedy(CausalLM m, int[] prompt, int steps) {
        KvCache cache = m.newCache(prompt.length + steps);
        int[] out = new int[steps];
        float[] logits = m.forward(cache, prompt, null, -1, true);
        for (int i = 0; i < steps; i++) {
            out[i] = argmax(logits, 0, logits.length);
            if (i + 1 < steps) logits = m.forward(cache, new int[] {out[i]}, null, -1, true);
        }
        return out;
    }

    /** The first greedy token of each prompt: how many of the quantized model's equal the reference's. */
    public static int firstTokenMatches(CausalLM ref, CausalLM q, List<int[]> prompts) {
        int n = 0;
        for (int[] p : prompts) if (greedy(ref, p, 1)[0] == greedy(q, p, 1)[0]) n++;
        return n;
    }

    /** count prompts of random ids in [lowest, vocab) of the given length, the same for a given seed. */
    public static List<int[]> randomPrompts(int count, int length, int lowest, int vocab, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int[] p = new int[length];
            for (int j = 0; j < length; j++) p[j] = lowest + r.nextInt(vocab - lowest);
            out.add(p);
        }
        return out;
    }

    /** Positions where two sequences agree, and the first where they differ (their length if none). */
    public static int[] sameAndFirstDivergence(int[] a, int[] b) {
        int same = 0, first = -1;
        for (int i = 0; i < Math.min(a.length, b.length); i++) {
            if (a[i] == b[i]) same++;
            else if (first < 0) first = i;
        }
        return new int[] {same, first < 0 ? Math.min(a.length, b.length) : first};
    }

    static int argmax(float[] x, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (x[off + i] > x[off + best]) best = i;
        return best;
    }
}
