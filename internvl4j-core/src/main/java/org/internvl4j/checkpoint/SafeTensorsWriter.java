package org.internvl4j.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.internvl4j.tensor.DType;
import org.internvl4j.util.AtomicFiles;

/**
 * Writes a safetensors file the way the reference's write_safetensors does: tensors sorted by name,
 * packed back to back, a compact JSON header ending with "__metadata__" and padded with spaces to a
 * multiple of 8. Given the same float values it produces the same bytes.
 *
 * <pre>{@code
 * new SafeTensorsWriter()
 *     .add("w", DType.BF16, new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6})
 *     .write(path);
 * }</pre>
 */
public final class SafeTensorsWriter {
    /** A tensor to write; bytes == null means size zero bytes left as a hole in the file. */
    private record Entry(String dtypeName, long[] shape, byte[] bytes, long size) {
    }

    private final Map<String, Entry> tensors = new TreeMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>(Map.of("format", "pt"));

    /** Adds a tensor converted from float32 to dtype (BF16 and F16 round to nearest even). */
    public SafeTensorsWriter add(String name, DType dtype, long[] shape, float[] values) {
        long n = 1;
        for (long d : shape) n *= d;
        if (n != values.length) {
            throw new IllegalArgumentException("tensor " + name + ": shape " + TensorInfo.shapeString(shape) + " has " + n
                    + " elements, got " + values.length + " values");
        }
        return addRaw(name, dtype.safetensorsName(), shape, encode(dtype, values));
    }

    /** Adds a tensor from its raw little-endian bytes, under any dtype name (no checks: tests write bad files with it). */
    public SafeTensorsWriter addRaw(String name, String dtypeName, long[] shape, byte[] bytes) {
        return put(name, new Entry(dtypeName, shape.clone(), bytes, bytes.length));
    }

    /**
     * Adds an all-zero tensor that is not held in memory: the writer leaves a hole, so a real-sized
     * checkpoint (16 GB) costs no time and, on file systems with sparse files, no disk.
     */
    public SafeTensorsWriter addZeros(String name, DType dtype, long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return put(name, new Entry(dtype.safetensorsName(), shape.clone(), null, SafeTensorsFile.byteSize(dtype, n)));
    }

    private SafeTensorsWriter put(String name, Entry e) {
        if (name.equals("__metadata__")) throw new IllegalArgumentException("__metadata__ is reserved");
        if (tensors.putIfAbsent(name, e) != null) throw new IllegalArgumentException("tensor " + name + " added twice");
        return this;
    }

    /** Replaces the metadata (default {"format": "pt"}). */
    public SafeTensorsWriter metadata(Map<String, String> values) {
        metadata.clear();
        metadata.putAll(values);
        return this;
    }

    /** Writes the file and returns the size of its data area (the sum of the tensor sizes). */
    public long write(Path path) {
        StringBuilder json = new StringBuilder("{");
        long offset = 0;
        for (Map.Entry<String, Entry> e : tensors.entrySet()) {
            Entry t = e.getValue();
            if (json.length() > 1) json.append(',');
            appendString(json, e.getKey());
            json.append(":{\"dtype\":");
            appendString(json, t.dtypeName);
            json.append(",\"shape\":[");
            for (int i = 0; i < t.shape.length; i++) json.append(i > 0 ? "," : "").append(t.shape[i]);
            json.append("],\"data_offsets\":[").append(offset).append(',').append(offset + t.size).append("]}");
            offset += t.size;
        }
        if (json.length() > 1) json.append(',');
        json.append("\"__metadata__\":{");
        boolean first = true;
        for (Map.Entry<String, String> m : metadata.entrySet()) {
            if (!first) json.append(',');
            first = false;
            appendString(json, m.getKey());
            json.append(':');
            appendString(json, m.getValue());
        }
        json.append("}}");
        byte[] header = json.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (header.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(header);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();
        try {
            AtomicFiles.write(path, ch -> {
                writeFully(ch, head);
                long position = head.limit();
                for (Entry t : tensors.values()) {
                    if (t.bytes != null) writeFully(ch, ByteBuffer.wrap(t.bytes), position);
                    position += t.size;
                }
                if (ch.size() < position) writeFully(ch, ByteBuffer.allocate(1), position - 1); // a trailing hole still needs its length
            });
        } catch (IOException e) {
            throw new CheckpointException(path + ": cannot write: " + e.getMessage(), e);
        }
        return offset;
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    private static void writeFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
        while (b.hasRemaining()) position += ch.write(b, position);
    }

    /** float32 values as little-endian bytes of dtype. */
    public static byte[] encode(DType dtype, float[] values) {
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(dtype.byteSize(values.length))).order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case F32 -> {
                for (float v : values) b.putFloat(v);
            }
            case F16 -> {
                for (float v : values) b.putShort(Float.floatToFloat16(v));
            }
            case BF16 -> {
                for (float v : values) b.putShort(floatToBf16(v));
            }
            default -> throw new IllegalArgumentException("cannot encode floats as " + dtype + " (write quantized blocks as U8 bytes)");
        }
        return b.array();
    }

    /**
     * float32 -> bfloat16 bits, round to nearest even, as PyTorch's .to(torch.bfloat16) on the CPU
     * (c10 round_to_nearest_even). Any NaN becomes 0xFFFF, which is what torch's vectorised CPU path
     * (cvtfp32_bf16) writes and so what the reference's files hold.
     */
    public static short floatToBf16(float f) {
        if (Float.isNaN(f)) return (short) 0xFFFF;
        int bits = Float.floatToRawIntBits(f);
        int roundingBias = ((bits >>> 16) & 1) + 0x7FFF;
        return (short) ((bits + roundingBias) >>> 16);
    }

    /** JSON string as Python's json.dumps writes it (ensure_ascii: non-ASCII as lowercase \\uXXXX). */
    private static void appendString(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || c > 0x7E) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
                }
            }
        }
        out.append('"');
    }
}
