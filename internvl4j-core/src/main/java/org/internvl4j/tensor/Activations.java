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
 * <li>|z| &lt;= 1: erf(z) = z P(z^2), relative error 1.2e-9 before float rounding;</li>
 * <li>1 &lt; |z| &lt;= 6: erfc(|z|) = exp(-z^2) Q(1/|z|), relative error 6.5e-8 before float rounding;</li>
 * <li>|z| &gt; 6: the asymptotic series erfc(z) = exp(-z^2) / (z sqrt(pi)) (1 - 1/(2z^2) + 3/(4z^4) - ...)
 * to five terms (Abramowitz and Stegun 7.1.23), relative error below 5e-7.</li>
 * </ul>
 * In float, erf is within 2e-7 absolute and erfc within about 1e-6 relative.
 */
public final class Activations {
    private static final float[] P = {
        1.1283791657206446f, -0.3761262578089582f, 0.11283584655060283f, -0.0268537912923327f,
        0.005188288499490781f, -0.0008009849692874466f, 7.852726669189958e-05f};
    private static final float[] Q = {
        2.9020505192089052e-05f, 0.5635106459689423f, 0.0063744066147719824f, -0.3110177904353735f,
        0.04586662925667952f, 0.577187435466223f, -0.939137502069883f, 0.7363074234542127f,
        -0.30511090076984004f, 0.05357423502997284f};
    /** The asymptotic series as a polynomial in t = 1/z: (t - t^3/2 + 3t^5/4 - 15t^7/8 + 105t^9/16) / sqrt(pi). */
    private static final float[] ASYMPTOTIC = asymptotic();
    private static final float Z_FIT = 6f;
    /** erfc(10) = 2e-45 is below the smallest float, so larger arguments are clamped here. */
    private static final float Z_MAX = 10f;
    private static final float SQRT1_2 = (float) (1 / Math.sqrt(2));
    /** GELU's argument at which z = x / sqrt 2 reaches Z_MAX. */
    private static final float X_MAX = (float) (Z_MAX * Math.sqrt(2));

    private Activations() {
    }

    private static float[] asymptotic() {
        double c = 1 / Math.sqrt(Math.PI);
        return new float[] {0f, (float) c, 0f, (float) (-c / 2), 0f, (float) (c * 3 / 4), 0f, (float) (-c * 15 / 8), 0f, (float) (c * 105 / 16)};
    }

