package org.internvl4j.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.internvl4j.tensor.DType;

/**
 * Which tensors of a checkpoint are block-quantized, and how a quantized checkpoint says so.
 *
 * <p>Quantized: the language model's linear weights (q/k/v, o, gate/up, down and an untied output
 * head): about 93 % of InternVL2-8B's bytes, and every byte decode reads per token. Not quantized: the
 * token embeddings (one row read per token), norms and biases (tiny), and the vision tower and projector
 * (about 4 % of the bytes, run once per image where the products are compute-bound, so fewer bytes gain
 * nothing; their quality cost was not worth measuring before the LLM's).
 *
 * <p>On disk a quantized tensor is a safetensors U8 tensor [rows, cols / 32 * bytes per block] under its
 * usual name, and config.json carries {@value #CONFIG_KEY}: {@code {"quant_method": "internvl4j",
 * "format": "q8_0" | "q4_0", "block_size": 32, "scale": "float16", "layout": "panel16"}}
 * ({@link org.internvl4j.tensor.QuantLayout}: rows interleaved by 16). {@link Checkpoint#open} reads the
 * U8 bytes back as that format with the logical shape [rows, cols], memory-mapped, with no further work.
 */
public final class Quantization {
    /** The config.json entry (transformers' name for it; its quant_method names this project, so transformers refuses the files rather than misreading them). */
    public static final String CONFIG_KEY = "quantization_config";
    public static final String METHOD = "internvl4j";
    /** The byte layout of the blocks, {@link org.internvl4j.tensor.QuantLayout}'s panels of 16 rows. */
    public static final String LAYOUT = "panel16";
    /** System property read when no format is passed: q8, q4 or none. */
    public static final String PROPERTY = "internvl.quantize";

    private Quantization() {
    }

    /** q8 / q8_0 -> Q8_0, q4 / q4_0 -> Q4_0, none or empty -> null; anything else an error naming the setting. */
    public static DType parse(String name, String setting) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "", "none" -> null;
            case "q8", "q8_0" -> DType.Q8_0;
            case "q4", "q4_0" -> DType.Q4_0;
            default -> throw new IllegalArgumentException(setting + " must be q8 or q4 (or none), got '" + name + "'");
        };
    }

    /** The format of {@value #PROPERTY}, or null. */
    public static DType fromSystemProperty() {
        return parse(System.getProperty(PROPERTY, ""), "system property " + PROPERTY);
    }

    /** The short name a user types: q8 or q4. */
    public static String shortName(DType format) {
        return format == DType.Q8_0 ? "q8" : "q4";
    }

    /** Full names of the tensors that are quantized: the language model's 2-D weights except the token embeddings. */
    public static Set<String> quantizable(InternVLConfig config) {
        LlmConfig c = config.llm();
        String embed = LlmArchitecture.weight(c.arch().embed());
        Set<String> out = new LinkedHashSet<>();
        for (Map.Entry<String, long[]> e : c.arch().tensors(c).entrySet()) {
            if (e.getValue().length == 2 && !e.getKey().equals(embed)) out.add(e.getKey());
        }
        return out;
    }

    /** The format a checkpoint directory was quantized to by `internvl quantize`, or null when it is not (or has no config.json). */
    public static DType storedIn(Path checkpointDir) {
        Path config = checkpointDir.resolve(Checkpoint.CONFIG);
        return java.nio.file.Files.isRegularFile(config) ? stored(config) : null;
    }

    /** The format named by config.json's {@value #CONFIG_KEY}, or null when the checkpoint is not quantized. */
    static DType stored(Path configJson) {
        JsonNode root = ConfigReader.readJson(configJson, "");
        JsonNode q = root == null ? null : root.get(CONFIG_KEY);
        if (q == null || q.isNull()) return null;
        String method = q.path("quant_method").asText("");
        if (!METHOD.equals(method)) {
            throw new CheckpointException(configJson + ": " + CONFIG_KEY + ".quant_method is '" + method + "'; only checkpoints written by "
                    + "`internvl quantize` (quant_method \"" + METHOD + "\") can be read (bitsandbytes/GPTQ/AWQ files are not supported)");
        }
        String format = q.path("format").asText("");
        DType t = switch (format) {
            case "q8_0" -> DType.Q8_0;
            case "q4_0" -> DType.Q4_0;
            default -> throw new CheckpointException(configJson + ": " + CONFIG_KEY + ".format must be \"q8_0\" or \"q4_0\", got '" + format + "'");
        };
        if (q.path("block_size").asInt(-1) != 32 || !"float16".equals(q.path("scale").asText(""))) {
            throw new CheckpointException(configJson + ": " + CONFIG_KEY + " must have block_size 32 and scale \"float16\", got " + q);
        }
        if (!LAYOUT.equals(q.path("layout").asText(""))) {
            throw new CheckpointException(configJson + ": " + CONFIG_KEY + ".layout is '" + q.path("layout").asText("") + "', this version reads \""
                    + LAYOUT + "\" (rows interleaved by 16); a checkpoint quantized by an earlier version (row layout, no layout entry) "
                    + "must be quantized again from its BF16 original with `internvl quantize`");
        }
        return t;
    }

    /** The entry written into config.json for this format. */
    public static ObjectNode configEntry(DType format) {
        ObjectNode n = SafeTensorsFile.JSON.createObjectNode();
        n.put("quant_method", METHOD).put("format", format.name().toLowerCase(Locale.ROOT)).put("block_size", 32).put("scale", "float16").put("layout", LAYOUT)
                .put("modules", "language model linear layers and output head; embeddings, norms, vision tower and projector unquantized");
        return n;
    }

    /**
     * A U8 tensor of a quantized checkpoint read as its format: shape [rows, bytes per row] becomes [rows, cols].
     * Anything else comes back unchanged.
     */
    static TensorInfo asFormat(TensorInfo t, DType format) {
        if (t.dtype() != DType.U8) {
            throw new CheckpointException(t.file() + ": tensor " + t.name() + " is " + t.dtype().safetensorsName() + ", but config.json's "
                    + CONFIG_KEY + " says the language model's linear weights are " + format + " blocks stored as U8");
        }
        if (t.shape().length != 2 || t.shape()[1] % format.blockBytes() != 0) {
            throw new CheckpointException(t.file() + ": tensor " + t.name() + " has shape " + t.shapeString() + "; " + format
                    + " rows must be whole blocks of " + format.blockBytes() + " bytes");
        }
        long cols = t.shape()[1] / format.blockBytes() * format.blockSize();
        return new TensorInfo(t.name(), format, new long[] {t.shape()[0], cols}, t.data(), t.file());
    }

    /** Told how quantizing at load goes (the CLI draws a bar); the default says nothing. */
    public interface Listener {
        Listener NONE = new Listener() {
        };

        /** Quantizing starts: this many bytes of source weights to read. */
        default void started(DType format, long sourceBytes) {
        }

        /** bytes more of the source were quantized. */
        default void advanced(long bytes) {
        }

        default void finished() {
        }
    }

    private static volatile Listener listener = Listener.NONE;

    /** Installs the listener for quantizing at load (process-wide: loading is reached through many entry points). */
    public static void listener(Listener l) {
        listener = l == null ? Listener.NONE : l;
    }

    static Listener listener() {
        return listener;
    }
}
