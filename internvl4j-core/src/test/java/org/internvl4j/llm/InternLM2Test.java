package org.internvl4j.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.internvl4j.checkpoint.Checkpoint;
import org.internvl4j.checkpoint.TinyCheckpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The decoder ({@link DecoderLM} with InternLM2 weights) against {@link DirectInternLM2}, on a random checkpoint shaped to reach every code path:
 * grouped-query attention (4 query heads on 2 key/value heads), head size 68 (34 rotary pairs: the vector
 * loops and their scalar tails at 256 and 512 bits), hidden 272 and MLP 100, biases on wqkv and wo.
 */
class InternLM2Test {
    /**
     * max |engine - direct| / max |direct logit|. The engine computes in float32 and the direct form in
     * double. Measured with {@code ./mvnw -B -ntp test -pl internvl4j-core -Dtest=InternLM2Test} (all three
     * test runs: 512, 256 and forced 512 bits; each prints its largest error, and any above 3e-6) on a
     * Zen 5: at most 1.9e-6 for sequences up to 40 tokens (none above 3e-6), so 3e-5 is a 16x margin...
     */
    static final double TOL = 3e-5;
    /** ...and 9.7e-6 for the 521-token prefill (softmax over hundreds of keys), so 1.5e-4 (15x). */
    static final double LONG_TOL = 1.5e-4;

    @TempDir
    static Path tmp;
    static Checkpoint ckpt;
    static DecoderLM model;
    static DirectInternLM2 direct;

    @BeforeAll
    static void write() {
        Path dir = tmp.resolve("gqa");
        TinyCheckpoint.write(dir, TinyCheckpoint.Options.of(TinyCheckpoint.Variant.A).withSeed(16).withoutTokenizer()
                .withOverrides(List.of("llm.hidden_size=272", "llm.num_attention_heads=4", "llm.num_key_value_heads=2",
                        "llm.num_hidden_layers=2", "llm.intermediate_size=100", "llm.bias=true",
                        "llm.max_position_embeddings=4096", "llm.rope_theta=10000")));
        ckpt = Checkpoint.open(dir);
        model = DecoderLM.load(ckpt);
        direct = new DirectInternLM2(ckpt);
        assertThat(model.config().headDim()).isEqualTo(68);
        assertThat(model.config().groups()).isEqualTo(2);
    }

    @AfterAll
    static void close() {
        System.out.printf("InternLM2 vs direct: max rel diff of all checks %.3g (vector width %d bits)%n",
                worstSeen, org.internvl4j.tensor.MatMul.vectorBits());
        ckpt.close();
    }

