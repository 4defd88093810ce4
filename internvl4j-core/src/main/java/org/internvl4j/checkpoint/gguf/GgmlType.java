package org.internvl4j.checkpoint.gguf;

/**
 * The ggml tensor types this project writes into GGUF files, with ggml's numbering and block layout
 * (ggml.h {@code enum ggml_type}, ggml-common.h {@code block_q8_0}, {@code block_q4_0}).
 *
 * @param id            the number GGUF stores in a tensor info
 * @param blockSize     elements per block (1 for the plain types)
 * @param bytesPerBlock bytes of one block
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    /** 32 weights: an fp16 scale, then 16 bytes of 4-bit codes (element j in the low nibble of byte j, j+16 in the high). */
    Q4_0(2, 32, 2 + 16),
    /** 32 weights: an fp16 scale, then 32 int8 codes. */
    Q8_0(8, 32, 2 + 32),
    BF16(30, 1, 2);

    public final int id;
    public final int blockSize;
    public final int bytesPerBlock;

    GgmlType(int id, int blockSize, int bytesPerBlock) {
        this.id = id;
        this.blockSize = blockSize;
        this.bytesPerBlock = bytesPerBlock;
    }

    /** Bytes of a row of n elements; n must be a whole number of blocks, as ggml requires of a row. */
    public long rowBytes(long n) {
        if (n % blockSize != 0) {
            throw new IllegalArgumentException(this + " rows must hold a multiple of " + blockSize + " elements, got " + n);
        }
        return n / blockSize * bytesPerBlock;
    }

    /** The name llama.cpp and Ollama users know (llama-quantize's type names, lower case): bf16, q8_0, q4_0. */
    public String userName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** Parses bf16, q8_0 or q4_0 (the formats a peer run compares), any case. */
    public static GgmlType parseWeightFormat(String s) {
        for (GgmlType t : new GgmlType[] {BF16, Q8_0, Q4_0}) {
            if (t.userName().equalsIgnoreCase(s)) return t;
        }
        throw new IllegalArgumentException("unknown weight format '" + s + "' (supported: bf16, q8_0, q4_0)");
    }
}
