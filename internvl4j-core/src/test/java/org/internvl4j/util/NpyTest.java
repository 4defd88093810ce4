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
}
