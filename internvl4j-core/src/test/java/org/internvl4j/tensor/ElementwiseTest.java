package org.internvl4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/** Norms, softmax, RoPE and Ops against plain double loops, over sizes around the vector widths, at offsets. */
class ElementwiseTest {
    private final Random r = new Random(11);

    @Test
    void normsRefuseWeightsShorterThanTheRow() {
        // without the check a short weight reads out of bounds only in the scalar tail, or not at all
        float[] x = new float[40], out = new float[40];
        assertThatThrownBy(() -> Norms.rmsNorm(x, 0, new float[39], 1e-6f, out, 0, 40))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("norm weight has 39 elements, the row has 40");
        assertThatThrownBy(() -> Norms.layerNorm(x, 0, new float[39], new float[40], 1e-6f, out, 0, 40))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("norm weight has 39");
        assertThatThrownBy(() -> Norms.layerNorm(x, 0, new float[40], new float[32], 1e-6f, out, 0, 40))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("has 32 elements");
    }

    @Test
    void rmsNormMatchesDouble() {
        for (int n : TestData.SIZES) {
            float[] x = TestData.gaussian(r, n + 2, 3);
            float[] w = TestData.gaussian(r, n, 1);
            float[] out = new float[n + 1];
            Norms.rmsNorm(x, 2, w, 1e-6f, out, 1, n);
            double ss = 0;
            for (int i = 0; i < n; i++) ss += (double) x[2 + i] * x[2 + i];
            double inv = 1 / Math.sqrt(ss / n + 1e-6);
            for (int i = 0; i < n; i++) assertRel(out[1 + i], w[i] * x[2 + i] * inv, 2e-6, "rmsNorm n=" + n + " i=" + i);
            // in place
            float[] y = x.clone();
            Norms.rmsNorm(y, 2, w, 1e-6f, y, 2, n);
            for (int i = 0; i < n; i++) assertThat(y[2 + i]).isEqualTo(out[1 + i]);
        }
    }

    @Test
    void layerNormMatchesDoubleEvenWithALargeMean() {
        for (int n : TestData.SIZES) {
            float[] x = TestData.gaussian(r, n + 1, 2);
            for (int i = 0; i < x.length; i++) x[i] += 100; // a large offset tests the two-pass variance
            float[] w = TestData.gaussian(r, n, 1);
            float[] b = TestData.gaussian(r, n, 1);
            float[] out = new float[n];
            Norms.layerNorm(x, 1, w, b, 1e-6f, out, 0, n);
            double mean = 0;
            for (int i = 0; i < n; i++) mean += x[1 + i];
            mean /= n;
            double var = 0;
            for (int i = 0; i < n; i++) var += (x[1 + i] - mean) * (x[1 + i] - mean);
            var /= n;
            double inv = 1 / Math.sqrt(var + 1e-6);
            for (int i = 0; i < n; i++) {
                double ref = (x[1 + i] - mean) * inv * w[i] + b[i];
                // x itself is float near 100, so its spacing (8e-6) over a unit spread bounds the accuracy
                assertThat((double) out[i]).as("layerNorm n=%d i=%d", n, i).isCloseTo(ref, Offset.offset(5e-5 * (Math.abs(w[i]) + 1)));
            }
        }
    }

