package org.internvl4j.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.internvl4j.checkpoint.InternVLConfig;
import org.internvl4j.checkpoint.InternVLTensors;
import org.internvl4j.checkpoint.LlmArchitecture;
import org.internvl4j.util.Json;
import org.internvl4j.util.AtomicFiles;

/**
 * Writes a random-weight InternVL2 checkpoint with chosen shapes in the Hugging Face layout (config.json,
 * generation_config.json, bf16 safetensors shards + index), for benchmarks at real sizes without
 * downloading. Values come from a cheap xorshift through a lookup table: uniform in +-1/sqrt(fan_in) for
 * matrices, 1 for norm weights, 0.1 for layer scales, 0 for biases — finite, small, meaningless.
 */
public final class SyntheticCheckpoint {
    private SyntheticCheckpoint() {
    }

    /**
     * The shapes to write, and the language model's architecture ({@code llm_config.architectures}, see
     * {@link LlmArchitecture}), whether its head is tied to the embeddings, and the template.
     */
    public record Spec(int visionHidden, int visionLayers, int visionHeads, int visionIntermediate,
                       int llmHidden, int llmLayers, int llmHeads, int llmKvHeads, int llmIntermediate,
                       int vocab, int maxPositionEmbeddings, double ropeTheta, double ntkFactor, long shardBytes,
                       String llmArchitecture, boolean tiedHead, String template, boolean vision6b) {
        /** With InternViT-300M's norms (layer_norm, qkv bias, no qk-normalization). */
        public Spec(int visionHidden, int visionLayers, int visionHeads, int visionIntermediate,
                    int llmHidden, int llmLayers, int llmHeads, int llmKvHeads, int llmIntermediate,
                    int vocab, int maxPositionEmbeddings, double ropeTheta, double ntkFactor, long shardBytes,
                    String llmArchitecture, boolean tiedHead, String template) {
            this(visionHidden, visionLayers, visionHeads, visionIntermediate, llmHidden, llmLayers, llmHeads, llmKvHeads,
                    llmIntermediate, vocab, maxPositionEmbeddings, ropeTheta, ntkFactor, shardBytes, llmArchitecture, tiedHead,
                    template, false);
        }

        /** An InternLM2 model (untied head, internlm2-chat). */
        public Spec(int visionHidden, int visionLayers, int visionHeads, int visionIntermediate,
                    int llmHidden, int llmLayers, int llmHeads, int llmKvHeads, int llmIntermediate,
                    int vocab, int maxPositionEmbeddings, double ropeTheta, double ntkFactor, long shardBytes) {
            this(visionHidden, visionLayers, visionHeads, visionIntermediate, llmHidden, llmLayers, llmHeads, llmKvHeads,
                    llmIntermediate, vocab, maxPositionEmbeddings, ropeTheta, ntkFactor, shardBytes,
                    LlmArchitecture.INTERNLM2.name(), false, "internlm2-chat");
        }
    }

    /** InternVL2-8B: InternViT-300M-448px (layer_norm, qkv bias, no qk-norm) + InternLM2.5-7B (dynamic NTK x2). */
    public static Spec internVL2_8B() {
        return new Spec(1024, 24, 16, 4096, 4096, 32, 32, 8, 14336, 92553, 32768, 1_000_000, 2.0, 4L << 30);
    }

    /** InternVL2-1B: InternViT-300M + Qwen2-0.5B-Instruct (896 hidden, 24 layers, 14 heads / 2 kv, tied head as its config says). */
    public static Spec internVL2_1B() {
        return new Spec(1024, 24, 16, 4096, 896, 24, 14, 2, 4864, 151655, 32768, 1_000_000, 1.0, 4L << 30,
                LlmArchitecture.QWEN2.name(), true, "Hermes-2");
    }

    /** InternVL2-2B: InternViT-300M + internlm2-chat-1_8b (2048 hidden, 24 layers, 16 heads / 8 kv). */
    public static Spec internVL2_2B() {
        return new Spec(1024, 24, 16, 4096, 2048, 24, 16, 8, 8192, 92553, 32768, 1_000_000, 2.0, 4L << 30);
    }

    /**
     * InternVL2-4B: InternViT-300M + Phi-3-mini-128k-instruct (3072 hidden, 32 layers, 32 heads, MHA). The LongRoPE
     * factors are left out (no rope scaling): they change no shape and no cost.
     */
    public static Spec internVL2_4B() {
        return new Spec(1024, 24, 16, 4096, 3072, 32, 32, 32, 8192, 32020, 131072, 10_000, 1.0, 4L << 30,
                LlmArchitecture.PHI3.name(), false, "phi3-chat");
    }

