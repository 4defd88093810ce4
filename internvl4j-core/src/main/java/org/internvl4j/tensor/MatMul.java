package org.internvl4j.tensor;

import static org.internvl4j.tensor.VectorLoads.F;
import static org.internvl4j.tensor.VectorLoads.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import java.nio.ByteOrder;
import jdk.incubator.vector.VectorSpecies;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Products of a weight matrix W [rows, cols] with float32 activations, y = x W^T, spread over
 * {@link Parallel}'s threads by output rows. Weight segments are read from the pool's threads, so
 * they must come from a global, shared or automatic arena (a confined one fails with more than one thread).
 * Results do not depend on the thread count.
 * <ul>
 * <li>One token (decode): memory-bound; four rows, a quarter of the range apart, stream at once,
 * widened in registers.</li>
 * <li>A few tokens (batched decode): each weight row is widened once into a buffer and dotted with
 * every token, so the weights stream from memory once.</li>
 * <li>Many tokens (prefill, vision): compute-bound; a register tile of 4 or 6 rows x 2L tokens is
 * accumulated over a K block of widened weights that stays in cache for all tokens (6 rows with
 * AVX-512, 4 with AVX2).</li>
 * </ul>
 */
public final class MatMul {
    /** Below this many tokens matMul streams weight rows instead of tiling. */
    static final int TILE_MIN_TOKENS = 8;
    /** Register tile: MR weight rows by 2 vectors of tokens (12 accumulators with 6 rows, 8 with 4). */
    private static final int MR = tileRows();
    private static final int NT = 2 * L;
    /**
     * Measured on Zen 5, 1 thread, 512 x 4096x4096 (docs/PERFORMANCE.md): at 512 bits 6 rows ran at
     * 181 GFLOP/s, 8 rows (16 accumulators) at 30; at 256 bits 4 rows ran at 100, 6 at 93.
     * {@code -Dinternvl.tile.rows=4|6} overrides the choice for measuring.
     */
    private static int tileRows() {
        String v = System.getProperty("internvl.tile.rows", "").trim();
        if (v.isEmpty()) return F.vectorBitSize() >= 512 ? 6 : 4;
        return switch (v) {
            case "4" -> 4;
            case "6" -> 6;
            default -> throw new IllegalArgumentException("internvl.tile.rows must be 4 or 6, got '" + v + "'");
        };
    }

    /** The register tile's weight rows (see {@link #tileRows}), for reports. */
    public static int tileRowCount() {
        return MR;
    }

    /**
     * K block (-Dinternvl.tile.k overrides it). Zen 5, 1 thread, 512 x 4096x4096, 6 rows at 512 bits:
     * 64 -> 165, 128 -> 170, 256 -> 181, 512 -> 187 GFLOP/s; at 256 bits 128 and 256 ran alike (~89).
     * A 2L-token slice of packed x is KC * NT floats and stays in L1 (32 KiB at 512 bits).
     */
    private static final int KC = Integer.getInteger("internvl.tile.k", F.vectorBitSize() >= 512 ? 256 : 128);
    /** Rows widened per K block (a multiple of 4 and 6); their outputs for all tokens stay in L2. */
    private static final int RB = 96;

    private static final ThreadLocal<float[]> ROW_BUF = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> W_BUF = ThreadLocal.withInitial(() -> new float[RB * KC]);
    private static final ThreadLocal<float[]> Y_BUF = ThreadLocal.withInitial(() -> new float[0]);

    private MatMul() {
    }

    /** The vector width the kernels run at, in bits (see {@code internvl.vector.bits}). */
    public static int vectorBits() {
        return VectorLoads.vectorBits();
    }

    /** Matrix-vector, for decode: y[yOff + r] = sum_c W[r, c] * x[xOff + c] for r in [0, rows). */
    public static void matVec(Weight w, float[] x, int xOff, float[] y, int yOff) {
        checkRange("x", x, xOff, w.cols());
        checkRange("y", y, yOff, w.rows());
        switch (w) {
            case Bf16Weight b -> {
                float[] xs = splitEvenOdd(x, xOff, w.cols());
                Parallel.forRange(w.rows(), 4, (r0, r1) -> bf16Rows(b, xs, x, xOff, y, yOff, r0, r1));
            }
            case F32Weight f -> Parallel.forRange(w.rows(), 4, (r0, r1) -> f32Rows(f, x, xOff, y, yOff, r0, r1));
            case F16Weight h -> Parallel.forRange(w.rows(), 4, (r0, r1) -> streamRows(h, x, xOff, 1, y, yOff, r0, r1));
            case Q8Weight q -> quantMatVec(q, x, xOff, y, yOff);
            case Q4Weight q -> quantMatVec(q, x, xOff, y, yOff);
        }
    }

