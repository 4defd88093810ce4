package org.internvl4j.checkpoint;

import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.internvl4j.tensor.DType;
import org.internvl4j.tokenizer.HfTokenizerFiles;
import org.internvl4j.tokenizer.LlamaTokenizerFiles;
import org.internvl4j.util.Json;
import org.internvl4j.util.AtomicFiles;

/**
 * Writes tiny random-weight InternVL2 checkpoints in exactly the real on-disk layout (config.json,
 * generation_config.json, two BF16 shards + model.safetensors.index.json, and the tokenizer files,
 * see {@link TinyTokenizer}), for tests and the offline demo. The three variants mirror the reference's make_tiny.py: a is the InternVL2-8B structure
 * scaled down, b exercises rms_norm + qk-normalization and dynamic NTK, c exercises position
 * interpolation, a single kv head and LLM biases. Same options, same bytes.
 */
public final class TinyCheckpoint {
    public static final String SHARD_1 = "model-00001-of-00002.safetensors";
    public static final String SHARD_2 = "model-00002-of-00002.safetensors";

    private static final JsonMapper JSON = Json.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private TinyCheckpoint() {
    }

    /**
     * A variant: its dims (vocab_size is set from the tokenizer), default seed, and the piece count and
     * normalizer flags of the reference's tiny tokenizer for it (real-like 4096, or alt 2500).
     */
    public enum Variant {
        A(101, 4096, false,
                new VisionConfig(64, 4, 3, 256, 448, 14, "layer_norm", false, true, 1e-6, "gelu"),
                new LlmConfig(LlmConfig.INTERNLM2, 128, 8, 2, 3, 256, 0, 32768, 1e6, new LlmConfig.RopeScaling("dynamic", 2.0), false, 1e-5)),
        B(202, 4096, false,
                new VisionConfig(96, 4, 2, 192, 448, 14, "rms_norm", true, false, 1e-6, "gelu"),
                new LlmConfig(LlmConfig.INTERNLM2, 96, 6, 6, 2, 224, 0, 64, 1e6, new LlmConfig.RopeScaling("dynamic", 2.0), false, 1e-5)),
        C(303, 2500, true,
                new VisionConfig(64, 2, 2, 128, 224, 14, "layer_norm", false, true, 1e-6, "gelu"),
                new LlmConfig(LlmConfig.INTERNLM2, 64, 4, 1, 2, 160, 0, 4096, 1e4, null, true, 1e-6)),
        /** InternVL2-1B scaled down: Qwen2 (split q/k/v with biases, tied head, theta 1e6), Hermes-2, byte-level BPE. */
        QWEN2(404, ByteLevelTokenizerFiles.BASE_VOCAB, false,
                new VisionConfig(64, 4, 2, 256, 448, 14, "layer_norm", false, true, 1e-6, "gelu"),
                new LlmConfig(LlmArchitecture.QWEN2.name(), 64, 4, 2, 2, 160, 0, 32768, 1e6, null, false, 1e-6, true)),
        /**
         * InternVL2-4B scaled down: Phi-3 (packed qkv and gate_up, MHA), LongRoPE with original_max_position_embeddings
         * 64 and max_position_embeddings 256 (so a short test crosses from the short to the long factors), phi3-chat,
         * Phi-3-mini's tokenizer layout (a tiny Llama SentencePiece model, legacy false, 11 chat tokens; vocabulary
         * 1536 + 11 + 9; with --no-tokenizer 512 + 9).
         */
        PHI3(505, 512, false,
                new VisionConfig(64, 4, 2, 256, 448, 14, "layer_norm", false, true, 1e-6, "gelu"),
                new LlmConfig(LlmArchitecture.PHI3.name(), 64, 4, 4, 2, 160, 0, 256, 1e4,
                        new LlmConfig.RopeScaling("su", 1.0, List.of(1.0, 1.05, 1.1, 1.2, 1.35, 1.5, 1.8, 2.2),
                                List.of(1.0, 1.3, 1.9, 2.8, 4.0, 6.5, 9.0, 12.0), 64),
                        false, 1e-5, false)),
        /**
         * InternVL2-40B scaled down: Llama (Yi-34B: split q/k/v, no biases, theta 5e6), Hermes-2, Yi's tokenizer layout
         * (a tiny SentencePiece model without dummy prefix; vocabulary 1536 + 9; with --no-tokenizer 512 + 9).
         */
        LLAMA(606, 512, false,
                new VisionConfig(64, 4, 2, 256, 448, 14, "layer_norm", false, true, 1e-6, "gelu"),
                new LlmConfig(LlmArchitecture.LLAMA.name(), 64, 4, 2, 2, 160, 0, 4096, 5e6, null, false, 1e-5, false)),
        /**
         * InternVL2-76B scaled down: Llama 3 (Hermes-2-Theta-Llama-3-70B: split q/k/v, grouped KV heads, theta 500000, no
         * rope scaling), Hermes-2, a Llama-3-style byte-level tokenizer.json without merges (vocabulary 256 + 4 + 9).
         */
        LLAMA3(707, 256 + 4, false,
                new VisionConfig(64, 4, 2, 256, 448, 14, "layer_norm", false, true, 1e-6, "gelu"),
                new LlmConfig(LlmArchitecture.LLAMA.name(), 64, 4, 1, 2, 160, 0, 8192, 5e5, null, false, 1e-5, false));

