package org.internvl4j.checkpoint.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/**
 * The block encodings against values worked out by hand from ggml's format description (ggml-common.h block
 * layouts; ggml-quants.c reference quantizers): Q8_0 = fp16 d = max|x| / 127, then round(x / d) as int8;
 * Q4_0 = fp16 d = (signed value of largest magnitude) / -8, then min(15, trunc(x / d + 8.5)) with element j
 * in the low nibble of byte j and element j + 16 in its high nibble.
 */
class GgmlBlocksTest {
    private static ByteBuffer encode(GgmlType t, float[] x) {
        ByteBuffer b = ByteBuffer.allocate((int) t.rowBytes(x.length)).order(ByteOrder.LITTLE_ENDIAN);
        GgmlBlocks.encode(t, x, 0, x.length, b);
        assertThat(b.hasRemaining()).isFalse();
        return b.flip();
    }

    @Test
    void q8_0WithUnitScaleRoundsHalvesAwayFromZero() {
        float[] x = new float[32];
        x[0] = 127; // max |x| = 127, so d = 1 exactly: the codes are the rounded values themselves
        x[1] = -2.5f;
        x[2] = 2.5f;
        x[3] = 0.5f;
        x[4] = -0.5f;
        x[5] = 1.49f;
        x[6] = -126.6f;
        ByteBuffer b = encode(GgmlType.Q8_0, x);
        assertThat(b.getShort()).isEqualTo((short) 0x3C00); // fp16 1.0
        byte[] q = new byte[32];
        b.get(q);
        assertThat(q).startsWith(127, -3, 3, 1, -1, 1, -127, 0);
        for (int j = 7; j < 32; j++) assertThat(q[j]).isZero();
    }

    @Test
    void q8_0ScaleIsMaxMagnitudeOver127InHalfPrecision() {
        float[] x = new float[32];
        for (int j = 0; j < 32; j++) x[j] = j - 16; // -16..15: d = 16/127 = 0.12598..., fp16 0x3008 = 0.1259765625
        ByteBuffer b = encode(GgmlType.Q8_0, x);
        assertThat(b.getShort()).isEqualTo((short) 0x3008);
        byte[] q = new byte[32];
        b.get(q);
        assertThat(q[0]).isEqualTo((byte) -127); // -16 * 127/16
        assertThat(q[17]).isEqualTo((byte) 8);   // 1 * 7.9375 = 7.94
        assertThat(q[18]).isEqualTo((byte) 16);  // 2 * 7.9375 = 15.875
        assertThat(q[31]).isEqualTo((byte) 119); // 15 * 7.9375 = 119.06
        assertThat(q[16]).isZero();
    }

    @Test
    void q8_0OfZerosHasZeroScaleAndCodes() {
        ByteBuffer b = encode(GgmlType.Q8_0, new float[64]);
        for (int i = 0; i < b.limit(); i++) assertThat(b.get(i)).isZero();
        assertThat(b.limit()).isEqualTo(2 * 34);
    }

    @Test
    void q4_0PacksElementJLowAndJPlus16High() {
        float[] x = new float[32];
        for (int j = 0; j < 16; j++) {
            x[j] = j - 8;       // -8..7; -8 has the largest magnitude: d = -8 / -8 = 1, codes j
            x[16 + j] = 7 - j;  // 7..-8: codes 15 - j
        }
        ByteBuffer b = encode(GgmlType.Q4_0, x);
        assertThat(b.getShort()).isEqualTo((short) 0x3C00);
        for (int j = 0; j < 16; j++) {
            int v = b.get() & 0xff;
            assertThat(v & 15).as("low nibble of byte %d", j).isEqualTo(j);
            assertThat(v >>> 4).as("high nibble of byte %d", j).isEqualTo(15 - j);
        }
    }

    @Test
    void q4_0ScaleTakesTheSignOfTheLargestValueAndClampsAt15() {
        float[] x = new float[32];
        x[0] = 1;
        x[1] = -4;
        x[2] = -5;   // the largest magnitude, negative: d = -5 / -8 = 0.625 (fp16 0x3900), 1/d = 1.6
        x[5] = 4;
        ByteBuffer b = encode(GgmlType.Q4_0, x);
        assertThat(b.getShort()).isEqualTo((short) 0x3900);
        int[] codes = new int[32];
        for (int j = 0; j < 16; j++) {
            int v = b.get() & 0xff;
            codes[j] = v & 15;
            codes[j + 16] = v >>> 4;
        }
        assertThat(codes[0]).isEqualTo(10); // 1 * 1.6 + 8.5 = 10.1
        assertThat(codes[1]).isEqualTo(2);  // -6.4 + 8.5 = 2.1
        assertThat(codes[2]).isEqualTo(0);  // -8 + 8.5 = 0.5
        assertThat(codes[5]).isEqualTo(14); // 6.4 + 8.5 = 14.9
        assertThat(codes[3]).isEqualTo(8);  // zero is code 8
    }

    @Test
    void q4_0WithPositiveMaxHasNegativeScaleAndClamps() {
        float[] x = new float[32];
        x[5] = 4;   // largest magnitude, positive: d = 4 / -8 = -0.5 (fp16 0xB800), 1/d = -2
        x[6] = -4;  // -4 * -2 + 8.5 = 16.5: clamped to 15
        x[7] = 1;   // -2 + 8.5 = 6.5 -> 6
        ByteBuffer b = encode(GgmlType.Q4_0, x);
        assertThat(b.getShort()).isEqualTo((short) 0xB800);
        byte[] q = new byte[16];
        b.get(q);
        assertThat(q[5] & 15).isEqualTo(0);
        assertThat(q[6] & 15).isEqualTo(15);
        assertThat(q[7] & 15).isEqualTo(6);
        assertThat(q[0] & 15).isEqualTo(8);
    }

    @Test
    void bf16RoundsToNearestEvenAndKeepsNaN() {
        assertThat(GgmlBlocks.bf16(1.0f)).isEqualTo((short) 0x3F80);
        assertThat(GgmlBlocks.bf16(Float.intBitsToFloat(0x3F808000))).isEqualTo((short) 0x3F80); // tie, even stays
        assertThat(GgmlBlocks.bf16(Float.intBitsToFloat(0x3F818000))).isEqualTo((short) 0x3F82); // tie, odd rounds up
        assertThat(GgmlBlocks.bf16(Float.intBitsToFloat(0x3F808001))).isEqualTo((short) 0x3F81);
        short nan = GgmlBlocks.bf16(Float.NaN);
        assertThat(nan & 0x7F80).isEqualTo(0x7F80);
        assertThat(nan & 0x7F).isNotZero();
    }

    @Test
    void rowsMustBeWholeBlocks() {
        assertThat(GgmlType.Q4_0.rowBytes(64)).isEqualTo(36);
        assertThat(GgmlType.Q8_0.rowBytes(64)).isEqualTo(68);
        assertThat(GgmlType.BF16.rowBytes(3)).isEqualTo(6);
        assertThatThrownBy(() -> GgmlType.Q8_0.rowBytes(48)).hasMessageContaining("multiple of 32").hasMessageContaining("48");
        assertThatThrownBy(() -> GgmlType.parseWeightFormat("q5_k")).hasMessageContaining("bf16, q8_0, q4_0");
        assertThat(GgmlType.parseWeightFormat("Q4_0")).isEqualTo(GgmlType.Q4_0);
    }
}
