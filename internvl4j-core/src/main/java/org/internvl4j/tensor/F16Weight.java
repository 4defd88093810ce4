package org.internvl4j.tensor;

import java.lang.foreign.MemorySegment;

/** IEEE half-precision weights. */
public record F16Weight(MemorySegment segment, int rows, int cols) implements Weight {
    @Override
    public DType dtype() {
        return DType.F16;
    }

    @Override
    public float get(int r, int c) {
        return Float.float16ToFloat(segment.getAtIndex(I16_LE, (long) r * cols + c));
    }
}
