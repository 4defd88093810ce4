package org.internvl4j.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Loads of weight elements from memory segments, widened to float vectors of the kernels' width:
 * the CPU's preferred width, or the one named by {@code -Dinternvl.vector.bits=128|256|512}
 * (tests use it to run both CPUs' code paths on one machine; a width wider than the hardware is
 * correct but emulated, so slow).
 */
final class VectorLoads {
    static final VectorSpecies<Float> F = species();
    static final int L = F.length();
    /** Half as many bits as F, so its L shorts widen to one float vector. */
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    /**
     * L bytes, which widen to one float vector: how the quantized kernels read blocks. There is no
     * 32-bit shape, so at 128 bits (L = 4) it is null and those kernels take their scalar path.
     */
    static final VectorSpecies<Byte> B = F.vectorBitSize() >= 256 ? VectorSpecies.of(byte.class, VectorShape.forBitSize(F.vectorBitSize() / 4)) : null;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private VectorLoads() {
    }

    private static VectorSpecies<Float> species() {
        String bits = System.getProperty("internvl.vector.bits", "").trim();
        if (bits.isEmpty()) return FloatVector.SPECIES_PREFERRED;
        return switch (bits) {
            case "128" -> FloatVector.SPECIES_128;
            case "256" -> FloatVector.SPECIES_256;
            case "512" -> FloatVector.SPECIES_512;
            default -> throw new IllegalArgumentException("internvl.vector.bits must be 128, 256 or 512, got '" + bits + "'");
        };
    }

    /** The width the kernels run at, in bits. */
    static int vectorBits() {
        return F.vectorBitSize();
    }

    static FloatVector f32(MemorySegment s, long byteOff) {
        return FloatVector.fromMemorySegment(F, s, byteOff, LE);
    }

    /**
     * Sum of the lanes in a fixed order. reduceLanes(ADD) sums in an unspecified order that changes
     * once the JIT compiles the call, which would make results depend on warm-up, not just on inputs.
     */
    static float sum(FloatVector v) {
        float s = 0;
        for (int i = 0; i < L; i++) s += v.lane(i);
        return s;
    }

    /*
     * i32, even and odd state the packed-pair layout of bf16 rows, and VectorLoadsTest checks them on every
     * bit pattern. MatMul's matrix-vector kernel writes the same expressions out inline (C2 boxed the
     * vectors through these calls there); MatMulTest checks the kernel itself.
     */

    /** L ints, i.e. 2L packed 16-bit values. */
    static IntVector i32(MemorySegment s, long byteOff) {
        return IntVector.fromMemorySegment(I, s, byteOff, LE);
    }

