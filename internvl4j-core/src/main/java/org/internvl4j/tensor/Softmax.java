package org.internvl4j.tensor;

/** Numerically stable softmax in float32. */
public final class Softmax {
    private Softmax() {
    }

    /** In place over x[off, off + n). */
    public static void softmax(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = off; i < off + n; i++) max = Math.max(max, x[i]);
        float sum = 0;
        for (int i = off; i < off + n; i++) {
            x[i] = (float) Math.exp(x[i] - max);
            sum += x[i];
        }
        float inv = 1f / sum;
        for (int i = off; i < off + n; i++) x[i] *= inv;
    }
}
