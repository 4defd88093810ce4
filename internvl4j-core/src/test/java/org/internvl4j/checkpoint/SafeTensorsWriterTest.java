package org.internvl4j.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.internvl4j.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SafeTensorsWriterTest {
    @TempDir
    Path tmp;

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = SafeTensorsWriterTest.class.getResourceAsStream("/checkpoint/writer/" + name)) {
            assertThat(in).as("test resource " + name).isNotNull();
            return in.readAllBytes();
        }
    }

    private static float[] fixtureValues() throws IOException {
        JsonNode bits = new ObjectMapper().readTree(resource("values.json")).get("float32_bits");
        float[] v = new float[bits.size()];
        for (int i = 0; i < v.length; i++) v[i] = Float.intBitsToFloat((int) bits.get(i).asLong());
        return v;
    }

    /** Same float32 values in, same file out as the reference's write_safetensors (padding, order, rounding). */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void writesTheSameBytesAsTheReference(DType dtype) throws IOException {
        float[] v = fixtureValues();
        float[] mat = java.util.Arrays.copyOf(v, 64);
        Path out = tmp.resolve(dtype + ".safetensors");
        // added out of order on purpose: the file lists tensors sorted by name
        new SafeTensorsWriter().add("b.mat", dtype, new long[] {8, 8}, mat).add("a.vec", dtype, new long[] {v.length}, v).write(out);
        assertThat(Files.readAllBytes(out)).isEqualTo(resource(dtype + ".safetensors"));
    }

    /** The reference's files read back to the same float32 values that the reference's reader gives. */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void readsTheReferenceFilesAsTheReferenceDoes(DType dtype) throws IOException {
        JsonNode expected = new ObjectMapper().readTree(resource("readback.json")).get(dtype.safetensorsName());
        Path file = tmp.resolve(dtype + ".safetensors");
        Files.write(file, resource(dtype + ".safetensors"));
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            assertThat(f.tensors().keySet()).containsExactly("a.vec", "b.mat");
            for (String name : List.of("a.vec", "b.mat")) {
                float[] got = f.tensors().get(name).toFloatArray();
                JsonNode want = expected.get(name);
                assertThat(got).hasSize(want.size());
                for (int i = 0; i < got.length; i++) {
                    float w = Float.intBitsToFloat((int) want.get(i).asLong());
                    if (Float.isNaN(w)) assertThat(got[i]).as("%s[%d]", name, i).isNaN();
                    else assertThat(Float.floatToRawIntBits(got[i])).as("%s[%d]", name, i).isEqualTo(Float.floatToRawIntBits(w));
                }
            }
        }
    }

    /** Round to nearest even, checked against the exact distances to the two neighbouring bf16 values. */
    @Test
    void bf16RoundsToNearestEven() {
        Random rng = new Random(3);
        for (int i = 0; i < 200_000; i++) {
            int bits = i < 1000 ? (rng.nextInt() & 0xFFFF0000) | 0x8000 : rng.nextInt(); // exact ties first
            float f = Float.intBitsToFloat(bits);
            if (Float.isNaN(f) || Float.isInfinite(f)) continue;
            short got = SafeTensorsWriter.floatToBf16(f);
            assertThat(got).as("bf16 of %08x", bits).isEqualTo(nearestEvenBf16(f));
        }
        assertThat(Float.isNaN(org.internvl4j.tensor.Bf16Weight.bf16ToFloat(SafeTensorsWriter.floatToBf16(Float.NaN)))).isTrue();
        assertThat(SafeTensorsWriter.floatToBf16(Float.POSITIVE_INFINITY)).isEqualTo((short) 0x7F80);
        assertThat(SafeTensorsWriter.floatToBf16(Float.MAX_VALUE)).isEqualTo((short) 0x7F80); // rounds up to infinity
    }

    private static short nearestEvenBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int down = bits & 0xFFFF0000; // truncated: same sign, magnitude rounded towards zero
        int up = down + 0x10000; // next magnitude away from zero (0x7F80.. is infinity, i.e. 2^128 here)
        BigDecimal x = new BigDecimal(f).abs();
        BigDecimal lo = new BigDecimal(Float.intBitsToFloat(down)).abs();
        float upValue = Float.intBitsToFloat(up);
        BigDecimal hi = Float.isInfinite(upValue) ? new BigDecimal(2).pow(128) : new BigDecimal(upValue).abs();
        int c = x.subtract(lo).compareTo(hi.subtract(x));
        if (c < 0) return (short) (down >>> 16);
        if (c > 0) return (short) (up >>> 16);
        return (short) ((((down >>> 16) & 1) == 0 ? down : up) >>> 16);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void roundTripsThroughTheReader(DType dtype) {
        float[] v = {0f, 1f, -2.5f, 0.15625f, 1024f, -0.0078125f};
        Path out = tmp.resolve("rt.safetensors");
        long bytes = new SafeTensorsWriter().add("w", dtype, new long[] {2, 3}, v).metadata(java.util.Map.of("k", "v")).write(out);
        assertThat(bytes).isEqualTo(dtype.byteSize(6));
        try (SafeTensorsFile f = SafeTensorsFile.open(out)) {
            assertThat(f.headerBytes() % 8).isZero();
            assertThat(f.metadata()).containsEntry("k", "v");
            TensorInfo t = f.tensors().get("w");
            assertThat(t.dtype()).isEqualTo(dtype);
            assertThat(t.shape()).containsExactly(2, 3);
            assertThat(t.toFloatArray()).containsExactly(v); // all exactly representable in each dtype
        }
    }
}
