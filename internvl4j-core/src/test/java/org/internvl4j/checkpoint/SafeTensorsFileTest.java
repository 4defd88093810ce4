package org.internvl4j.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.internvl4j.checkpoint.RawSafeTensors.entry;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.internvl4j.tensor.DType;
import org.internvl4j.tensor.Weight;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The safetensors reader: what it accepts, and one clear error for each way a file can be broken. */
class SafeTensorsFileTest {
    @TempDir
    Path tmp;

    private static byte[] f32(float... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return b.array();
    }

    @Test
    void readsTensorsOfEachDtypeWithTheirShapesAndValues() throws IOException {
        // bf16 0x3FC0 = 1.5, f16 0x3C00 = 1.0, 0xC000 = -2.0
        byte[] data = ByteBuffer.allocate(8 + 4 + 4).order(ByteOrder.LITTLE_ENDIAN)
                .putFloat(0.25f).putFloat(-3f).putShort((short) 0x3FC0).putShort((short) 0xBF80)
                .putShort((short) 0x3C00).putShort((short) 0xC000).array();
        Path p = RawSafeTensors.write(tmp.resolve("ok.safetensors"), "{" + entry("a", "F32", "[2]", 0, 8) + ","
                + entry("b", "BF16", "[1,2]", 8, 12) + "," + entry("c", "F16", "[2,1]", 12, 16)
                + ",\"__metadata__\":{\"format\":\"pt\"}}", data);
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertThat(f.tensors().keySet()).containsExactly("a", "b", "c");
            assertThat(f.metadata()).containsEntry("format", "pt");
            assertThat(f.tensors().get("a").toFloatArray()).containsExactly(0.25f, -3f);
            TensorInfo b = f.tensors().get("b");
            assertThat(b.dtype()).isEqualTo(DType.BF16);
            assertThat(b.shape()).containsExactly(1, 2);
            assertThat(b.toFloatArray()).containsExactly(1.5f, -1f);
            assertThat(f.tensors().get("c").toFloatArray()).containsExactly(1f, -2f);
        }
    }

    @Test
    void fileShorterThanTheLengthField() throws IOException {
        Path p = tmp.resolve("short.safetensors");
        java.nio.file.Files.write(p, new byte[] {1, 2, 3});
        assertThatThrownBy(() -> SafeTensorsFile.open(p)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(p.toString()).hasMessageContaining("3 bytes").hasMessageContaining("too short");
    }

    @Test
    void headerLengthBeyondTheFile() throws IOException {
        Path p = RawSafeTensors.write(tmp.resolve("trunc.safetensors"), 5000, "{}".getBytes(), new byte[16]);
        assertThatThrownBy(() -> SafeTensorsFile.open(p)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(p.toString()).hasMessageContaining("header length 5000")
                .hasMessageContaining("past the end of the file (26 bytes)");
    }

    @Test
    void absurdlyLargeHeaderLength() throws IOException {
        Path p = RawSafeTensors.write(tmp.resolve("huge.safetensors"), 1L << 40, "{}".getBytes(), new byte[0]);
        assertThatThrownBy(() -> SafeTensorsFile.open(p)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(p.toString()).hasMessageContaining("header length 1099511627776")
                .hasMessageContaining("not plausible").hasMessageContaining("expected 2 to 100,000,000 bytes");
    }

    @Test
    void negativeHeaderLengthIsReportedAsTheUnsignedValueTheFileHolds() throws IOException {
        Path p = RawSafeTensors.write(tmp.resolve("neg.safetensors"), -1L, "{}".getBytes(), new byte[0]);
        assertThatThrownBy(() -> SafeTensorsFile.open(p)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(p.toString()).hasMessageContaining("18446744073709551615").hasMessageContaining("not plausible");
    }

    @Test
    void malformedHeaderJson() throws IOException {
        Path p = RawSafeTensors.write(tmp.resolve("bad.safetensors"), "{\"a\":{\"dtype\":", new byte[0]);
        assertThatThrownBy(() -> SafeTensorsFile.open(p)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(p.toString()).hasMessageContaining("malformed safetensors header JSON");
    }

    @Test
    void trailingTextAfterTheHeaderObject() throws IOException {
        Path p = RawSafeTensors.write(tmp.resolve("trail.safetensors"), "{} {\"w\":1}", new byte[0]);
        assertThatThrownBy(() -> SafeTensorsFile.open(p)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(p.toString()).hasMessageContaining("malformed safetensors header JSON");
    }

    @Test
    void headerThatIsNotValidUtf8() throws IOException {
        Path p = RawSafeTensors.write(tmp.resolve("utf.safetensors"), 4, new byte[] {'{', (byte) 0xC3, '}', ' '}, new byte[0]);
        assertThatThrownBy(() -> SafeTensorsFile.open(p)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(p.toString()).hasMessageContaining("not valid UTF-8");
    }

    @Test
    void headerThatIsNotAJsonObject() throws IOException {
        Path p = RawSafeTensors.write(tmp.resolve("arr.safetensors"), "[1, 2]  ", new byte[0]);
        assertThatThrownBy(() -> SafeTensorsFile.open(p)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(p.toString()).hasMessageContaining("must be a JSON object").hasMessageContaining("got array");
    }

    @Test
    void tensorEntryThatIsNotAnObject() throws IOException {
        Path p = RawSafeTensors.write(tmp.resolve("e.safetensors"), "{\"w\":7}", new byte[0]);
        assertThatThrownBy(() -> SafeTensorsFile.open(p)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(p + ": tensor w").hasMessageContaining("must be an object {dtype, shape, data_offsets}");
    }

    @Test
    void duplicateTensorNameInTheHeader() throws IOException {
        Path p = RawSafeTensors.write(tmp.resolve("dup.safetensors"),
                "{" + entry("w", "F32", "[1]", 0, 4) + "," + entry("w", "F32", "[1]", 4, 8) + "}", new byte[8]);
        assertThatThrownBy(() -> SafeTensorsFile.open(p)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(p.toString()).hasMessageContaining("Duplicate field 'w'");
    }

    @Test
    void nonIntegerShape() throws IOException {
        Path p = RawSafeTensors.write(tmp.resolve("shape.safetensors"), "{" + entry("w", "F32", "[2.5,2]", 0, 20) + "}", new byte[20]);
        assertThatThrownBy(() -> SafeTensorsFile.open(p)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(p + ": tensor w").hasMessageContaining("'shape' must hold non-negative integers, got [2.5,2]");
        Path q = RawSafeTensors.write(tmp.resolve("shape2.safetensors"), "{" + entry("v", "F32", "[\"4\"]", 0, 16) + "}", new byte[16]);
        assertThatThrownBy(() -> SafeTensorsFile.open(q)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(q + ": tensor v").hasMessageContaining("'shape' must hold non-negative integers");
        Path r = RawSafeTensors.write(tmp.resolve("shape3.safetensors"), "{" + entry("u", "F32", "[-1]", 0, 4) + "}", new byte[4]);
        assertThatThrownBy(() -> SafeTensorsFile.open(r)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(r + ": tensor u").hasMessageContaining("non-negative integers, got [-1]");
    }

    @Test
    void missingOrMalformedDataOffsets() throws IOException {
        Path p = RawSafeTensors.write(tmp.resolve("off.safetensors"), "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", new byte[4]);
        assertThatThrownBy(() -> SafeTensorsFile.open(p)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(p + ": tensor w").hasMessageContaining("missing array field 'data_offsets'");
        Path q = RawSafeTensors.write(tmp.resolve("off3.safetensors"),
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", new byte[8]);
        assertThatThrownBy(() -> SafeTensorsFile.open(q)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(q + ": tensor w").hasMessageContaining("'data_offsets' must have 2 entries");
    }

    @Test
    void unsupportedDtypeNamesTheSupportedOnes() throws IOException {
        Path p = RawSafeTensors.write(tmp.resolve("i64.safetensors"), "{" + entry("ids", "I64", "[1]", 0, 8) + "}", new byte[8]);
        assertThatThrownBy(() -> SafeTensorsFile.open(p)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(p + ": tensor ids has dtype 'I64'").hasMessageContaining("supported: F32, F16, BF16");
    }

    @Test
    void byteRangeOutsideTheDataArea() throws IOException {
        Path p = RawSafeTensors.write(tmp.resolve("range.safetensors"), "{" + entry("w", "F32", "[4]", 8, 24) + "}", new byte[16]);
        assertThatThrownBy(() -> SafeTensorsFile.open(p)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(p + ": tensor w").hasMessageContaining("byte range [8, 24) lies outside the data area of 16 bytes");
        Path q = RawSafeTensors.write(tmp.resolve("backwards.safetensors"), "{" + entry("v", "F32", "[1]", 8, 4) + "}", new byte[16]);
        assertThatThrownBy(() -> SafeTensorsFile.open(q)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(q + ": tensor v").hasMessageContaining("byte range [8, 4)");
    }

    @Test
    void overlappingTensors() throws IOException {
        Path p = RawSafeTensors.write(tmp.resolve("overlap.safetensors"),
                "{" + entry("a", "F32", "[4]", 0, 16) + "," + entry("b", "F32", "[2]", 12, 20) + "}", new byte[20]);
        assertThatThrownBy(() -> SafeTensorsFile.open(p)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(p + ": tensor b byte range [12, 20) overlaps tensor a [0, 16)");
    }

    @Test
    void byteSizeThatDisagreesWithShapeTimesDtype() throws IOException {
        Path p = RawSafeTensors.write(tmp.resolve("size.safetensors"), "{" + entry("w", "BF16", "[3,4]", 0, 48) + "}", new byte[48]);
        assertThatThrownBy(() -> SafeTensorsFile.open(p)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(p + ": tensor w").hasMessageContaining("holds 48 bytes, but shape [3, 4] of BF16 needs 24");
    }

    @Test
    void scalarAndEmptyTensorsAreFine() throws IOException {
        Path p = RawSafeTensors.write(tmp.resolve("scalar.safetensors"),
                "{" + entry("s", "F32", "[]", 0, 4) + "," + entry("e", "F32", "[0,3]", 4, 4) + "}", f32(7f));
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertThat(f.tensors().get("s").toFloatArray()).containsExactly(7f);
            assertThat(f.tensors().get("e").elementCount()).isZero();
        }
    }

    /**
     * Real shards are 4.6 GB. A sparse file of 2.5 GiB with a tensor beyond 2^31 (and one straddling it)
     * must map and read; the holes cost no disk.
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void filesOverTwoGigabytesAreMappedWithSixtyFourBitOffsets() throws IOException {
        long far = (1L << 31) + 4096;
        long straddle = (1L << 31) - 4;
        String header = "{" + entry("near", "F32", "[1]", 0, 4) + "," + entry("straddle", "F32", "[2]", straddle, straddle + 8)
                + "," + entry("far", "BF16", "[2,2]", far, far + 8) + "}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        long dataStart = 8 + h.length;
        Path p = tmp.resolve("big.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(dataStart + (5L << 29)); // 2.5 GiB, sparse
            f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
            f.write(h);
            f.write(f32(0.5f));
            f.seek(dataStart + straddle);
            f.write(f32(-1.25f, 3f));
            f.seek(dataStart + far);
            // bf16: 1.0, -2.0, 0.5, 3.0
            f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
                    .putShort((short) 0x3F80).putShort((short) 0xC000).putShort((short) 0x3F00).putShort((short) 0x4040).array());
        }
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertThat(f.tensors().get("near").toFloatArray()).containsExactly(0.5f);
            assertThat(f.tensors().get("straddle").toFloatArray()).containsExactly(-1.25f, 3f);
            Weight w = Weight.of(DType.BF16, f.tensors().get("far").data(), 2, 2);
            assertThat(w.get(0, 0)).isEqualTo(1f);
            assertThat(w.get(0, 1)).isEqualTo(-2f);
            assertThat(w.get(1, 0)).isEqualTo(0.5f);
            assertThat(w.get(1, 1)).isEqualTo(3f);
        }
    }

    /**
     * Opening must not read the weights: the data area here is 64 GiB of holes. Reading it would take
     * far longer than the timeout; mapping it is instant. Only the touched tensor's page is read.
     */
    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void openingDoesNotReadTheDataArea() throws IOException {
        long size = 64L << 30;
        long last = size - 8;
        String header = "{" + entry("all", "BF16", "[" + (last / 2) + "]", 0, last) + "," + entry("tail", "F32", "[2]", last, size) + "}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        Path p = tmp.resolve("sparse.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(8 + h.length + size);
            f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
            f.write(h);
            f.seek(8 + h.length + last);
            f.write(f32(42f, -7f));
        }
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertThat(f.tensors().get("all").byteSize()).isEqualTo(last);
            assertThat(f.tensors().get("tail").toFloatArray()).containsExactly(42f, -7f);
        }
    }
}
