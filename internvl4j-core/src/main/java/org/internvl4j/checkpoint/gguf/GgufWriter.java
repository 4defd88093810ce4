package org.internvl4j.checkpoint.gguf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a GGUF file (version 3), streaming the tensor data so that a model far larger than the heap can be
 * written. The layout follows the GGUF specification (ggml repository, docs/gguf.md): the header
 * ("GGUF", version, tensor count, key-value count), the metadata key-value pairs, the tensor infos (name,
 * dimensions fastest-varying first, ggml type, offset from the start of the data section), zero padding
 * to the alignment, then each tensor's bytes, each starting at a multiple of the alignment. All numbers are
 * little-endian.
 *
 * <pre>{@code
 * new GgufWriter()
 *     .put("general.architecture", "llama")
 *     .tensor("output_norm.weight", GgmlType.F32, new long[] {4096}, out -> ...)
 *     .write(path);
 * }</pre>
 */
public final class GgufWriter {
    /** The default and the one llama.cpp writes: tensor data offsets are multiples of 32 bytes. */
    public static final int ALIGNMENT = 32;
    private static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32
    private static final int VERSION = 3;

    /** GGUF metadata value types (gguf.md, {@code gguf_metadata_value_type}). */
    private static final int UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7, STRING = 8, ARRAY = 9;

    /** Produces a tensor's bytes, in ggml's layout, in order; it must write exactly {@link #bytes} of them. */
    @FunctionalInterface
    public interface TensorData {
        void write(Sink out) throws IOException;
    }

    /** Where a tensor's bytes go: pass a buffer filled up to its position; the writer flips, drains and clears it. */
    @FunctionalInterface
    public interface Sink {
        void write(ByteBuffer bytes) throws IOException;
    }

    private record Tensor(String name, GgmlType type, long[] dims, long bytes, TensorData data) {
    }

    private final Map<String, byte[]> metadata = new LinkedHashMap<>(); // key -> type tag and value, encoded
    private final List<Tensor> tensors = new ArrayList<>();

    public GgufWriter put(String key, String value) {
        return meta(key, STRING, buf -> string(buf, value), 8 + utf8(value).length);
    }

    public GgufWriter putU32(String key, int value) {
        if (value < 0) throw new IllegalArgumentException(key + ": a uint32 must not be negative, got " + value);
        return meta(key, UINT32, buf -> buf.putInt(value), 4);
    }

    public GgufWriter putF32(String key, float value) {
        return meta(key, FLOAT32, buf -> buf.putFloat(value), 4);
    }

    public GgufWriter putBool(String key, boolean value) {
        return meta(key, BOOL, buf -> buf.put((byte) (value ? 1 : 0)), 1);
    }

    public GgufWriter putStrings(String key, List<String> values) {
        long size = 12;
        for (String s : values) size += 8 + utf8(s).length;
        return meta(key, ARRAY, buf -> {
            buf.putInt(STRING).putLong(values.size());
            for (String s : values) string(buf, s);
        }, size);
    }

    public GgufWriter putF32s(String key, float[] values) {
        return meta(key, ARRAY, buf -> {
            buf.putInt(FLOAT32).putLong(values.length);
            for (float v : values) buf.putFloat(v);
        }, 12 + 4L * values.length);
    }

    public GgufWriter putI32s(String key, int[] values) {
        return meta(key, ARRAY, buf -> {
            buf.putInt(INT32).putLong(values.length);
            for (int v : values) buf.putInt(v);
        }, 12 + 4L * values.length);
    }

    /**
     * Declares a tensor. dims are ggml's ne: the fastest-varying first, so a PyTorch [out, in] matrix is
     * {in, out}. Rows (dims[0]) must be whole blocks of the type.
     */
    public GgufWriter tensor(String name, GgmlType type, long[] dims, TensorData data) {
        if (dims.length < 1 || dims.length > 4) throw new IllegalArgumentException(name + ": ggml tensors have 1 to 4 dimensions, got " + dims.length);
        long rows = 1;
        for (int i = 1; i < dims.length; i++) rows *= positive(name, dims[i]);
        long bytes = type.rowBytes(positive(name, dims[0])) * rows;
        for (Tensor t : tensors) {
            if (t.name.equals(name)) throw new IllegalArgumentException("tensor " + name + " declared twice");
        }
        tensors.add(new Tensor(name, type, dims.clone(), bytes, data));
        return this;
    }

    /** Bytes of the whole file, known before it is written (a cached file of another size is not this one). */
    public long fileSize() {
        long size = dataStart();
        for (Tensor t : tensors) size = align(size) + t.bytes;
        return size;
    }

    /**
     * Writes the file: to a temporary name beside path, renamed into place when complete, so that an interrupted
     * write never leaves a file that looks finished.
     */
    public void write(Path path) throws IOException {
        Path tmp = path.resolveSibling(path.getFileName() + ".part");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer head = ByteBuffer.allocate(Math.toIntExact(dataStart())).order(ByteOrder.LITTLE_ENDIAN);
            head.putInt(MAGIC).putInt(VERSION).putLong(tensors.size()).putLong(metadata.size());
            for (var e : metadata.entrySet()) {
                string(head, e.getKey());
                head.put(e.getValue());
            }
            long offset = 0;
            for (Tensor t : tensors) {
                offset = align(offset);
                string(head, t.name);
                head.putInt(t.dims.length);
                for (long d : t.dims) head.putLong(d);
                head.putInt(t.type.id).putLong(offset);
                offset += t.bytes;
            }
            drain(ch, head.position(head.capacity()).flip()); // the rest is the zero padding
            long pos = dataStart();
            for (Tensor t : tensors) {
                long start = align(pos);
                drain(ch, ByteBuffer.allocate((int) (start - pos)));
                long[] written = {0};
                t.data.write(buf -> {
                    buf.flip();
                    written[0] += buf.remaining();
                    if (written[0] > t.bytes) throw new IllegalStateException("tensor " + t.name + ": more than its " + t.bytes + " bytes written");
                    drain(ch, buf);
                    buf.clear();
                });
                if (written[0] != t.bytes) {
                    throw new IllegalStateException("tensor " + t.name + ": " + written[0] + " bytes written, its shape needs " + t.bytes);
                }
                pos = start + t.bytes;
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Where the data section starts: after the header, metadata and tensor infos, rounded up to the alignment. */
    private long dataStart() {
        long size = 4 + 4 + 8 + 8;
        for (var e : metadata.entrySet()) size += 8 + utf8(e.getKey()).length + e.getValue().length;
        for (Tensor t : tensors) size += 8 + utf8(t.name).length + 4 + 8L * t.dims.length + 4 + 8;
        return align(size);
    }

    private interface Encoder {
        void encode(ByteBuffer buf);
    }

    private GgufWriter meta(String key, int type, Encoder value, long size) {
        if (key.isEmpty()) throw new IllegalArgumentException("a metadata key must not be empty");
        if (metadata.containsKey(key)) throw new IllegalArgumentException("metadata key " + key + " set twice");
        ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(4 + size)).order(ByteOrder.LITTLE_ENDIAN);
        buf.putInt(type);
        value.encode(buf);
        metadata.put(key, buf.array());
        return this;
    }

    private static void string(ByteBuffer buf, String s) {
        byte[] b = utf8(s);
        buf.putLong(b.length).put(b);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static long align(long n) {
        return (n + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    private static long positive(String name, long d) {
        if (d <= 0) throw new IllegalArgumentException(name + ": dimensions must be positive, got " + d);
        return d;
    }

    private static void drain(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }
}
