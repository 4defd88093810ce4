package org.internvl4j.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.internvl4j.tensor.Weight;

/**
 * A Hugging Face checkpoint directory of InternVL2, opened as it is: config.json, and
 * model.safetensors or shards listed in model.safetensors.index.json, memory-mapped.
 * Opening parses headers only; no weight is read.
 */
public final class Checkpoint implements AutoCloseable {
    private final Path dir;
    private final InternVLConfig config;
    private final List<SafeTensorsFile> files;
    private final Map<String, TensorInfo> tensors;

    private Checkpoint(Path dir, InternVLConfig config, List<SafeTensorsFile> files, Map<String, TensorInfo> tensors) {
        this.dir = dir;
        this.config = config;
        this.files = files;
        this.tensors = tensors;
    }

    public static Checkpoint open(Path dir) {
        if (!Files.isDirectory(dir)) throw new CheckpointException(dir + ": not a checkpoint directory");
        InternVLConfig config = InternVLConfig.read(dir.resolve("config.json"));
        List<SafeTensorsFile> files = new ArrayList<>();
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        try {
            Path index = dir.resolve("model.safetensors.index.json");
            if (Files.exists(index)) {
                JsonNode map;
                try {
                    map = new ObjectMapper().readTree(Files.readString(index)).path("weight_map");
                } catch (IOException e) {
                    throw new CheckpointException(index + ": malformed JSON: " + e.getMessage(), e);
                }
                if (!map.isObject()) throw new CheckpointException(index + ": missing object 'weight_map'");
                Map<String, SafeTensorsFile> byName = new LinkedHashMap<>();
                for (var it = map.fields(); it.hasNext(); ) {
                    var e = it.next();
                    String shard = e.getValue().asText();
                    SafeTensorsFile f = byName.get(shard);
                    if (f == null) {
                        Path p = dir.resolve(shard);
                        if (!Files.exists(p)) throw new CheckpointException(index + ": names shard " + shard + " (for tensor " + e.getKey() + "), which does not exist");
                        f = SafeTensorsFile.open(p);
                        byName.put(shard, f);
                        files.add(f);
                    }
                    TensorInfo t = f.tensors().get(e.getKey());
                    if (t == null) throw new CheckpointException(index + ": tensor " + e.getKey() + " is mapped to " + shard + ", which lacks it");
                    tensors.put(e.getKey(), t);
                }
            } else {
                Path single = dir.resolve("model.safetensors");
                if (!Files.exists(single)) throw new CheckpointException(dir + ": has neither model.safetensors nor model.safetensors.index.json");
                SafeTensorsFile f = SafeTensorsFile.open(single);
                files.add(f);
                tensors.putAll(f.tensors());
            }
        } catch (RuntimeException e) {
            files.forEach(SafeTensorsFile::close);
            throw e;
        }
        return new Checkpoint(dir, config, files, Collections.unmodifiableMap(tensors));
    }

    public Path dir() {
        return dir;
    }

    public InternVLConfig config() {
        return config;
    }

    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    /** The tensor with this name and exactly this shape. */
    public TensorInfo tensor(String name, long... shape) {
        TensorInfo t = tensors.get(name);
        if (t == null) throw new CheckpointException(dir + ": tensor " + name + " is missing (the model needs it)");
        if (!Arrays.equals(t.shape(), shape)) {
            throw new CheckpointException(t.file() + ": tensor " + name + " has shape " + t.shapeString()
                    + ", config.json implies " + Arrays.toString(shape));
        }
        return t;
    }

    /** A 2-D weight [rows, cols], a view over the mapped file. */
    public Weight weight(String name, int rows, int cols) {
        TensorInfo t = tensor(name, rows, cols);
        return Weight.of(t.dtype(), t.data(), rows, cols);
    }

    /** A small tensor (norm weight, bias, embedding) widened to float32 on the heap. */
    public float[] floats(String name, long... shape) {
        TensorInfo t = tensor(name, shape);
        long n = t.elementCount();
        return Weight.of(t.dtype(), t.data(), 1, Math.toIntExact(n)).toFloatArray();
    }

    @Override
    public void close() {
        files.forEach(SafeTensorsFile::close);
    }
}
