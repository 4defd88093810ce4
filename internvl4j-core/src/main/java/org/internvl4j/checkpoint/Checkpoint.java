package org.internvl4j.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.lang.foreign.MemorySegment;
import org.internvl4j.tensor.DType;
import org.internvl4j.tensor.Quantizer;
import org.internvl4j.tensor.Weight;
import org.internvl4j.util.Limits;

/**
 * A Hugging Face checkpoint directory of InternVL2, opened as it is: config.json,
 * generation_config.json, and model.safetensors or the shards listed in
 * model.safetensors.index.json, memory-mapped. Opening parses and checks headers and the list of
 * tensors against config.json; no weight is read until something touches it.
 */
public final class Checkpoint implements AutoCloseable {
    public static final String CONFIG = "config.json";
    public static final String GENERATION_CONFIG = "generation_config.json";
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";

    private final Path dir;
    private final InternVLConfig config;
    private final GenerationConfig generationConfig;
    private final List<SafeTensorsFile> files;
    private final Map<String, TensorInfo> tensors;
    private final Path tensorListFile;
    private final WeightMemory memory;
    private final Map<String, Weight> placed = new java.util.concurrent.ConcurrentHashMap<>();

    private Checkpoint(Path dir, InternVLConfig config, GenerationConfig generationConfig, List<SafeTensorsFile> files,
            Map<String, TensorInfo> tensors, Path tensorListFile, WeightMemory.Mode mode) {
        this.dir = dir;
        this.config = config;
        this.generationConfig = generationConfig;
        this.files = files;
        this.tensors = tensors;
        this.tensorListFile = tensorListFile;
        long bytes = 0;
        for (TensorInfo t : tensors.values()) bytes += t.byteSize();
        this.memory = WeightMemory.of(mode, bytes);
    }

    /** Opens and validates: every tensor the model needs must be present with the shape config.json implies. */
    public static Checkpoint open(Path dir) {
        return open(dir, true);
    }

    /**
     * Opens a checkpoint; with {@code checkModelTensors} false, only the files themselves are checked
     * (headers, index, config), so a partial checkpoint can still be inspected.
     */
    public static Checkpoint open(Path dir, boolean checkModelTensors) {
        return open(dir, checkModelTensors, WeightMemory.Mode.fromSystemProperty());
    }

    /** As {@link #open(Path, boolean)}, with the weights held as mode says (see {@link WeightMemory}). */
    public static Checkpoint open(Path dir, boolean checkModelTensors, WeightMemory.Mode mode) {
        return open(dir, checkModelTensors, mode, Quantization.fromSystemProperty());
    }

    /**
     * As {@link #open(Path, boolean, WeightMemory.Mode)}; with {@code quantizeTo} (Q8_0 or Q4_0; null for none) the
     * language model's linear weights ({@link Quantization#quantizable}) are quantized now, read once from the
     * mapped file into anonymous memory, with progress told to {@link Quantization#listener(Quantization.Listener)}.
     * A checkpoint already quantized to that format loads as it is; one quantized to the other format is refused.
     */
    public static Checkpoint open(Path dir, boolean checkModelTensors, WeightMemory.Mode mode, DType quantizeTo) {
        if (!Files.isDirectory(dir)) throw new CheckpointException(dir + ": not a checkpoint directory (no such directory)");
        InternVLConfig config = InternVLConfig.read(dir.resolve(CONFIG));
        GenerationConfig generation = GenerationConfig.read(dir);
        List<SafeTensorsFile> files = new ArrayList<>();
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Path listFile;
        try {
            Path index = dir.resolve(INDEX);
            if (Files.exists(index)) {
                listFile = index;
                readSharded(dir, index, files, tensors);
            } else {
                listFile = dir.resolve(SINGLE_FILE);
                if (!Files.exists(listFile)) {
                    throw new CheckpointException(dir + ": has neither " + SINGLE_FILE + " nor " + INDEX + "; is this a checkpoint directory?");
                }
                SafeTensorsFile f = SafeTensorsFile.open(listFile);
                files.add(f);
                tensors.putAll(f.tensors());
            }
            DType stored = Quantization.stored(dir.resolve(CONFIG));
            if (stored != null) {
                for (String name : Quantization.quantizable(config)) {
                    TensorInfo t = tensors.get(name);
                    if (t != null) tensors.put(name, Quantization.asFormat(t, stored));
                }
                if (quantizeTo != null && quantizeTo != stored) {
                    throw new CheckpointException(dir + ": is already quantized to " + Quantization.shortName(stored) + "; it cannot be re-quantized to "
                            + Quantization.shortName(quantizeTo) + " (quantize the original BF16 checkpoint instead)");
                }
            }
            Checkpoint ckpt = new Checkpoint(dir, config, generation, Collections.unmodifiableList(files),
                    Collections.unmodifiableMap(tensors), listFile, mode);
            if (checkModelTensors) ckpt.validate();
            if (quantizeTo != null && stored == null) {
                try {
                    ckpt.quantizeAtLoad(quantizeTo);
                } catch (RuntimeException e) {
                    ckpt.memory.close();
                    throw e;
                }
            }
            return ckpt;
        } catch (RuntimeException e) {
            files.forEach(SafeTensorsFile::close);
            throw e;
        }
    }

