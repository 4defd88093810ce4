package org.internvl4j.tensor;

/** Row normalisations over n elements starting at an offset. out may be the same array as x. */
public final class Norms {
    private Norms() {
    }

    /** RMSNorm: out = w * (x * rsqrt(mean(x^2) + eps)). */
    public static void rmsNorm(float[] x, int xOff, float[] w, float eps, float[] out, int outOff, int n) {
        float ss = 0;
        for (int i = 0; i < n; i++) ss += x[xOff + i] * x[xOff + i];
        float inv = (float) (1.0 / Math.sqrt(ss / n + eps));
        for (int i = 0; i < n; i++) out[outOff + i] = w[i] * (x[xOff + i] * inv);
    }

    /** LayerNorm with biased variance: out = (x - mean) / sqrt(var + eps) * w + b. */
    public static void layerNorm(float[] x, int xOff, float[] w, float[] b, float eps, float[] out, int outOff, int n) {
        float mean = 0;
        for (int i = 0; i < n; i++) mean += x[xOff + i];
        mean /= n;
        float var = 0;
        for (int i = 0; i < n; i++) {
            float d = x[xOff + i] - mean;
            var += d * d;
        }
        var /= n;
        float inv = (float) (1.0 / Math.sqrt(var + eps));
        for (int i = 0; i < n; i++) out[outOff + i] = (x[xOff + i] - mean) * inv * w[i] + b[i];
    }
}
