package org.internvl4j.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;

/** config.json "llm_config" (InternLM2Config). Defaults are the official class's. */
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
        double rmsNormEps) {

    /** rope_scaling: type "dynamic" (NTK) or "linear", with its factor; null when absent. */
    public record RopeScaling(String type, double factor) {
    }

    public static final String INTERNLM2 = "InternLM2ForCausalLM";
    public static final String MODEL_TYPE = "internlm2";

    public static LlmConfig fromJson(String where, JsonNode node) {
        ConfigReader r = new ConfigReader(where, node);
        String arch = node.path("architectures").path(0).asText(INTERNLM2);
        r.require(arch.equals(INTERNLM2), "llm architecture '" + arch + "' is not supported (supported: " + INTERNLM2 + ")");
        String modelType = r.text("model_type", MODEL_TYPE);
        r.require(modelType.equals(MODEL_TYPE), "llm model_type '" + modelType + "' is not supported (supported: " + MODEL_TYPE + ")");
        int heads = r.integer("num_attention_heads");
        RopeScaling scaling = null;
        if (r.has("rope_scaling")) {
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
                r.integer("max_position_embeddings", 2048),
                r.number("rope_theta", 10000),
                scaling,
                r.bool("bias", true),
                r.number("rms_norm_eps", 1e-6));
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

    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    /** Query heads per key/value head. */
    public int groups() {
        return numAttentionHeads / numKeyValueHeads;
    }
}