    private static void readSharded(Path dir, Path index, List<SafeTensorsFile> files, Map<String, TensorInfo> tensors) {
        JsonNode root = ConfigReader.readJson(index, "");
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) throw new CheckpointException(index + ": missing object 'weight_map' {tensor name: shard file}");
        Limits limits = Limits.current();
        if (map.size() > limits.tensors()) {
            throw new CheckpointException(index + ": weight_map lists " + Limits.count(map.size()) + " tensors, above the limit of "
                    + Limits.count(limits.tensors()) + " (-D" + Limits.PREFIX + "tensors)");
        }
        Path base = dir.toAbsolutePath().normalize();
        Map<Path, SafeTensorsFile> shards = new LinkedHashMap<>();
        Map<String, Path> listed = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            String name = e.getKey();
            if (!e.getValue().isTextual()) throw new CheckpointException(index + ": weight_map entry for " + name + " must be a file name, got " + e.getValue());
            String shardName = e.getValue().textValue();
            Path p = dir.resolve(shardName).normalize();
            Path absolute = p.toAbsolutePath().normalize();
            if (!absolute.startsWith(base) || absolute.equals(base)) {
                throw new CheckpointException(index + ": weight_map names shard '" + shardName + "' (for tensor " + name + "), which is not a file inside the checkpoint directory");
            }
            SafeTensorsFile f = shards.get(p);
            if (f == null) {
                if (!Files.isRegularFile(p)) {
                    throw new CheckpointException(index + ": names shard " + shardName + " (for tensor " + name + "), which does not exist");
                }
                if (shards.size() == limits.shards()) {
                    throw new CheckpointException(index + ": weight_map names more than " + limits.shards()
                            + " shard files, the limit (-D" + Limits.PREFIX + "shards)");
                }
                f = SafeTensorsFile.open(p);
                shards.put(p, f);
                files.add(f);
            }
            TensorInfo t = f.tensors().get(name);
            if (t == null) throw new CheckpointException(index + ": tensor " + name + " is mapped to " + shardName + ", which lacks it");
            tensors.put(name, t);
            listed.put(name, p);
        }
        // A tensor in two shards, or in a shard the index does not send it to, means the files and the index disagree.
        for (SafeTensorsFile f : files) {
            for (String name : f.tensors().keySet()) {
                Path owner = listed.get(name);
                if (owner == null) {
                    throw new CheckpointException(f.path() + ": holds tensor " + name + ", which " + index.getFileName() + " does not list");
                }
                if (!owner.equals(f.path())) {
                    throw new CheckpointException(f.path() + ": holds tensor " + name + ", which is also in " + owner.getFileName()
                            + " (the index maps it there); each tensor must be in one shard only");
                }
            }
        }
    }

    /**
     * Checks that every tensor the model needs (see {@link InternVLTensors#expected}) is present
     * with the shape config.json implies; the error names the first that is not.
     */
    public void validate() {
        Map<String, long[]> expected = InternVLTensors.expected(config);
        int present = 0;
        for (String name : expected.keySet()) if (tensors.containsKey(name)) present++;
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            TensorInfo t = tensors.get(e.getKey());
            if (t == null) {
                throw new CheckpointException(tensorListFile + ": tensor " + e.getKey() + " is missing; the model needs it with shape "
                        + TensorInfo.shapeString(e.getValue()) + " (" + present + " of " + expected.size() + " required tensors present)");
            }
            if (!Arrays.equals(t.shape(), e.getValue())) {
                throw new CheckpointException(t.file() + ": tensor " + e.getKey() + " has shape " + t.shapeString()
                        + ", but config.json implies " + TensorInfo.shapeString(e.getValue()));
            }
        }
    }

    public Path dir() {
        return dir;
    }

    public InternVLConfig config() {
        return config;
    }

    /** generation_config.json, or defaults from config.json when the file is absent. */
    public GenerationConfig generationConfig() {
        return generationConfig;
    }

    /** All tensors by name, in index (or header) order. */
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    /** The safetensors files, one per shard. */
    public List<SafeTensorsFile> files() {
        return files;
    }

    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    /** The tensor with this name and exactly this shape. */
    public TensorInfo tensor(String name, long... shape) {
        TensorInfo t = tensors.get(name);
        if (t == null) throw new CheckpointException(tensorListFile + ": tensor " + name + " is missing (the model needs it with shape " + TensorInfo.shapeString(shape) + ")");
        if (!Arrays.equals(t.shape(), shape)) {
            throw new CheckpointException(t.file() + ": tensor " + name + " has shape " + t.shapeString()
                    + ", but config.json implies " + TensorInfo.shapeString(shape));
        }
        return t;
    }

    /**
     * A 2-D weight [rows, cols]: a view over the mapped file, or its copy in anonymous memory (see
     * {@link WeightMemory}); asking twice gives the same one.
     */
    public Weight weight(String name, int rows, int cols) {
        TensorInfo t = tensor(name, rows, cols);
        return placed.computeIfAbsent(name, n -> {
            try {
                return Weight.of(t.dtype(), memory.place(t.data()), rows, cols);
            } catch (InternalError e) {
                throw mappedFault(e); // the shard shrank while its weights were being copied
            }
        });
    }

    /**
     * Throws a {@link CheckpointException} naming the shards that were truncated, replaced or modified since they were
     * mapped; does nothing when none was. A stat per shard.
     */
    public void checkUnchanged() {
        List<String> changed = new ArrayList<>();
        for (SafeTensorsFile f : files) {
            String c = f.changeSinceOpened();
            if (c != null) changed.add(c);
        }
        if (!changed.isEmpty()) {
            throw new CheckpointException("the checkpoint changed under the running model: " + String.join("; ", changed)
                    + (memory.copies() ? "" : " (its weights are read from the mapped files, so they are no longer what was loaded)")
                    + "; load the model again");
        }
    }

    /**
     * What a fault in reading mapped weights (the JVM's InternalError "a fault occurred in an unsafe memory access",
     * its answer to SIGBUS when a mapped file shrank) means: a CheckpointException naming the changed shard when one
     * changed; otherwise the fault is not ours to explain and is rethrown as it was.
     */
    public RuntimeException mappedFault(InternalError fault) {
        try {
            checkUnchanged();
        } catch (CheckpointException e) {
            e.initCause(fault);
            return e;
        }
        throw fault;
    }

    /** Quantizes every quantizable 2-D float tensor present into anonymous memory; later {@link #weight} calls return the result. */
    private void quantizeAtLoad(DType format) {
        List<TensorInfo> todo = new ArrayList<>();
        long total = 0;
        for (String name : Quantization.quantizable(config)) {
            TensorInfo t = tensors.get(name);
            if (t == null || t.shape().length != 2 || t.dtype().quantized()) continue;
            if (t.shape()[1] % format.blockSize() != 0) {
                throw new CheckpointException(t.file() + ": tensor " + name + " has " + t.shape()[1] + " columns; " + Quantization.shortName(format)
                        + " needs a multiple of " + format.blockSize() + " (whole blocks per row), so this checkpoint cannot be quantized");
            }
            todo.add(t);
            total += t.byteSize();
        }
        Quantization.Listener l = Quantization.listener();
        l.started(format, total);
        try {
            for (TensorInfo t : todo) {
                int rows = Math.toIntExact(t.shape()[0]), cols = Math.toIntExact(t.shape()[1]);
                Weight src = Weight.of(t.dtype(), t.data(), rows, cols);
                MemorySegment dst = memory.allocate(rows * Weight.rowBytes(format, cols));
                Quantizer.quantize(src, format, dst);
                memory.release(t.data());
                placed.put(t.name(), Weight.of(format, dst, rows, cols));
                l.advanced(t.byteSize());
            }
        } finally {
            l.finished();
        }
    }

    /** The format of the language model's linear weights: Q8_0 or Q4_0 when quantized (stored or at load), else as stored (BF16 usually). */
    public DType weightFormat() {
        for (String n : Quantization.quantizable(config)) {
            Weight w = placed.get(n);
            if (w != null) return w.dtype();
            TensorInfo t = tensors.get(n);
            if (t != null) return t.dtype();
        }
        return DType.BF16;
    }

    /** Where the weights live (mapped or copied), and how many bytes were copied. */
    public WeightMemory memory() {
        return memory;
    }

    /** A small tensor (norm weight, bias, embedding) widened to float32 on the heap. */
    public float[] floats(String name, long... shape) {
        return tensor(name, shape).toFloatArray();
    }

    @Override
    public void close() {
        memory.close();
        files.forEach(SafeTensorsFile::close);
    }

}