    /**
     * Matrix-matrix, for prefill and the vision tower: x is [n, cols] row-major, y is [n, rows]
     * row-major; y[t, r] = sum_c W[r, c] * x[t, c].
     */
    public static void matMul(Weight w, float[] x, int n, float[] y) {
        matMul(w, x, 0, n, y, 0);
    }

    /** As {@link #matMul(Weight, float[], int, float[])} with x starting at xOff and y at yOff. */
    public static void matMul(Weight w, float[] x, int xOff, int n, float[] y, int yOff) {
        if (n < 0) throw new IllegalArgumentException("token count must not be negative, got " + n);
        checkRange("x", x, xOff, (long) n * w.cols());
        checkRange("y", y, yOff, (long) n * w.rows());
        if (n == 0) return;
        if (n == 1) {
            matVec(w, x, xOff, y, yOff);
        } else if (n <= DECODE_MAX_TOKENS && w instanceof Bf16Weight b) {
            bf16Tokens(b, x, xOff, n, y, yOff);
        } else if (n < TILE_MIN_TOKENS && w.dtype().quantized()) {
            // a matVec per token: the panel kernel streams blocks faster than widening each row once for all tokens
            for (int t = 0; t < n; t++) matVec(w, x, xOff + t * w.cols(), y, yOff + t * w.rows());
        } else if (n < TILE_MIN_TOKENS) {
            Parallel.forRange(w.rows(), 4, (r0, r1) -> streamRows(w, x, xOff, n, y, yOff, r0, r1));
        } else {
            tiled(w, null, x, xOff, n, y, yOff, false);
        }
    }

    /**
     * The product with its output transposed: yT[r, t] = sum_c W[r, c] * x[t, c], yT row-major [rows, n].
     * Attention uses it to get scores [query, key] and outputs [query, dim] straight from the tiles,
     * which hold [row][token] anyway: the transposing write-out of {@link #matMul} cost more than the
     * products themselves at head size 64.
     */
    public static void matMulTransposed(Weight w, float[] x, int n, float[] yT) {
        if (n < 0) throw new IllegalArgumentException("token count must not be negative, got " + n);
        checkRange("x", x, 0, (long) n * w.cols());
        checkRange("yT", yT, 0, (long) n * w.rows());
        if (n == 0) return;
        if (n < TILE_MIN_TOKENS) {
            float[] y = new float[n * w.rows()];
            matMul(w, x, 0, n, y, 0);
            for (int t = 0; t < n; t++) for (int r = 0; r < w.rows(); r++) yT[r * n + t] = y[t * w.rows() + r];
            return;
        }
        tiled(w, null, x, 0, n, yT, 0, true);
    }

    /**
     * A linear layer with bias: y[t, r] = bias[r] + sum_c W[r, c] * x[t, c] (the sum rounded first,
     * as in matMul followed by an add). Many tokens add the bias as the tiles are written out.
     */
    public static void matMul(Weight w, float[] bias, float[] x, int n, float[] y) {
        if (bias.length != w.rows()) {
            throw new IllegalArgumentException("bias has " + bias.length + " elements, weight has " + w.rows() + " rows");
        }
        if (n >= TILE_MIN_TOKENS && !(n <= DECODE_MAX_TOKENS && w instanceof Bf16Weight)) {
            checkRange("x", x, 0, (long) n * w.cols());
            checkRange("y", y, 0, (long) n * w.rows());
            tiled(w, bias, x, 0, n, y, 0, false);
            return;
        }
        matMul(w, x, 0, n, y, 0);
        for (int t = 0; t < n; t++) Ops.add(y, t * w.rows(), bias, 0, w.rows());
    }

    private static void checkRange(String what, float[] a, int off, long len) {
        if (off < 0 || off + len > a.length) {
            throw new IllegalArgumentException(what + " needs " + len + " floats from offset " + off + " but has length " + a.length);
        }
    }

    // ---- one token ----

    /**
     * Each int of a bf16 row holds two weights: the low half is the even column, the high half the
     * odd one. Shifting left by 16 widens the even ones and masking the low half the odd ones, with
     * no lane shuffles; x is permuted to match (see {@link #splitEvenOdd}).
     */
    private static void bf16Rows(Bf16Weight w, float[] xs, float[] x, int xOff, float[] y, int yOff, int r0, int r1) {
        // Eight rows at a time keep eight memory streams in flight: on Zen 5 one thread read 25 GB/s
        // so, against 22 with four streams. The rows are an eighth of the range apart, so each stream
        // runs on through consecutive rows instead of restarting every row.
        int q = (r1 - r0) / STREAMS;
        float[] acc = new float[STREAMS * L];
        for (int i = 0; i < q; i++) bf16Streams(w, xs, x, xOff, y, yOff, r0 + i, q, acc);
        for (int r = r0 + STREAMS * q; r < r1; r++) bf16Streams(w, xs, x, xOff, y, yOff, r, 0, acc);
    }

