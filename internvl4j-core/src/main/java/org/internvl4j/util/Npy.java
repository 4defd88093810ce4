package org.internvl4j.util;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy {@code .npy} files, format version 1.0 (and reading 2.0/3.0), C order: float32 {@code <f4} written and
 * read; {@code <f8}, {@code |u1}, {@code <i4}, {@code <i8} read and widened to float.
 * See numpy/lib/format.py for the layout: magic, version, header length, a Python dict literal padded with
 * spaces to a multiple of 64 bytes ending in a newline, then the raw data.
 */
public final class Npy {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

    /** An array read from a .npy file: its shape, dtype descriptor and values widened to float. */
    public record Array(int[] shape, String descr, float[] data) {
        public long size() {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }
    }

    private Npy() {
    }

    /** Writes float32 data with the given shape as a version 1.0 .npy file ('<f4', C order). */
    public static void writeFloat32(Path file, float[] data, int... shape) {
        try (OutputStream out = Files.newOutputStream(file)) {
            writeFloat32(out, data, shape);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    public static void writeFloat32(OutputStream out, float[] data, int... shape) throws IOException {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n *= d;
        }
        if (n != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + n + " values, data has "
                    + data.length);
        }
        StringBuilder sh = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            sh.append(shape[i]).append(shape.length == 1 ? "," : (i + 1 < shape.length ? ", " : ""));
        }
        sh.append(')');
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + sh + ", }";
        int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
        int pad = (64 - unpadded % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        if (header.length() > 65535) {
            throw new IllegalArgumentException("shape too long for a version 1.0 header");
        }
        out.write(MAGIC);
        out.write(new byte[] {1, 0, (byte) (header.length() & 0xFF), (byte) (header.length() >> 8)});
        out.write(header.getBytes(StandardCharsets.ISO_8859_1));
        ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : data) {
            if (!buf.hasRemaining()) {
                out.write(buf.array(), 0, buf.position());
                buf.clear();
            }
            buf.putFloat(f);
        }
        out.write(buf.array(), 0, buf.position());
    }

    /** Reads a .npy file; the message of any error names the file and what was expected. */
    public static Array read(Path file) {
        byte[] b;
        try {
            b = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        return read(b, file.toString());
    }

    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    public static Array read(byte[] b, String name) {
        if (b.length < 10 || !Arrays.equals(Arrays.copyOf(b, 6), MAGIC)) {
            throw new IllegalArgumentException(name + ": not a .npy file (magic \\x93NUMPY missing)");
        }
        int major = b[6];
        int headerLen;
        int start;
        if (major == 1) {
            headerLen = (b[8] & 0xFF) | ((b[9] & 0xFF) << 8);
            start = 10;
        } else if (major == 2 || major == 3) {
            if (b.length < 12) {
                throw new IllegalArgumentException(name + ": truncated .npy header");
            }
            headerLen = ByteBuffer.wrap(b, 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
            start = 12;
        } else {
            throw new IllegalArgumentException(name + ": .npy format version " + major + " is not supported");
        }
        if (headerLen < 0 || headerLen > b.length - start) { // not start + headerLen: that can overflow
            throw new IllegalArgumentException(name + ": truncated .npy header");
        }
        String header = new String(b, start, headerLen, StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header);
        Matcher f = FORTRAN.matcher(header);
        Matcher s = SHAPE.matcher(header);
        if (!d.find() || !f.find() || !s.find()) {
            throw new IllegalArgumentException(name + ": .npy header lacks descr, fortran_order or shape: " + header);
        }
        if (f.group(1).equals("True")) {
            throw new IllegalArgumentException(name + ": Fortran-order arrays are not supported");
        }
        String descr = d.group(1);
        int[] shape = shape(s.group(1), name);
        long n = 1;
        for (int x : shape) {
            n *= x; // stays below 2^62: each factor and each partial product is checked against 2^31
            if (n > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " has more than "
                        + Integer.MAX_VALUE + " elements");
            }
        }
        int itemSize = switch (descr) {
            case "<f4", "<i4" -> 4;
            case "<f8", "<i8" -> 8;
            case "|u1", "|i1", "|b1" -> 1;
            default -> throw new IllegalArgumentException(name + ": dtype " + descr
                    + " is not supported (expected <f4, <f8, <i4, <i8 or |u1)");
        };
        int dataStart = start + headerLen;
        if (dataStart + n * itemSize > b.length) {
            throw new IllegalArgumentException(name + ": data truncated: shape " + Arrays.toString(shape) + " of "
                    + descr + " needs " + n * itemSize + " bytes, file has " + (b.length - dataStart));
        }
        ByteBuffer buf = ByteBuffer.wrap(b, dataStart, (int) (n * itemSize)).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[(int) n];
        for (int i = 0; i < n; i++) {
            out[i] = switch (descr) {
                case "<f4" -> buf.getFloat();
                case "<f8" -> (float) buf.getDouble();
                case "<i4" -> buf.getInt();
                case "<i8" -> buf.getLong();
                case "|u1" -> buf.get() & 0xFF;
                default -> buf.get();
            };
        }
        return new Array(shape, descr, out);
    }

    /** The dimensions in a header's shape tuple: each a non-negative int, or an error naming the file. */
    private static int[] shape(String tuple, String name) {
        return Arrays.stream(tuple.split(",")).map(String::strip).filter(p -> !p.isEmpty()).mapToInt(p -> {
            try {
                int d = Integer.parseInt(p);
                if (d >= 0) return d;
            } catch (NumberFormatException e) {
                // reported below with the file's name
            }
            throw new IllegalArgumentException(name + ": shape entry '" + p + "' is not a dimension (a non-negative int)");
        }).toArray();
    }
}