    static int[] tokens(int n, long seed) {
        Random r = new Random(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = r.nextInt(model.vocabSize());
        return t;
    }

    /** The largest relDiff seen, printed at the end (how TOL was measured). */
    static double worstSeen;

    /** max |a - b| / max |b| over one row. */
    static synchronized double relDiff(float[] a, int off, double[] b) {
        double diff = 0, max = 0;
        for (int i = 0; i < b.length; i++) {
            diff = Math.max(diff, Math.abs(a[off + i] - b[i]));
            max = Math.max(max, Math.abs(b[i]));
        }
        if (diff / max < 1e-3) worstSeen = Math.max(worstSeen, diff / max); // not the deliberately wrong grouping
        if (diff / max > 3e-6 && diff / max < 1e-3) System.out.printf("InternLM2 vs direct: rel diff %.3g%n", diff / max);
        return diff / max;
    }

    @Test
    void prefillLogitsOfEveryPositionMatchTheDirectFormula() {
        int[] t = tokens(13, 1);
        float[] got = model.forward(model.newCache(), t, null, -1, false);
        double[][] want = direct.logits(t, 10000);
        int v = model.vocabSize();
        double worst = 0;
        for (int p = 0; p < t.length; p++) worst = Math.max(worst, relDiff(got, p * v, want[p]));
        assertThat(worst).isLessThanOrEqualTo(TOL);

        // the check can tell the grouping apart: heads sharing kv heads round-robin instead of in blocks is far off
        double[][] wrongGroups = new DirectInternLM2(ckpt, h -> h % 2).logits(t, 10000);
        double off = 0;
        for (int p = 1; p < t.length; p++) off = Math.max(off, relDiff(got, p * v, wrongGroups[p]));
        assertThat(off).isGreaterThan(100 * TOL);
    }

    @Test
    void decodingTokenByTokenPastTheInitialCapacityEqualsTheDirectFormula() {
        int[] t = tokens(40, 2);
        double[][] want = direct.logits(t, 10000);
        KvCache cache = model.newCache(1); // 16 rows at first: grows twice on the way to 40
        float[] first = model.forward(cache, java.util.Arrays.copyOf(t, 5), null, -1, true);
        assertThat(relDiff(first, 0, want[4])).isLessThanOrEqualTo(TOL);
        for (int p = 5; p < t.length; p++) {
            float[] step = model.forward(cache, new int[] {t[p]}, null, -1, true);
            assertThat(relDiff(step, 0, want[p])).as("position %d", p).isLessThanOrEqualTo(TOL);
        }
        assertThat(cache.length()).isEqualTo(40);
        assertThat(cache.tokens()).containsExactly(t);
    }

    @Test
    void aCopiedCacheContinuesIndependentlyOfItsOriginal() {
        int[] a = tokens(20, 3), b = tokens(20, 4);
        System.arraycopy(a, 0, b, 0, 12); // a and b share their first 12 tokens
        KvCache original = model.newCache();
        model.forward(original, java.util.Arrays.copyOf(a, 12), null, -1, true);
        KvCache fork = original.copy();
        assertThat(fork.tokens()).containsExactly(original.tokens());
        assertThat(fork.ropeBase()).isEqualTo(original.ropeBase());

        float[] forkLogits = model.forward(fork, java.util.Arrays.copyOfRange(b, 12, 20), null, -1, false);
        float[] origLogits = model.forward(original, java.util.Arrays.copyOfRange(a, 12, 20), null, -1, false);
        double[][] wantA = direct.logits(a, 10000), wantB = direct.logits(b, 10000);
        int v = model.vocabSize();
        for (int p = 12; p < 20; p++) {
            assertThat(relDiff(forkLogits, (p - 12) * v, wantB[p])).as("fork, position %d", p).isLessThanOrEqualTo(TOL);
            assertThat(relDiff(origLogits, (p - 12) * v, wantA[p])).as("original, position %d", p).isLessThanOrEqualTo(TOL);
        }
        assertThat(original.tokens()).containsExactly(a);
        assertThat(fork.tokens()).containsExactly(b);
    }

    @Test
    void truncatingAndRefillingEqualsAFreshSequence() {
        int[] a = tokens(18, 5);
        KvCache cache = model.newCache();
        model.forward(cache, a, null, -1, true);
        cache.truncate(9);
        assertThat(cache.tokens()).containsExactly(java.util.Arrays.copyOf(a, 9));
        int[] tail = tokens(6, 6);
        float[] got = model.forward(cache, tail, null, -1, true);
        int[] whole = new int[15];
        System.arraycopy(a, 0, whole, 0, 9);
        System.arraycopy(tail, 0, whole, 9, 6);
        assertThat(relDiff(got, 0, direct.logits(whole, 10000)[14])).isLessThanOrEqualTo(TOL);
        assertThatThrownBy(() -> cache.truncate(16)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("15 tokens");
        assertThatThrownBy(() -> cache.truncate(-1)).isInstanceOf(IllegalArgumentException.class);
        cache.truncate(15); // the whole length and nothing are both fine
        assertThat(cache.length()).isEqualTo(15);
        cache.truncate(0);
        assertThat(cache.tokens()).isEmpty();
        float[] again = model.forward(cache, whole, null, -1, true);
        assertThat(relDiff(again, 0, direct.logits(whole, 10000)[14])).isLessThanOrEqualTo(TOL);
    }

    @Test
    void aPrefillLongerThanOneChunkMatchesTheDirectFormula() {
        int n = DecoderLM.PREFILL_CHUNK + 9; // two chunks through the layer stack, the second attending to the first
        int[] t = tokens(n, 9);
        KvCache cache = model.newCache();
        float[] got = model.forward(cache, t, null, -1, true);
        assertThat(relDiff(got, 0, direct.logits(t, null, -1, 10000, true)[n - 1])).isLessThanOrEqualTo(LONG_TOL);
        assertThat(cache.length()).isEqualTo(n);
    }

    @Test
    void imageEmbeddingsReplaceTheContextTokensInOrder() {
        int ctx = 7, d = model.hiddenSize();
        int[] t = {1, 20, ctx, ctx, 30, ctx, 40};
        float[] image = new float[3 * d];
        Random r = new Random(10);
        for (int i = 0; i < image.length; i++) image[i] = (float) r.nextGaussian();
        float[] x = org.internvl4j.model.InternVLModel.inputEmbeddings(model, t, image, ctx);
        for (int c = 0; c < d; c++) {
            assertThat(x[2 * d + c]).isEqualTo(image[c]);
            assertThat(x[3 * d + c]).isEqualTo(image[d + c]);
            assertThat(x[5 * d + c]).isEqualTo(image[2 * d + c]);
            assertThat(x[4 * d + c]).isEqualTo(ckpt.weight("language_model.model.tok_embeddings.weight", model.vocabSize(), d).get(30, c));
        }
        float[] got = model.forward(model.newCache(), t, image, ctx, true);
        assertThat(relDiff(got, 0, direct.logits(t, image, ctx, 10000, true)[6])).isLessThanOrEqualTo(TOL);
        // without a context id the same tokens are plain text
        assertThat(org.internvl4j.model.InternVLModel.inputEmbeddings(model, t, null, -1)[2 * d]).isEqualTo(ckpt.weight("language_model.model.tok_embeddings.weight", model.vocabSize(), d).get(ctx, 0));

        assertThatThrownBy(() -> org.internvl4j.model.InternVLModel.inputEmbeddings(model, t, null, ctx)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("3 <IMG_CONTEXT> tokens").hasMessageContaining("no image embeddings");
        assertThatThrownBy(() -> org.internvl4j.model.InternVLModel.inputEmbeddings(model, t, java.util.Arrays.copyOf(image, 2 * d), ctx))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("hold 2.0 rows").hasMessageContaining("3 <IMG_CONTEXT>");
        assertThatThrownBy(() -> org.internvl4j.model.InternVLModel.inputEmbeddings(model, new int[] {1, -1}, null, -1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("token id -1 at position 1");
        assertThatThrownBy(() -> org.internvl4j.model.InternVLModel.inputEmbeddings(model, new int[] {1, model.vocabSize()}, null, -1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("token id " + model.vocabSize() + " at position 1");
        // the first and last ids are fine, and so is a known context id that a text-only prompt does not use
        float[] ends = org.internvl4j.model.InternVLModel.inputEmbeddings(model, new int[] {0, model.vocabSize() - 1}, null, ctx);
        assertThat(ends[d]).isEqualTo(ckpt.weight("language_model.model.tok_embeddings.weight", model.vocabSize(), d).get(model.vocabSize() - 1, 0));
    }

    @Test
    void sequencesInOneBatchEqualEachRunAlone() {
        int[] a = tokens(7, 7), b = tokens(3, 8);
        KvCache ca = model.newCache(), cb = model.newCache();
        float[] both = model.forward(List.of(ca, cb), List.of(a, b),
                List.of(org.internvl4j.model.InternVLModel.inputEmbeddings(model, a, null, -1), org.internvl4j.model.InternVLModel.inputEmbeddings(model, b, null, -1)), true);
        int v = model.vocabSize();
        assertThat(relDiff(both, 0, direct.logits(a, 10000)[6])).isLessThanOrEqualTo(TOL);
        assertThat(relDiff(both, v, direct.logits(b, 10000)[2])).isLessThanOrEqualTo(TOL);
    }

    @Test
    void dynamicNtkPastMaxPositionsUsesTheBaseOfTheWholePrefill() {
        Path dir = tmp.resolve("ntk");
        TinyCheckpoint.write(dir, TinyCheckpoint.Options.of(TinyCheckpoint.Variant.A).withSeed(17).withoutTokenizer()
                .withOverrides(List.of("llm.hidden_size=272", "llm.num_attention_heads=4", "llm.num_key_value_heads=2",
                        "llm.num_hidden_layers=1", "llm.intermediate_size=100", "llm.max_position_embeddings=16",
                        "llm.rope_theta=10000", "llm.rope_scaling={\"type\":\"dynamic\",\"factor\":2.0}")));
        try (Checkpoint c = Checkpoint.open(dir)) {
            DecoderLM m = DecoderLM.load(c);
            int[] t = tokens(24, 11);
            KvCache cache = m.newCache();
            float[] got = m.forward(cache, t, null, -1, false);
            double base = RopeStateTest.ntkBase(10000, 2.0, 24, 16, 68);
            assertThat(cache.ropeBase()).isCloseTo(base, org.assertj.core.data.Offset.offset(1e-9 * base));
            double[][] want = new DirectInternLM2(c).logits(t, base);
            for (int p = 0; p < t.length; p++) assertThat(relDiff(got, p * m.vocabSize(), want[p])).as("position %d", p).isLessThanOrEqualTo(TOL);
        }
    }

    @Test
    void badCallsAreRefusedWithAReason() {
        KvCache c = model.newCache();
        assertThatThrownBy(() -> model.forward(List.of(c, c), List.of(new int[] {1}, new int[] {2}),
                List.of(org.internvl4j.model.InternVLModel.inputEmbeddings(model, new int[] {1}, null, -1), org.internvl4j.model.InternVLModel.inputEmbeddings(model, new int[] {2}, null, -1)), true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("share one KV cache");
        assertThatThrownBy(() -> model.forward(c, new int[0], null, -1, true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no new tokens");
        assertThatThrownBy(() -> model.forward(c, new int[] {model.vocabSize()}, null, -1, true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outside the vocabulary");
        assertThatThrownBy(() -> c.ensureCapacity(Integer.MAX_VALUE / c.kvDim() + 1))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("exceeds a Java array");
        assertThat(c.length()).isZero();
    }
}
