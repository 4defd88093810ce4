package org.internvl4j.tensor;

/**
 * Storage types of tensors, with their type traits: a block of {@link #blockSize} elements takes
 * {@link #blockBytes} bytes (one element per block for the plain float types). The block-quantized
 * types are not a safetensors dtype of their own: a checkpoint stores them as U8 bytes and names the
 * format in config.json (see {@code checkpoint.Quantization}).
 */
public enum DType {
    F32(1, 4, "F32"),
    F16(1, 2, "F16"),
    BF16(1, 2, "BF16"),
    /** Raw bytes: how a file holds quantized blocks before the checkpoint says which format they are. Not a weight type. */
    U8(1, 1, "U8"),
    /**
     * Like llama.cpp's Q8_0: blocks of 32 weights, each an fp16 scale d then 32 int8 q; w = d * q.
     * 34 bytes per 32 weights (8.5 bits).
     */
    Q8_0(32, 34, null),
    /**
     * Like llama.cpp's Q4_0: blocks of 32 weights, each an fp16 scale d then 16 bytes of 4-bit q; byte j
     * holds weight j in its low nibble and weight j + 16 in its high one; w = d * (q - 8).
     * 18 bytes per 32 weights (4.5 bits).
     */
    Q4_0(32, 18, null);

    private final int blockSize;
    private final int blockBytes;
    private final String safetensorsName;

    DType(int blockSize, int blockBytes, String safetensorsName) {
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
        this.safetensorsName = safetensorsName;
    }

    /** Elements per block (1 for the plain types). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int blockBytes() {
        return blockBytes;
    }

    /** True for the block-quantized types. */
    public boolean quantized() {
        return blockSize > 1;
    }

    /**
     * Bytes of {@code elements} values laid out as one run of blocks; for a quantized type the count
     * must be a whole number of blocks (a matrix row is, see {@link Weight#of}).
     */
    public long byteSize(long elements) {
        if (elements % blockSize != 0) {
            throw new IllegalArgumentException(this + " stores whole blocks of " + blockSize + " elements; " + elements + " is not a multiple of " + blockSize);
        }
        return Math.multiplyExact(elements / blockSize, (long) blockBytes);
    }

    /** The safetensors dtype name, or null for the quantized types (stored as U8). */
    public String safetensorsName() {
        return safetensorsName;
    }

    /** The dtype for a safetensors header name, or null when we cannot read that type. */
    public static DType fromSafetensors(String name) {
        for (DType t : values()) {
            if (name.equals(t.safetensorsName)) return t;
        }
        return null;
    }
}