        final long defaultSeed;
        final int defaultPieces;
        final boolean altTokenizer;
        final VisionConfig vision;
        final LlmConfig llm;

        Variant(long defaultSeed, int defaultPieces, boolean altTokenizer, VisionConfig vision, LlmConfig llm) {
            this.defaultSeed = defaultSeed;
            this.defaultPieces = defaultPieces;
            this.altTokenizer = altTokenizer;
            this.vision = vision;
            this.llm = llm;
        }

        public long defaultSeed() {
            return defaultSeed;
        }

        /** Pieces of the reference's tiny tokenizer for this variant, used when no tokenizer is written. */
        public int defaultPieces() {
            return defaultPieces;
        }

        /** One of the reference's InternLM2 variants a, b, c (the other architectures are chosen by make-tiny --arch). */
        public static Variant parse(String s) {
            for (Variant v : List.of(A, B, C)) if (v.name().equalsIgnoreCase(s)) return v;
            throw new IllegalArgumentException("unknown variant '" + s + "' (known: a, b, c)");
        }

        /** The language model's architecture. */
        public LlmArchitecture arch() {
            return llm.arch();
        }

        /** The config.json of this variant with a vocabulary of pieces + 9 InternVL tokens. */
        public InternVLConfig config(int pieces) {
            LlmConfig l = new LlmConfig(llm.architecture(), llm.hiddenSize(), llm.numAttentionHeads(), llm.numKeyValueHeads(),
                    llm.numHiddenLayers(), llm.intermediateSize(), pieces + HfTokenizerFiles.INTERNVL_TOKENS.size(), llm.maxPositionEmbeddings(),
                    llm.ropeTheta(), llm.ropeScaling(), llm.bias(), llm.rmsNormEps(), llm.tieWordEmbeddings());
            // InternVL2-1B uses Hermes-2, InternVL2-4B phi3-chat
            String template = arch() == LlmArchitecture.QWEN2 || arch() == LlmArchitecture.LLAMA ? "Hermes-2"
                    : arch() == LlmArchitecture.PHI3 ? "phi3-chat" : "internlm2-chat";
            return new InternVLConfig(InternVLConfig.MODEL_TYPE, vision, l, "v2", -1, 0.5, 448, true, 12, 1, template);
        }
    }

