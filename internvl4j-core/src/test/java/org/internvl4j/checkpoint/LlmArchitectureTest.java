package org.internvl4j.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The architecture registry and tables, against the names and shapes of the official modeling code. */
class LlmArchitectureTest {
    @Test
    void anUnknownArchitectureNamesEverySupportedOne() {
        assertThatThrownBy(() -> LlmArchitecture.of("MistralForCausalLM"))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("llm architecture 'MistralForCausalLM' is not supported")
                .hasMessageContaining("InternLM2ForCausalLM");
        for (LlmArchitecture a : LlmArchitecture.all()) assertThat(LlmArchitecture.of(a.name())).isSameAs(a);
    }

    /** InternLM2 layer 0 of a small config, written out by hand from modeling_internlm2.py. */
    @Test
    void internLm2TableGivesThePackedLayout() {
        LlmConfig c = new LlmConfig(LlmConfig.INTERNLM2, 64, 4, 2, 1, 96, 500, 128, 1e4, null, true, 1e-6);
        Map<String, long[]> t = LlmArchitecture.INTERNLM2.tensors(c);
        String l = "language_model.model.layers.0.";
        assertThat(t.keySet()).containsExactly(
                "language_model.model.tok_embeddings.weight",
                l + "attention.wqkv.weight", l + "attention.wqkv.bias", l + "attention.wo.weight", l + "attention.wo.bias",
                l + "attention_norm.weight", l + "ffn_norm.weight",
                l + "feed_forward.w1.weight", l + "feed_forward.w3.weight", l + "feed_forward.w2.weight",
                "language_model.model.norm.weight", "language_model.output.weight");
        assertThat(t.get(l + "attention.wqkv.weight")).containsExactly((4 + 2 * 2) * 16, 64);
        assertThat(t.get(l + "feed_forward.w2.weight")).containsExactly(64, 96);
        assertThat(t.get("language_model.output.weight")).containsExactly(500, 64);
    }

    /** The other tables against the module names of modeling_qwen2.py, InternVL's modeling_phi3.py and modeling_llama.py. */
    @Test
    void qwen2Phi3AndLlamaTablesNameTheirTensors() {
        String l = "language_model.model.layers.0.";
        LlmConfig qwen2 = new LlmConfig("Qwen2ForCausalLM", 64, 4, 2, 1, 96, 500, 128, 1e6, null, false, 1e-6, true);
        Map<String, long[]> q = LlmArchitecture.QWEN2.tensors(qwen2);
        assertThat(q.get(l + "self_attn.q_proj.bias")).containsExactly(64);
        assertThat(q.get(l + "self_attn.k_proj.weight")).containsExactly(2 * 16, 64);
        assertThat(q).doesNotContainKey(l + "self_attn.o_proj.bias").doesNotContainKey("language_model.lm_head.weight");
        LlmConfig phi3 = new LlmConfig("Phi3ForCausalLM", 64, 4, 4, 1, 96, 500, 128, 1e4, null, false, 1e-5, false);
        Map<String, long[]> p = LlmArchitecture.PHI3.tensors(phi3);
        assertThat(p.get(l + "self_attn.qkv_proj.weight")).containsExactly(3 * 64, 64);
        assertThat(p.get(l + "mlp.gate_up_proj.weight")).containsExactly(2 * 96, 64);
        assertThat(p.get("language_model.lm_head.weight")).containsExactly(500, 64);
        LlmConfig llama = new LlmConfig("LlamaForCausalLM", 64, 4, 2, 1, 96, 500, 128, 5e6, null, true, 1e-5, false);
        Map<String, long[]> ll = LlmArchitecture.LLAMA.tensors(llama);
        assertThat(ll.get(l + "self_attn.o_proj.bias")).as("attention_bias covers o_proj").containsExactly(64);
        assertThat(ll.get(l + "mlp.down_proj.weight")).containsExactly(64, 96);
    }
}
