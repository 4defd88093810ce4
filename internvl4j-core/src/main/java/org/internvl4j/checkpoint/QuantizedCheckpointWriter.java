package org.internvl4j.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.Set;
import java.util.function.LongConsumer;
import java.util.stream.Stream;
import org.internvl4j.tensor.DType;
import org.internvl4j.tensor.Quantizer;
import org.internvl4j.tensor.Weight;
import org.internvl4j.util.Faults;

/**
 * Writes a quantized copy of a checkpoint directory (what {@code internvl quantize} does): the same
 * shards under the same names, the quantizable tensors ({@link Quantization#quantizable}) as U8 blocks,
 * every other tensor byte for byte; config.json with {@value Quantization#CONFIG_KEY} added; every other
 * file (generation config, tokenizer files) copied. Crash-safe: everything is written into a hidden
 * sibling directory, synced, then renamed to OUT in one step, so OUT is either absent or complete; an
 * existing OUT is never touched. A failure on the way (a full disk) removes the hidden directory. Every write passes
 * {@link Faults#checkWrite}, so {@code -Dinternvl.faults.diskFullAfterBytes=N} shows a full disk anywhere.
 */
public final class QuantizedCheckpointWriter {
    /** Rows quantized per write: 256 rows of 14336 columns are ~3.7 MB of Q8_0. */
    private static final int ROWS_PER_CHUNK = 256;

    private QuantizedCheckpointWriter() {
    }

    /**
     * Quantizes src into a new directory out; progress gets the source bytes done after each piece
     * (of {@link #sourceBytes} in all). Returns the bytes of tensors written.
     */
    public static long write(Path src, DType format, Path out, LongConsumer progress) {
        if (format == null || !format.quantized()) throw new IllegalArgumentException("format must be Q8_0 or Q4_0, got " + format);
        if (Files.exists(out)) throw new CheckpointException(out + ": already exists; choose a new output directory (it is never overwritten)");
        Path parent = out.toAbsolutePath().getParent();
        Path tmp = parent.resolve("." + out.getFileName() + ".partial-" + ProcessHandle.current().pid());
        try (Checkpoint ckpt = Checkpoint.open(src, true, WeightMemory.Mode.MMAP, null)) {
            if (Quantization.stored(src.resolve(Checkpoint.CONFIG)) != null) {
                throw new CheckpointException(src + ": is already quantized; quantize the original BF16 checkpoint");
            }
            Set<String> quantize = Quantization.quantizable(ckpt.config());
            for (String name : quantize) {
                TensorInfo t = ckpt.tensors().get(name);
                if (t != null && t.shape()[1] % format.blockSize() != 0) {
                    throw new CheckpointException(t.file() + ": tensor " + name + " has " + t.shape()[1] + " columns; "
                            + Quantization.shortName(format) + " needs a multiple of " + format.blockSize());
                }
            }
            deleteTree(tmp);
            Files.createDirectories(tmp);
            long written = 0;
            for (SafeTensorsFile f : ckpt.files()) written += writeShard(f, quantize, format, tmp.resolve(f.path().getFileName()), progress);
            copyOthers(src, tmp, ckpt.files().stream().map(f -> f.path().getFileName().toString()).toList());
            writeConfig(src.resolve(Checkpoint.CONFIG), format, tmp.resolve(Checkpoint.CONFIG));
            if (Files.exists(src.resolve(Checkpoint.INDEX))) writeIndex(src.resolve(Checkpoint.INDEX), written, tmp.resolve(Checkpoint.INDEX));
            try {
                Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException e) {
                throw new CheckpointException(out + ": appeared while quantizing; left as it is", e);
            }
            return written;
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new CheckpointException(out + ": cannot write the quantized checkpoint: " + e.getMessage() + "; " + out.getFileName()
                    + " was not created and the partial copy was removed", e);
        } catch (RuntimeException e) {
            deleteQuietly(tmp);
            throw e;
        }
    }

    /** Bytes of tensors in src (what progress counts up to). */
    public static long sourceBytes(Path src) {
        try (Checkpoint ckpt = Checkpoint.open(src, false, WeightMemory.Mode.MMAP, null)) {
            long n = 0;
            for (TensorInfo t : ckpt.tensors().values()) n += t.byteSize();
            return n;
        }
    }

