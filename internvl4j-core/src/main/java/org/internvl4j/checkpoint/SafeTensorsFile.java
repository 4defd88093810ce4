package org.internvl4j.checkpoint;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.internvl4j.tensor.DType;
import org.internvl4j.util.Json;
import org.internvl4j.util.Limits;

/**
 * A memory-mapped safetensors file: an 8-byte little-endian header length, a JSON header
 * {name: {dtype, shape, data_offsets}} (plus "__metadata__"), then the raw little-endian data.
 * Opening maps the whole file (64-bit offsets: shards of several GB are fine) and parses and checks
 * the header; tensor bytes are read only when something touches them.
 */
public final class SafeTensorsFile implements AutoCloseable {
    static final ObjectMapper JSON = Json.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final Path path;
    private final Arena arena;
    private final long headerBytes;
    private final long openedSize;
    private final java.nio.file.attribute.FileTime openedModified;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafeTensorsFile(Path path, Arena arena, long headerBytes, Map<String, TensorInfo> tensors, Map<String, String> metadata,
                            long openedSize, java.nio.file.attribute.FileTime openedModified) {
        this.path = path;
        this.arena = arena;
        this.headerBytes = headerBytes;
        this.openedSize = openedSize;
        this.openedModified = openedModified;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    public static SafeTensorsFile open(Path path) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            java.nio.file.attribute.FileTime modified = java.nio.file.Files.getLastModifiedTime(path);
            if (size < 8) throw new CheckpointException(path + ": file is " + size + " bytes, too short for a safetensors header");
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long headerLen = all.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            // Real headers are well under 1 MB (InternVL2-8B: about 60 KB); the limit (the reference's own 100 MB) is
            // checked, with the file's size, before any buffer is sized by the length.
            Limits limits = Limits.current();
            if (headerLen < 2 || headerLen > limits.headerBytes()) {
                throw new CheckpointException(path + ": header length " + Long.toUnsignedString(headerLen)
                        + " is not plausible (expected 2 to " + Limits.count(limits.headerBytes())
                        + " bytes, -D" + Limits.PREFIX + "headerBytes); not a safetensors file or corrupt");
            }
            if (headerLen > size - 8) {
                throw new CheckpointException(path + ": header length " + headerLen + " runs past the end of the file ("
                        + size + " bytes); the file is truncated or corrupt");
            }
            JsonNode header = parseHeader(path, all.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE));
            MemorySegment data = all.asSlice(8 + headerLen);
            Map<String, TensorInfo> tensors = new LinkedHashMap<>();
            Map<String, long[]> ranges = new LinkedHashMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            int tensorCount = header.size() - (header.has("__metadata__") ? 1 : 0);
            if (tensorCount > limits.tensors()) {
                throw new CheckpointException(path + ": header lists " + Limits.count(tensorCount) + " tensors, above the limit of "
                        + Limits.count(limits.tensors()) + " (-D" + Limits.PREFIX + "tensors)");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = header.properties().iterator(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().equals("__metadata__")) {
                    if (!e.getValue().isObject()) throw new CheckpointException(path + ": header field __metadata__ must be an object of strings, got " + e.getValue());
                    e.getValue().properties().forEach(m -> metadata.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                tensors.put(e.getKey(), parseTensor(path, e.getKey(), e.getValue(), data, ranges));
            }
            checkNoOverlap(path, ranges);
            return new SafeTensorsFile(path, arena, headerLen, Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata),
                    size, modified);
        } catch (NoSuchFileException e) {
            arena.close();
            throw new CheckpointException(path + ": file not found", e);
        } catch (java.nio.channels.ClosedByInterruptException e) {
            arena.close(); // the thread's interrupt status stays set for its owner
            throw new CheckpointException(path + ": interrupted while opening the file; nothing was loaded", e);
        } catch (IOException e) {
            arena.close();
            throw new CheckpointException(path + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static JsonNode parseHeader(Path path, byte[] bytes) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointException(path + ": safetensors header is not valid UTF-8", e);
        }
        JsonNode header;
        try {
            header = JSON.readTree(text);
        } catch (IOException e) {
            throw new CheckpointException(path + ": malformed safetensors header JSON: " + firstLine(e.getMessage()), e);
        }
        if (header == null || !header.isObject()) {
            throw new CheckpointException(path + ": safetensors header must be a JSON object {name: {dtype, shape, data_offsets}}, got "
                    + (header == null ? "nothing" : header.getNodeType().toString().toLowerCase()));
        }
        return header;
    }

