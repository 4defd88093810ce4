package org.internvl4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every product against a plain double loop over Weight.get (which widens element by element, apart
 * from the vector code). Tolerance: 1e-5 of sum |w x| per output, far above float rounding over
 * these lengths (about 6e-8 sqrt(cols)) and far below any indexing mistake.
 */
class MatMulTest {
    private static final int[][] SHAPES = {{1, 1}, {1, 17}, {7, 15}, {5, 16}, {13, 33}, {17, 64}, {33, 1003}, {100, 7}, {201, 130}};
    private static final int[] TOKENS = {1, 2, 5, 7, 8, 9, 13, 33, 40};
    private final int before = Parallel.threads();

    @AfterEach
    void restore() {
        Parallel.setThreads(before);
    }

    @Test
    void matVecMatchesDoubleLoopForEveryDtypeShapeAndThreadCount() {
        Random r = new Random(1);
        for (DType dtype : TestData.FLOAT_TYPES) {
            for (int[] shape : SHAPES) {
                Weight w = TestData.weight(dtype, r, shape[0], shape[1]);
                int xOff = 3, yOff = 5;
                float[] x = TestData.gaussian(r, shape[1] + xOff, 1);
                float[][] ys = new float[2][];
                int k = 0;
                for (int threads : new int[] {1, 3}) {
                    Parallel.setThreads(threads);
                    float[] y = new float[shape[0] + yOff + 2];
                    MatMul.matVec(w, x, xOff, y, yOff);
                    for (int row = 0; row < shape[0]; row++) {
                        assertClose(y[yOff + row], w, row, x, xOff, dtype + " " + shape[0] + "x" + shape[1] + " row " + row + " threads " + threads);
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
    void matMulMatchesDoubleLoopForEveryDtypeShapeTokenCountAndThreadCount() {
        Random r = new Random(2);
        for (DType dtype : TestData.FLOAT_TYPES) {
            for (int[] shape : SHAPES) {
                Weight w = TestData.weight(dtype, r, shape[0], shape[1]);
                for (int n : TOKENS) {
                    int rows = shape[0], cols = shape[1];
                    int xOff = 2, yOff = 3;
                    float[] x = TestData.gaussian(r, n * cols + xOff, 1);
                    float[][] ys = new float[2][];
                    int k = 0;
                    for (int threads : new int[] {1, 3}) {
                        Parallel.setThreads(threads);
                        float[] y = new float[n * rows + yOff];
                        MatMul.matMul(w, x, xOff, n, y, yOff);
                        for (int t = 0; t < n; t++) {
                            for (int row = 0; row < rows; row++) {
                                assertClose(y[yOff + t * rows + row], w, row, x, xOff + t * cols,
                                        dtype + " " + rows + "x" + cols + " n=" + n + " t=" + t + " row=" + row + " threads " + threads);
                            }
                        }
                        ys[k++] = y;
                    }
                    assertThat(ys[1]).as("same result on 1 and 3 threads").isEqualTo(ys[0]);
                }
            }
        }
    }

    @Test
    void largeTiledProductCrossesKAndRowBlocks() {
        // 300 cols span three K blocks, 200 rows two row blocks and a leftover of rows not filling a tile
        Random r = new Random(3);
        int rows = 200, cols = 300, n = 70;
        Weight w = TestData.weight(DType.BF16, r, rows, cols);
        float[] x = TestData.gaussian(r, n * cols, 1);
        float[] y = new float[n * rows];
        Parallel.setThreads(2);
        MatMul.matMul(w, x, n, y);
        for (int t = 0; t < n; t++) {
            for (int row = 0; row < rows; row++) assertClose(y[t * rows + row], w, row, x, t * cols, "t=" + t + " row=" + row);
        }
    }

    @Test
    void biasIsAddedToEveryToken() {
        Random r = new Random(4);
        Weight w = TestData.weight(DType.F32, r, 9, 20);
        float[] bias = TestData.gaussian(r, 9, 1);
        float[] x = TestData.gaussian(r, 3 * 20, 1);
        float[] y = new float[3 * 9];
        MatMul.matMul(w, bias, x, 3, y);
        for (int t = 0; t < 3; t++) {
            for (int row = 0; row < 9; row++) {
                double ref = bias[row];
                for (int c = 0; c < 20; c++) ref += (double) w.get(row, c) * x[t * 20 + c];
                assertThat((double) y[t * 9 + row]).isCloseTo(ref, org.assertj.core.data.Offset.offset(1e-4));
            }
        }
    }

    @Test
    void wrongSizesAreClearErrors() {
        Weight w = TestData.weight(DType.BF16, new Random(5), 4, 8);
        assertThatThrownBy(() -> MatMul.matVec(w, new float[7], 0, new float[4], 0)).hasMessageContaining("x needs 8 floats");
        assertThatThrownBy(() -> MatMul.matVec(w, new float[8], 0, new float[4], 1)).hasMessageContaining("y needs 4 floats from offset 1");
        assertThatThrownBy(() -> MatMul.matMul(w, new float[16], 3, new float[12])).hasMessageContaining("x needs 24 floats");
        assertThatThrownBy(() -> MatMul.matMul(w, new float[3], new float[8], 1, new float[4])).hasMessageContaining("bias has 3");
    }

    /** y[row] against the double-precision sum of w.get(row, c) * x[c] (Weight.get decodes apart from the vector code), within 1e-5 of sum |w x|. */
    static void assertClose(float actual, Weight w, int row, float[] x, int xOff, String what) {
        double ref = 0, mag = 0;
        for (int c = 0; c < w.cols(); c++) {
            double p = (double) w.get(row, c) * x[xOff + c];
            ref += p;
            mag += Math.abs(p);
        }
        assertThat(Math.abs(actual - ref)).as(what + ": got " + actual + ", expected " + ref).isLessThanOrEqualTo(1e-5 * mag + 1e-30);
    }
}
