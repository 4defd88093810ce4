package org.internvl4j.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * config.json "vision_config" (InternVisionConfig, model_type intern_vit_6b). Defaults are the
 * official class's, used when a key is missing.
 */
public record VisionConfig(
        int hiddenSize,
        int numAttentionHeads,
        int numHiddenLayers,
        int intermediateSize,
        int imageSize,
        int patchSize,
        String normType,
        boolean qkNormalization,
        boolean qkvBias,
        double layerNormEps,
        String hiddenAct) {

    public static final String MODEL_TYPE = "intern_vit_6b";
    public static final String ARCHITECTURE = "InternVisionModel";

    public static VisionConfig fromJson(String where, JsonNode node) {
        ConfigReader r = new ConfigReader(where, node);
        String type = r.text("model_type", MODEL_TYPE);
        r.require(type.equals(MODEL_TYPE), "vision model_type '" + type + "' is not supported (supported: " + MODEL_TYPE + ")");
        String arch = node.path("architectures").path(0).asText(ARCHITECTURE);
        r.require(arch.equals(ARCHITECTURE), "vision architecture '" + arch + "' is not supported (supported: " + ARCHITECTURE + ")");
        VisionConfig c = new VisionConfig(
                r.integer("hidden_size"),
                r.integer("num_attention_heads"),
                r.integer("num_hidden_layers"),
                r.integer("intermediate_size"),
                r.integer("image_size", 224),
                r.integer("patch_size", 14),
                r.text("norm_type", "rms_norm"),
                r.bool("qk_normalization", true),
                r.bool("qkv_bias", false),
                r.number("layer_norm_eps", 1e-6),
                r.text("hidden_act", "gelu"));
        r.require(c.hiddenSize > 0 && c.numAttentionHeads > 0 && c.hiddenSize % c.numAttentionHeads == 0,
                "hidden_size " + c.hiddenSize + " must be a positive multiple of num_attention_heads " + c.numAttentionHeads);
        r.require(c.normType.equals("rms_norm") || c.normType.equals("layer_norm"),
                "norm_type '" + c.normType + "' is not supported (supported: rms_norm, layer_norm)");
        r.require(c.hiddenAct.equals("gelu"), "hidden_act '" + c.hiddenAct + "' is not supported (supported: gelu)");
        r.require(c.patchSize > 0 && c.imageSize % c.patchSize == 0,
                "image_size " + c.imageSize + " must be a multiple of patch_size " + c.patchSize);
        r.require(c.numHiddenLayers > 0 && c.intermediateSize > 0, "num_hidden_layers and intermediate_size must be positive");
        r.require(c.layerNormEps > 0, "layer_norm_eps " + c.layerNormEps + " must be positive");
        return c;
    }

    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }
}
