package org.internvl4j.checkpoint;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import org.internvl4j.testing.TestData;
import org.junit.jupiter.api.Test;

/** config.json cases that ConfigFuzzTest found (docs/RELIABILITY.md#fuzzing); each must be a CheckpointException. */
class ConfigFindingsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ObjectNode phi3() throws Exception {
        return (ObjectNode) JSON.readTree(Files.readAllBytes(TestData.dir("tiny-models/tiny-phi3").resolve("config.json")));
    }

    // crash-c402e013...: Phi-3's LongRoPE factors are counted as hidden_size / heads / 2 before the general check
    // that heads divides hidden_size, so num_attention_heads 0 was an ArithmeticException (/ by zero).
    @Test
    void longRopeWithZeroHeadsIsAConfigError() throws Exception {
        ObjectNode root = phi3();
        ((ObjectNode) root.get("llm_config")).put("num_attention_heads", 0);
        assertThatThrownBy(() -> InternVLConfig.fromJson("config.json", root)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("hidden_size 64 must be a positive multiple of num_attention_heads 0");
    }
}
