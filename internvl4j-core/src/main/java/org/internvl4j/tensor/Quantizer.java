package org.internvl4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Rounds float weights to the block formats {@link DType#Q8_0} and {@link DType#Q4_0}, following the
 * reference quantizers of llama.cpp's ggml-quants.c (quantize_row_q8_0_ref, quantize_row_q4_0_ref),
 * with one change: the values are rounded against the scale as stored (fp16), not the float scale
 * before rounding, so a block's largest weight comes back as closely as the format allows.
 */
public final class Quantizer {
    private Quantizer() {
    }

    /** A new weight of type {@code to} holding src rounded, in memory from arena; rows are spread over {@link Parallel}. */
    public static Weight quantize(Weight src, DType to, Arena arena) {
        long rowBytes = Weight.rowBytes(requireQuantized(to), src.cols());
        MemorySegment dst = arena.allocate(Math.max(1, rowBytes * src.rows()), 64).asSlice(0, rowBytes * src.rows());
        quantize(src, to, dst);
        return Weight.of(to, dst, src.rows(), src.cols());
    }

    /** Rounds src into dst, which must hold exactly its rows in format {@code to}, laid out as {@link QuantLayout} says. */
    public static void quantize(Weight src, DType to, MemorySegment dst) {
        int rows = src.rows(), cols = src.cols();
        long rowBytes = Weight.rowBytes(requireQuantized(to), cols);
        if (dst.byteSize() != rowBytes * rows) {
            throw new IllegalArgumentException("destination has " + dst.byteSize() + " bytes, " + rows + " rows of " + to + " need " + rowBytes * rows);
        }
        int panels = QuantLayout.panelRows(rows) / QuantLayout.PANEL;
        // one task per panel, and one more for the rows after the last panel (row layout, written in place)
        Parallel.forRange(panels + (rows > QuantLayout.panelRows(rows) ? 1 : 0), 1, (p0, p1) -> {
            float[] row = new float[cols];
            MemorySegment one = MemorySegment.ofArray(new byte[Math.toIntExact(rowBytes)]);
            for (int p = p0; p < p1; p++) {
                if (p == panels) {
                    for (int r = QuantLayout.panelRows(rows); r < rows; r++) {
                        VectorLoads.widen(src, r, 0, row, 0, cols);
                        quantizeRow(to, row, 0, cols, dst, r * rowBytes);
                    }
                    continue;
                }
                for (int r = p * QuantLayout.PANEL; r < (p + 1) * QuantLayout.PANEL; r++) {
                    VectorLoads.widen(src, r, 0, row, 0, cols);
                    quantizeRow(to, row, 0, cols, one, 0);
                    scatter(to, one, rows, cols, r, dst);
                }
            }
        });
    }

    /** Moves row r's blocks, quantized in llama.cpp's row layout in {@code one}, to their places in dst. */
    private static void scatter(DType to, MemorySegment one, int rows, int cols, int r, MemorySegment dst) {
        int quantBytes = to.blockBytes() - 2;
        for (int k = 0; k < cols / 32; k++) {
            long o = (long) k * to.blockBytes();
            dst.set(Weight.I16_LE, QuantLayout.scaleAt(to, rows, cols, r, k), one.get(Weight.I16_LE, o));
            long q = QuantLayout.quantAt(to, rows, cols, r, k, 0);
            for (int j = 0; j < quantBytes; j++) {
                dst.set(ValueLayout.JAVA_BYTE, q + (long) QuantLayout.PANEL * j, one.get(ValueLayout.JAVA_BYTE, o + 2 + j));
            }
        }
    }

    /** Rounds x[xOff .. xOff + cols) to whole blocks of {@code to} written at dst[at ..], one block after the other (llama.cpp's row layout). */
    public static void quantizeRow(DType to, float[] x, int xOff, int cols, MemorySegment dst, long at) {
        Weight.rowBytes(requireQuantized(to), cols);
        for (int b = 0; b < cols / 32; b++) {
            int from = xOff + 32 * b;
            long o = at + (long) b * to.blockBytes();
            if (to == DType.Q8_0) q8Block(x, from, dst, o);
            else q4Block(x, from, dst, o);
        }
    }

    private static DType requireQuantized(DType to) {
        if (!to.quantized()) throw new IllegalArgumentException(to + " is not a block-quantized type (Q8_0, Q4_0)");
        return to;
    }

    /** d = max |x| / 127, q = round(x / d). */
    private static void q8Block(float[] x, int from, MemorySegment dst, long o) {
        float amax = 0;
        for (int i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(finite(x[from + i])));
        short d16 = scale(amax / 127);
        float d = Float.float16ToFloat(d16);
        float id = d == 0 ? 0 : 1 / d;
        dst.set(Weight.I16_LE, o, d16);
        for (int i = 0; i < 32; i++) {
            int q = Math.round(x[from + i] * id);
            dst.set(ValueLayout.JAVA_BYTE, o + 2 + i, (byte) Math.max(-127, Math.min(127, q)));
        }
    }

    /** The value of largest magnitude m maps to -8: d = m / -8, q = x / d + 8 rounded, in [0, 15]. */
    private static void q4Block(float[] x, int from, MemorySegment dst, long o) {
        float amax = 0, max = 0;
        for (int i = 0; i < 32; i++) {
            float v = finite(x[from + i]);
            if (Math.abs(v) > amax) {
                amax = Math.abs(v);
                max = v;
            }
        }
        short d16 = scale(max / -8);
        float d = Float.float16ToFloat(d16);
        float id = d == 0 ? 0 : 1 / d;
        dst.set(Weight.I16_LE, o, d16);
        for (int j = 0; j < 16; j++) {
            int lo = nibble(x[from + j] * id), hi = nibble(x[from + 16 + j] * id);
            dst.set(ValueLayout.JAVA_BYTE, o + 2 + j, (byte) (lo | hi << 4));
        }
    }

    private static int nibble(float scaled) {
        return Math.max(0, Math.min(15, (int) Math.floor(scaled + 8.5f)));
    }

    private static float finite(float v) {
        if (!Float.isFinite(v)) throw new IllegalArgumentException("cannot quantize a weight that is " + v);
        return v;
    }

    private static short scale(float d) {
        short h = Float.floatToFloat16(d);
        if (!Float.isFinite(Float.float16ToFloat(h))) {
            throw new IllegalArgumentException("a block scale of " + d + " does not fit fp16 (weights above ~8e6 in magnitude)");
        }
        return h;
    }
}
