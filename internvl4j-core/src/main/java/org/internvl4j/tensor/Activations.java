package org.internvl4j.tensor;

import static org.internvl4j.tensor.VectorLoads.F;
import static org.internvl4j.tensor.VectorLoads.L;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * In-place activations over x[off, off + n), and the error function they need.
 *
 * <p>Float erf/erfc use two fits of our own (weighted least squares, near-minimax, against Python's
 * math.erf/erfc; regenerate with scripts/kernels/fit_erf.py):
 * <ul>
 * <li>|z| &lt;= 1: erf(z) = z P(z^2), relative error 2e-9 before float rounding;</li>
 * <li>1 &lt; |z| &lt;= 6: erfc(|z|) = exp(-z^2) Q(1/|z|), relative error 1.4e-7 before float rounding;
 * beyond 6, erfc &lt; 2e-17 and is evaluated with Q(1/6).</li>
 * </ul>
 * Measured in float: erf within 1.5e-7 absolute, erfc within 1e-6 relative up to z = 6.
 */
public final class Activations {
    private static final float[] P = {
        1.1283791648632406f, -0.3761262427850184f, 0.11283578576001543f, -0.026853760595961562f,
        0.005188505314623282f, -0.0008013572180494977f, 7.869952367006716e-05f};
    private static final float[] Q = {
        2.879090645325532e-05f, 0.5635212613814449f, 0.006222272630111519f, -0.30995312330600383f,
        0.041618036327716754f, 0.5874973534327204f, -0.9546126891757751f, 0.7503276213580337f,
        -0.3121305017190737f, 0.0550646134260594f};
    private static final float Z_MAX = 6f;
    private static final float SQRT1_2 = (float) (1 / Math.sqrt(2));

    private Activations() {
    }

    /** Exact GELU, 0.5 x (1 + erf(x / sqrt 2)), as torch.nn.GELU() with approximate='none'. */
    public static void gelu(float[] x, int off, int n) {
        int i = 0;
        for (int up = F.loopBound(n); i < up; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, off + i);
            // Phi(x) = 1 - erfc(z)/2 for x >= 0 and erfc(|z|)/2 for x < 0, so the negative tail keeps its
            // relative accuracy instead of cancelling in 1 + erf.
            FloatVector e = erfcAbs(v.mul(SQRT1_2).abs()).mul(0.5f);
            FloatVector phi = e.neg().add(1f).blend(e, v.lt(0f));
            v.mul(phi).intoArray(x, off + i);
        }
        for (; i < n; i++) x[off + i] = geluScalar(x[off + i]);
    }

    /** SiLU, x * sigmoid(x). */
    public static void silu(float[] x, int off, int n) {
        int i = 0;
        for (int up = F.loopBound(n); i < up; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, off + i);
            v.div(v.neg().lanewise(VectorOperators.EXP).add(1f)).intoArray(x, off + i);
        }
        for (; i < n; i++) x[off + i] = x[off + i] / (1f + (float) Math.exp(-x[off + i]));
    }

    /** SwiGLU's gate: gate[gOff + i] = silu(gate[gOff + i]) * up[uOff + i]. */
    public static void siluMul(float[] gate, int gOff, float[] up, int uOff, int n) {
        int i = 0;
        for (int ub = F.loopBound(n); i < ub; i += L) {
            FloatVector g = FloatVector.fromArray(F, gate, gOff + i);
            g.div(g.neg().lanewise(VectorOperators.EXP).add(1f)).mul(FloatVector.fromArray(F, up, uOff + i))
                    .intoArray(gate, gOff + i);
        }
        for (; i < n; i++) {
            float g = gate[gOff + i];
            gate[gOff + i] = g / (1f + (float) Math.exp(-g)) * up[uOff + i];
        }
    }

    /** Float erf in place over x[off, off + n). */
    public static void erf(float[] x, int off, int n) {
        int i = 0;
        for (int up = F.loopBound(n); i < up; i += L) {
            FloatVector z = FloatVector.fromArray(F, x, off + i);
            FloatVector a = z.abs();
            VectorMask<Float> small = a.compare(VectorOperators.LE, 1f);
            FloatVector big = erfcAbs(a).neg().add(1f);
            // copy the sign of z onto 1 - erfc(|z|); the small branch keeps it by itself
            FloatVector signed = big.blend(big.neg(), z.lt(0f));
            z.mul(poly(P, z.mul(z))).blend(signed, small.not()).intoArray(x, off + i);
        }
        for (; i < n; i++) x[off + i] = erf(x[off + i]);
    }

    /** Float erf of one value, with the same approximation as the vector path. */
    public static float erf(float z) {
        float a = Math.abs(z);
        if (a <= 1f) return z * polyScalar(P, z * z);
        if (Float.isNaN(z)) return z;
        float r = 1f - erfcScalar(a);
        return z < 0 ? -r : r;
    }

    /** erfc(a) for a &gt;= 0, vectorised. Uses the small-|z| fit below 1. */
    private static FloatVector erfcAbs(FloatVector a) {
        VectorMask<Float> small = a.compare(VectorOperators.LE, 1f);
        FloatVector viaErf = a.mul(poly(P, a.mul(a))).neg().add(1f);
        // exp(-a^2) with a^2 = hi + lo split exactly, so the rounding of a^2 does not reach the tail
        FloatVector hi = a.mul(a);
        FloatVector lo = a.fma(a, hi.neg());
        FloatVector ex = hi.neg().lanewise(VectorOperators.EXP).mul(lo.neg().add(1f));
        FloatVector t = FloatVector.broadcast(F, 1f).div(a.max(1f).min(Z_MAX));
        FloatVector tail = ex.mul(poly(Q, t));
        return tail.blend(viaErf, small);
    }

    private static float erfcScalar(float a) {
        if (a <= 1f) return 1f - a * polyScalar(P, a * a);
        float hi = a * a;
        float lo = Math.fma(a, a, -hi);
        float ex = (float) Math.exp(-hi) * (1f - lo);
        return ex * polyScalar(Q, 1f / Math.min(a, Z_MAX));
    }

    private static float geluScalar(float v) {
        float e = 0.5f * erfcScalar(Math.abs(v * SQRT1_2));
        return v * (v < 0 ? e : 1f - e);
    }

    private static FloatVector poly(float[] c, FloatVector t) {
        FloatVector r = FloatVector.broadcast(F, c[c.length - 1]);
        for (int k = c.length - 2; k >= 0; k--) r = r.fma(t, FloatVector.broadcast(F, c[k]));
        return r;
    }

    private static float polyScalar(float[] c, float t) {
        float r = c[c.length - 1];
        for (int k = c.length - 2; k >= 0; k--) r = Math.fma(r, t, c[k]);
        return r;
    }

    /**
     * erf in double precision, to about 1e-15 relative: Maclaurin series below 2.5, Lentz-free
     * continued fraction for erfc above (Abramowitz and Stegun 7.1.5 and 7.1.14). Slow; for
     * references and cold paths.
     */
    public static double erf(double x) {
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
            double f = 0;
            for (int k = 60; k >= 1; k--) f = k / 2.0 / (t + f);
            r = 1 - Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
        }
        return x < 0 ? -r : r;
    }
}
