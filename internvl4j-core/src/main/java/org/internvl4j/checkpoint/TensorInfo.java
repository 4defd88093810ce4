package org.internvl4j.checkpoint;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;
import org.internvl4j.tensor.DType;

/** One tensor of a safetensors file: its name, type, shape and a view of its bytes (not copied). */
public record TensorInfo(String name, DType dtype, long[] shape, MemorySegment data, Path file) {

    public long elementCount() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }
}
