package org.internvl4j.checkpoint;

import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.internvl4j.tensor.DType;

/**
 * Writes tiny random-weight InternVL2 checkpoints in exactly the real on-disk layout (config.json,
 * generation_config.json, two BF16 shards + model.safetensors.index.json), for tests and the offline
 * demo. The three variants mirror the reference's make_tiny.py: a is the InternVL2-8B structure
 * scaled down, b exercises rms_norm + qk-normalization and dynamic NTK, c exercises position
 * interpolation, a single kv head and LLM biases. Same options, same bytes.
 */
public final class TinyCheckpoint {
    /** The 6 InternLM2 chat tokens: USER_DEFINED pieces at the last 6 SentencePiece ids. */
    public static final List<String> SP_UNUSED = List.of("[UNUSED_TOKEN_141]", "[UNUSED_TOKEN_142]", "[UNUSED_TOKEN_143]",
            "[UNUSED_TOKEN_144]", "[UNUSED_TOKEN_145]", "[UNUSED_TOKEN_146]");
    public static final List<String> CHAT_NAMES = List.of("<|plugin|>", "<|interpreter|>", "<|action_end|>",
            "<|action_start|>", "<|im_end|>", "<|im_start|>");
    /** The 9 InternVL tokens, HF added tokens right after the SentencePiece vocabulary. */
    public static final List<String> INTERNVL_ADDED = List.of("<img>", "</img>", "<IMG_CONTEXT>", "<quad>", "</quad>",
            "<ref>", "</ref>", "<box>", "</box>");

    public static final String SHARD_1 = "model-00001-of-00002.safetensors";
    public static final String SHARD_2 = "model-00002-of-00002.safetensors";

    private static final JsonMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private TinyCheckpoint() {
    }

    /** A variant: its dims (vocab_size is set from the tokenizer), default seed and default piece count. */
    public enum Variant {
        A(101, 4096,
                new VisionConfig(64, 4, 3, 256, 448, 14, "layer_norm", false, true, 1e-6, "gelu"),
                new LlmConfig(LlmConfig.INTERNLM2, 128, 8, 2, 3, 256, 0, 32768, 1e6, new LlmConfig.RopeScaling("dynamic", 2.0), false, 1e-5)),
        B(202, 4096,
                new VisionConfig(96, 4, 2, 192, 448, 14, "rms_norm", true, false, 1e-6, "gelu"),
                new LlmConfig(LlmConfig.INTERNLM2, 96, 6, 6, 2, 224, 0, 64, 1e6, new LlmConfig.RopeScaling("dynamic", 2.0), false, 1e-5)),
        C(303, 2500,
                new VisionConfig(64, 2, 2, 128, 224, 14, "layer_norm", false, true, 1e-6, "gelu"),
                new LlmConfig(LlmConfig.INTERNLM2, 64, 4, 1, 2, 160, 0, 4096, 1e4, null, true, 1e-6));

        final long defaultSeed;
        final int defaultPieces;
        final VisionConfig vision;
        final LlmConfig llm;

        Variant(long defaultSeed, int defaultPieces, VisionConfig vision, LlmConfig llm) {
            this.defaultSeed = defaultSeed;
            this.defaultPieces = defaultPieces;
            this.vision = vision;
            this.llm = llm;
        }

        public long defaultSeed() {
            return defaultSeed;
        }

        public static Variant parse(String s) {
            for (Variant v : values()) if (v.name().equalsIgnoreCase(s)) return v;
            throw new IllegalArgumentException("unknown variant '" + s + "' (known: a, b, c)");
        }

        /** The config.json of this variant with a vocabulary of pieces + 9 InternVL tokens. */
        public InternVLConfig config(int pieces) {
            LlmConfig l = new LlmConfig(llm.architecture(), llm.hiddenSize(), llm.numAttentionHeads(), llm.numKeyValueHeads(),
                    llm.numHiddenLayers(), llm.intermediateSize(), pieces + INTERNVL_ADDED.size(), llm.maxPositionEmbeddings(),
                    llm.ropeTheta(), llm.ropeScaling(), llm.bias(), llm.rmsNormEps());
            return new InternVLConfig(InternVLConfig.MODEL_TYPE, vision, l, "v2", -1, 0.5, 448, true, 12, 1, "internlm2-chat");
        }
    }