    private static final int STREAMS = 8;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /**
     * Rows r, r + q, ..., r + 7q (all r when q is 0); every row gets the same arithmetic whichever group
     * it is in, so results do not depend on how rows are split over threads.
     */
    private static void bf16Streams(Bf16Weight w, float[] xs, float[] x, int xOff, float[] y, int yOff, int r, int q, float[] acc) {
        MemorySegment s = w.segment();
        int cols = w.cols();
        long rowBytes = 2L * cols, step = q * rowBytes;
        int up = cols - cols % (2 * L);
        long b = r * rowBytes;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int c = 0; c < up; c += 2 * L) {
            FloatVector xe = FloatVector.fromArray(F, xs, c);
            FloatVector xo = FloatVector.fromArray(F, xs, c + L);
            long o = b + 2L * c;
            // Vector API calls written out, not through VectorLoads' helpers: in a method this large C2
            // stopped inlining them and boxed every vector (6 GB/s instead of 25).
            IntVector p0 = IntVector.fromMemorySegment(VectorLoads.I, s, o, LE);
            IntVector p1 = IntVector.fromMemorySegment(VectorLoads.I, s, o + step, LE);
            IntVector p2 = IntVector.fromMemorySegment(VectorLoads.I, s, o + 2 * step, LE);
            IntVector p3 = IntVector.fromMemorySegment(VectorLoads.I, s, o + 3 * step, LE);
            IntVector p4 = IntVector.fromMemorySegment(VectorLoads.I, s, o + 4 * step, LE);
            IntVector p5 = IntVector.fromMemorySegment(VectorLoads.I, s, o + 5 * step, LE);
            IntVector p6 = IntVector.fromMemorySegment(VectorLoads.I, s, o + 6 * step, LE);
            IntVector p7 = IntVector.fromMemorySegment(VectorLoads.I, s, o + 7 * step, LE);
            a0 = p0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a0);
            a1 = p1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a1);
            a2 = p2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a2);
            a3 = p3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a3);
            a4 = p4.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a4);
            a5 = p5.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a5);
            a6 = p6.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a6);
            a7 = p7.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a7);
            a0 = p0.and(0xffff0000).reinterpretAsFloats().fma(xo, a0);
            a1 = p1.and(0xffff0000).reinterpretAsFloats().fma(xo, a1);
            a2 = p2.and(0xffff0000).reinterpretAsFloats().fma(xo, a2);
            a3 = p3.and(0xffff0000).reinterpretAsFloats().fma(xo, a3);
            a4 = p4.and(0xffff0000).reinterpretAsFloats().fma(xo, a4);
            a5 = p5.and(0xffff0000).reinterpretAsFloats().fma(xo, a5);
            a6 = p6.and(0xffff0000).reinterpretAsFloats().fma(xo, a6);
            a7 = p7.and(0xffff0000).reinterpretAsFloats().fma(xo, a7);
        }
        // Lanes summed in a fixed order through a buffer: lane(i) with a variable i is slow in C2 code
        a0.intoArray(acc, 0);
        a1.intoArray(acc, L);
        a2.intoArray(acc, 2 * L);
        a3.intoArray(acc, 3 * L);
        a4.intoArray(acc, 4 * L);
        a5.intoArray(acc, 5 * L);
        a6.intoArray(acc, 6 * L);
        a7.intoArray(acc, 7 * L);
        for (int j = 0; j < STREAMS; j++) {
            float sum = 0;
            for (int i = 0; i < L; i++) sum += acc[j * L + i];
            int row = r + j * q;
            y[yOff + row] = sum + scalarTail(w, row, x, xOff, up);
        }
    }

    /**
     * x permuted to match {@link #bf16Rows}: in each block of 2L values, the even-indexed ones
     * first, then the odd-indexed ones. The tail that does not fill a block is left out.
     */
    private static float[] splitEvenOdd(float[] x, int xOff, int cols) {
        int up = cols - cols % (2 * L);
        float[] xs = new float[up];
        for (int b = 0; b < up; b += 2 * L) {
            for (int j = 0; j < L; j++) {
                xs[b + j] = x[xOff + b + 2 * j];
                xs[b + L + j] = x[xOff + b + 2 * j + 1];
            }
        }
        return xs;
    }

    private static void f32Rows(F32Weight w, float[] x, int xOff, float[] y, int yOff, int r0, int r1) {
        MemorySegment s = w.segment();
        int cols = w.cols();
        long rowBytes = 4L * cols;
        int up = F.loopBound(cols);
        int r = r0;
        for (; r + 4 <= r1; r += 4) {
            long b0 = r * rowBytes, b1 = b0 + rowBytes, b2 = b1 + rowBytes, b3 = b2 + rowBytes;
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int c = 0; c < up; c += L) {
                FloatVector xv = FloatVector.fromArray(F, x, xOff + c);
                long o = 4L * c;
                a0 = VectorLoads.f32(s, b0 + o).fma(xv, a0);
                a1 = VectorLoads.f32(s, b1 + o).fma(xv, a1);
                a2 = VectorLoads.f32(s, b2 + o).fma(xv, a2);
                a3 = VectorLoads.f32(s, b3 + o).fma(xv, a3);
            }
            y[yOff + r] = VectorLoads.sum(a0) + scalarTail(w, r, x, xOff, up);
            y[yOff + r + 1] = VectorLoads.sum(a1) + scalarTail(w, r + 1, x, xOff, up);
            y[yOff + r + 2] = VectorLoads.sum(a2) + scalarTail(w, r + 2, x, xOff, up);
            y[yOff + r + 3] = VectorLoads.sum(a3) + scalarTail(w, r + 3, x, xOff, up);
        }
        for (; r < r1; r++) {
            long b0 = r * rowBytes;
            FloatVector a0 = FloatVector.zero(F);
            for (int c = 0; c < up; c += L) a0 = VectorLoads.f32(s, b0 + 4L * c).fma(FloatVector.fromArray(F, x, xOff + c), a0);
            y[yOff + r] = VectorLoads.sum(a0) + scalarTail(w, r, x, xOff, up);
        }
    }

    /**
     * A block-quantized weight times one token, 16 rows (a {@link QuantLayout} panel) at a time: lanes are
     * rows, so a block costs one load and widening per column for L rows, one scale vector, and no
     * horizontal sum; every row gets the same arithmetic whichever thread runs its panel. The rows after
     * the last panel (row layout) are widened one at a time. At 128 bits there is no byte shape to widen
     * from, so all rows take that path.
     */
    private static void quantMatVec(Weight w, float[] x, int xOff, float[] y, int yOff) {
        int rows = w.rows(), panelRows = VectorLoads.B == null ? 0 : QuantLayout.panelRows(rows);
        if (panelRows > 0) {
            boolean q8 = w instanceof Q8Weight;
            float[] sx = q8 ? null : blockSums(x, xOff, w.cols());
            Parallel.forRange(panelRows / QuantLayout.PANEL, 1, (p0, p1) -> {
                // two memory streams: panel p with the one half the range further on (an odd one out pairs with itself)
                int half = (p1 - p0 + 1) / 2;
                for (int p = p0; p < p0 + half; p++) {
                    int pb = Math.min(p + half, p1 - 1);
                    if (q8) q8Panels(w, x, xOff, y, yOff, p, pb);
                    else q4Panels(w, x, xOff, sx, y, yOff, p, pb);
                }
            });
        }
        if (panelRows < rows) streamRows(w, x, xOff, 1, y, yOff, panelRows, rows);
    }

    /**
     * Panels pa and pb of a Q8_0 weight (pa == pb is allowed): per block, column c's 16 int8 of each panel widen
     * straight to floats and meet x[c] in two partial sums per panel, which are scaled once per block. Two panels
     * far apart keep two memory streams in flight (one thread read ~10 % more so). Written out in one method: C2
     * boxed vectors passed to helpers in kernels this size. Each panel's arithmetic is the same whatever it is paired with.
     */
    private static void q8Panels(Weight w, float[] x, int xOff, float[] y, int yOff, int pa, int pb) {
        MemorySegment s = w.segment();
        int blocks = w.cols() / 32;
        long blockBytes = QuantLayout.PANEL * 34L;
        VectorSpecies<Byte> bs = VectorLoads.B;
        for (int h = 0; h < QuantLayout.PANEL; h += L) {
            FloatVector acc = FloatVector.zero(F), accB = acc;
            long o = pa * blocks * blockBytes, oB = pb * blocks * blockBytes;
            for (int k = 0; k < blocks; k++, o += blockBytes, oB += blockBytes) {
                FloatVector d = VectorLoads.f16(s, o + 2L * h), dB = VectorLoads.f16(s, oB + 2L * h);
                long q = o + 2L * QuantLayout.PANEL + h, qB = oB + 2L * QuantLayout.PANEL + h;
                int xc = xOff + 32 * k;
                FloatVector b0 = FloatVector.zero(F), b1 = b0, c0 = b0, c1 = b0;
                for (int c = 0; c < 32; c += 2) {
                    long at = (long) QuantLayout.PANEL * c;
                    FloatVector x0 = FloatVector.broadcast(F, x[xc + c]), x1 = FloatVector.broadcast(F, x[xc + c + 1]);
                    b0 = ((FloatVector) ByteVector.fromMemorySegment(bs, s, q + at, LE).convertShape(VectorOperators.B2F, F, 0)).fma(x0, b0);
                    c0 = ((FloatVector) ByteVector.fromMemorySegment(bs, s, qB + at, LE).convertShape(VectorOperators.B2F, F, 0)).fma(x0, c0);
                    b1 = ((FloatVector) ByteVector.fromMemorySegment(bs, s, q + at + QuantLayout.PANEL, LE).convertShape(VectorOperators.B2F, F, 0))
                            .fma(x1, b1);
                    c1 = ((FloatVector) ByteVector.fromMemorySegment(bs, s, qB + at + QuantLayout.PANEL, LE).convertShape(VectorOperators.B2F, F, 0))
                            .fma(x1, c1);
                }
                acc = b0.add(b1).fma(d, acc);
                accB = c0.add(c1).fma(dB, accB);
            }
            acc.intoArray(y, yOff + pa * QuantLayout.PANEL + h);
            accB.intoArray(y, yOff + pb * QuantLayout.PANEL + h);
        }
    }

    /** 8 times the sum of x over each block of 32: a Q4_0 row's offset of 8 comes off as d * that, once per block. */
    private static float[] blockSums(float[] x, int xOff, int cols) {
        float[] sx = new float[cols / 32];
        for (int k = 0; k < sx.length; k++) {
            float sum = 0;
            for (int i = 0; i < 32; i++) sum += x[xOff + 32 * k + i];
            sx[k] = 8 * sum;
        }
        return sx;
    }

    /**
     * Panels pa and pb of a Q4_0 weight, as {@link #q8Panels}: byte j of 16 rows widens to ints once; its low nibbles
     * meet x[j] and its high ones x[j + 16], as stored (0..15). The offset of 8 comes off per block as
     * d * 8 * (x's block sum). Shift-and-mask on the widened ints ran 1.7x faster here than masking the high nibble
     * in place.
     */
    private static void q4Panels(Weight w, float[] x, int xOff, float[] sx, float[] y, int yOff, int pa, int pb) {
        MemorySegment s = w.segment();
        int blocks = w.cols() / 32;
        long blockBytes = QuantLayout.PANEL * 18L;
        VectorSpecies<Byte> bs = VectorLoads.B;
        for (int h = 0; h < QuantLayout.PANEL; h += L) {
            FloatVector acc = FloatVector.zero(F), corr = acc, accB = acc, corrB = acc;
            long o = pa * blocks * blockBytes, oB = pb * blocks * blockBytes;
            for (int k = 0; k < blocks; k++, o += blockBytes, oB += blockBytes) {
                FloatVector d = VectorLoads.f16(s, o + 2L * h), dB = VectorLoads.f16(s, oB + 2L * h);
                long q = o + 2L * QuantLayout.PANEL + h, qB = oB + 2L * QuantLayout.PANEL + h;
                int xc = xOff + 32 * k;
                FloatVector b0 = FloatVector.zero(F), b1 = b0, c0 = b0, c1 = b0;
                for (int j = 0; j < 16; j++) {
                    long at = (long) QuantLayout.PANEL * j;
                    IntVector v = (IntVector) ByteVector.fromMemorySegment(bs, s, q + at, LE).convertShape(VectorOperators.B2I, VectorLoads.I, 0);
                    IntVector u = (IntVector) ByteVector.fromMemorySegment(bs, s, qB + at, LE).convertShape(VectorOperators.B2I, VectorLoads.I, 0);
                    FloatVector xl = FloatVector.broadcast(F, x[xc + j]), xh = FloatVector.broadcast(F, x[xc + j + 16]);
                    b0 = ((FloatVector) v.and(15).convert(VectorOperators.I2F, 0)).fma(xl, b0);
                    b1 = ((FloatVector) v.lanewise(VectorOperators.ASHR, 4).and(15).convert(VectorOperators.I2F, 0)).fma(xh, b1);
                    c0 = ((FloatVector) u.and(15).convert(VectorOperators.I2F, 0)).fma(xl, c0);
                    c1 = ((FloatVector) u.lanewise(VectorOperators.ASHR, 4).and(15).convert(VectorOperators.I2F, 0)).fma(xh, c1);
                }
                FloatVector sum = FloatVector.broadcast(F, sx[k]);
                acc = b0.add(b1).fma(d, acc);
                accB = c0.add(c1).fma(dB, accB);
                corr = d.fma(sum, corr);
                corrB = dB.fma(sum, corrB);
            }
            acc.sub(corr).intoArray(y, yOff + pa * QuantLayout.PANEL + h);
            accB.sub(corrB).intoArray(y, yOff + pb * QuantLayout.PANEL + h);
        }
    }

    /** The columns [from, cols) of row r that do not fill a vector. */
    private static float scalarTail(Weight w, int r, float[] x, int xOff, int from) {
        float acc = 0;
        for (int c = from; c < w.cols(); c++) acc += w.get(r, c) * x[xOff + c];
        return acc;
    }

    // ---- a batched decode step: a few tokens, bf16 weights ----

    /**
     * Up to this many tokens of bf16 weights go through {@link #bf16Tokens}: a continuous-batching decode step
     * (one row per running sequence) reads each weight once from memory, as matVec does, instead of the tiled
     * kernel's padding of the tokens to a full register tile (32 at 512 bits: 4x the arithmetic for 8 rows).
     */
    static final int DECODE_MAX_TOKENS = 16;

    /**
     * Each row against every token: the first as matVec streams it, the others four at a time while the row is in
     * cache: memory reads each weight once. Every (row, token) gets matVec's arithmetic exactly (one accumulator vector, even then odd
     * columns per block, lanes summed in order, the scalar tail), so a sequence's logits do not depend on how many
     * others share its decode step.
     */
    private static void bf16Tokens(Bf16Weight w, float[] x, int xOff, int n, float[] y, int yOff) {
        int cols = w.cols();
        float[][] xs = new float[n][];
        for (int t = 0; t < n; t++) xs[t] = splitEvenOdd(x, xOff + t * cols, cols);
        int rows = w.rows();
        Parallel.forRange(rows, 4, (r0, r1) -> {
            // The first token runs matVec's own eight-stream pass over eight rows (memory reads fastest with eight
            // streams in flight); the others then read those rows again from L2 (8 x 8-28 KiB): two rows by four
            // tokens at a time (eight independent sums keep the FMA units busy), and matVec's pass again for the
            // tokens left over.
            float[] acc = new float[STREAMS * L];
            int q = (r1 - r0) / STREAMS;
            for (int i = 0; i < q; i++) {
                bf16Streams(w, xs[0], x, xOff, y, yOff, r0 + i, q, acc);
                int t = 1;
                for (; t + 4 <= n; t += 4) {
                    for (int j = 0; j < STREAMS; j += 2) bf16TwoRowsFourTokens(w, xs, x, xOff, t, r0 + i + j * q, r0 + i + (j + 1) * q, y, yOff, acc);
                }
                for (; t < n; t++) bf16Streams(w, xs[t], x, xOff + t * cols, y, yOff + t * rows, r0 + i, q, acc);
            }
            for (int r = r0 + STREAMS * q; r < r1; r++) {
                for (int t = 0; t < n; t++) bf16Streams(w, xs[t], x, xOff + t * cols, y, yOff + t * rows, r, 0, acc);
            }
        });
    }

    /** Tokens t .. t+3 of rows ra and rb: eight sums, each with matVec's arithmetic. */
    private static void bf16TwoRowsFourTokens(Bf16Weight w, float[][] xs, float[] x, int xOff, int t, int ra, int rb, float[] y,
                                              int yOff, float[] acc) {
        MemorySegment s = w.segment();
        int cols = w.cols(), rows = w.rows();
        int up = cols - cols % (2 * L);
        long ba = ra * 2L * cols, bb = rb * 2L * cols;
        float[] x0 = xs[t], x1 = xs[t + 1], x2 = xs[t + 2], x3 = xs[t + 3];
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        for (int c = 0; c < up; c += 2 * L) {
            IntVector pa = IntVector.fromMemorySegment(VectorLoads.I, s, ba + 2L * c, LE);
            IntVector pb = IntVector.fromMemorySegment(VectorLoads.I, s, bb + 2L * c, LE);
            FloatVector ea = pa.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector eb = pb.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector e0 = FloatVector.fromArray(F, x0, c), e1 = FloatVector.fromArray(F, x1, c);
            FloatVector e2 = FloatVector.fromArray(F, x2, c), e3 = FloatVector.fromArray(F, x3, c);
            a0 = ea.fma(e0, a0);
            b0 = eb.fma(e0, b0);
            a1 = ea.fma(e1, a1);
            b1 = eb.fma(e1, b1);
            a2 = ea.fma(e2, a2);
            b2 = eb.fma(e2, b2);
            a3 = ea.fma(e3, a3);
            b3 = eb.fma(e3, b3);
            FloatVector oa = pa.and(0xffff0000).reinterpretAsFloats();
            FloatVector ob = pb.and(0xffff0000).reinterpretAsFloats();
            FloatVector o0 = FloatVector.fromArray(F, x0, c + L), o1 = FloatVector.fromArray(F, x1, c + L);
            FloatVector o2 = FloatVector.fromArray(F, x2, c + L), o3 = FloatVector.fromArray(F, x3, c + L);
            a0 = oa.fma(o0, a0);
            b0 = ob.fma(o0, b0);
            a1 = oa.fma(o1, a1);
            b1 = ob.fma(o1, b1);
            a2 = oa.fma(o2, a2);
            b2 = ob.fma(o2, b2);
            a3 = oa.fma(o3, a3);
            b3 = ob.fma(o3, b3);
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, L);
        a2.intoArray(acc, 2 * L);
        a3.intoArray(acc, 3 * L);
        b0.intoArray(acc, 4 * L);
        b1.intoArray(acc, 5 * L);
        b2.intoArray(acc, 6 * L);
        b3.intoArray(acc, 7 * L);
        for (int j = 0; j < 8; j++) {
            float sum = 0;
            for (int i = 0; i < L; i++) sum += acc[j * L + i];
            int row = j < 4 ? ra : rb, tok = t + j % 4;
            y[yOff + tok * rows + row] = sum + scalarTail(w, row, x, xOff + tok * cols, up);
        }
    }

    // ---- a few tokens: widen each row once, dot it with every token ----

    private static void streamRows(Weight w, float[] x, int xOff, int n, float[] y, int yOff, int r0, int r1) {
        int cols = w.cols(), rows = w.rows();
        float[] buf = ROW_BUF.get();
        if (buf.length < cols) {
            buf = new float[cols];
            ROW_BUF.set(buf);
        }
        for (int r = r0; r < r1; r++) {
            VectorLoads.widen(w, r, 0, buf, 0, cols);
            for (int t = 0; t < n; t++) y[yOff + t * rows + r] = Ops.dot(buf, 0, x, xOff + t * cols, cols);
        }
    }

    // ---- many tokens: register-tiled ----

    /** bias: added to each output as it is written out, or null. */
    private static void tiled(Weight w, float[] bias, float[] x, int xOff, int n, float[] y, int yOff, boolean transposedOut) {
        int cols = w.cols();
        int groups = (n + NT - 1) / NT;
        // x packed by groups of NT tokens, k-major inside a group: xp[(g * cols + k) * NT + j] = x[g*NT + j, k].
        // Padding tokens are zero; their outputs are dropped.
        // Packing a wide x (e.g. 512 x 14336) single-threaded costs a good part of the product itself,
        // so groups are packed in parallel.
        float[] xp = new float[groups * cols * NT];
        Parallel.forRange(groups, 1, (g0, g1) -> pack(x, xOff, n, cols, xp, g0, g1));
        // quantized: row blocks start on panel boundaries (48 is a multiple of 16 and of both tile heights)
        int grain = w.dtype().quantized() ? 48 : MR;
        Parallel.forRange(w.rows(), grain, (r0, r1) -> tiledRows(w, bias, xp, groups, n, y, yOff, r0, r1, transposedOut));
    }

    /** Packs the token groups [g0, g1) of x into xp (see {@link #tiled}), one K block of a group at a time. */
    private static void pack(float[] x, int xOff, int n, int cols, float[] xp, int g0, int g1) {
        for (int g = g0; g < g1; g++) {
            int t1 = Math.min(n, (g + 1) * NT);
            // a K block of a group is KC * NT floats (8 KiB at 256 bits, 32 at 512): its lines stay in L1 while its tokens are written
            for (int k0 = 0; k0 < cols; k0 += KC) {
                int k1 = Math.min(cols, k0 + KC);
                for (int t = g * NT; t < t1; t++) {
                    int src = xOff + t * cols, dst = g * cols * NT + t - g * NT;
                    for (int k = k0; k < k1; k++) xp[dst + k * NT] = x[src + k];
                }
            }
        }
    }

    private static void tiledRows(Weight w, float[] bias, float[] xp, int groups, int n, float[] y, int yOff, int r0, int r1,
                                  boolean transposedOut) {
        int cols = w.cols(), rows = w.rows(), nPad = groups * NT;
        float[] wb = W_BUF.get();
        float[] yb = Y_BUF.get();
        if (yb.length < RB * nPad) {
            yb = new float[RB * nPad];
            Y_BUF.set(yb);
        }
        for (int rb = r0; rb < r1; rb += RB) {
            int nr = Math.min(RB, r1 - rb);
            for (int k0 = 0; k0 < cols; k0 += KC) {
                int kc = Math.min(KC, cols - k0);
                int i0 = 0;
                if (w.dtype().quantized() && VectorLoads.B != null) {
                    int panelEnd = Math.min(nr, QuantLayout.panelRows(rows) - rb);
                    for (; i0 + QuantLayout.PANEL <= panelEnd; i0 += QuantLayout.PANEL) VectorLoads.widenPanel(w, rb + i0, k0, kc, wb, i0 * KC, KC);
                }
                for (int i = i0; i < nr; i++) {
                    VectorLoads.widen(w, rb + i, k0, wb, i * KC, kc);
                }
                boolean first = k0 == 0;
                for (int g = 0; g < groups; g++) {
                    int xBase = (g * cols + k0) * NT;
                    int i = 0;
                    if (MR == 6) {
                        for (; i + 6 <= nr; i += 6) tile6(xp, xBase, wb, i * KC, kc, yb, i * nPad + g * NT, nPad, first);
                    } else {
                        for (; i + 4 <= nr; i += 4) tile4(xp, xBase, wb, i * KC, kc, yb, i * nPad + g * NT, nPad, first);
                    }
                    for (; i < nr; i++) tile1(xp, xBase, wb, i * KC, kc, yb, i * nPad + g * NT, first);
                }
            }
            if (transposedOut) { // y is [rows][tokens] like yb: a copy per row
                for (int i = 0; i < nr; i++) System.arraycopy(yb, i * nPad, y, yOff + (rb + i) * n, n);
                continue;
            }
            // yb is [rows of this block][tokens]; y is [tokens][rows]. 16 rows at a time: 16 read streams,
            // and each token's 16 outputs fill one cache line of y.
            for (int i0 = 0; i0 < nr; i0 += 16) {
                int i1 = Math.min(nr, i0 + 16);
                for (int t = 0; t < n; t++) {
                    int dst = yOff + t * rows + rb;
                    if (bias == null) for (int i = i0; i < i1; i++) y[dst + i] = yb[i * nPad + t];
                    else for (int i = i0; i < i1; i++) y[dst + i] = yb[i * nPad + t] + bias[rb + i];
                }
            }
        }
    }

    /**
     * yb[i, 0 .. 2L) (+)= sum_k wb[i, k] * xp[k, 0 .. 2L) for 6 rows i, row stride KC in wb and ys in yb.
     * A plain loop: on Zen 5 (AVX-512) C2 runs it at the FMA peak, while a hand-unrolled version
     * ran at a quarter of it.
     */
    private static void tile6(float[] xp, int xBase, float[] wb, int wBase, int kc, float[] yb, int yBase, int ys, boolean first) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        for (int k = 0; k < kc; k++) {
            int xi = xBase + k * NT, wi = wBase + k;
            FloatVector x0 = FloatVector.fromArray(F, xp, xi), x1 = FloatVector.fromArray(F, xp, xi + L);
            FloatVector b = FloatVector.broadcast(F, wb[wi]);
            c00 = x0.fma(b, c00);
            c01 = x1.fma(b, c01);
            b = FloatVector.broadcast(F, wb[wi + KC]);
            c10 = x0.fma(b, c10);
            c11 = x1.fma(b, c11);
            b = FloatVector.broadcast(F, wb[wi + 2 * KC]);
            c20 = x0.fma(b, c20);
            c21 = x1.fma(b, c21);
            b = FloatVector.broadcast(F, wb[wi + 3 * KC]);
            c30 = x0.fma(b, c30);
            c31 = x1.fma(b, c31);
            b = FloatVector.broadcast(F, wb[wi + 4 * KC]);
            c40 = x0.fma(b, c40);
            c41 = x1.fma(b, c41);
            b = FloatVector.broadcast(F, wb[wi + 5 * KC]);
            c50 = x0.fma(b, c50);
            c51 = x1.fma(b, c51);
        }
        store(c00, c01, yb, yBase, first);
        store(c10, c11, yb, yBase + ys, first);
        store(c20, c21, yb, yBase + 2 * ys, first);
        store(c30, c31, yb, yBase + 3 * ys, first);
        store(c40, c41, yb, yBase + 4 * ys, first);
        store(c50, c51, yb, yBase + 5 * ys, first);
    }

    /** As {@link #tile6} for 4 rows. */
    private static void tile4(float[] xp, int xBase, float[] wb, int wBase, int kc, float[] yb, int yBase, int ys, boolean first) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        for (int k = 0; k < kc; k++) {
            int xi = xBase + k * NT, wi = wBase + k;
            FloatVector x0 = FloatVector.fromArray(F, xp, xi), x1 = FloatVector.fromArray(F, xp, xi + L);
            FloatVector b = FloatVector.broadcast(F, wb[wi]);
            c00 = x0.fma(b, c00);
            c01 = x1.fma(b, c01);
            b = FloatVector.broadcast(F, wb[wi + KC]);
            c10 = x0.fma(b, c10);
            c11 = x1.fma(b, c11);
            b = FloatVector.broadcast(F, wb[wi + 2 * KC]);
            c20 = x0.fma(b, c20);
            c21 = x1.fma(b, c21);
            b = FloatVector.broadcast(F, wb[wi + 3 * KC]);
            c30 = x0.fma(b, c30);
            c31 = x1.fma(b, c31);
        }
        store(c00, c01, yb, yBase, first);
        store(c10, c11, yb, yBase + ys, first);
        store(c20, c21, yb, yBase + 2 * ys, first);
        store(c30, c31, yb, yBase + 3 * ys, first);
    }

    private static void tile1(float[] xp, int xBase, float[] wb, int wBase, int kc, float[] yb, int yBase, boolean first) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0;
        for (int k = 0; k < kc; k++) {
            int xi = xBase + k * NT;
            FloatVector b = FloatVector.broadcast(F, wb[wBase + k]);
            c0 = FloatVector.fromArray(F, xp, xi).fma(b, c0);
            c1 = FloatVector.fromArray(F, xp, xi + L).fma(b, c1);
        }
        store(c0, c1, yb, yBase, first);
    }

    private static void store(FloatVector c0, FloatVector c1, float[] yb, int at, boolean first) {
        if (!first) {
            c0 = c0.add(FloatVector.fromArray(F, yb, at));
            c1 = c1.add(FloatVector.fromArray(F, yb, at + L));
        }
        c0.intoArray(yb, at);
        c1.intoArray(yb, at + L);
    }
}
