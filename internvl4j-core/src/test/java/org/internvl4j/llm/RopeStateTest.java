package org.internvl4j.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.internvl4j.checkpoint.LlmConfig;
import org.junit.jupiter.api.Test;

/**
 * RoPE state transitions against the formulas of modeling_internlm2.py's rotary classes: the table
 * length only grows, dynamic NTK recomputes the base from the new length past max_position_embeddings,
 * linear scaling divides positions by the factor, and a copy is independent of its original.
 */
class RopeStateTest {
    static LlmConfig config(LlmConfig.RopeScaling scaling, int maxPos) {
        return new LlmConfig(LlmConfig.INTERNLM2, 272, 4, 2, 1, 100, 50, maxPos, 10000, scaling, false, 1e-6);
    }

    static double ntkBase(double theta, double factor, int len, int maxPos, int hd) {
        return theta * Math.pow(factor * len / maxPos - (factor - 1), (double) hd / (hd - 2));
    }

    /** cos and sin of pos against the double-precision angle pos / divisor * base^(-2i/hd). */
    static void assertAngles(RopeState r, int pos, double base, double divisor) {
        int half = 34;
        float[] cos = new float[half + 3], sin = new float[half + 3];
        r.cosSin(pos, cos, sin, 3);
        for (int i = 0; i < half; i++) {
            double a = pos / divisor * Math.pow(base, -2.0 * i / 68);
            // float inv_freq and a float product: the angle carries a relative error of a few ulps
            double tol = 8 * Math.ulp((float) a) + 1e-7;
            assertThat((double) cos[3 + i]).as("cos pair %d at %d", i, pos).isCloseTo(Math.cos(a), within(tol));
            assertThat((double) sin[3 + i]).as("sin pair %d at %d", i, pos).isCloseTo(Math.sin(a), within(tol));
        }
    }

    @Test
    void dynamicNtkRecomputesTheBaseOnlyWhenTheTableGrowsPastMaxPositions() {
        RopeState r = new RopeState(config(new LlmConfig.RopeScaling("dynamic", 2.0), 32));
        r.advance(32);
        assertThat(r.base()).isEqualTo(10000.0);
        assertAngles(r, 31, 10000, 1);
        r.advance(40);
        double b40 = ntkBase(10000, 2.0, 40, 32, 68);
        assertThat(r.base()).isCloseTo(b40, within(1e-9 * b40));
        assertAngles(r, 39, b40, 1);
        r.advance(36); // a shorter length (after a truncate) keeps the table and its base
        assertThat(r.base()).isEqualTo(b40);
        r.advance(40);
        assertThat(r.base()).isEqualTo(b40);
        r.advance(41);
        assertThat(r.base()).isCloseTo(ntkBase(10000, 2.0, 41, 32, 68), within(1e-9 * b40));
    }

    @Test
    void linearScalingDividesPositionsAndNeverChangesTheBase() {
        RopeState r = new RopeState(config(new LlmConfig.RopeScaling("linear", 4.0), 32));
        r.advance(1000);
        assertThat(r.base()).isEqualTo(10000.0);
        assertAngles(r, 999, 10000, 4);
        assertAngles(r, 7, 10000, 4);
    }

    @Test
    void withoutScalingTheBaseStaysAtThetaForAnyLength() {
        RopeState r = new RopeState(config(null, 32));
        r.advance(5000);
        assertThat(r.base()).isEqualTo(10000.0);
        assertAngles(r, 4999, 10000, 1);
        assertAngles(r, 0, 10000, 1);
    }

    @Test
    void aCopyKeepsItsOwnBase() {
        RopeState a = new RopeState(config(new LlmConfig.RopeScaling("dynamic", 2.0), 32));
        a.advance(50);
        RopeState b = a.copy();
        b.advance(80);
        assertThat(a.base()).isCloseTo(ntkBase(10000, 2.0, 50, 32, 68), within(1e-6));
        assertThat(b.base()).isCloseTo(ntkBase(10000, 2.0, 80, 32, 68), within(1e-6));
        assertAngles(a, 49, a.base(), 1);
    }

    @Test
    void aKvCacheKeepsItsRopeStateAcrossTruncation() {
        KvCache c = new KvCache(config(new LlmConfig.RopeScaling("dynamic", 2.0), 32), 4);
        c.ensureCapacity(45);
        c.rope().advance(45);
        c.commit(new int[45], 45);
        double b45 = c.ropeBase();
        assertThat(b45).isCloseTo(ntkBase(10000, 2.0, 45, 32, 68), within(1e-6));
        c.truncate(10); // like the official model, truncating does not shrink the table
        assertThat(c.ropeBase()).isEqualTo(b45);
        KvCache copy = c.copy();
        copy.rope().advance(60);
        assertThat(c.ropeBase()).isEqualTo(b45);
        assertThat(copy.length()).isEqualTo(10);
    }
}
