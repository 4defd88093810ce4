package org.internvl4j.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;
import org.internvl4j.model.Fixtures;
import org.internvl4j.model.InternVLModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Generator behaviour on the tiny-a checkpoint: seeds, context limits, bad input. */
class GeneratorTest {
    static InternVLModel model;
    static final int[] PROMPT = {1, 300, 301, 302, 303, 304, 305, 306, 307, 308};

    @BeforeAll
    static void load() {
        model = InternVLModel.load(Fixtures.tinyModel("tiny-a"));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void samplingWithASeedRepeatsAndAnotherSeedDiffers() {
        Generator g = new Generator(model);
        SamplingParams p = SamplingParams.sample(24, 1.0f, 50, 0.95f, 1234L, Set.of());
        int[] a = g.generate(GenerationRequest.text(PROMPT, p)).tokenIds();
        int[] b = g.generate(GenerationRequest.text(PROMPT, p)).tokenIds();
        int[] c = g.generate(GenerationRequest.text(PROMPT, SamplingParams.sample(24, 1.0f, 50, 0.95f, 99L, Set.of()))).tokenIds();
        int[] greedy = g.generate(GenerationRequest.text(PROMPT, SamplingParams.greedy(24, Set.of()))).tokenIds();
        assertThat(a).hasSize(24).containsExactly(b);
        assertThat(a).isNotEqualTo(c);
        assertThat(a).isNotEqualTo(greedy);
        // in a batch, each request keeps its own random stream
        List<GenerationResult> both = g.generate(List.of(GenerationRequest.text(PROMPT, p),
                GenerationRequest.text(PROMPT, SamplingParams.sample(24, 1.0f, 50, 0.95f, 99L, Set.of()))), null);
        assertThat(both.get(0).tokenIds()).containsExactly(a);
        assertThat(both.get(1).tokenIds()).containsExactly(c);
    }

    @Test
    void aPromptBeyondTheContextWindowGetsAClearError() {
        Generator g = new Generator(model.llm(), 32);
        assertThatThrownBy(() -> g.generate(GenerationRequest.text(PROMPT, SamplingParams.greedy(23, Set.of()))))
                .isInstanceOf(ContextLengthExceededException.class)
                .hasMessageContaining("prompt of 10 tokens")
                .hasMessageContaining("max_new_tokens 23")
                .hasMessageContaining("context window of 32 tokens");
        assertThat(g.generate(GenerationRequest.text(PROMPT, SamplingParams.greedy(22, Set.of()))).tokenIds()).hasSize(22);
        // defaults: max(32768, max_position_embeddings * rope factor)
        assertThat(new Generator(model).contextWindow()).isEqualTo(65536);
    }

    @Test
    void badInputNamesWhatIsWrong() {
        Generator g = new Generator(model);
        int ctx = 4107; // <IMG_CONTEXT> of the tiny vocabulary
        int[] ids = {1, 4106, ctx, ctx, 4107 - 2};
        float[] oneRow = new float[model.llm().hiddenSize()];
        assertThatThrownBy(() -> g.generate(new GenerationRequest(ids, oneRow, ctx, SamplingParams.greedy(2, Set.of()), null)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("request 0")
                .hasMessageContaining("2 <IMG_CONTEXT> tokens");
        assertThatThrownBy(() -> g.generate(new GenerationRequest(ids, null, ctx, SamplingParams.greedy(2, Set.of()), null)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("2 <IMG_CONTEXT> tokens (id 4107) but no image embeddings");
        assertThatThrownBy(() -> g.generate(GenerationRequest.text(new int[] {1, 99999}, SamplingParams.greedy(2, Set.of()))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("token id 99999 at position 1");
        try (InternVLModel other = InternVLModel.load(Fixtures.tinyModel("tiny-b"))) {
            var foreign = other.llm().newCache();
            assertThatThrownBy(() -> model.llm().forward(foreign, new int[] {1, 2}, null, -1, true))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("KV cache was made by a model of other shapes");
        }
        var shared = model.llm().newCache();
        assertThatThrownBy(() -> g.generate(List.of(
                new GenerationRequest(PROMPT, null, -1, SamplingParams.greedy(2, Set.of()), shared),
                new GenerationRequest(PROMPT, null, -1, SamplingParams.greedy(2, Set.of()), shared)), null))
                .hasMessageContaining("share one KV cache");
        assertThatThrownBy(() -> model.extractFeature(new float[10], 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("[1, 3, 448, 448]");
    }
}
