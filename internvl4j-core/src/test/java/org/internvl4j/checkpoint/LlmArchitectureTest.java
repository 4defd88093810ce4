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
}