    /**
     * What to write. {@code tokenizerModel}: a SentencePiece tokenizer.model to copy (its piece count sets
     * the vocabulary; the HF tokenizer files are written for it). {@code tokenizerDir}: a directory whose
     * tokenizer.model and HF tokenizer files are copied as they are. With neither, no tokenizer files are
     * written and the vocabulary has the variant's default piece count.
     */
    public record Options(Variant variant, long seed, DType dtype, boolean singleFile, Path tokenizerModel, Path tokenizerDir) {
        public static Options of(Variant variant) {
            return new Options(variant, variant.defaultSeed, DType.BF16, false, null, null);
        }

        public Options withSeed(long s) {
            return new Options(variant, s, dtype, singleFile, tokenizerModel, tokenizerDir);
        }

        public Options withDtype(DType d) {
            return new Options(variant, seed, d, singleFile, tokenizerModel, tokenizerDir);
        }

        public Options withSingleFile(boolean b) {
            return new Options(variant, seed, dtype, b, tokenizerModel, tokenizerDir);
        }

        public Options withTokenizerModel(Path p) {
            return new Options(variant, seed, dtype, singleFile, p, tokenizerDir);
        }

        public Options withTokenizerDir(Path p) {
            return new Options(variant, seed, dtype, singleFile, tokenizerModel, p);
        }
    }

    /** Writes variant a with its default seed into dir. */
    public static InternVLConfig write(Path dir) {
        return write(dir, Options.of(Variant.A));
    }