    private static TensorInfo parseTensor(Path path, String name, JsonNode node, MemorySegment data, Map<String, long[]> ranges) {
        String where = path + ": tensor " + name;
        if (!node.isObject()) throw new CheckpointException(where + ": entry must be an object {dtype, shape, data_offsets}, got " + node);
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) throw new CheckpointException(where + ": missing string field 'dtype'");
        DType dtype = DType.fromSafetensors(dtypeNode.textValue());
        if (dtype == null) {
            throw new CheckpointException(where + " has dtype '" + dtypeNode.textValue() + "', which is not supported (supported: "
                    + String.join(", ", supportedDtypes()) + ")");
        }
        long[] shape = nonNegativeLongs(where, node.get("shape"), "shape", -1);
        long[] offsets = nonNegativeLongs(where, node.get("data_offsets"), "data_offsets", 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (end < begin || end > data.byteSize()) {
            throw new CheckpointException(where + ": byte range [" + begin + ", " + end + ") lies outside the data area of "
                    + data.byteSize() + " bytes");
        }
        long elements = elementCount(where, shape);
        long need = byteSize(dtype, elements);
        if (end - begin != need) {
            throw new CheckpointException(where + ": holds " + (end - begin) + " bytes, but shape " + TensorInfo.shapeString(shape)
                    + " of " + dtype.safetensorsName() + " needs " + need);
        }
        ranges.put(name, offsets);
        return new TensorInfo(name, dtype, shape, data.asSlice(begin, end - begin), path);
    }

    /** Bytes of `elements` values of this type (files hold only plain types; quantized blocks are U8 bytes). */
    static long byteSize(DType dtype, long elements) {
        return dtype.byteSize(elements);
    }

    private static long elementCount(String where, long[] shape) {
        long n = 1;
        try {
            for (long d : shape) n = Math.multiplyExact(n, d);
        } catch (ArithmeticException e) {
            throw new CheckpointException(where + ": shape " + TensorInfo.shapeString(shape) + " has more elements than fit in 64 bits");
        }
        return n;
    }

    private static long[] nonNegativeLongs(String where, JsonNode node, String field, int length) {
        if (node == null || !node.isArray()) throw new CheckpointException(where + ": missing array field '" + field + "'");
        if (length >= 0 && node.size() != length) throw new CheckpointException(where + ": '" + field + "' must have " + length + " entries, got " + node);
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw new CheckpointException(where + ": '" + field + "' must hold non-negative integers, got " + node);
            }
            out[i] = v.longValue();
        }
        return out;
    }

    /** Two tensors sharing bytes would alias silently: safetensors forbids it, and so do we. */
    private static void checkNoOverlap(Path path, Map<String, long[]> ranges) {
        List<Map.Entry<String, long[]>> byStart = new ArrayList<>(ranges.entrySet());
        byStart.removeIf(e -> e.getValue()[0] == e.getValue()[1]);
        byStart.sort(Comparator.comparingLong(e -> e.getValue()[0]));
        for (int i = 1; i < byStart.size(); i++) {
            var a = byStart.get(i - 1);
            var b = byStart.get(i);
            if (b.getValue()[0] < a.getValue()[1]) {
                throw new CheckpointException(path + ": tensor " + b.getKey() + " byte range " + range(b.getValue())
                        + " overlaps tensor " + a.getKey() + " " + range(a.getValue()) + "; every tensor needs its own bytes");
            }
        }
    }

    private static String range(long[] r) {
        return "[" + r[0] + ", " + r[1] + ")";
    }

    static List<String> supportedDtypes() {
        List<String> names = new ArrayList<>();
        for (DType t : DType.values()) if (t.safetensorsName() != null) names.add(t.safetensorsName());
        return names;
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    public Path path() {
        return path;
    }

    /**
     * How the file differs from when it was opened and mapped (size, then modification time), or null when it does
     * not. A mapped file that shrinks makes reads past its new end fault (SIGBUS, which the JVM turns into an
     * InternalError); one rewritten in place changes the weights under the model without any fault.
     */
    public String changeSinceOpened() {
        try {
            var now = java.nio.file.Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class); // one stat
            long size = now.size();
            if (size != openedSize) return path + " is now " + size + " bytes, it was " + openedSize + " when mapped";
            java.nio.file.attribute.FileTime t = now.lastModifiedTime();
            if (!t.equals(openedModified)) return path + " was modified at " + t + " after it was mapped (" + openedModified + ")";
            return null;
        } catch (IOException e) {
            return path + " can no longer be read (" + e.getMessage() + ")";
        }
    }

    /** Length of the JSON header in bytes (data starts at 8 + this). */
    public long headerBytes() {
        return headerBytes;
    }

    /** Tensors in header order. */
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public void close() {
        arena.close();
    }
}
