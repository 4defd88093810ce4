package org.internvl4j.tensor;

import java.lang.foreign.MemorySegment;

/**
 * {@link DType#Q4_0} weights: per row, cols / 32 blocks of an fp16 scale d and 16 bytes; byte j holds
 * q of weight j in its low nibble and of weight j + 16 in its high one; w = d * (q - 8).
 */
public record Q4Weight(MemorySegment segment, int rows, int cols) implements Weight {
    @Override
    public DType dtype() {
        return DType.Q4_0;
    }

    @Override
    public float get(int r, int c) {
        int k = c / 32, j = c % 32;
        int b = segment.get(java.lang.foreign.ValueLayout.JAVA_BYTE, QuantLayout.quantAt(DType.Q4_0, rows, cols, r, k, j & 15)) & 0xff;
        int q = j < 16 ? b & 15 : b >>> 4;
        return Float.float16ToFloat(segment.get(I16_LE, QuantLayout.scaleAt(DType.Q4_0, rows, cols, r, k))) * (q - 8);
    }
}
