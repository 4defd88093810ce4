package org.internvl4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The widening loads over all 65536 bit patterns, against the JDK's scalar conversions. */
class VectorLoadsTest {
    private static MemorySegment allShorts() {
        MemorySegment seg = MemorySegment.ofArray(new byte[2 * 65536]);
        for (int i = 0; i < 65536; i++) seg.setAtIndex(Weight.I16_LE, i, (short) i);
        return seg;
    }

    @Test
    void f16WideningIsExactForEveryHalf() {
        MemorySegment seg = allShorts();
        float[] out = new float[65536];
        VectorLoads.widen(Weight.of(DType.F16, seg, 1, 65536), 0, 0, out, 0, 65536);
        for (int i = 0; i < 65536; i++) {
            float expected = Float.float16ToFloat((short) i);
            if (Float.isNaN(expected)) assertThat(out[i]).as("bits %04x", i).isNaN();
            else assertThat(Float.floatToRawIntBits(out[i])).as("bits %04x", i).isEqualTo(Float.floatToRawIntBits(expected));
        }
    }

    @Test
    void bf16WideningIsExactForEveryPatternInBothLoadPaths() {
        MemorySegment seg = allShorts();
        float[] out = new float[65536];
        VectorLoads.widen(Weight.of(DType.BF16, seg, 1, 65536), 0, 0, out, 0, 65536);
        for (int i = 0; i < 65536; i++) assertThat(Float.floatToRawIntBits(out[i])).isEqualTo(i << 16);
        for (long off = 0; off < 2 * 65536; off += 4L * VectorLoads.L) {
            var pairs = VectorLoads.i32(seg, off);
            float[] even = VectorLoads.even(pairs).toArray();
            float[] odd = VectorLoads.odd(pairs).toArray();
            for (int j = 0; j < VectorLoads.L; j++) {
                int col = (int) (off / 2) + 2 * j;
                assertThat(Float.floatToRawIntBits(even[j])).isEqualTo(col << 16);
                assertThat(Float.floatToRawIntBits(odd[j])).isEqualTo((col + 1) << 16);
            }
        }
    }

    @Test
    void widenHandlesOffsetsAndTails() {
        java.util.Random r = new java.util.Random(9);
        for (DType dtype : TestData.FLOAT_TYPES) {
            Weight w = TestData.weight(dtype, r, 3, 37);
            float[] out = new float[40];
            VectorLoads.widen(w, 2, 5, out, 1, 29);
            assertThat(out[0]).isZero();
            for (int i = 0; i < 29; i++) assertThat(out[1 + i]).isEqualTo(w.get(2, 5 + i));
            assertThat(out[30]).isZero();
        }
    }
}
