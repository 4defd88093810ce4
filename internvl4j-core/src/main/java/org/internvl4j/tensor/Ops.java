package org.internvl4j.tensor;

/** Elementwise operations on float32 arrays. */
public final class Ops {
    private Ops() {
    }

    /** a[aOff + i] += b[bOff + i]. */
    public static void add(float[] a, int aOff, float[] b, int bOff, int n) {
        for (int i = 0; i < n; i++) a[aOff + i] += b[bOff + i];
    }

    /** a[aOff + i] *= b[bOff + i]. */
    public static void mul(float[] a, int aOff, float[] b, int bOff, int n) {
        for (int i = 0; i < n; i++) a[aOff + i] *= b[bOff + i];
    }

    /** a[aOff + i] += b[bOff + i] * s[i] (a residual scaled per channel, e.g. LayerScale). */
    public static void addScaled(float[] a, int aOff, float[] b, int bOff, float[] s, int n) {
        for (int i = 0; i < n; i++) a[aOff + i] += b[bOff + i] * s[i];
    }

    /** a[off + i] *= s. */
    public static void scale(float[] a, int off, int n, float s) {
        for (int i = 0; i < n; i++) a[off + i] *= s;
    }

    /** Dot product of n elements. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float acc = 0;
        for (int i = 0; i < n; i++) acc += a[aOff + i] * b[bOff + i];
        return acc;
    }
}
