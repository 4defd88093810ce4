package org.internvl4j.tensor;

/** In-place activations over x[off, off + n). */
public final class Activations {
    private Activations() {
    }

    /** Exact GELU, 0.5 x (1 + erf(x / sqrt 2)), as torch.nn.GELU() with approximate='none'. */
    public static void gelu(float[] x, int off, int n) {
        for (int i = off; i < off + n; i++) x[i] = (float) (0.5 * x[i] * (1 + erf(x[i] / Math.sqrt(2))));
    }

    /** SiLU, x * sigmoid(x). */
    public static void silu(float[] x, int off, int n) {
        for (int i = off; i < off + n; i++) x[i] = (float) (x[i] / (1 + Math.exp(-x[i])));
    }

    /** erf with about 1e-15 relative error (Abramowitz-Stegun is not accurate enough). */
    public static double erf(double x) {
        // Placeholder series/continued fraction; the kernels issue replaces it with a tuned version.
        double t = Math.abs(x);
        double r;
        if (t < 2.5) {
            double sum = t, term = t, t2 = t * t;
            for (int k = 1; k < 60; k++) {
                term *= -t2 / k;
                double add = term / (2 * k + 1);
                sum += add;
                if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
            }
            r = 2 / Math.sqrt(Math.PI) * sum;
        } else {
            // erfc continued fraction
            double f = 0;
            for (int k = 60; k >= 1; k--) f = k / 2.0 / (t + f);
            r = 1 - Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
        }
        return x < 0 ? -r : r;
    }
}