    /** Writes a checkpoint into dir (created if needed; files of the same names are replaced) and returns its config. */
    public static InternVLConfig write(Path dir, Options options) {
        if (options.tokenizerModel != null && options.tokenizerDir != null) {
            throw new IllegalArgumentException("give a tokenizer model or a tokenizer directory, not both");
        }
        try {
            Files.createDirectories(dir);
            int pieces = options.variant.defaultPieces;
            if (options.tokenizerModel != null) {
                pieces = countPieces(options.tokenizerModel);
                Files.copy(options.tokenizerModel, dir.resolve("tokenizer.model"), StandardCopyOption.REPLACE_EXISTING);
                writeTokenizerJson(dir, pieces);
            } else if (options.tokenizerDir != null) {
                pieces = countPieces(options.tokenizerDir.resolve("tokenizer.model"));
                for (String f : List.of("tokenizer.model", "tokenizer_config.json", "added_tokens.json", "special_tokens_map.json")) {
                    Path src = options.tokenizerDir.resolve(f);
                    if (!Files.exists(src)) throw new CheckpointException(src + ": not found (--tokenizer-from needs " + f + ")");
                    Files.copy(src, dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            InternVLConfig config = options.variant.config(pieces);
            writeJson(dir.resolve(Checkpoint.CONFIG), configJson(config));
            ObjectNode gen = NODES.objectNode();
            gen.put("_from_model_config", true).put("bos_token_id", 1).put("eos_token_id", 2).put("pad_token_id", 2)
                    .put("transformers_version", "4.37.2");
            writeJson(dir.resolve(Checkpoint.GENERATION_CONFIG), gen);
            writeWeights(dir, config, options);
            return config;
        } catch (IOException e) {
            throw new CheckpointException(dir + ": cannot write the checkpoint: " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // weights

    /**
     * Random weights, as the reference describes them: fan-in scaled normals, norm weights N(1, 0.1),
     * layer scales N(0.6, 0.2), and an output head scaled for a logit std of about 3.
     * java.util.Random's Gaussian is specified by its Javadoc, so the values are the same on every JDK.
     */
    static Map<String, float[]> weights(InternVLConfig config, long seed) {
        Random rng = new Random(seed);
        Map<String, float[]> out = new TreeMap<>();
        for (Map.Entry<String, long[]> e : InternVLTensors.expected(config).entrySet()) {
            long[] shape = e.getValue();
            double[] meanStd = init(e.getKey(), shape);
            float[] v = new float[Math.toIntExact(count(shape))];
            for (int i = 0; i < v.length; i++) v[i] = (float) (meanStd[0] + meanStd[1] * rng.nextGaussian());
            out.put(e.getKey(), v);
        }
        return out;
    }

    /** {mean, std} of a tensor's initial values; the constants follow the reference's make_weights. */
    static double[] init(String name, long[] shape) {
        if (name.endsWith("class_embedding") || name.endsWith("tok_embeddings.weight")) return new double[] {0, 1.0};
        if (name.endsWith("position_embedding")) return new double[] {0, 0.5};
        if (name.endsWith(".ls1") || name.endsWith(".ls2")) return new double[] {0.6, 0.2};
        if (name.endsWith("q_norm.weight") || name.endsWith("k_norm.weight")) return new double[] {1.0, 0.2};
        if (shape.length == 1 && name.endsWith(".weight")) return new double[] {1.0, 0.1}; // norms, mlp1.0 LayerNorm
        if (name.endsWith("wqkv.bias")) return new double[] {0, 0.2};
        if (name.endsWith(".bias")) return new double[] {0, 0.1};
        double fanIn = count(shape) / (double) shape[0];
        double gain = name.endsWith("attn.qkv.weight") ? 1.5 : name.endsWith("wqkv.weight") ? 2.0 : name.endsWith("output.weight") ? 3.0 : 1.0;
        return new double[] {0, gain / Math.sqrt(fanIn)};
    }

    private static void writeWeights(Path dir, InternVLConfig config, Options options) throws IOException {
        Map<String, float[]> w = weights(config, options.seed);
        Map<String, long[]> shapes = InternVLTensors.expected(config);
        Files.deleteIfExists(dir.resolve(Checkpoint.SINGLE_FILE));
        Files.deleteIfExists(dir.resolve(Checkpoint.INDEX));
        Files.deleteIfExists(dir.resolve(SHARD_1));
        Files.deleteIfExists(dir.resolve(SHARD_2));
        if (options.singleFile) {
            SafeTensorsWriter all = new SafeTensorsWriter();
            w.forEach((name, v) -> all.add(name, options.dtype, shapes.get(name), v));
            all.write(dir.resolve(Checkpoint.SINGLE_FILE));
            return;
        }
        // Like the reference: shard 1 holds the vision tower, mlp1 and the LLM embeddings; shard 2 the rest.
        SafeTensorsWriter first = new SafeTensorsWriter();
        SafeTensorsWriter second = new SafeTensorsWriter();
        ObjectNode weightMap = NODES.objectNode();
        for (Map.Entry<String, float[]> e : w.entrySet()) {
            String name = e.getKey();
            boolean inFirst = InternVLTensors.Part.of(name) != InternVLTensors.Part.LANGUAGE_MODEL
                    || name.equals(InternVLTensors.LLM_PREFIX + "model.tok_embeddings.weight");
            (inFirst ? first : second).add(name, options.dtype, shapes.get(name), e.getValue());
            weightMap.put(name, inFirst ? SHARD_1 : SHARD_2);
        }
        long total = first.write(dir.resolve(SHARD_1)) + second.write(dir.resolve(SHARD_2));
        ObjectNode index = NODES.objectNode();
        index.putObject("metadata").put("total_size", total);
        index.set("weight_map", weightMap);
        writeJson(dir.resolve(Checkpoint.INDEX), index);
    }

    private static long count(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    // ---------------------------------------------------------------------------------------------
    // config files

    /** config.json with the key set of the real InternVL2 release (InternVLChatConfig). */
    static ObjectNode configJson(InternVLConfig c) {
        VisionConfig v = c.vision();
        LlmConfig l = c.llm();
        ObjectNode vision = NODES.objectNode();
        vision.set("architectures", NODES.arrayNode().add(VisionConfig.ARCHITECTURE));
        vision.put("attention_dropout", 0.0).put("drop_path_rate", 0.0).put("dropout", 0.0)
                .put("hidden_act", v.hiddenAct()).put("hidden_size", v.hiddenSize()).put("image_size", v.imageSize())
                .put("initializer_factor", 1.0).put("initializer_range", 0.02).put("intermediate_size", v.intermediateSize())
                .put("layer_norm_eps", v.layerNormEps()).put("model_type", VisionConfig.MODEL_TYPE).put("norm_type", v.normType())
                .put("num_attention_heads", v.numAttentionHeads()).put("num_channels", 3)
                .put("num_hidden_layers", v.numHiddenLayers()).put("output_attentions", false).put("output_hidden_states", false)
                .put("patch_size", v.patchSize()).put("qk_normalization", v.qkNormalization()).put("qkv_bias", v.qkvBias())
                .put("return_dict", true).put("torch_dtype", "bfloat16").put("transformers_version", "4.37.2")
                .put("use_bfloat16", true).put("use_flash_attn", true);

        ObjectNode llm = NODES.objectNode();
        llm.put("_name_or_path", "internlm/internlm2_5-7b-chat").put("add_cross_attention", false);
        llm.set("architectures", NODES.arrayNode().add(l.architecture()));
        llm.put("attn_implementation", "eager");
        llm.set("auto_map", autoMap("configuration_internlm2.InternLM2Config", "modeling_internlm2.InternLM2ForCausalLM",
                "modeling_internlm2.InternLM2ForCausalLM"));
        llm.putNull("bad_words_ids");
        llm.put("bias", l.bias()).put("bos_token_id", 1).put("eos_token_id", 2).put("hidden_act", "silu")
                .put("hidden_size", l.hiddenSize()).put("initializer_range", 0.02).put("intermediate_size", l.intermediateSize())
                .put("max_position_embeddings", l.maxPositionEmbeddings()).put("model_type", LlmConfig.MODEL_TYPE)
                .put("num_attention_heads", l.numAttentionHeads()).put("num_hidden_layers", l.numHiddenLayers())
                .put("num_key_value_heads", l.numKeyValueHeads()).put("output_attentions", false)
                .put("output_hidden_states", false).put("pad_token_id", 2).put("pretraining_tp", 1).put("return_dict", true)
                .put("rms_norm_eps", l.rmsNormEps());
        if (l.ropeScaling() == null) {
            llm.putNull("rope_scaling");
        } else {
            llm.putObject("rope_scaling").put("factor", l.ropeScaling().factor()).put("type", l.ropeScaling().type());
        }
        putNumber(llm, "rope_theta", l.ropeTheta());
        llm.put("tie_word_embeddings", false).put("torch_dtype", "bfloat16").put("transformers_version", "4.37.2")
                .put("use_bfloat16", true).put("use_cache", true).put("vocab_size", l.vocabSize());

        ObjectNode root = NODES.objectNode();
        root.putNull("_commit_hash");
        root.set("architectures", NODES.arrayNode().add(InternVLConfig.ARCHITECTURE));
        root.set("auto_map", autoMap("configuration_internvl_chat.InternVLChatConfig", "modeling_internvl_chat.InternVLChatModel",
                "modeling_internvl_chat.InternVLChatModel"));
        root.put("downsample_ratio", c.downsampleRatio()).put("dynamic_image_size", true)
                .put("force_image_size", c.forceImageSize());
        root.set("llm_config", llm);
        root.put("max_dynamic_patch", c.maxDynamicPatch()).put("min_dynamic_patch", c.minDynamicPatch())
                .put("model_type", c.modelType()).put("ps_version", c.psVersion()).put("select_layer", c.selectLayer())
                .put("template", c.template()).put("torch_dtype", "bfloat16").putNull("transformers_version");
        root.put("use_backbone_lora", 0).put("use_llm_lora", 0).put("use_thumbnail", c.useThumbnail());
        root.set("vision_config", vision);
        return root;
    }

    private static ObjectNode autoMap(String config, String model, String causal) {
        ObjectNode m = NODES.objectNode();
        m.put("AutoConfig", config).put("AutoModel", model).put("AutoModelForCausalLM", causal);
        return m;
    }

    /** Integral values as integers (rope_theta 1000000, as in the release), others as doubles. */
    private static void putNumber(ObjectNode node, String key, double value) {
        if (value == Math.rint(value) && Math.abs(value) < 1e15) node.put(key, (long) value);
        else node.put(key, value);
    }

    /** tokenizer_config.json, added_tokens.json and special_tokens_map.json for a model of this many pieces. */
    static void writeTokenizerJson(Path dir, int pieces) throws IOException {
        ObjectNode decoder = NODES.objectNode();
        decoder.set("0", addedToken("<unk>", true));
        decoder.set("1", addedToken("<s>", true));
        decoder.set("2", addedToken("</s>", true));
        for (int k = 0; k < CHAT_NAMES.size(); k++) decoder.set(Integer.toString(pieces - 6 + k), addedToken(CHAT_NAMES.get(k), true));
        ObjectNode added = NODES.objectNode();
        for (int k = 0; k < INTERNVL_ADDED.size(); k++) {
            decoder.set(Integer.toString(pieces + k), addedToken(INTERNVL_ADDED.get(k), true));
            added.put(INTERNVL_ADDED.get(k), pieces + k);
        }
        ArrayNode special = NODES.arrayNode();
        for (String s : List.of("<|im_start|>", "<|im_end|>", "<|action_start|>", "<|action_end|>", "<|interpreter|>", "<|plugin|>")) special.add(s);
        INTERNVL_ADDED.forEach(special::add);

        ObjectNode cfg = NODES.objectNode();
        cfg.put("add_bos_token", true).put("add_eos_token", false);
        cfg.set("added_tokens_decoder", decoder);
        cfg.set("additional_special_tokens", special.deepCopy());
        ObjectNode autoMap = cfg.putObject("auto_map");
        autoMap.putArray("AutoTokenizer").add("tokenization_internlm2.InternLM2Tokenizer").addNull();
        cfg.put("bos_token", "<s>").put("clean_up_tokenization_spaces", false).put("eos_token", "</s>")
                .put("model_max_length", 4096).put("pad_token", "</s>").put("tokenizer_class", "InternLM2Tokenizer")
                .put("unk_token", "<unk>");

        ObjectNode map = NODES.objectNode();
        map.set("additional_special_tokens", special);
        map.set("bos_token", addedToken("<s>", false));
        map.set("eos_token", addedToken("</s>", false));
        map.set("pad_token", addedToken("</s>", false));
        map.set("unk_token", addedToken("<unk>", false));

        writeJson(dir.resolve("tokenizer_config.json"), cfg);
        writeJson(dir.resolve("added_tokens.json"), added);
        writeJson(dir.resolve("special_tokens_map.json"), map);
    }

    private static ObjectNode addedToken(String content, boolean withSpecial) {
        ObjectNode t = NODES.objectNode();
        t.put("content", content).put("lstrip", false).put("normalized", false).put("rstrip", false).put("single_word", false);
        if (withSpecial) t.put("special", true);
        return t;
    }

    private static void writeJson(Path file, ObjectNode node) throws IOException {
        Files.writeString(file, JSON.writeValueAsString(node) + "\n", StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------------------------------------
    // tokenizer.model: just enough protobuf to count pieces and check the InternLM2 layout

    /**
     * The number of pieces in a SentencePiece ModelProto (field 1, repeated SentencePiece), checking
     * that the last 6 are [UNUSED_TOKEN_141..146] as in the real InternLM2 model.
     */
    static int countPieces(Path model) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(model);
        } catch (IOException e) {
            throw new CheckpointException(model + ": cannot read: " + e.getMessage(), e);
        }
        List<String> pieces = new ArrayList<>();
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        try {
            while (b.hasRemaining()) {
                long tag = varint(b);
                int field = (int) (tag >>> 3);
                int wire = (int) (tag & 7);
                if (wire == 2) {
                    int len = Math.toIntExact(varint(b));
                    ByteBuffer body = b.slice(b.position(), len);
                    b.position(b.position() + len);
                    if (field == 1) pieces.add(pieceString(body));
                } else {
                    skip(b, wire);
                }
            }
        } catch (RuntimeException e) {
            throw new CheckpointException(model + ": not a SentencePiece model (" + e.getMessage() + ")", e);
        }
        int n = pieces.size();
        if (n < 259 + SP_UNUSED.size() || !pieces.subList(n - SP_UNUSED.size(), n).equals(SP_UNUSED)) {
            throw new CheckpointException(model + ": expected a SentencePiece model whose last 6 pieces are "
                    + "[UNUSED_TOKEN_141]..[UNUSED_TOKEN_146], like InternLM2's (" + n + " pieces found)");
        }
        return n;
    }

    private static String pieceString(ByteBuffer body) {
        while (body.hasRemaining()) {
            long tag = varint(body);
            int wire = (int) (tag & 7);
            if ((tag >>> 3) == 1 && wire == 2) {
                byte[] s = new byte[Math.toIntExact(varint(body))];
                body.get(s);
                return new String(s, StandardCharsets.UTF_8);
            }
            skip(body, wire);
        }
        return "";
    }

    private static void skip(ByteBuffer b, int wire) {
        switch (wire) {
            case 0 -> varint(b);
            case 1 -> b.position(b.position() + 8);
            case 2 -> b.position(b.position() + Math.toIntExact(varint(b)));
            case 5 -> b.position(b.position() + 4);
            default -> throw new IllegalArgumentException("bad protobuf wire type " + wire);
        }
    }

    private static long varint(ByteBuffer b) {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            byte x = b.get();
            v |= (long) (x & 0x7F) << shift;
            if (x >= 0) return v;
        }
        throw new IllegalArgumentException("varint longer than 10 bytes");
    }
}
