package org.internvl4j.checkpoint;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every tensor an InternVL2 model loads, with the shape that config.json implies. The official
 * modules load strictly, so this list is exact: validation, make-tiny and inspect all use it.
 * Names and shapes follow modeling_intern_vit.py, modeling_internvl_chat.py (mlp1) and, for the language
 * model, its {@link LlmArchitecture} table; Linear weights are [out, in].
 */
public final class InternVLTensors {
    public static final String VISION_PREFIX = "vision_model.";
    public static final String PROJECTOR_PREFIX = "mlp1.";
    public static final String LLM_PREFIX = LlmArchitecture.LLM_PREFIX;

    private InternVLTensors() {
    }

    /** The part of the model a tensor belongs to, by its name. */
    public enum Part {
        VISION("vision tower"), PROJECTOR("projector"), LANGUAGE_MODEL("language model"), OTHER("other");

        private final String label;

        Part(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }

        public static Part of(String tensorName) {
            if (tensorName.startsWith(VISION_PREFIX)) return VISION;
            if (tensorName.startsWith(PROJECTOR_PREFIX)) return PROJECTOR;
            if (tensorName.startsWith(LLM_PREFIX)) return LANGUAGE_MODEL;
            return OTHER;
        }
    }

    /** Tensor name -> expected shape, in the order vision, projector, language model (layer by layer). */
    public static Map<String, long[]> expected(InternVLConfig config) {
        Map<String, long[]> out = new LinkedHashMap<>();
        vision(config.vision(), out);
        projector(config, out);
        llm(config.llm(), out);
        return Collections.unmodifiableMap(out);
    }

    private static void vision(VisionConfig v, Map<String, long[]> out) {
        long d = v.hiddenSize();
        long inter = v.intermediateSize();
        long p = v.patchSize();
        long grid = v.imageSize() / v.patchSize();
        String e = VISION_PREFIX + "embeddings.";
        out.put(e + "class_embedding", shape(1, 1, d));
        out.put(e + "patch_embedding.weight", shape(d, 3, p, p));
        out.put(e + "patch_embedding.bias", shape(d));
        out.put(e + "position_embedding", shape(1, 1 + grid * grid, d));
        for (int i = 0; i < v.numHiddenLayers(); i++) {
            String l = VISION_PREFIX + "encoder.layers." + i + ".";
            out.put(l + "attn.qkv.weight", shape(3 * d, d));
            if (v.qkvBias()) out.put(l + "attn.qkv.bias", shape(3 * d));
            if (v.qkNormalization()) {
                out.put(l + "attn.q_norm.weight", shape(d));
                out.put(l + "attn.k_norm.weight", shape(d));
            }
            out.put(l + "attn.proj.weight", shape(d, d));
            out.put(l + "attn.proj.bias", shape(d));
            out.put(l + "mlp.fc1.weight", shape(inter, d));
            out.put(l + "mlp.fc1.bias", shape(inter));
            out.put(l + "mlp.fc2.weight", shape(d, inter));
            out.put(l + "mlp.fc2.bias", shape(d));
            out.put(l + "norm1.weight", shape(d));
            out.put(l + "norm2.weight", shape(d));
            if (v.normType().equals("layer_norm")) {
                out.put(l + "norm1.bias", shape(d));
                out.put(l + "norm2.bias", shape(d));
            }
            out.put(l + "ls1", shape(d));
            out.put(l + "ls2", shape(d));
        }
    }

    /** mlp1 = Sequential(LayerNorm(4Dv), Linear(4Dv, Dl), GELU, Linear(Dl, Dl)): index 2 has no weights. */
    private static void projector(InternVLConfig c, Map<String, long[]> out) {
        long r = Math.round(1 / c.downsampleRatio());
        long in = c.vision().hiddenSize() * r * r;
        long dl = c.llm().hiddenSize();
        out.put(PROJECTOR_PREFIX + "0.weight", shape(in));
        out.put(PROJECTOR_PREFIX + "0.bias", shape(in));
        out.put(PROJECTOR_PREFIX + "1.weight", shape(dl, in));
        out.put(PROJECTOR_PREFIX + "1.bias", shape(dl));
        out.put(PROJECTOR_PREFIX + "3.weight", shape(dl, dl));
        out.put(PROJECTOR_PREFIX + "3.bias", shape(dl));
    }

    /** The language model's tensors come from its architecture's table. */
    private static void llm(LlmConfig c, Map<String, long[]> out) {
        out.putAll(c.arch().tensors(c));
    }

    private static long[] shape(long... dims) {
        return dims;
    }
}
