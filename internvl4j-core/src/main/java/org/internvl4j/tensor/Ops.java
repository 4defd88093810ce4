package org.internvl4j.tensor;

import static org.internvl4j.tensor.VectorLoads.F;
import static org.internvl4j.tensor.VectorLoads.L;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** Elementwise operations and small reductions on float32 arrays (also used by attention). */
public final class Ops {
    private Ops() {
    }

    /** a[aOff + i] += b[bOff + i]. */
    public static void add(float[] a, int aOff, float[] b, int bOff, int n) {
        int i = 0;
        for (int up = F.loopBound(n); i < up; i += L) {
            FloatVector.fromArray(F, a, aOff + i).add(FloatVector.fromArray(F, b, bOff + i)).intoArray(a, aOff + i);
        }
        for (; i < n; i++) a[aOff + i] += b[bOff + i];
    }

    /** a[aOff + i] *= b[bOff + i]. */
    public static void mul(float[] a, int aOff, float[] b, int bOff, int n) {
        int i = 0;
        for (int up = F.loopBound(n); i < up; i += L) {
            FloatVector.fromArray(F, a, aOff + i).mul(FloatVector.fromArray(F, b, bOff + i)).intoArray(a, aOff + i);
        }
        for (; i < n; i++) a[aOff + i] *= b[bOff + i];
    }

    /** a[aOff + i] += b[bOff + i] * s[i] (a residual scaled per channel, e.g. LayerScale). */
    public static void addScaled(float[] a, int aOff, float[] b, int bOff, float[] s, int n) {
        int i = 0;
        for (int up = F.loopBound(n); i < up; i += L) {
            FloatVector.fromArray(F, b, bOff + i).fma(FloatVector.fromArray(F, s, i), FloatVector.fromArray(F, a, aOff + i))
                    .intoArray(a, aOff + i);
        }
        for (; i < n; i++) a[aOff + i] = Math.fma(b[bOff + i], s[i], a[aOff + i]);
    }

    /** a[off + i] *= s. */
    public static void scale(float[] a, int off, int n, float s) {
        int i = 0;
        for (int up = F.loopBound(n); i < up; i += L) FloatVector.fromArray(F, a, off + i).mul(s).intoArray(a, off + i);
        for (; i < n; i++) a[off + i] *= s;
    }

    /** y[yOff + i] += s * x[xOff + i], e.g. accumulating attention-weighted values. */
    public static void axpy(float s, float[] x, int xOff, float[] y, int yOff, int n) {
        FloatVector sv = FloatVector.broadcast(F, s);
        int i = 0;
        for (int up = F.loopBound(n); i < up; i += L) {
            FloatVector.fromArray(F, x, xOff + i).fma(sv, FloatVector.fromArray(F, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] = Math.fma(s, x[xOff + i], y[yOff + i]);
    }

    /** Dot product of n elements. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        // Four accumulators hide the FMA latency.
        FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
        int i = 0;
        for (int up = n - 4 * L; i <= up; i += 4 * L) {
            s0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), s0);
            s1 = FloatVector.fromArray(F, a, aOff + i + L).fma(FloatVector.fromArray(F, b, bOff + i + L), s1);
            s2 = FloatVector.fromArray(F, a, aOff + i + 2 * L).fma(FloatVector.fromArray(F, b, bOff + i + 2 * L), s2);
            s3 = FloatVector.fromArray(F, a, aOff + i + 3 * L).fma(FloatVector.fromArray(F, b, bOff + i + 3 * L), s3);
        }
        for (int up = F.loopBound(n); i < up; i += L) {
            s0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), s0);
        }
        float acc = VectorLoads.sum(s0.add(s1).add(s2.add(s3)));
        for (; i < n; i++) acc = Math.fma(a[aOff + i], b[bOff + i], acc);
        return acc;
    }

    /** Sum of n elements. */
    public static float sum(float[] a, int off, int n) {
        FloatVector s0 = FloatVector.zero(F);
        int i = 0;
        for (int up = F.loopBound(n); i < up; i += L) s0 = s0.add(FloatVector.fromArray(F, a, off + i));
        float acc = VectorLoads.sum(s0);
        for (; i < n; i++) acc += a[off + i];
        return acc;
    }

    /** Largest of n elements (n at least 1). */
    public static float max(float[] a, int off, int n) {
        if (n < 1) throw new IllegalArgumentException("max of an empty range");
        FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (int up = F.loopBound(n); i < up; i += L) m = m.max(FloatVector.fromArray(F, a, off + i));
        float acc = m.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) acc = Math.max(acc, a[off + i]);
        return acc;
    }
}
