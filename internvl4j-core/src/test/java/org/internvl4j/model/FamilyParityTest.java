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
import java.util.Set;
import org.internvl4j.chat.ChatModel;
import org.internvl4j.chat.ChatRequest;
import org.internvl4j.chat.ChatResult;
import org.internvl4j.chat.Turn;
import org.internvl4j.checkpoint.LlmArchitecture;
import org.internvl4j.generate.FinishReason;
import org.internvl4j.generate.GenerationRequest;
import org.internvl4j.generate.GenerationResult;
import org.internvl4j.generate.Generator;
import org.internvl4j.generate.SamplingParams;
import org.internvl4j.image.PixelValues;
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

    /** Qwen2 cases (decoded as one batch too). */
    static Stream<String> cases() {
        return Stream.of("q_text", "q_tiles", "q_history");
    }

    /**
     * Every case made from a prompt text: Qwen2's, Phi-3's and Llama's (Yi) through their SentencePiece tokenizers, and
     * Llama 3's through its byte-level tokenizer.json; v6_chat_image has an InternViT-6B-like tower (InternVL2-76B's
     * structure scaled down).
     */
    static Stream<String> chatCases() {
        return Stream.concat(cases(), Stream.of("p_chat", "p_chat_image", "l_chat", "l_chat_image", "l3_chat", "l3_chat_image", "v6_chat_image"));
    }

    /** Plus the Phi-3 and Llama cases made from ids (LongRoPE's factor switch, long prompts). */
    static Stream<String> allCases() {
        return Stream.concat(chatCases(), Stream.of("p_short", "p_long", "p_image", "l_text", "l_image"));
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
    @MethodSource("allCases")
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
    void theTinyPhi3CheckpointIsAPhi3WithLongRope() throws IOException {
        InternVLModel m = model("tiny-phi3");
        assertThat(m.config().llm().arch()).isSameAs(LlmArchitecture.PHI3);
        assertThat(m.config().llm().ropeScaling().longRope()).isTrue();
        assertThat(m.config().template()).isEqualTo("phi3-chat");
        // p_short's reference prefilled on the short factors and switched to the long ones while decoding
        JsonNode log = Fixtures.json(Fixtures.modelCase("p_short").resolve("case.json")).get("rope_factors");
        assertThat(log.get(0).get(1).asText()).isEqualTo("short");
        assertThat(log.get(log.size() - 1).get(1).asText()).isEqualTo("long");
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

    /**
     * Through the chat layer: ChatModel.load picks the tokenizer from the checkpoint's files (byte-level BPE for Qwen2,
     * transformers' LlamaTokenizer rules for the Phi-3 and Yi SentencePiece models) and the template from config.json
     * (Hermes-2, phi3-chat); prompt text, prompt ids, 32 greedy tokens and chat()'s post-processed response equal the
     * reference's.
     */
    @ParameterizedTest
    @MethodSource("chatCases")
    void chatModelAnswersLikeTheReference(String name) throws IOException {
        JsonNode c = Fixtures.json(Fixtures.modelCase(name).resolve("case.json"));
        List<PixelValues> images = new ArrayList<>();
        Path dir = Fixtures.modelCase(name);
        if (Files.exists(dir.resolve("pixels_u8.npy.gz"))) {
            Fixtures.Npy u8 = Fixtures.npy(dir.resolve("pixels_u8.npy.gz"));
            int tiles = u8.shape()[0];
            // the 896x448 picture: a 2x1 grid and its thumbnail; the 448x448 one: a single tile
            int cols = tiles == 1 ? 1 : 2;
            images.add(new PixelValues(Fixtures.pixelValues(u8.bytes(), tiles, u8.shape()[1], u8.shape()[2]), tiles, u8.shape()[1], cols, 1));
        }
        List<Turn> history = null;
        if (c.hasNonNull("history")) {
            history = new ArrayList<>();
            for (JsonNode t : c.get("history")) history.add(new Turn(t.get(0).asText(), t.get(1).asText()));
        }
        try (ChatModel chat = ChatModel.load(Fixtures.tinyModel(c.get("model").asText()))) {
            assertThat(chat.template().name()).isEqualTo(c.get("model").asText().equals("tiny-phi3") ? "phi3-chat" : "Hermes-2");
            ChatResult r = chat.chat(new ChatRequest(c.get("question").asText(), images, null, history, null,
                    SamplingParams.greedy(ModelParityTest.STEPS, Set.of()), null));
            assertThat(r.prompt()).isEqualTo(c.get("query").asText());
            assertThat(r.promptIds()).containsExactly(Fixtures.ints(c.get("prompt_ids")));
            assertThat(r.tokenIds()).containsExactly(Fixtures.ints(c.get("generated_ids")));
            assertThat(r.response()).isEqualTo(c.get("response").asText());
        }
    }
}