    /**
     * InternVL2-26B: InternViT-6B-448px-V1-5 (3200 hidden, 45 layers, 25 heads, MLP 12800, rms_norm, qk-normalization,
     * no qkv bias) + internlm2-chat-20b (6144 hidden, 48 layers, 48 heads / 8 kv, MLP 16384, dynamic NTK x2). About
     * 25.5 B parameters: 51 GB of bf16 weights.
     */
    public static Spec internVL2_26B() {
        return new Spec(3200, 45, 25, 12800, 6144, 48, 48, 8, 16384, 92553, 32768, 1_000_000, 2.0, 4L << 30,
                LlmArchitecture.INTERNLM2.name(), false, "internlm2-chat", true);
    }

    /** The config.json a spec writes, parsed (for sizes without writing). */
    static InternVLConfig configOf(Spec s) {
        return InternVLConfig.fromJson("synthetic config", config(Json.mapper(), s));
    }

    /** The preset of a --like name: internvl2-1b, -2b, -4b, -8b or -26b. */
    public static Spec like(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "internvl2-1b" -> internVL2_1B();
            case "internvl2-2b" -> internVL2_2B();
            case "internvl2-4b" -> internVL2_4B();
            case "internvl2-8b" -> internVL2_8B();
            case "internvl2-26b" -> internVL2_26B();
            default -> throw new IllegalArgumentException("unknown model '" + name + "' (known: internvl2-1b, internvl2-2b, "
                    + "internvl2-4b, internvl2-8b, internvl2-26b)");
        };
    }

    private enum Fill { MATRIX, ONES, SCALE, ZEROS }

    private record Tensor(String name, long[] shape, Fill fill, int fanIn) {
        long bytes() {
            long n = 2;
            for (long s : shape) n *= s;
            return n;
        }
    }

    /** The tensors config.json implies (names and shapes from {@link InternVLTensors}), each with its fill. */
    private static List<Tensor> tensors(ObjectNode configJson) {
        InternVLConfig config = InternVLConfig.fromJson("synthetic config", configJson);
        List<Tensor> t = new ArrayList<>();
        for (Map.Entry<String, long[]> e : InternVLTensors.expected(config).entrySet()) {
            String name = e.getKey();
            long[] shape = e.getValue();
            long fanIn = 1;
            for (int k = 1; k < shape.length; k++) fanIn *= shape[k];
            Fill fill = name.endsWith("class_embedding") || name.endsWith("position_embedding") || name.endsWith(".ls1")
                    || name.endsWith(".ls2") ? Fill.SCALE
                    : name.endsWith(".bias") ? Fill.ZEROS
                    : shape.length == 1 ? Fill.ONES // norm weights, mlp1.0
                    : Fill.MATRIX;
            t.add(new Tensor(name, shape, fill, (int) fanIn));
        }
        return t;
    }

    /** Bytes of weights {@link #write} writes for spec (for progress reports). */
    public static long weightBytes(Spec spec) {
        long total = 0;
        for (Tensor t : tensors(config(Json.mapper(), spec))) total += t.bytes();
        return total;
    }

    /** Writes the checkpoint into dir (created; existing files of the same names are replaced). Returns bytes of weights. */
    public static long write(Path dir, Spec spec, long seed) {
        try {
            Files.createDirectories(dir);
            ObjectMapper json = Json.mapper();
            ObjectNode configJson = config(json, spec);
            AtomicFiles.writeString(dir.resolve("config.json"), json.writerWithDefaultPrettyPrinter().writeValueAsString(configJson));
            AtomicFiles.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": [92542, 92543], \"bos_token_id\": 1}\n");
            // split into shards of about shardBytes
            List<List<Tensor>> shards = new ArrayList<>();
            List<Tensor> cur = new ArrayList<>();
            long size = 0, total = 0;
            for (Tensor t : tensors(configJson)) {
                if (!cur.isEmpty() && size + t.bytes() > spec.shardBytes) {
                    shards.add(cur);
                    cur = new ArrayList<>();
                    size = 0;
                }
                cur.add(t);
                size += t.bytes();
                total += t.bytes();
            }
            shards.add(cur);
            ObjectNode index = json.createObjectNode();
            index.putObject("metadata").put("total_size", total);
            ObjectNode map = index.putObject("weight_map");
            for (int k = 0; k < shards.size(); k++) {
                String file = "model-%05d-of-%05d.safetensors".formatted(k + 1, shards.size());
                writeShard(dir.resolve(file), shards.get(k), seed + k, json);
                for (Tensor t : shards.get(k)) map.put(t.name, file);
            }
            AtomicFiles.writeString(dir.resolve("model.safetensors.index.json"), json.writerWithDefaultPrettyPrinter().writeValueAsString(index));
            return total;
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot write the synthetic checkpoint: " + e.getMessage(), e);
        }
    }

    private static ObjectNode config(ObjectMapper json, Spec s) {
        ObjectNode c = json.createObjectNode();
        c.putArray("architectures").add("InternVLChatModel");
        c.put("model_type", "internvl_chat").put("template", s.template).put("ps_version", "v2")
                .put("select_layer", -1).put("downsample_ratio", 0.5).put("force_image_size", 448)
                .put("use_thumbnail", true).put("max_dynamic_patch", 12).put("min_dynamic_patch", 1)
                .put("dynamic_image_size", true).put("torch_dtype", "bfloat16");
        ObjectNode v = c.putObject("vision_config");
        v.putArray("architectures").add("InternVisionModel");
        v.put("model_type", "intern_vit_6b").put("hidden_size", s.visionHidden).put("num_hidden_layers", s.visionLayers)
                .put("num_attention_heads", s.visionHeads).put("intermediate_size", s.visionIntermediate)
                .put("image_size", 448).put("patch_size", 14).put("norm_type", s.vision6b ? "rms_norm" : "layer_norm")
                .put("qkv_bias", !s.vision6b).put("qk_normalization", s.vision6b).put("layer_norm_eps", 1e-6).put("hidden_act", "gelu").put("num_channels", 3);
        ObjectNode l = c.putObject("llm_config");
        ArrayNode arch = l.putArray("architectures");
        LlmArchitecture a = LlmArchitecture.of(s.llmArchitecture);
        arch.add(a.name());
        l.put("model_type", a.modelType()).put("hidden_size", s.llmHidden).put("num_hidden_layers", s.llmLayers)
                .put("num_attention_heads", s.llmHeads).put("num_key_value_heads", s.llmKvHeads)
                .put("intermediate_size", s.llmIntermediate).put("vocab_size", s.vocab)
                .put("max_position_embeddings", s.maxPositionEmbeddings).put("rope_theta", s.ropeTheta)
                .put("rms_norm_eps", 1e-5).put("hidden_act", "silu").put("tie_word_embeddings", s.tiedHead);
        if (a == LlmArchitecture.INTERNLM2) l.put("bias", false);
        if (s.ntkFactor > 1) l.putObject("rope_scaling").put("type", "dynamic").put("factor", s.ntkFactor);
        return c;
    }

    private static void writeShard(Path file, List<Tensor> tensors, long seed, ObjectMapper json) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        long off = 0;
        for (Tensor t : tensors) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("dtype", "BF16");
            e.put("shape", t.shape);
            e.put("data_offsets", new long[] {off, off + t.bytes()});
            header.put(t.name, e);
            off += t.bytes();
        }
        header.put("__metadata__", Map.of("format", "pt"));
        byte[] h = json.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padded = (h.length + 7) / 8 * 8;
        ByteBuffer buf = ByteBuffer.allocateDirect(16 << 20).order(ByteOrder.LITTLE_ENDIAN);
        AtomicFiles.write(file, ch -> {
            buf.putLong(padded).put(h);
            for (int i = h.length; i < padded; i++) buf.put((byte) ' ');
            long state = seed * 0x9E3779B97F4A7C15L + 1;
            for (Tensor t : tensors) {
                short[] table = table(t);
                long n = t.bytes() / 2;
                for (long i = 0; i < n; ) {
                    if (buf.remaining() < 8) flush(ch, buf);
                    // xorshift64: four 12-bit table indices per step
                    state ^= state << 13;
                    state ^= state >>> 7;
                    state ^= state << 17;
                    for (int k = 0; k < 4 && i < n; k++, i++) buf.putShort(table[(int) (state >>> (k * 12)) & 4095]);
                }
            }
            flush(ch, buf);
        });
    }

    private static void flush(FileChannel ch, ByteBuffer buf) throws IOException {
        buf.flip();
        while (buf.hasRemaining()) ch.write(buf);
        buf.clear();
    }

    private static short[] table(Tensor t) {
        short[] table = new short[4096];
        for (int i = 0; i < table.length; i++) {
            float v = switch (t.fill) {
                case MATRIX -> (float) ((i / 4095.0 * 2 - 1) / Math.sqrt(t.fanIn));
                case ONES -> 1f;
                case SCALE -> 0.1f;
                case ZEROS -> 0f;
            };
            table[i] = (short) (Float.floatToIntBits(v) >>> 16);
        }
        return table;
    }
}
