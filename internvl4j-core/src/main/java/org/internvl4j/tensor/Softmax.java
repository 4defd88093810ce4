package org.internvl4j.tensor;

import static org.internvl4j.tensor.VectorLoads.F;
import static org.internvl4j.tensor.VectorLoads.L;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** Numerically stable softmax in float32 (the max is subtracted before exp). */
public final class Softmax {
    private Softmax() {
    }

    /** In place over x[off, off + n). */
    public static void softmax(float[] x, int off, int n) {
        if (n == 0) return;
        float max = Ops.max(x, off, n);
        FloatVector m = FloatVector.broadcast(F, max);
        FloatVector s = FloatVector.zero(F);
        int i = 0;
        int up = F.loopBound(n);
        for (; i < up; i += L) {
            FloatVector e = FloatVector.fromArray(F, x, off + i).sub(m).lanewise(VectorOperators.EXP);
            e.intoArray(x, off + i);
            s = s.add(e);
        }
        float sum = VectorLoads.sum(s);
        for (; i < n; i++) {
            x[off + i] = (float) Math.exp(x[off + i] - max);
            sum += x[off + i];
        }
        Ops.scale(x, off, n, 1f / sum);
    }
}