    private static long writeShard(SafeTensorsFile f, Set<String> quantize, DType format, Path dst, LongConsumer progress) throws IOException {
        ObjectNode header = SafeTensorsFile.JSON.createObjectNode();
        long offset = 0;
        for (TensorInfo t : f.tensors().values()) {
            boolean q = quantize.contains(t.name());
            long size = q ? t.shape()[0] * Weight.rowBytes(format, Math.toIntExact(t.shape()[1])) : t.byteSize();
            ObjectNode e = header.putObject(t.name());
            e.put("dtype", q ? DType.U8.safetensorsName() : t.dtype().safetensorsName());
            var shape = e.putArray("shape");
            if (q) shape.add(t.shape()[0]).add(size / t.shape()[0]);
            else for (long d : t.shape()) shape.add(d);
            e.putArray("data_offsets").add(offset).add(offset + size);
            offset += size;
        }
        ObjectNode meta = header.putObject("__metadata__");
        f.metadata().forEach(meta::put);
        meta.put("format", "pt");
        byte[] json = SafeTensorsFile.JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();
        try (FileChannel ch = FileChannel.open(dst, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
             Arena arena = Arena.ofShared()) {
            writeFully(ch, dst, head);
            for (TensorInfo t : f.tensors().values()) {
                if (quantize.contains(t.name())) {
                    writeQuantized(ch, dst, t, format, arena, progress);
                } else {
                    for (long at = 0; at < t.byteSize(); at += 64L << 20) {
                        long n = Math.min(64L << 20, t.byteSize() - at);
                        writeFully(ch, dst, t.data().asSlice(at, n).asByteBuffer());
                        progress.accept(n);
                    }
                }
            }
            ch.force(true);
        }
        return offset;
    }

    private static void writeQuantized(FileChannel ch, Path dst, TensorInfo t, DType format, Arena arena, LongConsumer progress) throws IOException {
        int rows = Math.toIntExact(t.shape()[0]), cols = Math.toIntExact(t.shape()[1]);
        long srcRow = t.dtype().byteSize(cols), dstRow = Weight.rowBytes(format, cols);
        MemorySegment buf = arena.allocate(ROWS_PER_CHUNK * dstRow, 64);
        for (int r0 = 0; r0 < rows; r0 += ROWS_PER_CHUNK) {
            int n = Math.min(ROWS_PER_CHUNK, rows - r0);
            Weight src = Weight.of(t.dtype(), t.data().asSlice(r0 * srcRow, n * srcRow), n, cols);
            MemorySegment out = buf.asSlice(0, n * dstRow);
            Quantizer.quantize(src, format, out);
            writeFully(ch, dst, out.asByteBuffer());
            progress.accept(n * srcRow);
        }
    }

    private static void writeFully(FileChannel ch, Path file, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
            Faults.checkWrite(file, ch.position());
        }
    }

    /** Every regular file of src but the shards, the index and config.json (written separately). */
    private static void copyOthers(Path src, Path dst, java.util.List<String> shards) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(src)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (!Files.isRegularFile(p) || shards.contains(name) || name.equals(Checkpoint.INDEX) || name.equals(Checkpoint.CONFIG)) continue;
                Faults.checkWrite(dst.resolve(name), Files.size(p));
                Files.copy(p, dst.resolve(name));
            }
        }
    }

    private static void writeConfig(Path src, DType format, Path dst) throws IOException {
        JsonNode root = ConfigReader.readJson(src, "");
        if (!(root instanceof ObjectNode o)) throw new CheckpointException(src + ": must be a JSON object");
        o.set(Quantization.CONFIG_KEY, Quantization.configEntry(format));
        writeSmall(dst, SafeTensorsFile.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(o));
    }

    private static void writeIndex(Path src, long totalSize, Path dst) throws IOException {
        JsonNode root = ConfigReader.readJson(src, "");
        if (!(root instanceof ObjectNode o)) throw new CheckpointException(src + ": must be a JSON object");
        JsonNode meta = o.get("metadata");
        ObjectNode m = meta instanceof ObjectNode mo ? mo : o.putObject("metadata");
        m.put("total_size", totalSize);
        writeSmall(dst, SafeTensorsFile.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(o));
    }

    private static void writeSmall(Path dst, byte[] bytes) throws IOException {
        Faults.checkWrite(dst, bytes.length);
        Files.write(dst, bytes, StandardOpenOption.CREATE_NEW);
    }

    private static void deleteQuietly(Path dir) {
        try {
            deleteTree(dir);
        } catch (IOException ignored) {
            // best effort: a leftover hidden .partial directory is harmless and replaced by the next run of this process id
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
