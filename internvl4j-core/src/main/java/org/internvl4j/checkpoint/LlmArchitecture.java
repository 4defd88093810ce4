package org.internvl4j.checkpoint;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One language-model architecture of the InternVL family as its checkpoint lays it out: the tensor names
 * (relative to {@code language_model.}; layer names relative to {@code model.layers.N.}), how q/k/v and
 * gate/up are stored (packed or split), which projections carry biases, whether the output head is tied to
 * the embeddings, and the RoPE variant. This table is the single place those facts live: validation
 * ({@link InternVLTensors}), loading ({@code org.internvl4j.llm.DecoderLM}) and the tiny and synthetic
 * checkpoint writers all read it. All members are Llama-family decoders (RMSNorm, rotate-half RoPE, grouped
 * KV heads, SiLU-gated MLP), so one forward serves them.
 *
 * <p>{@link #of(String)} is the registry, keyed by {@code llm_config.architectures[0]}.
 *
 * @param name        {@code llm_config.architectures[0]}
 * @param modelType   {@code llm_config.model_type}
 * @param qkv         how the attention input projection is stored
 * @param qkvNames    one name (packed) or three (q, k, v), without {@code .weight}
 * @param oName       the attention output projection
 * @param qkvBias     which q/k/v biases exist
 * @param oBias       whether the output projection has a bias
 * @param gateUpNames one name (packed [gate; up]) or two (gate, up)
 * @param downName    the MLP output projection
 */
public record LlmArchitecture(
        String name,
        String modelType,
        String embed,
        String attentionNorm,
        QkvLayout qkv,
        List<String> qkvNames,
        String oName,
        Bias qkvBias,
        Bias oBias,
        String mlpNorm,
        List<String> gateUpNames,
        String downName,
        String finalNorm,
        String head,
        Rope rope) {

    /** The storage of q, k and v. */
    public enum QkvLayout {
        /**
         * InternLM2's packed wqkv, modeling_internlm2.py
         * {@code rearrange(qkv, 'b q (h gs d) -> b q h gs d', gs=2 + groups)}: per kv head, its G query heads, then
         * its key, then its value.
         */
        INTERLEAVED_GROUPS,
        /** One packed matrix [q; k; v] (Phi-3's qkv_proj), also the order split tensors are fused into. */
        CONCAT,
        /** Three tensors q_proj, k_proj, v_proj (Qwen2, Llama); fused into {@link #CONCAT} at load. */
        SPLIT
    }

    /** Which biases a projection has. */
    public enum Bias {
        NONE,
        /** As config.json's flag says: {@code bias} (InternLM2), {@code attention_bias} (Llama). */
        CONFIG,
        ALWAYS
    }

    /** The rotary-embedding variant and which {@code rope_scaling} types it accepts. */
    public enum Rope {
        /** modeling_internlm2.py: rotate-half, optional "dynamic" (NTK, recomputed per forward) or "linear" scaling. */
        INTERNLM2,
        /** transformers' default rotary embedding without scaling (Qwen2). */
        PLAIN,
        /**
         * Phi-3: plain, or LongRoPE when rope_scaling is "su"/"longrope": per forward, the short or long factors
         * (by whether the sequence passes original_max_position_embeddings) divide the frequencies, and cos/sin are
         * scaled by sqrt(1 + ln(max_pos / original) / ln(original)).
         */
        LONGROPE
    }

    public static final String LLM_PREFIX = "language_model.";
    public static final String LAYERS = "model.layers.";

    /** InternLM2ForCausalLM (InternVL2-2B, 8B, 26B), after modeling_internlm2.py. */
    public static final LlmArchitecture INTERNLM2 = new LlmArchitecture(
            "InternLM2ForCausalLM", "internlm2",
            "model.tok_embeddings",
            "attention_norm", QkvLayout.INTERLEAVED_GROUPS, List.of("attention.wqkv"), "attention.wo", Bias.CONFIG, Bias.CONFIG,
            "ffn_norm", List.of("feed_forward.w1", "feed_forward.w3"), "feed_forward.w2",
            "model.norm", "output", Rope.INTERNLM2);

    /**
     * Qwen2ForCausalLM (InternVL2-1B: Qwen2-0.5B-Instruct), after transformers' models/qwen2/modeling_qwen2.py:
     * split q/k/v with biases, o_proj without, the head usually tied to the embeddings.
     */
    public static final LlmArchitecture QWEN2 = new LlmArchitecture(
            "Qwen2ForCausalLM", "qwen2",
            "model.embed_tokens",
            "input_layernorm", QkvLayout.SPLIT, List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"), "self_attn.o_proj",
            Bias.ALWAYS, Bias.NONE,
            "post_attention_layernorm", List.of("mlp.gate_proj", "mlp.up_proj"), "mlp.down_proj",
            "model.norm", "lm_head", Rope.PLAIN);

    /**
     * Phi3ForCausalLM (InternVL2-4B: Phi-3-mini-128k-instruct), after InternVL's internvl/model/phi3/modeling_phi3.py:
     * packed qkv_proj [q; k; v] and gate_up_proj [gate; up], no biases, untied head, LongRoPE.
     */
    public static final LlmArchitecture PHI3 = new LlmArchitecture(
            "Phi3ForCausalLM", "phi3",
            "model.embed_tokens",
            "input_layernorm", QkvLayout.CONCAT, List.of("self_attn.qkv_proj"), "self_attn.o_proj", Bias.NONE, Bias.NONE,
            "post_attention_layernorm", List.of("mlp.gate_up_proj"), "mlp.down_proj",
            "model.norm", "lm_head", Rope.LONGROPE);

    /**
     * LlamaForCausalLM (InternVL2-40B: Nous-Hermes-2-Yi-34B; InternVL2-76B: Hermes-2-Theta-Llama-3-70B), after
     * transformers' models/llama/modeling_llama.py: split q/k/v, q/k/v/o biases as attention_bias says (false in
     * both), plain RoPE.
     */
    public static final LlmArchitecture LLAMA = new LlmArchitecture(
            "LlamaForCausalLM", "llama",
            "model.embed_tokens",
            "input_layernorm", QkvLayout.SPLIT, List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"), "self_attn.o_proj",
            Bias.CONFIG, Bias.CONFIG,
            "post_attention_layernorm", List.of("mlp.gate_proj", "mlp.up_proj"), "mlp.down_proj",
            "model.norm", "lm_head", Rope.PLAIN);

    private static final List<LlmArchitecture> ALL = List.of(INTERNLM2, QWEN2, PHI3, LLAMA);

    /** The registry: the architecture named by {@code llm_config.architectures[0]}, or a clear error. */
    public static LlmArchitecture of(String name) {
        for (LlmArchitecture a : ALL) if (a.name.equals(name)) return a;
        throw new CheckpointException("llm architecture '" + name + "' is not supported (supported: " + supportedNames() + ")");
    }

    public static List<LlmArchitecture> all() {
        return ALL;
    }

    public static String supportedNames() {
        return String.join(", ", ALL.stream().map(LlmArchitecture::name).toList());
    }

    /** The full name of a language-model tensor: {@code language_model.<name>.weight} (or {@code .bias}). */
    public static String weight(String name) {
        return LLM_PREFIX + name + ".weight";
    }

    public static String bias(String name) {
        return LLM_PREFIX + name + ".bias";
    }

    /** The name of a tensor of layer i, relative to {@code language_model.}. */
    public static String layer(int i, String name) {
        return LAYERS + i + "." + name;
    }

    public boolean hasQkvBias(LlmConfig c) {
        return qkvBias == Bias.ALWAYS || (qkvBias == Bias.CONFIG && c.bias());
    }

    public boolean hasOBias(LlmConfig c) {
        return oBias == Bias.ALWAYS || (oBias == Bias.CONFIG && c.bias());
    }

    /** Whether the output head is the embedding matrix (then no head tensor is needed). */
    public boolean tiedHead(LlmConfig c) {
        return c.tieWordEmbeddings();
    }

    /** Rows of q, k and v of one layer: heads * hd, kv * hd, kv * hd. */
    public static int[] qkvRows(LlmConfig c) {
        int hd = c.headDim();
        return new int[] {c.numAttentionHeads() * hd, c.numKeyValueHeads() * hd, c.numKeyValueHeads() * hd};
    }

    /**
     * Every language-model tensor with the shape config.json implies (Linear weights are [out, in]), full names,
     * in a fixed order (the tiny writer draws its random values in this order): embeddings; per layer q/k/v,
     * output projection, the two norms, gate/up, down; final norm; head.
     */
    public Map<String, long[]> tensors(LlmConfig c) {
        Map<String, long[]> out = new LinkedHashMap<>();
        long d = c.hiddenSize(), inter = c.intermediateSize(), vocab = c.vocabSize();
        int[] qkv = qkvRows(c);
        long qkvAll = (long) qkv[0] + qkv[1] + qkv[2];
        out.put(weight(embed), new long[] {vocab, d});
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            if (qkv() == QkvLayout.SPLIT) {
                for (int k = 0; k < 3; k++) {
                    out.put(weight(layer(i, qkvNames.get(k))), new long[] {qkv[k], d});
                    if (hasQkvBias(c)) out.put(bias(layer(i, qkvNames.get(k))), new long[] {qkv[k]});
                }
            } else {
                out.put(weight(layer(i, qkvNames.get(0))), new long[] {qkvAll, d});
                if (hasQkvBias(c)) out.put(bias(layer(i, qkvNames.get(0))), new long[] {qkvAll});
            }
            out.put(weight(layer(i, oName)), new long[] {d, qkv[0]});
            if (hasOBias(c)) out.put(bias(layer(i, oName)), new long[] {d});
            out.put(weight(layer(i, attentionNorm)), new long[] {d});
            out.put(weight(layer(i, mlpNorm)), new long[] {d});
            if (gateUpNames.size() == 1) {
                out.put(weight(layer(i, gateUpNames.get(0))), new long[] {2 * inter, d});
            } else {
                out.put(weight(layer(i, gateUpNames.get(0))), new long[] {inter, d});
                out.put(weight(layer(i, gateUpNames.get(1))), new long[] {inter, d});
            }
            out.put(weight(layer(i, downName)), new long[] {d, inter});
        }
        out.put(weight(finalNorm), new long[] {d});
        if (!tiedHead(c)) out.put(weight(head), new long[] {vocab, d});
        return out;
    }
}
