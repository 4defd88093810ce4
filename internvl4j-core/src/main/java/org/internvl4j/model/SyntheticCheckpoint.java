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

/**
 * Writes a random-weight InternVL2 checkpoint with chosen shapes in the Hugging Face layout (config.json,
 * generation_config.json, bf16 safetensors shards + index), for benchmarks at real sizes without
 * downloading. Values come from a cheap xorshift through a lookup table: uniform in +-1/sqrt(fan_in) for
 * matrices, 1 for norm weights, 0.1 for layer scales, 0 for biases — finite, small, meaningless.
 */
public final class SyntheticCheckpoint {
    private SyntheticCheckpoint() {
    }

    /** The shapes to write. */
    public record Spec(int visionHidden, int visionLayers, int visionHeads, int visionIntermediate,
                       int llmHidden, int llmLayers, int llmHeads, int llmKvHeads, int llmIntermediate,
                       int vocab, int maxPositionEmbeddings, double ropeTheta, double ntkFactor, long shardBytes) {
    }

    /** InternVL2-8B: InternViT-300M-448px (layer_norm, qkv bias, no qk-norm) + InternLM2.5-7B (dynamic NTK x2). */
    public static Spec internVL2_8B() {
        return new Spec(1024, 24, 16, 4096, 4096, 32, 32, 8, 14336, 92553, 32768, 1_000_000, 2.0, 4L << 30);
    }

    private enum Fill { MATRIX, ONES, SCALE, ZEROS }

    private record Tensor(String name, long[] shape, Fill fill, int fanIn) {
        long bytes() {
            long n = 2;
            for (long s : shape) n *= s;
            return n;
        }
    }

    private static List<Tensor> tensors(Spec s) {
        List<Tensor> t = new ArrayList<>();
        int dv = s.visionHidden, dl = s.llmHidden, g = 448 / 14;
        String v = "vision_model.";
        t.add(new Tensor(v + "embeddings.class_embedding", new long[] {1, 1, dv}, Fill.SCALE, 0));
        t.add(new Tensor(v + "embeddings.patch_embedding.weight", new long[] {dv, 3, 14, 14}, Fill.MATRIX, 3 * 14 * 14));
        t.add(new Tensor(v + "embeddings.patch_embedding.bias", new long[] {dv}, Fill.ZEROS, 0));
        t.add(new Tensor(v + "embeddings.position_embedding", new long[] {1, 1 + g * g, dv}, Fill.SCALE, 0));
        for (int i = 0; i < s.visionLayers; i++) {
            String p = v + "encoder.layers." + i + ".";
            t.add(new Tensor(p + "attn.qkv.weight", new long[] {3L * dv, dv}, Fill.MATRIX, dv));
            t.add(new Tensor(p + "attn.qkv.bias", new long[] {3L * dv}, Fill.ZEROS, 0));
            t.add(new Tensor(p + "attn.proj.weight", new long[] {dv, dv}, Fill.MATRIX, dv));
            t.add(new Tensor(p + "attn.proj.bias", new long[] {dv}, Fill.ZEROS, 0));
            for (String n : new String[] {"norm1", "norm2"}) {
                t.add(new Tensor(p + n + ".weight", new long[] {dv}, Fill.ONES, 0));
                t.add(new Tensor(p + n + ".bias", new long[] {dv}, Fill.ZEROS, 0));
            }
            t.add(new Tensor(p + "mlp.fc1.weight", new long[] {s.visionIntermediate, dv}, Fill.MATRIX, dv));
            t.add(new Tensor(p + "mlp.fc1.bias", new long[] {s.visionIntermediate}, Fill.ZEROS, 0));
            t.add(new Tensor(p + "mlp.fc2.weight", new long[] {dv, s.visionIntermediate}, Fill.MATRIX, s.visionIntermediate));
            t.add(new Tensor(p + "mlp.fc2.bias", new long[] {dv}, Fill.ZEROS, 0));
            t.add(new Tensor(p + "ls1", new long[] {dv}, Fill.SCALE, 0));
            t.add(new Tensor(p + "ls2", new long[] {dv}, Fill.SCALE, 0));
        }
        t.add(new Tensor("mlp1.0.weight", new long[] {4L * dv}, Fill.ONES, 0));
        t.add(new Tensor("mlp1.0.bias", new long[] {4L * dv}, Fill.ZEROS, 0));
        t.add(new Tensor("mlp1.1.weight", new long[] {dl, 4L * dv}, Fill.MATRIX, 4 * dv));
        t.add(new Tensor("mlp1.1.bias", new long[] {dl}, Fill.ZEROS, 0));
        t.add(new Tensor("mlp1.3.weight", new long[] {dl, dl}, Fill.MATRIX, dl));
        t.add(new Tensor("mlp1.3.bias", new long[] {dl}, Fill.ZEROS, 0));
        String l = "language_model.";
        int hd = dl / s.llmHeads;
        t.add(new Tensor(l + "model.tok_embeddings.weight", new long[] {s.vocab, dl}, Fill.MATRIX, dl));
        for (int i = 0; i < s.llmLayers; i++) {
            String p = l + "model.layers." + i + ".";
            t.add(new Tensor(p + "attention_norm.weight", new long[] {dl}, Fill.ONES, 0));
            t.add(new Tensor(p + "attention.wqkv.weight", new long[] {(long) (s.llmHeads + 2 * s.llmKvHeads) * hd, dl}, Fill.MATRIX, dl));
            t.add(new Tensor(p + "attention.wo.weight", new long[] {dl, (long) s.llmHeads * hd}, Fill.MATRIX, s.llmHeads * hd));
            t.add(new Tensor(p + "ffn_norm.weight", new long[] {dl}, Fill.ONES, 0));
            t.add(new Tensor(p + "feed_forward.w1.weight", new long[] {s.llmIntermediate, dl}, Fill.MATRIX, dl));
            t.add(new Tensor(p + "feed_forward.w3.weight", new long[] {s.llmIntermediate, dl}, Fill.MATRIX, dl));
            t.add(new Tensor(p + "feed_forward.w2.weight", new long[] {dl, s.llmIntermediate}, Fill.MATRIX, s.llmIntermediate));
        }
        t.add(new Tensor(l + "model.norm.weight", new long[] {dl}, Fill.ONES, 0));
        t.add(new Tensor(l + "output.weight", new long[] {s.vocab, dl}, Fill.MATRIX, dl));
        return t;
    }