    /**
     * What to write: the variant, weight seed, dtype, layout, tokenizer and config overrides.
     * {@link #of} gives the defaults: the variant's seed, BF16, two shards, a trained tokenizer.
     */
    public record Options(Variant variant, long seed, DType dtype, boolean singleFile, TinyTokenizer tokenizer,
            List<String> overrides) {
        public Options {
            overrides = List.copyOf(overrides);
        }

        public static Options of(Variant variant) {
            TinyTokenizer tok = variant == Variant.LLAMA3 ? new TinyTokenizer.ByteLevel(ByteLevelTokenizerFiles.Flavor.LLAMA3)
                    : variant.arch() == LlmArchitecture.QWEN2 ? new TinyTokenizer.ByteLevel()
                    : variant.arch() == LlmArchitecture.PHI3 ? new TinyTokenizer.Llama(LlamaTokenizerFiles.Flavor.PHI3, TinyTokenizer.DEFAULT_PIECES, null)
                    : variant.arch() == LlmArchitecture.LLAMA ? new TinyTokenizer.Llama(LlamaTokenizerFiles.Flavor.YI, TinyTokenizer.DEFAULT_PIECES, null)
                    : new TinyTokenizer.Trained(TinyTokenizer.DEFAULT_PIECES, null);
            return new Options(variant, variant.defaultSeed, DType.BF16, false, tok, List.of());
        }

        public Options withSeed(long s) {
            return new Options(variant, s, dtype, singleFile, tokenizer, overrides);
        }

        public Options withDtype(DType d) {
            return new Options(variant, seed, d, singleFile, tokenizer, overrides);
        }

        public Options withSingleFile(boolean b) {
            return new Options(variant, seed, dtype, b, tokenizer, overrides);
        }

        public Options withTokenizer(TinyTokenizer t) {
            return new Options(variant, seed, dtype, singleFile, t, overrides);
        }

        /** No tokenizer files, and the vocabulary of the reference's tiny tokenizers (4096 or 2500 pieces + 9). */
        public Options withoutTokenizer() {
            return withTokenizer(new TinyTokenizer.None(variant.defaultPieces));
        }

        /**
         * Config overrides as SECTION.KEY=JSON, with SECTION vision or llm and KEY a key of that
         * section of config.json, e.g. "llm.num_hidden_layers=4" or "llm.rope_scaling=null".
         */
        public Options withOverrides(List<String> o) {
            return new Options(variant, seed, dtype, singleFile, tokenizer, o);
        }
    }

    /**
     * The vision_config changes that turn a variant's InternViT-300M-like tower into an InternViT-6B-like one
     * (InternViT-6B-448px-V1-5: RMSNorm, qk-normalization as an RMSNorm over all heads, no qkv bias, layer scales,
     * MLP 4x; scaled down to width 96 in 3 heads of 32), for make-tiny --vision 6b.
     */
    public static final List<String> VISION_6B = List.of("vision.norm_type=\"rms_norm\"", "vision.qk_normalization=true",
            "vision.qkv_bias=false", "vision.hidden_size=96", "vision.num_attention_heads=3", "vision.intermediate_size=384",
            "vision.num_hidden_layers=3");

    /** Writes variant a with its default seed into dir. */
    public static InternVLConfig write(Path dir) {
        return write(dir, Options.of(Variant.A));
    }

