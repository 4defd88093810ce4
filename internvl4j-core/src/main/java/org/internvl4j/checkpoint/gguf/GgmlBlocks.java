package org.internvl4j.checkpoint.gguf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Encodes float rows into ggml's storage formats, following ggml's reference quantizers
 * (ggml-quants.c {@code quantize_row_q8_0_ref}, {@code quantize_row_q4_0_ref}) so that a file written here
 * holds the codes llama.cpp's own converter would write for the same values. Little-endian, as GGUF is.
 */
public final class GgmlBlocks {
    private GgmlBlocks() {
    }

    /**
     * Appends n values from x[off..] to out in the given type. n must be a whole number of blocks; out
     * must be little-endian with {@code type.rowBytes(n)} bytes left.
     */
    public static void encode(GgmlType type, float[] x, int off, int n, ByteBuffer out) {
        if (out.order() != ByteOrder.LITTLE_ENDIAN) throw new IllegalArgumentException("GGUF is little-endian; got a big-endian buffer");
        long bytes = type.rowBytes(n);
        if (out.remaining() < bytes) throw new IllegalArgumentException("need " + bytes + " bytes, buffer has " + out.remaining());
        switch (type) {
            case F32 -> { for (int i = 0; i < n; i++) out.putFloat(x[off + i]); }
            case F16 -> { for (int i = 0; i < n; i++) out.putShort(Float.floatToFloat16(x[off + i])); }
            case BF16 -> { for (int i = 0; i < n; i++) out.putShort(bf16(x[off + i])); }
            case Q8_0 -> { for (int b = 0; b < n; b += 32) q8_0(x, off + b, out); }
            case Q4_0 -> { for (int b = 0; b < n; b += 32) q4_0(x, off + b, out); }
        }
    }

    /** fp32 to bf16, rounding to nearest even; NaN stays a (quiet) NaN (ggml's ggml_compute_fp32_to_bf16). */
    public static short bf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) return (short) ((bits >>> 16) | 0x40);
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    /** One Q8_0 block: d = max|x| / 127 stored as fp16, codes round(x / d) (roundf: halves away from zero). */
    static void q8_0(float[] x, int off, ByteBuffer out) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[off + j]));
        float d = amax / 127;
        float id = d != 0 ? 1.0f / d : 0.0f;
        out.putShort(Float.floatToFloat16(d));
        for (int j = 0; j < 32; j++) out.put((byte) roundHalfAway(x[off + j] * id));
    }

    /**
     * One Q4_0 block: d = (the value of largest magnitude, with its sign) / -8 as fp16; code
     * min(15, trunc(x / d + 8.5)), so codes 0..15 stand for -8..7 times d. Byte j holds element j in its low
     * nibble and element j + 16 in its high nibble.
     */
    static void q4_0(float[] x, int off, ByteBuffer out) {
        float amax = 0, max = 0;
        for (int j = 0; j < 32; j++) {
            float v = x[off + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8;
        float id = d != 0 ? 1.0f / d : 0.0f;
        out.putShort(Float.floatToFloat16(d));
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(15, (int) (x[off + j] * id + 8.5f));
            int hi = Math.min(15, (int) (x[off + 16 + j] * id + 8.5f));
            out.put((byte) (lo | hi << 4));
        }
    }

    private static int roundHalfAway(float v) {
        return (int) (v < 0 ? -Math.floor(-v + 0.5f) : Math.floor(v + 0.5f));
    }
}
