package org.internvl4j.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The HF logits processors against hand-worked expectations and plain brute-force versions. */
class LogitsProcessorsTest {
    static final float NEG = Float.NEGATIVE_INFINITY;

    static float[] logOf(double... probs) {
        float[] l = new float[probs.length];
        for (int i = 0; i < probs.length; i++) l[i] = (float) Math.log(probs[i]);
        return l;
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOncePerDistinctId() {
        float[] l = {2f, -2f, 0.5f, 3f};
        LogitsProcessors.repetitionPenalty(l, new int[] {0, 1, 1, 9}, 3, 2f); // only the first 3 ids count
        assertThat(l).containsExactly(1f, -4f, 0.5f, 3f);
    }

    @Test
    void temperatureDividesEveryLogit() {
        float[] l = {2f, -1f, 0f};
        LogitsProcessors.temperature(l, 0.5f);
        assertThat(l).containsExactly(4f, -2f, 0f);
    }

    @Test
    void topKKeepsTheKLargestAndTiesWithTheKth() {
        float[] l = {1f, 5f, 3f, 5f, 2f};
        LogitsProcessors.topK(l, 3);
        assertThat(l).containsExactly(NEG, 5f, 3f, 5f, NEG);
        float[] ties = {1f, 2f, 2f, 2f};
        LogitsProcessors.topK(ties, 2);
        assertThat(ties).containsExactly(NEG, 2f, 2f, 2f);
        float[] all = {1f, 2f};
        LogitsProcessors.topK(all, 5);
        assertThat(all).containsExactly(1f, 2f);
    }

    @Test
    void topPKeepsTheSmallestMostLikelySetReachingP() {
        float[] l = logOf(0.05, 0.5, 0.15, 0.3);
        LogitsProcessors.topP(l, 0.75f);
        assertThat(kept(l)).containsExactly(1, 3);
        l = logOf(0.05, 0.5, 0.15, 0.3);
        LogitsProcessors.topP(l, 0.4f);
        assertThat(kept(l)).containsExactly(1);
        l = logOf(0.05, 0.5, 0.15, 0.3);
        LogitsProcessors.topP(l, 0.001f); // min_tokens_to_keep = 1
        assertThat(kept(l)).containsExactly(1);
        l = logOf(0.05, 0.5, 0.15, 0.3);
        LogitsProcessors.topP(l, 0.99f);
        assertThat(kept(l)).containsExactly(0, 1, 2, 3);
    }

    @Test
    void topPAgreesWithABruteForceDescendingCumulativeSum() {
        Random rnd = new Random(7);
        int checked = 0;
        for (int trial = 0; trial < 300; trial++) {
            float[] l = new float[50];
            for (int i = 0; i < l.length; i++) l[i] = (float) (rnd.nextGaussian() * 2);
            float p = 0.05f + 0.9f * rnd.nextFloat();
            // expectation in double: sort descending, keep until the cumulative probability reaches p
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (float v : l) max = Math.max(max, v);
            for (float v : l) sum += Math.exp(v - max);
            Integer[] order = new Integer[l.length];
            for (int i = 0; i < l.length; i++) order[i] = i;
            Arrays.sort(order, (a, b) -> Float.compare(l[b], l[a]));
            List<Integer> want = new ArrayList<>();
            double cum = 0;
            boolean nearBoundary = false;
            for (int id : order) {
                want.add(id);
                cum += Math.exp(l[id] - max) / sum;
                if (Math.abs(cum - p) < 1e-5) nearBoundary = true;
                if (cum >= p) break;
            }
            if (nearBoundary) continue;
            float[] got = l.clone();
            LogitsProcessors.topP(got, p);
            assertThat(kept(got)).containsExactlyInAnyOrderElementsOf(want);
            checked++;
        }
        assertThat(checked).isGreaterThan(280);
    }

    static List<Integer> kept(float[] l) {
        List<Integer> k = new ArrayList<>();
        for (int i = 0; i < l.length; i++) if (l[i] != NEG) k.add(i);
        return k;
    }

    @Test
    void argmaxTakesTheLowestIdOnTies() {
        assertThat(LogitsProcessors.argmax(new float[] {1f, 3f, 0f, 3f})).isEqualTo(1);
    }

    @Test
    void samplingFollowsTheSoftmaxAndRepeatsWithASeed() {
        float[] l = logOf(0.1, 0.2, 0.3, 0.4);
        SplittableRandom rng = new SplittableRandom(42);
        int n = 200_000;
        int[] counts = new int[4];
        for (int i = 0; i < n; i++) counts[LogitsProcessors.sample(l, rng)]++;
        for (int i = 0; i < 4; i++) assertThat(counts[i] / (double) n).isCloseTo(0.1 * (i + 1), within(0.005));
        int[] a = new int[50], b = new int[50], c = new int[50];
        SplittableRandom r1 = new SplittableRandom(5), r2 = new SplittableRandom(5), r3 = new SplittableRandom(6);
        for (int i = 0; i < 50; i++) {
            a[i] = LogitsProcessors.sample(l, r1);
            b[i] = LogitsProcessors.sample(l, r2);
            c[i] = LogitsProcessors.sample(l, r3);
        }
        assertThat(a).containsExactly(b);
        assertThat(a).isNotEqualTo(c);
    }

    @Test
    void nextAppliesPenaltyThenTemperatureThenTopKThenTopP() {
        // at temperature 1, top-p 0.6 keeps {0, 1}; at temperature 0.1 token 0 alone holds 0.78
        SamplingParams p = new SamplingParams(8, true, 0.1f, 0, 0.6f, 1f, 1L, Set.of(), 0);
        SplittableRandom rng = new SplittableRandom(3);
        for (int i = 0; i < 2000; i++) assertThat(LogitsProcessors.next(logOf(0.4, 0.35, 0.25), new int[0], 0, p, rng)).isEqualTo(0);
        SamplingParams warm = new SamplingParams(8, true, 1f, 0, 0.6f, 1f, 1L, Set.of(), 0);
        boolean sawOne = false;
        for (int i = 0; i < 2000; i++) {
            int t = LogitsProcessors.next(logOf(0.4, 0.35, 0.25), new int[0], 0, warm, rng);
            assertThat(t).isIn(0, 1);
            sawOne |= t == 1;
        }
        assertThat(sawOne).isTrue();
        // greedy with a repetition penalty: the penalised favourite loses to the runner-up
        SamplingParams greedy = SamplingParams.greedy(8, Set.of()).withRepetitionPenalty(1.5f);
        assertThat(LogitsProcessors.next(new float[] {3f, 2.5f, 0f}, new int[] {0}, 1, greedy, rng)).isEqualTo(1);
        // top-k 1 while sampling is greedy
        SamplingParams k1 = new SamplingParams(8, true, 1f, 1, 1f, 1f, 1L, Set.of(), 0);
        for (int i = 0; i < 100; i++) assertThat(LogitsProcessors.next(logOf(0.3, 0.4, 0.3), new int[0], 0, k1, rng)).isEqualTo(1);
    }

    @Test
    void topLogprobsAreLogSoftmaxBestFirstLowerIdFirstOnTies() {
        float[] l = {0.5f, 2f, -1f, 2f, 1f};
        double lse = 0;
        for (float v : l) lse += Math.exp(v);
        lse = Math.log(lse);
        List<TokenLogprob> top = LogitsProcessors.topLogprobs(l, 3);
        assertThat(top).extracting(TokenLogprob::id).containsExactly(1, 3, 4);
        assertThat((double) top.get(0).logprob()).isCloseTo(2 - lse, within(1e-6));
        assertThat((double) top.get(2).logprob()).isCloseTo(1 - lse, within(1e-6));
    }

    @Test
    void badParametersAreRejectedWithTheirNames() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new SamplingParams(0, false, 1f, 0, 1f, 1f, 0, Set.of(), 0))
                .hasMessageContaining("maxNewTokens");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new SamplingParams(4, true, 0f, 0, 1f, 1f, 0, Set.of(), 0))
                .hasMessageContaining("temperature");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new SamplingParams(4, true, 1f, 0, 1.5f, 1f, 0, Set.of(), 0))
                .hasMessageContaining("topP");
    }
}
