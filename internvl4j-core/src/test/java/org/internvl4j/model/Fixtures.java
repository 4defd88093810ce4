package org.internvl4j.model;

import org.internvl4j.testing.TestData;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/** Locates testdata/ and reads the reference fixtures (.npy, .npy.gz, JSON). */
public final class Fixtures {
    private Fixtures() {
    }

    /** The repository's testdata folder: the first ancestor of the working directory that holds one. */
    public static Path testdata() {
        return TestData.dir("tiny-models").getParent();
    }

    public static Path tinyModel(String name) {
        return testdata().resolve("tiny-models").resolve(name);
    }

    public static Path modelCase(String name) {
        return testdata().resolve("model").resolve(name);
    }

    public static JsonNode json(Path p) throws IOException {
        return new ObjectMapper().readTree(Files.readString(p));
    }

    public static int[] ints(JsonNode array) {
        int[] a = new int[array.size()];
        for (int i = 0; i < a.length; i++) a[i] = array.get(i).intValue();
        return a;
    }

    /** A NumPy 1.0 little-endian C-order array: its shape and raw bytes. */
    public record Npy(String dtype, int[] shape, ByteBuffer data) {
        public float[] floats() {
            if (!dtype.equals("<f4")) throw new IllegalStateException("dtype " + dtype + ", expected <f4");
            float[] f = new float[data.remaining() / 4];
            data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
            return f;
        }

        public byte[] bytes() {
            byte[] b = new byte[data.remaining()];
            data.duplicate().get(b);
            return b;
        }
    }

    public static Npy npy(Path p) throws IOException {
        try (InputStream in = p.toString().endsWith(".gz") ? new GZIPInputStream(Files.newInputStream(p)) : Files.newInputStream(p)) {
            DataInputStream d = new DataInputStream(in);
            byte[] magic = new byte[8];
            d.readFully(magic);
            if (magic[0] != (byte) 0x93 || magic[6] != 1) throw new IOException(p + ": not a NumPy 1.x file");
            int hl = (d.readUnsignedByte()) | (d.readUnsignedByte() << 8);
            byte[] hb = new byte[hl];
            d.readFully(hb);
            String header = new String(hb, StandardCharsets.ISO_8859_1);
            Matcher m = Pattern.compile("'descr': '([^']+)'.*'fortran_order': (\\w+).*'shape': \\(([^)]*)\\)").matcher(header);
            if (!m.find() || !m.group(2).equals("False")) throw new IOException(p + ": unexpected header " + header);
            String[] dims = m.group(3).split(",");
            int n = 0;
            for (String s : dims) if (!s.isBlank()) n++;
            int[] shape = new int[n];
            long count = 1;
            for (int i = 0, k = 0; i < dims.length; i++) {
                if (dims[i].isBlank()) continue;
                shape[k] = Integer.parseInt(dims[i].trim());
                count *= shape[k++];
            }
            int item = m.group(1).equals("|u1") ? 1 : 4;
            byte[] raw = d.readNBytes((int) (count * item));
            if (raw.length != count * item) throw new IOException(p + ": truncated data");
            return new Npy(m.group(1), shape, ByteBuffer.wrap(raw));
        }
    }

    /**
     * uint8 tiles [n, h, w, 3] to float32 pixel values [n, 3, h, w]: ToTensor then Normalize, three
     * correctly rounded float32 steps in the reference's order.
     */
    public static float[] pixelValues(byte[] u8, int n, int h, int w) {
        float[] mean = {0.485f, 0.456f, 0.406f}, std = {0.229f, 0.224f, 0.225f};
        float[] out = new float[n * 3 * h * w];
        for (int t = 0; t < n; t++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    for (int c = 0; c < 3; c++) {
                        float v = (u8[((t * h + y) * w + x) * 3 + c] & 0xff) / 255f;
                        out[((t * 3 + c) * h + y) * w + x] = (v - mean[c]) / std[c];
                    }
                }
            }
        }
        return out;
    }

    /** sha256 (hex) of float32 values as little-endian bytes. */
    public static String sha256(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b.array()));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
