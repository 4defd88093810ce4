package org.internvl4j.tensor;

import static org.internvl4j.tensor.VectorLoads.F;
import static org.internvl4j.tensor.VectorLoads.L;

import jdk.incubator.vector.FloatVector;

/** Row normalisations over n elements starting at an offset, in float32. out may be the same array as x. */
public final class Norms {
    private Norms() {
    }

    /** RMSNorm: out = w * (x * rsqrt(mean(x^2) + eps)). */
    public static void rmsNorm(float[] x, int xOff, float[] w, float eps, float[] out, int outOff, int n) {
        checkWeights(w, n);
        float inv = (float) (1.0 / Math.sqrt(Ops.dot(x, xOff, x, xOff, n) / n + eps));
        int i = 0;
        for (int up = F.loopBound(n); i < up; i += L) {
            FloatVector.fromArray(F, x, xOff + i).mul(inv).mul(FloatVector.fromArray(F, w, i)).intoArray(out, outOff + i);
        }
        for (; i < n; i++) out[outOff + i] = w[i] * (x[xOff + i] * inv);
    }

    /** LayerNorm with biased variance: out = (x - mean) / sqrt(var + eps) * w + b. */
    public static void layerNorm(float[] x, int xOff, float[] w, float[] b, float eps, float[] out, int outOff, int n) {
        checkWeights(w, n);
        checkWeights(b, n);
        float mean = Ops.sum(x, xOff, n) / n;
        // Two passes: the variance of centred values does not cancel.
        FloatVector m = FloatVector.broadcast(F, mean);
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        int up = F.loopBound(n);
        for (; i < up; i += L) {
            FloatVector d = FloatVector.fromArray(F, x, xOff + i).sub(m);
            acc = d.fma(d, acc);
        }
        float var = VectorLoads.sum(acc);
        for (; i < n; i++) {
            float d = x[xOff + i] - mean;
            var += d * d;
        }
        var /= n;
        float inv = (float) (1.0 / Math.sqrt(var + eps));
        i = 0;
        for (; i < up; i += L) {
            FloatVector.fromArray(F, x, xOff + i).sub(m).mul(inv)
                    .fma(FloatVector.fromArray(F, w, i), FloatVector.fromArray(F, b, i)).intoArray(out, outOff + i);
        }
        for (; i < n; i++) out[outOff + i] = (x[xOff + i] - mean) * inv * w[i] + b[i];
    }

    private static void checkWeights(float[] w, int n) {
        if (w.length < n) throw new IllegalArgumentException("norm weight has " + w.length + " elements, the row has " + n);
    }
}