    /** Bytes of weights {@link #write} writes for spec (for progress reports). */
    public static long weightBytes(Spec spec) {
        long total = 0;
        for (Tensor t : tensors(spec)) total += t.bytes();
        return total;
    }

    /** Writes the checkpoint into dir (created; existing files of the same names are replaced). Returns bytes of weights. */
    public static long write(Path dir, Spec spec, long seed) {
        try {
            Files.createDirectories(dir);
            ObjectMapper json = new ObjectMapper();
            Files.writeString(dir.resolve("config.json"), json.writerWithDefaultPrettyPrinter().writeValueAsString(config(json, spec)));
            Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": [92542, 92543], \"bos_token_id\": 1}\n");
            // split into shards of about shardBytes
            List<List<Tensor>> shards = new ArrayList<>();
            List<Tensor> cur = new ArrayList<>();
            long size = 0, total = 0;
            for (Tensor t : tensors(spec)) {
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
            Files.writeString(dir.resolve("model.safetensors.index.json"), json.writerWithDefaultPrettyPrinter().writeValueAsString(index));
            return total;
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot write the synthetic checkpoint: " + e.getMessage(), e);
        }
    }

    private static ObjectNode config(ObjectMapper json, Spec s) {
        ObjectNode c = json.createObjectNode();
        c.putArray("architectures").add("InternVLChatModel");
        c.put("model_type", "internvl_chat").put("template", "internlm2-chat").put("ps_version", "v2")
                .put("select_layer", -1).put("downsample_ratio", 0.5).put("force_image_size", 448)
                .put("use_thumbnail", true).put("max_dynamic_patch", 12).put("min_dynamic_patch", 1)
                .put("dynamic_image_size", true).put("torch_dtype", "bfloat16");
        ObjectNode v = c.putObject("vision_config");
        v.putArray("architectures").add("InternVisionModel");
        v.put("model_type", "intern_vit_6b").put("hidden_size", s.visionHidden).put("num_hidden_layers", s.visionLayers)
                .put("num_attention_heads", s.visionHeads).put("intermediate_size", s.visionIntermediate)
                .put("image_size", 448).put("patch_size", 14).put("norm_type", "layer_norm").put("qkv_bias", true)
                .put("qk_normalization", false).put("layer_norm_eps", 1e-6).put("hidden_act", "gelu").put("num_channels", 3);
        ObjectNode l = c.putObject("llm_config");
        ArrayNode arch = l.putArray("architectures");
        arch.add("InternLM2ForCausalLM");
        l.put("model_type", "internlm2").put("hidden_size", s.llmHidden).put("num_hidden_layers", s.llmLayers)
                .put("num_attention_heads", s.llmHeads).put("num_key_value_heads", s.llmKvHeads)
                .put("intermediate_size", s.llmIntermediate).put("vocab_size", s.vocab)
                .put("max_position_embeddings", s.maxPositionEmbeddings).put("rope_theta", s.ropeTheta)
                .put("rms_norm_eps", 1e-5).put("bias", false).put("hidden_act", "silu").put("tie_word_embeddings", false);
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
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
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
        }
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
