package org.internvl4j.tensor;

import java.lang.foreign.MemorySegment;

/** {@link DType#Q8_0} weights: blocks of 32 columns, each an fp16 scale d and 32 int8 q; w = d * q. Bytes laid out as {@link QuantLayout} says. */
public record Q8Weight(MemorySegment segment, int rows, int cols) implements Weight {
    @Override
    public DType dtype() {
        return DType.Q8_0;
    }

    @Override
    public float get(int r, int c) {
        float d = Float.float16ToFloat(segment.get(I16_LE, QuantLayout.scaleAt(DType.Q8_0, rows, cols, r, c / 32)));
        return d * segment.get(java.lang.foreign.ValueLayout.JAVA_BYTE, QuantLayout.quantAt(DType.Q8_0, rows, cols, r, c / 32, c % 32));
    }
}
