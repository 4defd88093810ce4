package org.internvl4j.tensor;

/** Rotary position embedding in the rotate-half form used by InternLM2 and Llama. */
public final class Rope {
    private Rope() {
    }

    /**
     * Rotates one head in place: x' = x * cos + rotate_half(x) * sin, rotate_half([x1, x2]) = [-x2, x1].
     * cos and sin hold headDim/2 values for this position (cos(cat(f, f)) repeats each half).
     */
    public static void rotateHalf(float[] x, int off, int headDim, float[] cos, float[] sin, int csOff) {
        int half = headDim / 2;
        for (int i = 0; i < half; i++) {
            float c = cos[csOff + i], s = sin[csOff + i];
            float x1 = x[off + i], x2 = x[off + i + half];
            x[off + i] = x1 * c - x2 * s;
            x[off + i + half] = x2 * c + x1 * s;
        }
    }
}
