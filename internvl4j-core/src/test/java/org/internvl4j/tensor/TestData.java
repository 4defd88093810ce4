package org.internvl4j.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Random;

/** Random inputs for kernel tests. */
final class TestData {
    /** Lengths around the vector widths (8, 16) and their multiples, and one large odd one. */
    static final int[] SIZES = {1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 1003};

    private TestData() {
    }

    static float[] gaussian(Random r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * scale);
        return a;
    }

    /** The plain float types (the block-quantized ones have their own tests, QuantizedMatMulTest). */
    static final DType[] FLOAT_TYPES = {DType.F32, DType.F16, DType.BF16};

    /** A weight of the given type with values ~ N(0, 1) rounded to that type. */
    static Weight weight(DType dtype, Random r, int rows, int cols) {
        long count = (long) rows * cols;
        MemorySegment seg = MemorySegment.ofArray(new byte[(int) dtype.byteSize(count)]);
        for (long i = 0; i < count; i++) {
            float v = (float) r.nextGaussian();
            switch (dtype) {
                case F32 -> seg.setAtIndex(Weight.F32_LE, i, v);
                case BF16 -> seg.setAtIndex(Weight.I16_LE, i, (short) (Float.floatToRawIntBits(v) >>> 16));
                case F16 -> seg.setAtIndex(Weight.I16_LE, i, Float.floatToFloat16(v));
                default -> throw new IllegalArgumentException(dtype + " is not a plain float type");
            }
        }
        return Weight.of(dtype, seg, rows, cols);
    }
}
