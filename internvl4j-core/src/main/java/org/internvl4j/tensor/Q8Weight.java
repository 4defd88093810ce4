package org.internvl4j.tensor;

import java.lang.foreign.MemorySegment;

/** {@link DType#Q8_0} weights: per row, cols / 32 blocks of an fp16 scale d and 32 int8 q; w = d * q. */
public record Q8Weight(MemorySegment segment, int rows, int cols) implements Weight {
    @Override
    public DType dtype() {
        return DType.Q8_0;
    }

    @Override
    public float get(int r, int c) {
        long block = (long) r * (cols / 32) + c / 32;
        long at = block * 34;
        return Float.float16ToFloat(segment.get(I16_LE, at)) * segment.get(java.lang.foreign.ValueLayout.JAVA_BYTE, at + 2 + c % 32);
    }
}
