import jdk.incubator.vector.*;

/**
 * What C2 makes of integer products through the Vector API, against FP32 FMAs: multiply-adds per nanosecond of CPU
 * time on one thread, operands in L1, at 512 bits. The Vector API has no int8 or int16 dot product (no vpdpbusd,
 * vpmaddwd); the int16 form multiplies 32 lanes (vpmullw) and sums the pairs into int32 lanes with shifts, the int8
 * form widens bytes to shorts first, and mulAdd is the scalar loop C2's auto-vectoriser may turn into vpmaddwd or
 * VNNI's vpdpwssd. Run: java --add-modules jdk.incubator.vector scripts/kernels/IntDot.java (docs/QUANTIZATION.md).
 */
public class IntDot {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    static final VectorSpecies<Short> S = ShortVector.SPECIES_512;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    static final VectorSpecies<Byte> B = ByteVector.SPECIES_256;

    static float fp32(float[] w, float[] x, int reps) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int r = 0; r < reps; r++) {
            for (int i = 0; i < w.length; i += 128) {
                FloatVector xv = FloatVector.fromArray(F, x, i & 1023);
                a0 = FloatVector.fromArray(F, w, i).fma(xv, a0);
                a1 = FloatVector.fromArray(F, w, i + 16).fma(xv, a1);
                a2 = FloatVector.fromArray(F, w, i + 32).fma(xv, a2);
                a3 = FloatVector.fromArray(F, w, i + 48).fma(xv, a3);
                a4 = FloatVector.fromArray(F, w, i + 64).fma(xv, a4);
                a5 = FloatVector.fromArray(F, w, i + 80).fma(xv, a5);
                a6 = FloatVector.fromArray(F, w, i + 96).fma(xv, a6);
                a7 = FloatVector.fromArray(F, w, i + 112).fma(xv, a7);
            }
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).reduceLanes(VectorOperators.ADD);
    }

    /** int16 weights and activations (pre-widened), products in 16 bits (|w|,|x| <= 127 fits), pairs summed into int32 lanes by shifts. */
    static int int16(short[] w, short[] x, int reps) {
        IntVector a0 = IntVector.zero(I), a1 = a0, a2 = a0, a3 = a0;
        for (int r = 0; r < reps; r++) {
            for (int i = 0; i < w.length; i += 128) {
                ShortVector xv = ShortVector.fromArray(S, x, i & 1023);
                IntVector p0 = ShortVector.fromArray(S, w, i).mul(xv).reinterpretAsInts();
                IntVector p1 = ShortVector.fromArray(S, w, i + 32).mul(xv).reinterpretAsInts();
                IntVector p2 = ShortVector.fromArray(S, w, i + 64).mul(xv).reinterpretAsInts();
                IntVector p3 = ShortVector.fromArray(S, w, i + 96).mul(xv).reinterpretAsInts();
                a0 = a0.add(p0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).add(p0.lanewise(VectorOperators.ASHR, 16));
                a1 = a1.add(p1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).add(p1.lanewise(VectorOperators.ASHR, 16));
                a2 = a2.add(p2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).add(p2.lanewise(VectorOperators.ASHR, 16));
                a3 = a3.add(p3.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).add(p3.lanewise(VectorOperators.ASHR, 16));
            }
        }
        return a0.add(a1).add(a2).add(a3).reduceLanes(VectorOperators.ADD);
    }

    /** int8 bytes widened in the loop (B2S), then as int16. */
    static int int8(byte[] w, byte[] x, int reps) {
        IntVector a0 = IntVector.zero(I), a1 = a0, a2 = a0, a3 = a0;
        for (int r = 0; r < reps; r++) {
            for (int i = 0; i < w.length; i += 128) {
                ShortVector xv = (ShortVector) ByteVector.fromArray(B, x, i & 1023).convertShape(VectorOperators.B2S, S, 0);
                IntVector p0 = ((ShortVector) ByteVector.fromArray(B, w, i).convertShape(VectorOperators.B2S, S, 0)).mul(xv).reinterpretAsInts();
                IntVector p1 = ((ShortVector) ByteVector.fromArray(B, w, i + 32).convertShape(VectorOperators.B2S, S, 0)).mul(xv).reinterpretAsInts();
                IntVector p2 = ((ShortVector) ByteVector.fromArray(B, w, i + 64).convertShape(VectorOperators.B2S, S, 0)).mul(xv).reinterpretAsInts();
                IntVector p3 = ((ShortVector) ByteVector.fromArray(B, w, i + 96).convertShape(VectorOperators.B2S, S, 0)).mul(xv).reinterpretAsInts();
                a0 = a0.add(p0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).add(p0.lanewise(VectorOperators.ASHR, 16));
                a1 = a1.add(p1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).add(p1.lanewise(VectorOperators.ASHR, 16));
                a2 = a2.add(p2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).add(p2.lanewise(VectorOperators.ASHR, 16));
                a3 = a3.add(p3.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).add(p3.lanewise(VectorOperators.ASHR, 16));
            }
        }
        return a0.add(a1).add(a2).add(a3).reduceLanes(VectorOperators.ADD);
    }

    /** The auto-vectorisable form C2 can turn into vpmaddwd / vpdpwssd (MulAddS2I): out[i] += a[2i]*b[2i] + a[2i+1]*b[2i+1]. */
    static void mulAdd(short[] a, short[] b, int[] out, int reps) {
        for (int r = 0; r < reps; r++) {
            for (int i = 0; i < out.length; i++) out[i] += a[2 * i] * b[2 * i] + a[2 * i + 1] * b[2 * i + 1];
        }
    }

    public static void main(String[] args) {
        int n = 8192;
        float[] wf = new float[n], xf = new float[1024 + 128];
        short[] ws = new short[n], xs = new short[1024 + 128];
        byte[] wb = new byte[n], xb = new byte[1024 + 128];
        java.util.Random r = new java.util.Random(1);
        for (int i = 0; i < n; i++) { wb[i] = (byte) (r.nextInt(255) - 127); ws[i] = wb[i]; wf[i] = wb[i]; }
        for (int i = 0; i < xb.length; i++) { xb[i] = (byte) (r.nextInt(255) - 127); xs[i] = xb[i]; xf[i] = xb[i]; }
        short[] ma = new short[2 * n], mb = new short[2 * n]; int[] mo = new int[n];
        for (int i = 0; i < 2 * n; i++) { ma[i] = (short) (r.nextInt(255) - 127); mb[i] = (short) (r.nextInt(255) - 127); }
        var bean = java.lang.management.ManagementFactory.getThreadMXBean();
        int reps = 20000;
        for (int round = 0; round < 4; round++) {
            for (String k : new String[] {"fp32", "int16", "int8", "mulAdd"}) {
                long c0 = bean.getCurrentThreadCpuTime();
                long sink = switch (k) {
                    case "fp32" -> (long) fp32(wf, xf, reps);
                    case "int16" -> int16(ws, xs, reps);
                    case "int8" -> int8(wb, xb, reps);
                    default -> { mulAdd(ma, mb, mo, reps); yield mo[7]; }
                };
                double s = (bean.getCurrentThreadCpuTime() - c0) / 1e9;
                double macs = (double) n * reps * (k.equals("mulAdd") ? 2 : 1);
                if (round == 3) System.out.printf("%-7s %6.1f multiply-adds per ns per CPU-s (sink %d)%n", k, macs / s / 1e9, sink & 1);
            }
        }
    }
}
