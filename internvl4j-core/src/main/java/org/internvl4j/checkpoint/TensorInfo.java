package org.internvl4j.checkpoint;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;
import org.internvl4j.tensor.DType;
import org.internvl4j.tensor.Weight;

/** One tensor of a safetensors file: its name, type, shape and a view of its bytes (not copied). */
public record TensorInfo(String name, DType dtype, long[] shape, MemorySegment data, Path file) {

    public long elementCount() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /** Bytes the tensor occupies in its file. */
    public long byteSize() {
        return data.byteSize();
    }

    public String shapeString() {
        return shapeString(shape);
    }

    public static String shapeString(long[] shape) {
        return Arrays.toString(shape);
    }

    /** All elements widened to float32 on the heap, in row-major order. Reads the bytes. */
    public float[] toFloatArray() {
        return Weight.of(dtype, data, 1, Math.toIntExact(elementCount())).toFloatArray();
    }
}
