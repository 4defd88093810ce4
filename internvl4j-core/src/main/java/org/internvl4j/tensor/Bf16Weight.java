package org.internvl4j.tensor;

import java.lang.foreign.MemorySegment;

/** bfloat16 weights: the upper 16 bits of a float32 bit pattern, so widening is exact. */
public record Bf16Weight(MemorySegment segment, int rows, int cols) implements Weight {
    @Override
    public DType dtype() {
        return DType.BF16;
    }

    @Override
    public float get(int r, int c) {
        return bf16ToFloat(segment.getAtIndex(I16_LE, (long) r * cols + c));
    }

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }
}
