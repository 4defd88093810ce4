package org.internvl4j.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.internvl4j.checkpoint.LlmArchitecture;
import org.internvl4j.generate.FinishReason;
import org.internvl4j.generate.GenerationRequest;
import org.internvl4j.generate.GenerationResult;
import org.internvl4j.generate.Generator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Parity of the other language models of the family with their PyTorch references (scripts/fixtures/qwen2_ref.py,
 * testdata/model/README.md), with the tolerances of {@link ModelParityTest}: vision features within 1e-4, last
 * logits within 1e-3 of the largest, 32 greedy tokens identical, top-5 log-probabilities within 1e-3.
 */
class FamilyParityTest {
    private static final Map<String, InternVLModel> MODELS = new HashMap<>();

    static synchronized InternVLModel model(String name) {
        return MODELS.computeIfAbsent(name, n -> InternVLModel.load(Fixtures.tinyModel(n)));
    }

    @AfterAll
    static void close() {
        MODELS.values().forEach(InternVLModel::close);
        MODELS.clear();
    }

    static Stream<String> cases() {
        return Stream.of("q_text", "q_tiles", "q_history");
    }

    record Case(String name, JsonNode json, InternVLModel model, int[] promptIds, float[] imageEmbeds, int ctx) {
        GenerationRequest request() {
            return new GenerationRequest(promptIds, imageEmbeds, ctx, ModelParityTest.greedyWithLogprobs(), null);
        }
    }

    static Case load(String name) throws IOException {
        Path dir = Fixtures.modelCase(name);
        JsonNode c = Fixtures.json(dir.resolve("case.json"));
        InternVLModel m = model(c.get("model").asText());
        float[] feats = null;
        if (Files.exists(dir.resolve("pixels_u8.npy.gz"))) {
            Fixtures.Npy u8 = Fixtures.npy(dir.resolve("pixels_u8.npy.gz"));
            int tiles = u8.shape()[0];
            float[] pv = Fixtures.pixelValues(u8.bytes(), tiles, u8.shape()[1], u8.shape()[2]);
            assertThat(Fixtures.sha256(pv)).isEqualTo(Fixtures.json(dir.resolve("pixel_values.json")).get("sha256_f32le").asText());
            feats = m.extractFeature(pv, tiles);
            double d = ModelParityTest.maxAbsDiff(feats, Fixtures.npy(dir.resolve("vit_embeds.npy")).floats());
            System.out.printf("%-10s vision features: %d tiles, max abs diff %.3g%n", name, tiles, d);
            assertThat(d).as(name + " vision features").isLessThanOrEqualTo(1e-4);
        }
        return new Case(name, c, m, Fixtures.ints(c.get("prompt_ids")), feats, c.get("img_context_token_id").intValue());
    }

    @Test
    void theTinyQwen2CheckpointIsAQwen2WithATiedHead() {
        InternVLModel m = model("tiny-qwen2");
        assertThat(m.config().llm().arch()).isSameAs(LlmArchitecture.QWEN2);
        assertThat(m.config().llm().tieWordEmbeddings()).isTrue();
        assertThat(m.config().template()).isEqualTo("Hermes-2");
    }

    @ParameterizedTest
    @MethodSource("cases")
    void lastLogitsGreedyTokensAndLogprobsMatchTheReference(String name) throws IOException {
        Case c = load(name);
        float[] logits = c.model().llm().forward(c.model().llm().newCache(), c.promptIds(), c.imageEmbeds(), c.ctx(), true);
        float[] ref = Fixtures.npy(Fixtures.modelCase(name).resolve("logits_last.npy")).floats();
        assertThat(logits.length).isEqualTo(ref.length);
        double rel = ModelParityTest.maxAbsDiff(logits, ref) / ModelParityTest.maxAbs(ref);
        System.out.printf("%-10s logits: max abs diff / max |logit| = %.3g%n", name, rel);
        assertThat(rel).as(name + " last-position logits").isLessThanOrEqualTo(1e-3);

        GenerationResult r = new Generator(c.model()).generate(c.request());
        assertThat(r.tokenIds()).as(name + " greedy tokens").containsExactly(Fixtures.ints(c.json().get("generated_ids")));
        assertThat(r.finishReason()).isEqualTo(FinishReason.LENGTH);
        ModelParityTest.assertLogprobs(name, r, c.json());
    }

    @Test
    void theCasesDecodedAsOneBatchMatchTheReference() throws IOException {
        List<Case> cases = new ArrayList<>();
        for (String n : cases().toList()) cases.add(load(n));
        List<GenerationRequest> batch = cases.stream().map(Case::request).toList();
        List<GenerationResult> together = new Generator(cases.get(0).model()).generate(batch, null);
        for (int i = 0; i < cases.size(); i++) {
            assertThat(together.get(i).tokenIds()).as(cases.get(i).name() + " in a batch")
                    .containsExactly(Fixtures.ints(cases.get(i).json().get("generated_ids")));
        }
    }
}
