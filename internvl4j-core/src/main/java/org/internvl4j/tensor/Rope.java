package org.internvl4j.tensor;

import static org.internvl4j.tensor.VectorLoads.F;
import static org.internvl4j.tensor.VectorLoads.L;

import jdk.incubator.vector.FloatVector;

/** Rotary position embedding in the rotate-half form used by InternLM2 and Llama. */
public final class Rope {
    private Rope() {
    }

    /**
     * Rotates one head in place: x' = x * cos + rotate_half(x) * sin, rotate_half([x1, x2]) = [-x2, x1].
     * cos and sin hold headDim/2 values for this position (cos(cat(f, f)) repeats each half).
     */
    public static void rotateHalf(float[] x, int off, int headDim, float[] cos, float[] sin, int csOff) {
        if (headDim % 2 != 0) throw new IllegalArgumentException("rotate-half RoPE needs an even head size, got " + headDim);
        int half = headDim / 2;
        int i = 0;
        for (int up = F.loopBound(half); i < up; i += L) {
            FloatVector c = FloatVector.fromArray(F, cos, csOff + i);
            FloatVector s = FloatVector.fromArray(F, sin, csOff + i);
            FloatVector x1 = FloatVector.fromArray(F, x, off + i);
            FloatVector x2 = FloatVector.fromArray(F, x, off + half + i);
            x1.mul(c).sub(x2.mul(s)).intoArray(x, off + i);
            x2.mul(c).add(x1.mul(s)).intoArray(x, off + half + i);
        }
        for (; i < half; i++) {
            float c = cos[csOff + i], s = sin[csOff + i];
            float x1 = x[off + i], x2 = x[off + i + half];
            x[off + i] = x1 * c - x2 * s;
            x[off + i + half] = x2 * c + x1 * s;
        }
    }
}