    @Test
    void softmaxMatchesDoubleAndIgnoresTheRest() {
        for (int n : TestData.SIZES) {
            float[] x = TestData.gaussian(r, n + 2, 5);
            x[1] = 80; // exp(80) overflows float unless the max is subtracted
            float[] y = x.clone();
            Softmax.softmax(y, 1, n);
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) max = Math.max(max, x[1 + i]);
            double sum = 0;
            for (int i = 0; i < n; i++) sum += Math.exp(x[1 + i] - max);
            for (int i = 0; i < n; i++) {
                double ref = Math.exp(x[1 + i] - max) / sum;
                // exp of a float difference d carries its rounding, about 6e-8 |d| relative
                double tol = (2e-6 + 1.2e-7 * Math.abs(x[1 + i] - max)) * ref + 1e-38;
                assertThat((double) y[1 + i]).as("softmax n=%d i=%d", n, i).isCloseTo(ref, Offset.offset(tol));
            }
            assertThat(y[0]).isEqualTo(x[0]);
            assertThat(y[n + 1]).isEqualTo(x[n + 1]);
        }
    }

    @Test
    void softmaxOfMaskedScoresGivesZeroWeight() {
        float[] x = {1f, Float.NEGATIVE_INFINITY, 2f, Float.NEGATIVE_INFINITY, 0f, 0f, 0f, 0f, 0f};
        Softmax.softmax(x, 0, x.length);
        assertThat(x[1]).isZero();
        assertThat(x[3]).isZero();
        assertThat((double) x[2]).isCloseTo(Math.exp(2) / (Math.exp(1) + Math.exp(2) + 5), Offset.offset(1e-7));
    }

    @Test
    void rotateHalfMatchesDouble() {
        for (int half : TestData.SIZES) {
            int hd = 2 * half;
            float[] x = TestData.gaussian(r, hd + 3, 1);
            float[] cos = new float[half + 1];
            float[] sin = new float[half + 1];
            for (int i = 0; i <= half; i++) {
                double a = r.nextDouble() * 10;
                cos[i] = (float) Math.cos(a);
                sin[i] = (float) Math.sin(a);
            }
            float[] y = x.clone();
            Rope.rotateHalf(y, 3, hd, cos, sin, 1);
            for (int i = 0; i < half; i++) {
                double x1 = x[3 + i], x2 = x[3 + half + i], c = cos[1 + i], s = sin[1 + i];
                assertThat((double) y[3 + i]).isCloseTo(x1 * c - x2 * s, Offset.offset(1e-6));
                assertThat((double) y[3 + half + i]).isCloseTo(x2 * c + x1 * s, Offset.offset(1e-6));
            }
            assertThat(y[2]).isEqualTo(x[2]);
        }
        assertThatThrownBy(() -> Rope.rotateHalf(new float[3], 0, 3, new float[2], new float[2], 0)).hasMessageContaining("even head size");
    }

    @Test
    void opsMatchDouble() {
        for (int n : TestData.SIZES) {
            float[] a = TestData.gaussian(r, n + 1, 1);
            float[] b = TestData.gaussian(r, n + 2, 1);
            float[] s = TestData.gaussian(r, n, 1);

            float[] t = a.clone();
            Ops.add(t, 1, b, 2, n);
            for (int i = 0; i < n; i++) assertThat(t[1 + i]).isEqualTo(a[1 + i] + b[2 + i]);
            t = a.clone();
            Ops.mul(t, 1, b, 2, n);
            for (int i = 0; i < n; i++) assertThat(t[1 + i]).isEqualTo(a[1 + i] * b[2 + i]);
            t = a.clone();
            Ops.scale(t, 1, n, 0.37f);
            for (int i = 0; i < n; i++) assertThat(t[1 + i]).isEqualTo(a[1 + i] * 0.37f);
            t = a.clone();
            Ops.addScaled(t, 1, b, 2, s, n);
            for (int i = 0; i < n; i++) assertThat((double) t[1 + i]).isCloseTo(a[1 + i] + (double) b[2 + i] * s[i], Offset.offset(1e-6));
            t = a.clone();
            Ops.axpy(-1.5f, b, 2, t, 1, n);
            for (int i = 0; i < n; i++) assertThat((double) t[1 + i]).isCloseTo(a[1 + i] - 1.5 * b[2 + i], Offset.offset(1e-6));
            assertThat(t[0]).isEqualTo(a[0]);

            double dot = 0, mag = 0, sum = 0, max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                dot += (double) a[1 + i] * b[2 + i];
                mag += Math.abs((double) a[1 + i] * b[2 + i]);
                sum += a[1 + i];
                max = Math.max(max, a[1 + i]);
            }
            assertThat((double) Ops.dot(a, 1, b, 2, n)).as("dot n=%d", n).isCloseTo(dot, Offset.offset(1e-6 * mag + 1e-30));
            assertThat((double) Ops.sum(a, 1, n)).isCloseTo(sum, Offset.offset(1e-6 * n));
            assertThat((double) Ops.max(a, 1, n)).isEqualTo(max);
        }
    }

    private static void assertRel(float actual, double ref, double rel, String what) {
        assertThat(Math.abs(actual - ref)).as(what + ": " + actual + " vs " + ref).isLessThanOrEqualTo(rel * Math.abs(ref) + 1e-30);
    }
}
