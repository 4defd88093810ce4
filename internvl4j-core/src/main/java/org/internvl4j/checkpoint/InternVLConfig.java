package org.internvl4j.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;

/** config.json of an InternVL2 checkpoint (InternVLChatConfig), with its nested vision and LLM configs. */
public record InternVLConfig(
        String modelType,
        VisionConfig vision,
        LlmConfig llm,
        String psVersion,
        int selectLayer,
        double downsampleRatio,
        int forceImageSize,
        boolean useThumbnail,
        int maxDynamicPatch,
        int minDynamicPatch,
        String template) {

    public static final String MODEL_TYPE = "internvl_chat";
    public static final String ARCHITECTURE = "InternVLChatModel";

    public static InternVLConfig read(Path configJson) {
        JsonNode root = ConfigReader.readJson(configJson, " (a checkpoint directory needs config.json)");
        return fromJson(configJson.toString(), root);
    }

    public static InternVLConfig fromJson(String where, JsonNode root) {
        if (root == null || !root.isObject()) throw new CheckpointException(where + ": must be a JSON object");
        ConfigReader r = new ConfigReader(where, root);
        String type = r.text("model_type", null);
        r.require(MODEL_TYPE.equals(type), "model_type '" + type + "' is not supported (supported: " + MODEL_TYPE + ")");
        String arch = root.path("architectures").path(0).asText(ARCHITECTURE);
        r.require(arch.equals(ARCHITECTURE), "architecture '" + arch + "' is not supported (supported: " + ARCHITECTURE + ")");
        r.require(root.path("vision_config").isObject(), "missing object 'vision_config'");
        r.require(root.path("llm_config").isObject(), "missing object 'llm_config'");
        VisionConfig vision = VisionConfig.fromJson(where + " vision_config", root.get("vision_config"));
        LlmConfig llm = LlmConfig.fromJson(where + " llm_config", root.get("llm_config"));
        InternVLConfig c = new InternVLConfig(
                type, vision, llm,
                r.text("ps_version", "v1"),
                r.integer("select_layer", -1),
                r.number("downsample_ratio", 0.5),
                r.integer("force_image_size", vision.imageSize()),
                r.bool("use_thumbnail", false),
                r.integer("max_dynamic_patch", 6),
                r.integer("min_dynamic_patch", 1),
                r.text("template", "internlm2-chat"));
        r.require(c.psVersion.equals("v1") || c.psVersion.equals("v2"), "ps_version '" + c.psVersion + "' is not supported (supported: v1, v2)");
        r.require(c.downsampleRatio == 0.5, "downsample_ratio " + c.downsampleRatio + " is not supported (supported: 0.5)");
        r.require(c.selectLayer < 0 && -c.selectLayer <= vision.numHiddenLayers(),
                "select_layer " + c.selectLayer + " must be in [-" + vision.numHiddenLayers() + ", -1]");
        r.require(c.forceImageSize % vision.patchSize() == 0 && (c.forceImageSize / vision.patchSize()) % 2 == 0,
                "force_image_size " + c.forceImageSize + " must give an even patch grid");
        return c;
    }

    /** Image tokens per tile: (image_size / patch)^2 * downsample_ratio^2, 256 for 448 px. */
    public int numImageTokens() {
        int g = forceImageSize / vision.patchSize();
        return (int) Math.round(g * g * downsampleRatio * downsampleRatio);
    }
}