    /** Writes a checkpoint into dir (created if needed; files of the same names are replaced) and returns its config. */
    public static InternVLConfig write(Path dir, Options options) {
        try {
            Files.createDirectories(dir);
            int pieces = options.tokenizer.write(dir, options.variant);
            ObjectNode json = configJson(options.variant.config(pieces));
            if (options.variant == Variant.LLAMA3) {
                // Hermes-2-Theta-Llama-3-70B's llm_config names; BOS <|begin_of_text|>, EOS <|im_end|> of the tiny vocabulary
                ((ObjectNode) json.get("llm_config")).put("_name_or_path", "NousResearch/Hermes-2-Theta-Llama-3-70B")
                        .put("bos_token_id", 256).put("eos_token_id", 259).putNull("pad_token_id");
            }
            applyOverrides(json, options.overrides);
            InternVLConfig config = InternVLConfig.fromJson("make-tiny config", json); // checks the overridden dims
            writeJson(dir.resolve(Checkpoint.CONFIG), json);
            ObjectNode gen = NODES.objectNode();
            if (options.variant == Variant.LLAMA3) {
                gen.put("_from_model_config", true).put("bos_token_id", 256);
                gen.putArray("eos_token_id").add(259).add(257);
                gen.put("transformers_version", "4.37.2");
            } else if (config.llm().arch() == LlmArchitecture.QWEN2) {
                // <|endoftext|> and <|im_end|> of the tiny byte-level vocabulary (Qwen2's own are 151643 and 151645)
                gen.put("_from_model_config", true).put("bos_token_id", 256);
                gen.putArray("eos_token_id").add(258).add(256);
                gen.put("transformers_version", "4.37.2");
            } else {
                gen.put("_from_model_config", true).put("bos_token_id", 1).put("eos_token_id", 2).put("pad_token_id", 2)
                        .put("transformers_version", "4.37.2");
            }
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
        // Qwen2-style embeddings are also the (tied) head: small enough that the layers, not the input token's own
        // embedding, decide the logits, else greedy decoding just repeats the last token
        if (name.endsWith("embed_tokens.weight")) return new double[] {0, 0.25};
        if (name.endsWith("position_embedding")) return new double[] {0, 0.5};
        if (name.endsWith(".ls1") || name.endsWith(".ls2")) return new double[] {0.6, 0.2};
        if (name.endsWith("q_norm.weight") || name.endsWith("k_norm.weight")) return new double[] {1.0, 0.2};
        if (shape.length == 1 && name.endsWith(".weight")) return new double[] {1.0, 0.1}; // norms, mlp1.0 LayerNorm
        if (name.endsWith("wqkv.bias") || name.endsWith("_proj.bias")) return new double[] {0, 0.2};
        if (name.endsWith(".bias")) return new double[] {0, 0.1};
        double fanIn = count(shape) / (double) shape[0];
        boolean qkv = name.endsWith("wqkv.weight") || name.endsWith("q_proj.weight") || name.endsWith("k_proj.weight") || name.endsWith("v_proj.weight");
        boolean head = name.endsWith("output.weight") || name.endsWith("lm_head.weight");
        double gain = name.endsWith("attn.qkv.weight") ? 1.5 : qkv ? 2.0 : head ? 3.0 : 1.0;
        return new double[] {0, gain / Math.sqrt(fanIn)};
    }

    private static void writeWeights(Path dir, InternVLConfig config, Options options) throws IOException {
        Map<String, float[]> w = weights(config, options.seed);
        Map<String, long[]> shapes = InternVLTensors.expected(config);
        // the other layout's files go only once the new ones are whole: a failed write leaves the old checkpoint
        if (options.singleFile) {
            SafeTensorsWriter all = new SafeTensorsWriter();
            w.forEach((name, v) -> all.add(name, options.dtype, shapes.get(name), v));
            all.write(dir.resolve(Checkpoint.SINGLE_FILE));
            Files.deleteIfExists(dir.resolve(Checkpoint.INDEX));
            Files.deleteIfExists(dir.resolve(SHARD_1));
            Files.deleteIfExists(dir.resolve(SHARD_2));
            return;
        }
        // Like the reference: shard 1 holds the vision tower, mlp1 and the LLM embeddings; shard 2 the rest.
        SafeTensorsWriter first = new SafeTensorsWriter();
        SafeTensorsWriter second = new SafeTensorsWriter();
        ObjectNode weightMap = NODES.objectNode();
        for (Map.Entry<String, float[]> e : w.entrySet()) {
            String name = e.getKey();
            boolean inFirst = InternVLTensors.Part.of(name) != InternVLTensors.Part.LANGUAGE_MODEL
                    || name.equals(LlmArchitecture.weight(config.llm().arch().embed()));
            (inFirst ? first : second).add(name, options.dtype, shapes.get(name), e.getValue());
            weightMap.put(name, inFirst ? SHARD_1 : SHARD_2);
        }
        long total = first.write(dir.resolve(SHARD_1)) + second.write(dir.resolve(SHARD_2));
        ObjectNode index = NODES.objectNode();
        index.putObject("metadata").put("total_size", total);
        index.set("weight_map", weightMap);
        writeJson(dir.resolve(Checkpoint.INDEX), index);
        Files.deleteIfExists(dir.resolve(Checkpoint.SINGLE_FILE));
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

        ObjectNode llm = l.arch() == LlmArchitecture.QWEN2 ? qwen2Json(l) : l.arch() == LlmArchitecture.PHI3 ? phi3Json(l)
                : l.arch() == LlmArchitecture.LLAMA ? llamaJson(l) : internLm2Json(l);

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

    /** llm_config of InternVL2-8B's release (InternLM2Config). */
    private static ObjectNode internLm2Json(LlmConfig l) {
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
        return llm;
    }

    /** llm_config with the key set of InternVL2-4B's release (Phi3Config, rope_scaling type "su"). */
    private static ObjectNode phi3Json(LlmConfig l) {
        ObjectNode llm = NODES.objectNode();
        llm.put("_name_or_path", "microsoft/Phi-3-mini-128k-instruct").put("add_cross_attention", false);
        llm.set("architectures", NODES.arrayNode().add(l.architecture()));
        llm.put("attention_dropout", 0.0).put("attn_implementation", "eager").putNull("bad_words_ids");
        llm.put("bos_token_id", 1).put("embd_pdrop", 0.0).put("eos_token_id", 2).put("hidden_act", "silu")
                .put("hidden_size", l.hiddenSize()).put("initializer_range", 0.02).put("intermediate_size", l.intermediateSize())
                .put("max_position_embeddings", l.maxPositionEmbeddings()).put("model_type", LlmArchitecture.PHI3.modelType())
                .put("num_attention_heads", l.numAttentionHeads()).put("num_hidden_layers", l.numHiddenLayers())
                .put("num_key_value_heads", l.numKeyValueHeads())
                .put("original_max_position_embeddings", l.ropeScaling().originalMaxPositionEmbeddings())
                .put("pad_token_id", 2).put("resid_pdrop", 0.0).put("rms_norm_eps", l.rmsNormEps());
        ObjectNode rs = llm.putObject("rope_scaling");
        l.ropeScaling().longFactor().forEach(rs.putArray("long_factor")::add);
        l.ropeScaling().shortFactor().forEach(rs.putArray("short_factor")::add);
        rs.put("type", l.ropeScaling().type());
        putNumber(llm, "rope_theta", l.ropeTheta());
        llm.put("sliding_window", 262144).put("tie_word_embeddings", false).put("torch_dtype", "bfloat16")
                .put("transformers_version", "4.37.2").put("use_bfloat16", true).put("use_cache", true).put("vocab_size", l.vocabSize());
        return llm;
    }

    /** llm_config with the key set of InternVL2-40B's release (LlamaConfig of Nous-Hermes-2-Yi-34B). */
    private static ObjectNode llamaJson(LlmConfig l) {
        ObjectNode llm = NODES.objectNode();
        llm.put("_name_or_path", "NousResearch/Nous-Hermes-2-Yi-34B").put("add_cross_attention", false);
        llm.set("architectures", NODES.arrayNode().add(l.architecture()));
        llm.put("attention_bias", l.bias()).put("attention_dropout", 0.0).put("attn_implementation", "eager").putNull("bad_words_ids");
        llm.put("bos_token_id", 1).put("eos_token_id", 2).put("hidden_act", "silu")
                .put("hidden_size", l.hiddenSize()).put("initializer_range", 0.02).put("intermediate_size", l.intermediateSize())
                .put("max_position_embeddings", l.maxPositionEmbeddings()).put("model_type", LlmArchitecture.LLAMA.modelType())
                .put("num_attention_heads", l.numAttentionHeads()).put("num_hidden_layers", l.numHiddenLayers())
                .put("num_key_value_heads", l.numKeyValueHeads()).put("pad_token_id", 0).put("pretraining_tp", 1)
                .put("rms_norm_eps", l.rmsNormEps());
        llm.putNull("rope_scaling");
        putNumber(llm, "rope_theta", l.ropeTheta());
        llm.put("tie_word_embeddings", l.tieWordEmbeddings()).put("torch_dtype", "bfloat16").put("transformers_version", "4.37.2")
                .put("use_bfloat16", true).put("use_cache", true).put("vocab_size", l.vocabSize());
        return llm;
    }

    /** llm_config with the key set of InternVL2-1B's release (Qwen2Config). */
    private static ObjectNode qwen2Json(LlmConfig l) {
        ObjectNode llm = NODES.objectNode();
        llm.put("_name_or_path", "Qwen/Qwen2-0.5B-Instruct").put("add_cross_attention", false);
        llm.set("architectures", NODES.arrayNode().add(l.architecture()));
        llm.put("attention_dropout", 0.0).put("attn_implementation", "eager").putNull("bad_words_ids");
        llm.put("bos_token_id", 256).put("eos_token_id", 258).put("hidden_act", "silu")
                .put("hidden_size", l.hiddenSize()).put("initializer_range", 0.02).put("intermediate_size", l.intermediateSize())
                .put("max_position_embeddings", l.maxPositionEmbeddings()).put("max_window_layers", l.numHiddenLayers())
                .put("model_type", LlmArchitecture.QWEN2.modelType())
                .put("num_attention_heads", l.numAttentionHeads()).put("num_hidden_layers", l.numHiddenLayers())
                .put("num_key_value_heads", l.numKeyValueHeads()).put("output_attentions", false)
                .put("output_hidden_states", false).put("return_dict", true).put("rms_norm_eps", l.rmsNormEps());
        llm.putNull("rope_scaling");
        putNumber(llm, "rope_theta", l.ropeTheta());
        llm.put("sliding_window", l.maxPositionEmbeddings()).put("tie_word_embeddings", l.tieWordEmbeddings())
                .put("torch_dtype", "bfloat16").put("transformers_version", "4.37.2").put("use_bfloat16", true)
                .put("use_cache", true).put("use_sliding_window", false).put("vocab_size", l.vocabSize());
        return llm;
    }

    /** Applies SECTION.KEY=JSON overrides to config.json's vision_config / llm_config. */
    static void applyOverrides(ObjectNode config, List<String> overrides) {
        for (String o : overrides) {
            int eq = o.indexOf('=');
            int dot = o.indexOf('.');
            if (eq < 0 || dot < 0 || dot > eq) {
                throw new IllegalArgumentException("override '" + o + "': expected SECTION.KEY=JSON, e.g. llm.num_hidden_layers=4");
            }
            String section = o.substring(0, dot);
            String key = o.substring(dot + 1, eq);
            String sectionKey = switch (section) {
                case "vision" -> "vision_config";
                case "llm" -> "llm_config";
                default -> throw new IllegalArgumentException("override '" + o + "': section '" + section + "' is not one of vision, llm");
            };
            ObjectNode target = (ObjectNode) config.get(sectionKey);
            if (!target.has(key)) {
                List<String> known = new ArrayList<>();
                target.fieldNames().forEachRemaining(known::add);
                throw new IllegalArgumentException("override '" + o + "': " + sectionKey + " has no key '" + key + "' (known: "
                        + String.join(", ", known) + ")");
            }
            com.fasterxml.jackson.databind.JsonNode value;
            try {
                value = SafeTensorsFile.JSON.readTree(o.substring(eq + 1));
            } catch (IOException e) {
                value = null;
            }
            if (value == null || value.isMissingNode()) {
                throw new IllegalArgumentException("override '" + o + "': the value is not JSON (strings need quotes: vision.norm_type='\"rms_norm\"')");
            }
            target.set(key, value);
        }
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

    private static void writeJson(Path file, ObjectNode node) throws IOException {
        AtomicFiles.writeString(file, JSON.writeValueAsString(node) + "\n");
    }
}
