package org.internvl4j.util;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {

    @Test
    void writesNumpyVersion1HeaderAndLittleEndianData() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Npy.writeFloat32(out, new float[] {1f, -2.5f, 0f, 3f, 4f, 5f}, 2, 3);
        byte[] b = out.toByteArray();
        // what numpy.save writes for np.array([[1, -2.5, 0], [3, 4, 5]], dtype='<f4') (numpy 1.24)
        String header = new String(b, 10, (b[8] & 0xFF) | (b[9] << 8), StandardCharsets.ISO_8859_1);
        assertThat(header).startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }").endsWith("\n");
        assertThat((10 + header.length()) % 64).isZero();
        assertThat(b[6]).isEqualTo((byte) 1);
        assertThat(b.length - 10 - header.length()).isEqualTo(24);
        // -2.5f = 0xC0200000, little endian
        int p = 10 + header.length() + 4;
        assertThat(new byte[] {b[p], b[p + 1], b[p + 2], b[p + 3]}).containsExactly(0, 0, 0x20, (byte) 0xC0);
    }

    @Test
    void roundTripsAndRejectsBadFiles(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("a.npy");
        Npy.writeFloat32(f, new float[] {0.5f, Float.MIN_VALUE, -7f}, 3);
        Npy.Array a = Npy.read(f);
        assertThat(a.shape()).containsExactly(3);
        assertThat(a.descr()).isEqualTo("<f4");
        assertThat(a.data()).containsExactly(0.5f, Float.MIN_VALUE, -7f);
        Files.write(dir.resolve("bad.npy"), new byte[] {1, 2, 3});
        assertThatThrownBy(() -> Npy.read(dir.resolve("bad.npy"))).hasMessageContaining("not a .npy file");
        byte[] whole = Files.readAllBytes(f);
        Files.write(dir.resolve("cut.npy"), java.util.Arrays.copyOf(whole, whole.length - 2));
        assertThatThrownBy(() -> Npy.read(dir.resolve("cut.npy"))).hasMessageContaining("truncated");
    }

    /** A version-1 .npy of little-endian float32 zeros with this shape text, plus `data` bytes of payload. */
    private static byte[] npy(String shape, int data) {
        String header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + shape + "), }\n";
        byte[] h = header.getBytes(StandardCharsets.ISO_8859_1);
        byte[] b = new byte[10 + h.length + data];
        System.arraycopy(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) h.length, 0}, 0, b, 0, 10);
        System.arraycopy(h, 0, b, 10, h.length);
        return b;
    }

    // Found by NpyFuzzTest (crash-da0c6b0d...): a shape entry that is not a number gave NumberFormatException's
    // bare "For input string"; negative entries and element counts past 2^31 were not refused with a message.
    @Test
    void shapeEntriesMustBeDimensionsAndTheirProductFitAnArray() {
        assertThat(Npy.read(npy("2, 3", 24), "t.npy").shape()).containsExactly(2, 3);
        assertThatThrownBy(() -> Npy.read(npy("2, x", 8), "t.npy")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("t.npy: shape entry 'x' is not a dimension (a non-negative int)");
        assertThatThrownBy(() -> Npy.read(npy("-2, -3", 24), "t.npy"))
                .hasMessage("t.npy: shape entry '-2' is not a dimension (a non-negative int)");
        assertThatThrownBy(() -> Npy.read(npy("65536, 65536, 65536", 0), "t.npy"))
                .hasMessage("t.npy: shape [65536, 65536, 65536] has more than 2147483647 elements");
    }

    @Test
    void aHeaderLengthNearIntMaxIsTruncationNotAnIndexError() {
        byte[] b = npy("1", 4);
        b[6] = 2; // version 2: a 4-byte header length
        b[8] = (byte) 0xFB;
        b[9] = (byte) 0xFF;
        b[10] = (byte) 0xFF;
        b[11] = 0x7F; // 2^31 - 5: start + length overflows an int
        assertThatThrownBy(() -> Npy.read(b, "t.npy")).hasMessage("t.npy: truncated .npy header");
        // crash-fe742641...: version 2 with fewer than the 12 bytes its header length needs (IndexOutOfBoundsException)
        assertThatThrownBy(() -> Npy.read(java.util.Arrays.copyOf(b, 11), "t.npy")).hasMessage("t.npy: truncated .npy header");
    }
}
