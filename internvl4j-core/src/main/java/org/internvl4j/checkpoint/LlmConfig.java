package org.internvl4j.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * config.json "llm_config": the fields the Llama-family decoders share. Which architecture it is, and so which
 * tensors it has, is {@link #arch()} ({@link LlmArchitecture}, the registry). Defaults are the official config
 * class's (InternLM2Config for InternLM2).
 *
 * @param bias               InternLM2's {@code bias} flag (wqkv and wo biases) or Llama's {@code attention_bias}
 *                           (q/k/v/o); other architectures fix their biases in their {@link LlmArchitecture} table
 * @param tieWordEmbeddings  the output head is the embedding matrix ({@code tie_word_embeddings})
 */
public record LlmConfig(
        String architecture,
        int hiddenSize,
        int numAttentionHeads,
        int numKeyValueHeads,
        int numHiddenLayers,
        int intermediateSize,
        int vocabSize,
        int maxPositionEmbeddings,
        double ropeTheta,
        RopeScaling ropeScaling,
        boolean bias,
        double rmsNormEps,
        boolean tieWordEmbeddings) {

    /** A config with untied embeddings (InternLM2's only form). */
    public LlmConfig(String architecture, int hiddenSize, int numAttentionHeads, int numKeyValueHeads, int numHiddenLayers,
            int intermediateSize, int vocabSize, int maxPositionEmbeddings, double ropeTheta, RopeScaling ropeScaling,
            boolean bias, double rmsNormEps) {
        this(architecture, hiddenSize, numAttentionHeads, numKeyValueHeads, numHiddenLayers, intermediateSize, vocabSize,
                maxPositionEmbeddings, ropeTheta, ropeScaling, bias, rmsNormEps, false);
    }

    /**
     * rope_scaling, null when absent: InternLM2's "dynamic" (NTK) or "linear" with its factor, or Phi-3's LongRoPE
     * ("su", later renamed "longrope") with its per-frequency short and long factors and the
     * original_max_position_embeddings (a top-level llm_config key) that chooses between them.
     */
    public record RopeScaling(String type, double factor, List<Double> shortFactor, List<Double> longFactor,
                              int originalMaxPositionEmbeddings) {
        public RopeScaling(String type, double factor) {
            this(type, factor, null, null, 0);
        }

        public RopeScaling {
            shortFactor = shortFactor == null ? null : List.copyOf(shortFactor);
            longFactor = longFactor == null ? null : List.copyOf(longFactor);
        }

        public boolean longRope() {
            return "su".equals(type) || "longrope".equals(type);
        }
    }

    public static final String INTERNLM2 = "InternLM2ForCausalLM";
    public static final String MODEL_TYPE = "internlm2";

    public static LlmConfig fromJson(String where, JsonNode node) {
        ConfigReader r = new ConfigReader(where, node);
        String arch = node.path("architectures").path(0).asText(INTERNLM2);
        LlmArchitecture a;
        try {
            a = LlmArchitecture.of(arch);
        } catch (CheckpointException e) {
            throw new CheckpointException(where + ": " + e.getMessage());
        }
        String modelType = r.text("model_type", a.modelType());
        r.require(modelType.equals(a.modelType()), "llm model_type '" + modelType + "' does not match architecture " + arch
                + " (expected: " + a.modelType() + ")");
        boolean internlm2 = a.rope() == LlmArchitecture.Rope.INTERNLM2;
        int heads = r.integer("num_attention_heads");
        RopeScaling scaling = null;
        if (r.has("rope_scaling") && a.rope() == LlmArchitecture.Rope.LONGROPE) {
            scaling = longRope(where, node, r, heads);
        } else if (r.has("rope_scaling")) {
            r.require(internlm2, "rope_scaling is not supported for " + arch + " yet (supported: no scaling)");
            ConfigReader s = new ConfigReader(where + " rope_scaling", node.get("rope_scaling"));
            String type = s.text("type", null);
            s.require(type != null && (type.equals("dynamic") || type.equals("linear")),
                    "type '" + type + "' is not supported (supported: dynamic, linear)");
            double factor = s.number("factor", 1.0);
            s.require(factor >= 1.0, "factor " + factor + " must be >= 1");
            scaling = new RopeScaling(type, factor);
        }
        LlmConfig c = new LlmConfig(
                arch,
                r.integer("hidden_size"),
                heads,
                r.integer("num_key_value_heads", heads),
                r.integer("num_hidden_layers"),
                r.integer("intermediate_size"),
                r.integer("vocab_size"),
                r.integer("max_position_embeddings", internlm2 ? 2048 : a.rope() == LlmArchitecture.Rope.LONGROPE ? 4096 : 32768),
                r.number("rope_theta", 10000),
                scaling,
                internlm2 ? r.bool("bias", true) : a == LlmArchitecture.LLAMA && r.bool("attention_bias", false),
                r.number("rms_norm_eps", 1e-6),
                r.bool("tie_word_embeddings", false));
        r.require(!(internlm2 && c.tieWordEmbeddings), "tie_word_embeddings is not supported for " + arch);
        r.require(!r.bool("mlp_bias", false), "mlp_bias true is not supported (the InternVL checkpoints have none)");
        String act = r.text("hidden_act", "silu");
        r.require(act.equals("silu"), "hidden_act '" + act + "' is not supported (supported: silu)");
        r.require(!r.bool("use_sliding_window", false), "use_sliding_window true is not supported (the InternVL checkpoints use full attention)");
        r.require(c.hiddenSize > 0 && heads > 0 && c.hiddenSize % heads == 0,
                "hidden_size " + c.hiddenSize + " must be a positive multiple of num_attention_heads " + heads);
        r.require(c.numKeyValueHeads > 0 && heads % c.numKeyValueHeads == 0,
                "num_attention_heads " + heads + " must be a multiple of num_key_value_heads " + c.numKeyValueHeads);
        r.require(c.headDim() % 2 == 0, "head dim " + c.headDim() + " must be even for rotary embeddings");
        r.require(c.vocabSize > 0 && c.numHiddenLayers > 0 && c.intermediateSize > 0 && c.maxPositionEmbeddings > 0,
                "vocab_size, num_hidden_layers, intermediate_size and max_position_embeddings must be positive");
        r.require(c.ropeTheta > 0 && c.rmsNormEps > 0, "rope_theta and rms_norm_eps must be positive");
        return c;
    }

    /** Phi-3's rope_scaling: modeling_phi3.py (InternVL2-4B) Phi3SuScaledRotaryEmbedding. */
    private static RopeScaling longRope(String where, JsonNode node, ConfigReader r, int heads) {
        ConfigReader s = new ConfigReader(where + " rope_scaling", node.get("rope_scaling"));
        String type = s.text("type", s.text("rope_type", null));
        s.require("su".equals(type) || "longrope".equals(type), "type '" + type + "' is not supported (supported: su, longrope)");
        int hidden = r.integer("hidden_size");
        r.require(heads > 0 && hidden > 0 && hidden % heads == 0,
                "hidden_size " + hidden + " must be a positive multiple of num_attention_heads " + heads);
        int half = hidden / heads / 2;
        List<Double> shortF = factors(s, node.get("rope_scaling"), "short_factor", half);
        List<Double> longF = factors(s, node.get("rope_scaling"), "long_factor", half);
        int original = r.integer("original_max_position_embeddings");
        r.require(original > 0, "original_max_position_embeddings must be positive");
        return new RopeScaling(type, 1.0, shortF, longF, original);
    }

    private static List<Double> factors(ConfigReader s, JsonNode scaling, String key, int n) {
        JsonNode a = scaling.get(key);
        s.require(a != null && a.isArray() && a.size() == n, key + " must be a list of head_dim / 2 = " + n + " numbers");
        List<Double> out = new ArrayList<>();
        for (JsonNode v : a) {
            s.require(v.isNumber() && v.doubleValue() > 0, key + " holds " + v + "; the factors must be positive numbers");
            out.add(v.doubleValue());
        }
        return out;
    }

    /** The architecture's table (tensor layout, biases, RoPE variant). */
    public LlmArchitecture arch() {
        return LlmArchitecture.of(architecture);
    }

    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    /** Query heads per key/value head. */
    public int groups() {
        return numAttentionHeads / numKeyValueHeads;
    }
}
