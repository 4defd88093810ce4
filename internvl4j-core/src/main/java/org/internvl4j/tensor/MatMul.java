package org.internvl4j.tensor;

/**
 * Products of a weight matrix W [rows, cols] with float32 activations, y = x W^T.
 * This is the API contract; the implementation is a plain scalar loop until the Vector API
 * kernels land.
 */
public final class MatMul {
    private MatMul() {
    }

    /** Matrix-vector, for decode: y[yOff + r] = sum_c W[r, c] * x[xOff + c] for r in [0, rows). */
    public static void matVec(Weight w, float[] x, int xOff, float[] y, int yOff) {
        for (int r = 0; r < w.rows(); r++) {
            float acc = 0;
            for (int c = 0; c < w.cols(); c++) acc += w.get(r, c) * x[xOff + c];
            y[yOff + r] = acc;
        }
    }

    /**
     * Matrix-matrix, for prefill and the vision tower: x is [n, cols] row-major, y is [n, rows]
     * row-major; y[t, r] = sum_c W[r, c] * x[t, c].
     */
    public static void matMul(Weight w, float[] x, int n, float[] y) {
        for (int t = 0; t < n; t++) matVec(w, x, t * w.cols(), y, t * w.rows());
    }
}