    /** The bf16 values in the low halves of packed pairs (even columns), widened. */
    static FloatVector even(IntVector pairs) {
        return pairs.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** The bf16 values in the high halves of packed pairs (odd columns), widened. */
    static FloatVector odd(IntVector pairs) {
        return pairs.and(0xffff0000).reinterpretAsFloats();
    }

    /** bf16 is the top half of a float: widen each short to an int and shift it up 16 bits. */
    static FloatVector bf16(MemorySegment s, long byteOff) {
        IntVector i = (IntVector) ShortVector.fromMemorySegment(S, s, byteOff, LE).convertShape(VectorOperators.S2I, I, 0);
        return i.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /**
     * IEEE half to float by bit manipulation (the "magic multiply" from F. Giesen's half_to_float):
     * move exponent and mantissa into place, rescale by 2^112 (which also normalises subnormals),
     * then restore infinities/NaNs and the sign.
     */
    static FloatVector f16(MemorySegment s, long byteOff) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(S, s, byteOff, LE).convertShape(VectorOperators.S2I, I, 0);
        IntVector em = h.and(0x7fff).lanewise(VectorOperators.LSHL, 13);
        IntVector bits = em.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        bits = bits.blend(em.or(0x7f800000), h.and(0x7c00).eq(0x7c00));
        return bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }

    /** Widens w[row, c0 .. c0 + len) into dst[dOff ..]. */
    static void widen(Weight w, int row, int c0, float[] dst, int dOff, int len) {
        MemorySegment s = w.segment();
        long e0 = (long) row * w.cols() + c0;
        int up = F.loopBound(len);
        int i = 0;
        switch (w) {
            case Bf16Weight b -> {
                long base = e0 * 2;
                for (; i < up; i += L) bf16(s, base + 2L * i).intoArray(dst, dOff + i);
                for (; i < len; i++) dst[dOff + i] = Bf16Weight.bf16ToFloat(s.get(Weight.I16_LE, base + 2L * i));
            }
            case F16Weight h -> {
                long base = e0 * 2;
                for (; i < up; i += L) f16(s, base + 2L * i).intoArray(dst, dOff + i);
                for (; i < len; i++) dst[dOff + i] = Float.float16ToFloat(s.get(Weight.I16_LE, base + 2L * i));
            }
            // A bulk copy, not vector loads: F32 weights are often views of heap arrays (attention's
            // keys and scores), and vector loads that see heap and mapped segments alike are no
            // longer intrinsified, which made every BF16 product after them ~3.5x slower.
            case F32Weight f -> MemorySegment.copy(s, Weight.F32_LE, e0 * 4, dst, dOff, len);
            case Q8Weight q -> widenBlocks(q, row, c0, dst, dOff, len);
            case Q4Weight q -> widenBlocks(q, row, c0, dst, dOff, len);
        }
    }

    /**
     * Dequantizes w[row, c0 .. c0 + len) of a block-quantized weight. Rows in the row layout (after the last
     * {@link QuantLayout} panel) widen whole blocks in vectors; rows inside panels, whose bytes lie 16 apart,
     * and ragged ends go by get (the kernels widen panels whole, with {@link #widenPanel}).
     */
    private static void widenBlocks(Weight w, int row, int c0, float[] dst, int dOff, int len) {
        int c = c0, end = c0 + len;
        if (B != null && row >= QuantLayout.panelRows(w.rows())) {
            int firstBlock = Math.min(end, (c0 + 31) / 32 * 32);
            for (; c < firstBlock; c++) dst[dOff + c - c0] = w.get(row, c);
            MemorySegment s = w.segment();
            int bytes = w.dtype().blockBytes();
            long rowBase = (long) row * (w.cols() / 32) * bytes;
            boolean q8 = w instanceof Q8Weight;
            for (; c + 32 <= end; c += 32) {
                long o = rowBase + (long) (c / 32) * bytes;
                float d = Float.float16ToFloat(s.get(Weight.I16_LE, o));
                int at = dOff + c - c0;
                if (q8) {
                    for (int j = 0; j < 32; j += L) {
                        ((FloatVector) ByteVector.fromMemorySegment(B, s, o + 2 + j, LE).convertShape(VectorOperators.B2F, F, 0))
                                .mul(d).intoArray(dst, at + j);
                    }
                } else {
                    for (int j = 0; j < 16; j += L) {
                        ByteVector p = ByteVector.fromMemorySegment(B, s, o + 2 + j, LE);
                        ((FloatVector) p.and((byte) 15).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(dst, at + j);
                        ((FloatVector) p.lanewise(VectorOperators.LSHR, 4).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0))
                                .mul(d).intoArray(dst, at + 16 + j);
                    }
                }
            }
        }
        for (; c < end; c++) dst[dOff + c - c0] = w.get(row, c);
    }

    private static final ThreadLocal<float[]> PANEL_BUF = ThreadLocal.withInitial(() -> new float[32 * QuantLayout.PANEL]);

    /**
     * Dequantizes the 16 rows of the panel starting at row r0 (a multiple of 16), columns [c0, c0 + len) (whole
     * blocks), into dst row-major: row r0 + i at dst[dOff + i * stride ..]. Each column of 16 rows widens in
     * vectors into a small buffer, then a scalar copy transposes it: a copy per weight, against the hundreds of
     * multiply-adds prefill spends on each widened weight.
     */
    static void widenPanel(Weight w, int r0, int c0, int len, float[] dst, int dOff, int stride) {
        if (B == null || r0 % QuantLayout.PANEL != 0 || r0 + QuantLayout.PANEL > QuantLayout.panelRows(w.rows()) || c0 % 32 != 0 || len % 32 != 0) {
            throw new IllegalArgumentException("widenPanel needs a whole panel and whole blocks, got rows from " + r0 + ", columns " + c0 + " + " + len);
        }
        MemorySegment s = w.segment();
        DType t = w.dtype();
        boolean q8 = t == DType.Q8_0;
        float[] tmp = PANEL_BUF.get();
        for (int c = c0; c < c0 + len; c += 32) {
            long o = QuantLayout.scaleAt(t, w.rows(), w.cols(), r0, c / 32);
            long q = o + 2L * QuantLayout.PANEL;
            for (int h = 0; h < QuantLayout.PANEL; h += L) {
                FloatVector d = f16(s, o + 2L * h);
                if (q8) {
                    for (int j = 0; j < 32; j++) {
                        ((FloatVector) ByteVector.fromMemorySegment(B, s, q + QuantLayout.PANEL * j + h, LE).convertShape(VectorOperators.B2F, F, 0))
                                .mul(d).intoArray(tmp, QuantLayout.PANEL * j + h);
                    }
                } else {
                    for (int j = 0; j < 16; j++) {
                        IntVector v = (IntVector) ByteVector.fromMemorySegment(B, s, q + QuantLayout.PANEL * j + h, LE).convertShape(VectorOperators.B2I, I, 0);
                        ((FloatVector) v.and(15).sub(8).convert(VectorOperators.I2F, 0)).mul(d).intoArray(tmp, QuantLayout.PANEL * j + h);
                        ((FloatVector) v.lanewise(VectorOperators.ASHR, 4).and(15).sub(8).convert(VectorOperators.I2F, 0)).mul(d)
                                .intoArray(tmp, QuantLayout.PANEL * (j + 16) + h);
                    }
                }
            }
            int at = dOff + c - c0;
            for (int i = 0; i < QuantLayout.PANEL; i++) {
                for (int j = 0; j < 32; j++) dst[at + i * stride + j] = tmp[QuantLayout.PANEL * j + i];
            }
        }
    }
}
