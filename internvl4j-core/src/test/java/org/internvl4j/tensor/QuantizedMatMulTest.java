package org.internvl4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The block formats and their products. The layout (blocks, and rows interleaved by 16 in panels) is pinned by hand-built blocks; the quantizers by
 * their error bounds; every product against dequantize-then-multiply in double precision (through
 * Weight.get, which decodes element by element, apart from the vector code), at row counts that are
 * not multiples of the 8 streams, the tiles' 4 or 6 rows or the vector width, on 1 and 3 threads.
 * The suite runs at 512 and 256 bits (the pom's executions), so both CPUs' paths are checked.
 */
class QuantizedMatMulTest {
    private static final DType[] FORMATS = {DType.Q8_0, DType.Q4_0};
    // rows: 1 to 201, panels of 16 from 0 to 12, odd and even panel counts (panels pair up two streams apart), with and without rows after the last panel
    private static final int[][] SHAPES = {{1, 32}, {7, 64}, {9, 96}, {13, 32}, {17, 160}, {33, 4096}, {48, 64}, {80, 96}, {201, 288}};
    private static final int[] TOKENS = {1, 2, 5, 7, 8, 9, 13, 33, 40};
    private final int before = Parallel.threads();
    private final Arena arena = Arena.ofAuto();

    @AfterEach
    void restore() {
        Parallel.setThreads(before);
    }

    @Test
    void traitsAreBlocksNotBytesPerElement() {
        assertThat(DType.Q8_0.blockSize()).isEqualTo(32);
        assertThat(DType.Q8_0.blockBytes()).isEqualTo(34);
        assertThat(DType.Q4_0.blockBytes()).isEqualTo(18);
        assertThat(DType.Q4_0.byteSize(4096)).isEqualTo(128 * 18);
        assertThat(DType.BF16.byteSize(3)).isEqualTo(6);
        assertThatThrownBy(() -> DType.Q8_0.byteSize(33)).hasMessageContaining("multiple of 32");
    }

    @Test
    void handBuiltBlocksDecodeAsTheFormatSays() {
        // Q8_0: fp16 scale 0.5 (0x3800), then q = -127, 1, 2, ..., one row of one block
        MemorySegment q8 = arena.allocate(34);
        q8.set(Weight.I16_LE, 0, (short) 0x3800);
        for (int i = 0; i < 32; i++) q8.set(ValueLayout.JAVA_BYTE, 2 + i, (byte) (i == 0 ? -127 : i));
        Weight w8 = Weight.of(DType.Q8_0, q8, 1, 32);
        assertThat(w8.get(0, 0)).isEqualTo(-63.5f);
        assertThat(w8.get(0, 31)).isEqualTo(15.5f);
        // Q4_0: scale 2 (0x4000); byte j = low nibble j % 16, high nibble 15 - j % 16
        MemorySegment q4 = arena.allocate(18);
        q4.set(Weight.I16_LE, 0, (short) 0x4000);
        for (int j = 0; j < 16; j++) q4.set(ValueLayout.JAVA_BYTE, 2 + j, (byte) (j | (15 - j) << 4));
        Weight w4 = Weight.of(DType.Q4_0, q4, 1, 32);
        for (int j = 0; j < 16; j++) {
            assertThat(w4.get(0, j)).as("low nibble of byte %d is weight %d", j, j).isEqualTo(2f * (j - 8));
            assertThat(w4.get(0, 16 + j)).as("high nibble of byte %d is weight %d", j, 16 + j).isEqualTo(2f * (15 - j - 8));
        }
        float[] out = new float[32];
        VectorLoads.widen(w4, 0, 0, out, 0, 32);
        for (int c = 0; c < 32; c++) assertThat(out[c]).isEqualTo(w4.get(0, c));
        VectorLoads.widen(w8, 0, 0, out, 0, 32);
        for (int c = 0; c < 32; c++) assertThat(out[c]).isEqualTo(w8.get(0, c));
    }

    @Test
    void panelsOfSixteenRowsHoldEachBlocksScalesThenItsQuantsInterleavedByRow() {
        // 17 rows x 64 columns of Q8_0, built by hand: rows 0..15 form one panel, row 16 keeps the row layout.
        // Every scale is 1 (0x3C00) and q encodes (row, column), so get(r, c) tells where it read from.
        int rows = 17, cols = 64, rowBytes = 2 * 34;
        MemorySegment s = arena.allocate((long) rows * rowBytes);
        for (int k = 0; k < 2; k++) {
            long block = k * 16L * 34;                           // block k of the panel: 16 scales, then 32 x 16 quants
            for (int i = 0; i < 16; i++) {
                s.set(Weight.I16_LE, block + 2L * i, (short) 0x3C00);
                for (int j = 0; j < 32; j++) s.set(ValueLayout.JAVA_BYTE, block + 32 + 16L * j + i, code(i, 32 * k + j));
            }
            long tail = 16L * rowBytes + k * 34L;                // row 16: scale then 32 quants, block after block
            s.set(Weight.I16_LE, tail, (short) 0x3C00);
            for (int j = 0; j < 32; j++) s.set(ValueLayout.JAVA_BYTE, tail + 2 + j, code(16, 32 * k + j));
        }
        Weight w = Weight.of(DType.Q8_0, s, rows, cols);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) assertThat(w.get(r, c)).as("(%d, %d)", r, c).isEqualTo(code(r, c));
        }
        float[] wide = new float[16 * 70];
        VectorLoads.widenPanel(w, 0, 32, 32, wide, 3, 70);
        for (int i = 0; i < 16; i++) {
            for (int j = 0; j < 32; j++) assertThat(wide[3 + 70 * i + j]).as("panel row %d col %d", i, 32 + j).isEqualTo(code(i, 32 + j));
        }
        assertThatThrownBy(() -> VectorLoads.widenPanel(w, 16, 0, 32, wide, 0, 70)).hasMessageContaining("whole panel");
    }

    private static byte code(int r, int c) {
        return (byte) ((r * 13 + c) % 255 - 127);
    }

    @Test
    void theQuantizerWritesEachRowsBlocksWhereThePanelLayoutSays() {
        Random r = new Random(4);
        int rows = 35, cols = 96, blocks = cols / 32;
        Weight src = Weight.ofFloats(TestData.gaussian(r, rows * cols, 1), rows, cols);
        for (DType to : FORMATS) {
            int bb = to.blockBytes(), rowBytes = blocks * bb;
            MemorySegment panels = Quantizer.quantize(src, to, arena).segment();
            float[] row = new float[cols];
            MemorySegment one = arena.allocate(rowBytes);
            for (int i = 0; i < rows; i++) {
                VectorLoads.widen(src, i, 0, row, 0, cols);
                Quantizer.quantizeRow(to, row, 0, cols, one, 0);
                for (int k = 0; k < blocks; k++) {
                    boolean inPanel = i < 32;
                    long base = inPanel ? (i / 16) * 16L * rowBytes + k * 16L * bb : (long) i * rowBytes + (long) k * bb;
                    long scale = inPanel ? base + 2L * (i % 16) : base;
                    assertThat(panels.get(Weight.I16_LE, scale)).as("%s row %d block %d scale", to, i, k).isEqualTo(one.get(Weight.I16_LE, (long) k * bb));
                    for (int j = 0; j < bb - 2; j++) {
                        long at = inPanel ? base + 32 + 16L * j + i % 16 : base + 2 + j;
                        assertThat(panels.get(ValueLayout.JAVA_BYTE, at)).as("%s row %d block %d byte %d", to, i, k, j)
                                .isEqualTo(one.get(ValueLayout.JAVA_BYTE, (long) k * bb + 2 + j));
                    }
                }
            }
        }
    }

    @Test
    void quantizersStayWithinHalfAStepOfTheirScale() {
        Random r = new Random(3);
        Weight src = Weight.ofFloats(TestData.gaussian(r, 5 * 256, 0.02), 5, 256);
        for (DType to : FORMATS) {
            Weight q = Quantizer.quantize(src, to, arena);
            assertThat(q.dtype()).isEqualTo(to);
            assertThat(q.segment().byteSize()).isEqualTo(5 * to.byteSize(256));
            for (int row = 0; row < 5; row++) {
                for (int b = 0; b < 8; b++) {
                    float amax = 0;
                    for (int i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(src.get(row, 32 * b + i)));
                    // step: amax / 127 for q8 and amax / 8 for q4; fp16 rounding of the scale adds at most 2^-11 of it.
                    // Q4's levels run from -8d to 7d with the largest weight at -8d: a weight of the other sign beyond
                    // 7d is clamped there (llama.cpp's Q4_0 does the same), so its error is its distance to 7d.
                    double step = amax / (to == DType.Q8_0 ? 127.0 : 8.0) * (1 + 1e-3);
                    double top = to == DType.Q8_0 ? amax : amax * 7 / 8;
                    double maxErr = 0;
                    for (int i = 0; i < 32; i++) {
                        float v = src.get(row, 32 * b + i);
                        double err = Math.abs(q.get(row, 32 * b + i) - v);
                        double clamped = Math.max(0, Math.abs(v) - top) * (to == DType.Q4_0 ? 1 : 0);
                        assertThat(err).as("%s row %d block %d col %d", to, row, b, i).isLessThanOrEqualTo(Math.max(step / 2, clamped + step * 1e-3) + 1e-9);
                        maxErr = Math.max(maxErr, err);
                    }
                    assertThat(maxErr).as("rounding happened").isGreaterThan(0);
                }
            }
        }
    }

    @Test
    void zeroBlocksAndBadInputsAreHandled() {
        Weight zeros = Weight.ofFloats(new float[64], 1, 64);
        for (DType to : FORMATS) {
            Weight q = Quantizer.quantize(zeros, to, arena);
            for (int c = 0; c < 64; c++) assertThat(q.get(0, c)).isZero();
        }
        Weight odd = Weight.ofFloats(new float[33], 1, 33);
        assertThatThrownBy(() -> Quantizer.quantize(odd, DType.Q8_0, arena))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("multiple of 32").hasMessageContaining("33");
        assertThatThrownBy(() -> Weight.of(DType.Q4_0, arena.allocate(18), 1, 36)).hasMessageContaining("multiple of 32");
        assertThatThrownBy(() -> Weight.of(DType.Q4_0, arena.allocate(17), 1, 32)).hasMessageContaining("needs 18 bytes");
        assertThatThrownBy(() -> Quantizer.quantize(zeros, DType.BF16, arena)).hasMessageContaining("not a block-quantized type");
        float[] nan = new float[32];
        nan[3] = Float.NaN;
        assertThatThrownBy(() -> Quantizer.quantize(Weight.ofFloats(nan, 1, 32), DType.Q4_0, arena)).hasMessageContaining("NaN");
    }

    @Test
    void matVecMatchesDequantizedDoubleProduct() {
        Random r = new Random(1);
        for (DType to : FORMATS) {
            for (int[] shape : SHAPES) {
                Weight w = quantized(r, to, shape[0], shape[1]);
                int xOff = 3, yOff = 5;
                float[] x = TestData.gaussian(r, shape[1] + xOff, 1);
                float[][] ys = new float[2][];
                int k = 0;
                for (int threads : new int[] {1, 3}) {
                    Parallel.setThreads(threads);
                    float[] y = new float[shape[0] + yOff + 2];
                    MatMul.matVec(w, x, xOff, y, yOff);
                    for (int row = 0; row < shape[0]; row++) {
                        assertClose(y[yOff + row], w, row, x, xOff, to + " " + shape[0] + "x" + shape[1] + " row " + row + " threads " + threads);
                    }
                    assertThat(y[yOff - 1]).as("before yOff untouched").isZero();
                    assertThat(y[yOff + shape[0]]).as("after the rows untouched").isZero();
                    ys[k++] = y;
                }
                assertThat(ys[1]).as("same result on 1 and 3 threads").isEqualTo(ys[0]);
            }
        }
    }

    @Test
    void matMulMatchesDequantizedDoubleProductForEveryTokenCount() {
        Random r = new Random(2);
        for (DType to : FORMATS) {
            for (int[] shape : SHAPES) {
                if (shape[1] > 1000) continue; // the wide shape is for matVec's streams; the tiles see K blocks of 128/256 in 288
                Weight w = quantized(r, to, shape[0], shape[1]);
                int rows = shape[0], cols = shape[1];
                for (int n : TOKENS) {
                    int xOff = 2, yOff = 3;
                    float[] x = TestData.gaussian(r, n * cols + xOff, 1);
                    for (int threads : new int[] {1, 3}) {
                        Parallel.setThreads(threads);
                        float[] y = new float[n * rows + yOff];
                        MatMul.matMul(w, x, xOff, n, y, yOff);
                        for (int t = 0; t < n; t++) {
                            for (int row = 0; row < rows; row++) {
                                assertClose(y[yOff + t * rows + row], w, row, x, xOff + t * cols,
                                        to + " " + rows + "x" + cols + " n=" + n + " t=" + t + " row=" + row + " threads " + threads);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void widenMatchesGetAtBlockBoundariesAndInside() {
        Random r = new Random(9);
        for (DType to : FORMATS) {
            Weight w = quantized(r, to, 3, 128);
            float[] out = new float[130];
            int[][] ranges = {{0, 128}, {32, 64}, {5, 70}, {40, 8}, {96, 32}};
            for (int[] range : ranges) {
                java.util.Arrays.fill(out, 0);
                VectorLoads.widen(w, 2, range[0], out, 1, range[1]);
                assertThat(out[0]).isZero();
                for (int i = 0; i < range[1]; i++) assertThat(out[1 + i]).as("%s col %d", to, range[0] + i).isEqualTo(w.get(2, range[0] + i));
                assertThat(out[1 + range[1]]).isZero();
            }
        }
    }

    private Weight quantized(Random r, DType to, int rows, int cols) {
        return Quantizer.quantize(Weight.ofFloats(TestData.gaussian(r, rows * cols, 1), rows, cols), to, arena);
    }

    /** MatMulTest's reference: the double-precision sum over Weight.get, within 1e-5 of sum |w x|. */
    private static void assertClose(float actual, Weight w, int row, float[] x, int xOff, String what) {
        MatMulTest.assertClose(actual, w, row, x, xOff, what);
    }
}
