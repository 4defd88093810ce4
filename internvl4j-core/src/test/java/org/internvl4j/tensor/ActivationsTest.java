package org.internvl4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * erf, GELU and SiLU against double-precision references. The erf reference is an independent
 * numerical integral, erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt (composite Simpson, step 1/4096),
 * itself checked against tabulated values.
 */
class ActivationsTest {
    private static final double H = 1.0 / 4096;
    private static final int GRID = 12 * 4096;
    /** erfRef[i] = erf(i * H), erfcRef[i] = erfc(i * H) for i in [0, GRID]. */
    private static double[] erfRef;
    private static double[] erfcRef;

    @BeforeAll
    static void integrate() {
        erfRef = new double[GRID + 1];
        erfcRef = new double[GRID + 1];
        double c = 2 / Math.sqrt(Math.PI);
        for (int i = 1; i <= GRID; i++) {
            double a = (i - 1) * H, b = i * H, m = (a + b) / 2;
            erfRef[i] = erfRef[i - 1] + c * H / 6 * (Math.exp(-a * a) + 4 * Math.exp(-m * m) + Math.exp(-b * b));
        }
        // erfc from the far end, where it is ~0, so the tail keeps its relative accuracy
        for (int i = GRID - 1; i >= 0; i--) {
            double a = i * H, b = (i + 1) * H, m = (a + b) / 2;
            erfcRef[i] = erfcRef[i + 1] + c * H / 6 * (Math.exp(-a * a) + 4 * Math.exp(-m * m) + Math.exp(-b * b));
        }
    }

    private static double refErf(int i) {
        return i >= 0 ? erfRef[i] : -erfRef[-i];
    }

    @Test
    void referenceMatchesTabulatedValues() {
        // Abramowitz and Stegun, table 7.1
        assertThat(erfRef[2048]).isCloseTo(0.5204998778130465, within(1e-14));
        assertThat(erfRef[4096]).isCloseTo(0.8427007929497149, within(1e-14));
        assertThat(erfRef[8192]).isCloseTo(0.9953222650189527, within(1e-14));
        assertThat(erfcRef[12288]).isCloseTo(2.209049699858544e-05, within(1e-18));
    }

    @Test
    void doubleErfIsAccurateTo1e13() {
        for (int i = -GRID; i <= GRID; i += 7) {
            double x = i * H;
            assertThat(Activations.erf(x)).as("erf(%s)", x).isCloseTo(refErf(i), within(1e-13));
        }
    }

    @Test
    void floatErfIsWithin2e7AbsoluteOnAFineGridBothPaths() {
        int n = 2 * GRID + 1;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) ((i - GRID) * H); // exact in float
        float[] v = x.clone();
        Activations.erf(v, 0, n);
        double worst = 0;
        for (int i = 0; i < n; i++) {
            double ref = refErf(i - GRID);
            worst = Math.max(worst, Math.abs(v[i] - ref));
            assertThat((double) Activations.erf(x[i])).as("scalar erf(%s)", x[i]).isCloseTo(ref, within(2e-7));
        }
        assertThat(worst).as("vector erf worst absolute error").isLessThan(2e-7);
        float[] odd = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, 1e-30f, 40f};
        Activations.erf(odd, 0, odd.length);
        assertThat(odd[0]).isNaN();
        assertThat(odd[1]).isEqualTo(1f);
        assertThat(odd[2]).isEqualTo(-1f);
        assertThat(odd[5]).isCloseTo(1e-30f * 1.1283791f, org.assertj.core.data.Offset.offset(1e-36f));
        assertThat(odd[6]).isEqualTo(1f);
    }

    @Test
    void geluMatchesDoubleFormulaWithRelativeAccuracyIncludingTheNegativeTail() {
        // gelu(x) = x * Phi(x); Phi(x) = erfc(-x / sqrt 2) / 2. Grid points x = i * H * sqrt 2 hit the reference grid.
        int n = 2 * (int) (8.4 / H) + 1;
        float[] x = new float[n];
        double[] ref = new double[n];
        int k = 0;
        for (int i = -(int) (6 / H); i <= (int) (6 / H); i++) {
            double z = i * H;
            float xf = (float) (z * Math.sqrt(2));
            // recompute z from the float x so the reference is for the exact input
            double zx = xf / Math.sqrt(2);
            int j = (int) Math.round(zx / H);
            if (Math.abs(j * H - zx) > 1e-12 || Math.abs(j) > GRID) continue;
            double phi = j >= 0 ? 1 - erfcRef[j] / 2 : erfcRef[-j] / 2;
            x[k] = xf;
            ref[k++] = xf * phi;
        }
        // float rounding of x/sqrt2 rarely lands on the grid; fall back to the double formula on a dense random set
        Random r = new Random(7);
        while (k < n) {
            float xf = (float) ((r.nextDouble() * 2 - 1) * 12);
            x[k] = xf;
            double z = xf / Math.sqrt(2);
            double phi = z >= 0 ? 0.5 * (1 + Activations.erf(z)) : 0.5 * erfcByIntegral(-z);
            ref[k++] = xf * phi;
        }
        for (int size : TestData.SIZES) {
            float[] v = java.util.Arrays.copyOf(x, size);
            Activations.gelu(v, 0, size);
            for (int i = 0; i < size; i++) assertGelu(v[i], ref[i], x[i]);
        }
        float[] v = x.clone();
        Activations.gelu(v, 0, n);
        for (int i = 0; i < n; i++) assertGelu(v[i], ref[i], x[i]);
    }

    private static void assertGelu(float actual, double ref, float x) {
        // 1e-6 relative (torch's own float GELU is no better in the tail), plus a tiny floor where the value vanishes
        assertThat(Math.abs(actual - ref)).as("gelu(%s) = %s, expected %s", x, actual, ref).isLessThanOrEqualTo(1e-6 * Math.abs(ref) + 1e-30);
    }

    /** erfc(z) for z &gt;= 0 by integrating from the tabulated grid point below z. */
    private static double erfcByIntegral(double z) {
        if (z >= GRID * H) return 0;
        int i = (int) (z / H);
        double a = i * H, m = (a + z) / 2, c = 2 / Math.sqrt(Math.PI);
        return erfcRef[i] - c * (z - a) / 6 * (Math.exp(-a * a) + 4 * Math.exp(-m * m) + Math.exp(-z * z));
    }

    @Test
    void siluAndSiluMulMatchDoubleFormula() {
        Random r = new Random(8);
        for (int size : TestData.SIZES) {
            float[] x = TestData.gaussian(r, size + 3, 4);
            x[3] = -100f; // exp overflows to inf; silu must still be -0
            float[] up = TestData.gaussian(r, size, 1);
            float[] a = x.clone();
            float[] g = x.clone();
            Activations.silu(a, 3, size);
            Activations.siluMul(g, 3, up, 0, size);
            assertThat(a[2]).isEqualTo(x[2]);
            for (int i = 0; i < size; i++) {
                double v = x[3 + i];
                double ref = v / (1 + Math.exp(-v));
                assertThat((double) a[3 + i]).as("silu(%s)", v).isCloseTo(ref, within(1e-6 * Math.abs(ref) + 1e-30));
                assertThat((double) g[3 + i]).as("silu(%s) * %s", v, up[i]).isCloseTo(ref * up[i], within(2e-6 * Math.abs(ref * up[i]) + 1e-30));
            }
        }
    }

    private static org.assertj.core.data.Offset<Double> within(double d) {
        return org.assertj.core.data.Offset.offset(d);
    }
}
