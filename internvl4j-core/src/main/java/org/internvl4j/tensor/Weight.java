package org.internvl4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A row-major matrix [rows, cols] of weights that lives in a memory segment (usually a view over a
 * memory-mapped safetensors file; weights are never copied). One storage format, one class.
 * Linear layers store [out, in] and compute y = x W^T, so a row is one output feature.
 * A block-quantized weight ({@link Q8Weight}, {@link Q4Weight}) interleaves rows by 16 ({@link QuantLayout}).
 */
public sealed interface Weight permits F32Weight, Bf16Weight, F16Weight, Q8Weight, Q4Weight {

    ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    int rows();

    int cols();

    MemorySegment segment();

    DType dtype();

    /** Element (r, c) widened to float. For tests and cold paths only. */
    float get(int r, int c);

    /** Bytes of one row of {@code cols} elements of this type (whole blocks; see {@link DType#byteSize}). */
    static long rowBytes(DType dtype, int cols) {
        if (dtype.quantized() && cols % dtype.blockSize() != 0) {
            throw new IllegalArgumentException(dtype + " weights need a column count that is a multiple of " + dtype.blockSize()
                    + " (whole blocks per row), got " + cols);
        }
        return dtype.byteSize(cols);
    }

    /** Wraps a segment holding rows*cols elements of the given type. */
    static Weight of(DType dtype, MemorySegment segment, int rows, int cols) {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("weight shape [" + rows + ", " + cols + "] is negative");
        long need = rows * rowBytes(dtype, cols);
        if (segment.byteSize() != need) {
            throw new IllegalArgumentException("weight [" + rows + ", " + cols + "] " + dtype + " needs " + need
                    + " bytes, segment has " + segment.byteSize());
        }
        return switch (dtype) {
            case F32 -> new F32Weight(segment, rows, cols);
            case BF16 -> new Bf16Weight(segment, rows, cols);
            case F16 -> new F16Weight(segment, rows, cols);
            case Q8_0 -> new Q8Weight(segment, rows, cols);
            case Q4_0 -> new Q4Weight(segment, rows, cols);
            case U8 -> throw new IllegalArgumentException("U8 bytes are not a weight type; a quantized checkpoint names their format in config.json");
        };
    }

    /** A heap F32 weight, convenient for tests and for small tensors computed at load time. */
    static F32Weight ofFloats(float[] data, int rows, int cols) {
        if (data.length != rows * cols) throw new IllegalArgumentException("data length " + data.length + " != " + rows + "*" + cols);
        MemorySegment seg = MemorySegment.ofArray(new byte[data.length * 4]);
        for (int i = 0; i < data.length; i++) seg.setAtIndex(F32_LE, i, data[i]);
        return new F32Weight(seg, rows, cols);
    }

    /** Copies all elements, widened, into a new array. */
    default float[] toFloatArray() {
        float[] out = new float[rows() * cols()];
        for (int r = 0, i = 0; r < rows(); r++) {
            for (int c = 0; c < cols(); c++) out[i++] = get(r, c);
        }
        return out;
    }
}
