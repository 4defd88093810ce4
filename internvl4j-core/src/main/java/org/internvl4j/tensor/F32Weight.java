package org.internvl4j.tensor;

import java.lang.foreign.MemorySegment;

/** Little-endian IEEE float32 weights. */
public record F32Weight(MemorySegment segment, int rows, int cols) implements Weight {
    @Override
    public DType dtype() {
        return DType.F32;
    }

    @Override
    public float get(int r, int c) {
        return segment.getAtIndex(F32_LE, (long) r * cols + c);
    }
}