    /**
     * Exact GELU, 0.5 x (1 + erf(x / sqrt 2)), as torch.nn.GELU() with approximate='none'.
     * The loop body is one flat block of Vector API calls with erfc and its polynomials written out:
     * through helper methods taking and returning vectors, C2 compiled the helpers apart and ran the
     * Vector API's boxed Java fallbacks (~0.1 G values/s on Zen 5, a third of the vision tower's time).
     */
    public static void gelu(float[] x, int off, int n) {
        int i = 0;
        for (int up = F.loopBound(n); i < up; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, off + i);
            // Phi(x) = 1 - erfc(z)/2 for x >= 0 and erfc(|z|)/2 for x < 0, so the negative tail keeps its
            // relative accuracy instead of cancelling in 1 + erf.
            // (x / sqrt 2)^2 = x^2 / 2 is split from x itself, since x / sqrt 2 is already rounded
            FloatVector c = v.abs().min(X_MAX);
            FloatVector sq = c.mul(c);
            FloatVector hi = sq.mul(0.5f), lo = c.fma(c, sq.neg()).mul(0.5f);
            FloatVector a = v.mul(SQRT1_2).abs();
            // erfc(a) = 1 - a P(a^2) for a <= 1
            FloatVector a2 = a.mul(a);
            FloatVector p = a2.fma(P[6], P[5]).fma(a2, FloatVector.broadcast(F, P[4])).fma(a2, FloatVector.broadcast(F, P[3]))
                    .fma(a2, FloatVector.broadcast(F, P[2])).fma(a2, FloatVector.broadcast(F, P[1])).fma(a2, FloatVector.broadcast(F, P[0]));
            FloatVector viaErf = a.mul(p).neg().add(1f);
            // erfc(a) = exp(-a^2) Q(1/a) for 1 < a <= 6, the asymptotic series beyond
            FloatVector ex = hi.neg().lanewise(VectorOperators.EXP).mul(lo.neg().add(1f));
            FloatVector t = FloatVector.broadcast(F, 1f).div(a.min(Z_MAX).max(1f));
            FloatVector q = t.fma(Q[9], Q[8]).fma(t, FloatVector.broadcast(F, Q[7])).fma(t, FloatVector.broadcast(F, Q[6]))
                    .fma(t, FloatVector.broadcast(F, Q[5])).fma(t, FloatVector.broadcast(F, Q[4])).fma(t, FloatVector.broadcast(F, Q[3]))
                    .fma(t, FloatVector.broadcast(F, Q[2])).fma(t, FloatVector.broadcast(F, Q[1])).fma(t, FloatVector.broadcast(F, Q[0]));
            float[] s = ASYMPTOTIC;
            FloatVector as = t.fma(s[9], s[8]).fma(t, FloatVector.broadcast(F, s[7])).fma(t, FloatVector.broadcast(F, s[6]))
                    .fma(t, FloatVector.broadcast(F, s[5])).fma(t, FloatVector.broadcast(F, s[4])).fma(t, FloatVector.broadcast(F, s[3]))
                    .fma(t, FloatVector.broadcast(F, s[2])).fma(t, FloatVector.broadcast(F, s[1])).fma(t, FloatVector.broadcast(F, s[0]));
            FloatVector erfc = ex.mul(q.blend(as, a.compare(VectorOperators.GT, Z_FIT))).blend(viaErf, a.compare(VectorOperators.LE, 1f));
            FloatVector e = erfc.mul(0.5f);
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

    /** erfc(a) for a &gt;= 0, vectorised. */
    private static FloatVector erfcAbs(FloatVector a) {
        FloatVector c = a.min(Z_MAX);
        FloatVector hi = c.mul(c);
        return erfcAbs(a, hi, c.fma(c, hi.neg()));
    }

    /**
     * erfc(a) for a &gt;= 0, given a^2 = hi + lo exactly (for min(a, Z_MAX)), so that the rounding of
     * a^2 does not reach exp(-a^2) in the tail.
     */
    private static FloatVector erfcAbs(FloatVector a, FloatVector hi, FloatVector lo) {
        VectorMask<Float> small = a.compare(VectorOperators.LE, 1f);
        FloatVector viaErf = a.mul(poly(P, a.mul(a))).neg().add(1f);
        FloatVector ex = hi.neg().lanewise(VectorOperators.EXP).mul(lo.neg().add(1f));
        FloatVector t = FloatVector.broadcast(F, 1f).div(a.min(Z_MAX).max(1f));
        FloatVector q = poly(Q, t).blend(poly(ASYMPTOTIC, t), a.compare(VectorOperators.GT, Z_FIT));
        return ex.mul(q).blend(viaErf, small);
    }

    private static float erfcScalar(float a) {
        float c = Math.min(a, Z_MAX);
        float hi = c * c;
        return erfcScalar(a, hi, Math.fma(c, c, -hi));
    }

    private static float erfcScalar(float a, float hi, float lo) {
        if (a <= 1f) return 1f - a * polyScalar(P, a * a);
        float ex = (float) Math.exp(-hi) * (1f - lo);
        return ex * polyScalar(a > Z_FIT ? ASYMPTOTIC : Q, 1f / Math.min(a, Z_MAX));
    }

    private static float geluScalar(float v) {
        float c = Math.min(Math.abs(v), X_MAX);
        float hi = c * c;
        float e = 0.5f * erfcScalar(Math.abs(v * SQRT1_2), 0.5f * hi, 0.5f * Math.fma(c, c, -hi));
        return v * (v < 0 ? e : 1f - e);
    }

    /** Horner's rule; only off the hot path (gelu writes its polynomials out, see there). */
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
