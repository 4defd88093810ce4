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
import java.util.Set;
import java.util.stream.Stream;
import org.internvl4j.generate.FinishReason;
import org.internvl4j.generate.GenerationRequest;
import org.internvl4j.generate.GenerationResult;
import org.internvl4j.generate.Generator;
import org.internvl4j.generate.SamplingParams;
import org.internvl4j.generate.TokenListener;
import org.internvl4j.generate.TokenLogprob;
import org.internvl4j.llm.KvCache;
import org.internvl4j.testing.Tolerances;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Parity with the PyTorch reference on the tiny checkpoints (testdata/model/README.md says how the
 * fixtures were made): vision features, last-position logits (relative to the largest logit) and top-5
 * log-probabilities within {@link Tolerances} (measured errors and margins there), 32 greedy tokens identical.
 */
class ModelParityTest {
    static final int STEPS = 32;
    private static final Map<String, InternVLModel> MODELS = new HashMap<>();
    private static final Map<String, float[]> FEATURES = new HashMap<>();

    static synchronized InternVLModel model(String name) {
        return MODELS.computeIfAbsent(name, n -> InternVLModel.load(Fixtures.tinyModel(n)));
    }

    /** A model whose config.json gets the case's overrides ("a.b" paths), in a temporary copy. */
    static synchronized InternVLModel model(String name, JsonNode override) throws IOException {
        if (override == null || override.isNull()) return model(name);
        String key = name + override;
        InternVLModel m = MODELS.get(key);
        if (m != null) return m;
        Path dir = Files.createTempDirectory("internvl-override-");
        TEMP_DIRS.add(dir);
        try (var files = Files.list(Fixtures.tinyModel(name))) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
        var cfg = (com.fasterxml.jackson.databind.node.ObjectNode) mapper.readTree(dir.resolve("config.json").toFile());
        for (var it = override.fields(); it.hasNext(); ) {
            var e = it.next();
            String[] keys = e.getKey().split("\\.");
            var node = cfg;
            for (int i = 0; i < keys.length - 1; i++) node = (com.fasterxml.jackson.databind.node.ObjectNode) node.get(keys[i]);
            node.set(keys[keys.length - 1], e.getValue());
        }
        mapper.writeValue(dir.resolve("config.json").toFile(), cfg);
        m = InternVLModel.load(dir);
        MODELS.put(key, m);
        return m;
    }

    private static final List<Path> TEMP_DIRS = new ArrayList<>();

    @AfterAll
    static void close() throws IOException {
        MODELS.values().forEach(InternVLModel::close);
        MODELS.clear();
        for (Path d : TEMP_DIRS) {
            try (var files = Files.list(d)) {
                for (Path f : files.toList()) Files.delete(f);
            }
            Files.delete(d);
        }
        TEMP_DIRS.clear();
    }

    static Stream<String> cases() {
        return Stream.of("a_text", "a_tiles", "a_two_images", "a_history", "a_batch_0", "a_batch_1", "a_batch_2",
                "b_long", "b_vision", "c_image", "c_linear_rope", "a_select_layer", "d_text", "d_image");
    }

    record Case(String name, JsonNode json, InternVLModel model, int[] promptIds, float[] imageEmbeds, int ctx) {
        int[] expectedTokens() {
            return Fixtures.ints(json.get("generated_ids"));
        }
    }

    /** Loads a case; with images, runs the vision tower and checks it against vit_embeds. */
    static Case load(String name) throws IOException {
        Path dir = Fixtures.modelCase(name);
        JsonNode c = Fixtures.json(dir.resolve("case.json"));
        InternVLModel m = model(c.get("model").asText(), c.get("config_override"));
        float[] feats = null;
        if (Files.exists(dir.resolve("pixels_u8.npy.gz"))) feats = features(name, dir, m);
        return new Case(name, c, m, Fixtures.ints(c.get("prompt_ids")), feats, c.get("img_context_token_id").intValue());
    }

    private static synchronized float[] features(String name, Path dir, InternVLModel m) throws IOException {
        float[] cached = FEATURES.get(name);
        if (cached != null) return cached;
        Fixtures.Npy u8 = Fixtures.npy(dir.resolve("pixels_u8.npy.gz"));
        int tiles = u8.shape()[0], size = u8.shape()[1];
        float[] pv = Fixtures.pixelValues(u8.bytes(), tiles, size, u8.shape()[2]);
        JsonNode info = Fixtures.json(dir.resolve("pixel_values.json"));
        assertThat(Fixtures.sha256(pv)).as(name + " pixel values reproduced bit for bit").isEqualTo(info.get("sha256_f32le").asText());
        float[] feats = m.extractFeature(pv, tiles);
        float[] ref = Fixtures.npy(dir.resolve("vit_embeds.npy")).floats();
        assertThat(feats.length).isEqualTo(ref.length);
        double maxAbs = maxAbsDiff(feats, ref);
        System.out.printf("%-13s vision features: %d tiles, max abs diff %.3g%n", name, tiles, maxAbs);
        assertThat(maxAbs).as(name + " vision features max abs diff").isLessThanOrEqualTo(Tolerances.VISION_ABS);
        FEATURES.put(name, feats);
        return feats;
    }

    static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs((double) a[i] - b[i]));
        return m;
    }

    static double maxAbs(float[] a) {
        double m = 0;
        for (float v : a) m = Math.max(m, Math.abs(v));
        return m;
    }

    static GenerationRequest request(Case c, SamplingParams p, KvCache cache) {
        return new GenerationRequest(c.promptIds(), c.imageEmbeds(), c.ctx(), p, cache);
    }

    static SamplingParams greedyWithLogprobs() {
        return SamplingParams.greedy(STEPS, Set.of()).withLogprobs(5);
    }

    @ParameterizedTest
    @MethodSource("cases")
    void lastLogitsGreedyTokensAndLogprobsMatchTheReference(String name) throws IOException {
        Case c = load(name);
        float[] logits = c.model().llm().forward(c.model().llm().newCache(), c.promptIds(), c.imageEmbeds(), c.ctx(), true);
        float[] ref = Fixtures.npy(Fixtures.modelCase(name).resolve("logits_last.npy")).floats();
        assertThat(logits.length).isEqualTo(ref.length);
        double rel = maxAbsDiff(logits, ref) / maxAbs(ref);
        System.out.printf("%-13s logits: max abs diff / max |logit| = %.3g%n", name, rel);
        assertThat(rel).as(name + " last-position logits relative diff").isLessThanOrEqualTo(Tolerances.LOGITS_REL);

        GenerationResult r = new Generator(c.model()).generate(request(c, greedyWithLogprobs(), null));
        assertThat(r.tokenIds()).as(name + " greedy tokens").containsExactly(c.expectedTokens());
        assertThat(r.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertLogprobs(name, r, c.json());
    }

    static void assertLogprobs(String name, GenerationResult r, JsonNode json) {
        JsonNode top = json.get("top");
        double worst = 0;
        for (int step = 0; step < top.size(); step++) {
            List<TokenLogprob> got = r.logprobs().get(step);
            JsonNode want = top.get(step);
            assertThat(got).hasSize(want.size());
            for (int k = 0; k < want.size(); k++) {
                // the ids must match except where two candidates are closer than the tolerance
                double lp = want.get(k).get("logprob").asDouble();
                double tie = 2 * Tolerances.LOGPROB_ABS;
                boolean nearTie = (k > 0 && Math.abs(lp - want.get(k - 1).get("logprob").asDouble()) < tie)
                        || (k + 1 < want.size() && Math.abs(lp - want.get(k + 1).get("logprob").asDouble()) < tie);
                if (!nearTie) assertThat(got.get(k).id()).as(name + " step " + step + " rank " + k).isEqualTo(want.get(k).get("id").intValue());
                double d = Math.abs(got.get(k).logprob() - lp);
                worst = Math.max(worst, d);
                assertThat(d).as(name + " step " + step + " rank " + k + " logprob").isLessThanOrEqualTo(Tolerances.LOGPROB_ABS);
            }
        }
        System.out.printf("%-13s top-5 logprobs over %d steps: max abs diff %.3g%n", name, top.size(), worst);
    }

    @Test
    void aBatchOfThreeDecodesTogetherAndMatchesEachOneByOne() throws IOException {
        List<Case> cases = new ArrayList<>();
        for (String n : List.of("a_batch_0", "a_batch_1", "a_batch_2")) cases.add(load(n));
        Generator g = new Generator(cases.get(0).model());
        List<GenerationRequest> batch = new ArrayList<>();
        // different lengths so that requests finish at different steps
        int[] lengths = {STEPS, 7, 20};
        for (int i = 0; i < 3; i++) batch.add(request(cases.get(i), greedyWithLogprobs().withMaxNewTokens(lengths[i]), null));
        List<int[]> streamed = new ArrayList<>(List.of(new int[0], new int[0], new int[0]));
        List<GenerationResult> together = g.generate(batch, (i, t) -> {
            int[] old = streamed.get(i);
            int[] now = java.util.Arrays.copyOf(old, old.length + 1);
            now[old.length] = t;
            streamed.set(i, now);
            return true;
        });
        for (int i = 0; i < 3; i++) {
            int[] expected = java.util.Arrays.copyOf(cases.get(i).expectedTokens(), lengths[i]);
            assertThat(together.get(i).tokenIds()).as("batched request " + i).containsExactly(expected);
            assertThat(streamed.get(i)).as("listener saw request " + i).containsExactly(expected);
            GenerationResult alone = g.generate(batch.get(i));
            assertThat(together.get(i).tokenIds()).containsExactly(alone.tokenIds());
            for (int s = 0; s < lengths[i]; s++) {
                List<TokenLogprob> a = together.get(i).logprobs().get(s), b = alone.logprobs().get(s);
                for (int k = 0; k < a.size(); k++) {
                    assertThat(a.get(k).id()).isEqualTo(b.get(k).id());
                    assertThat((double) a.get(k).logprob()).isCloseTo(b.get(k).logprob(), org.assertj.core.data.Offset.offset(1e-4)); // kernels sum in another order for 1 and 3 rows
                }
            }
        }
    }

    @Test
    void aSessionCacheHoldingThePreviousTurnPrefillsOnlyTheNewTokens() throws IOException {
        Case c = load("a_history");
        Generator g = new Generator(c.model());
        // turn 1: the prompt up to the first answer's end, as a previous chat call would have left it
        int split = 50;
        KvCache cache = c.model().llm().newCache();
        c.model().llm().forward(cache, java.util.Arrays.copyOf(c.promptIds(), split), null, -1, true);
        // a stale tail that does not match the new prompt is cut off
        c.model().llm().forward(cache, new int[] {5, 6, 7}, null, -1, true);
        assertThat(Generator.reusablePrefix(cache, c.promptIds())).isEqualTo(split);
        GenerationResult r = g.generate(request(c, greedyWithLogprobs(), cache));
        assertThat(r.timings().prefillTokens()).isEqualTo(c.promptIds().length - split);
        assertThat(r.tokenIds()).containsExactly(c.expectedTokens());
        assertThat(cache.length()).isEqualTo(c.promptIds().length + STEPS - 1);
    }

    @Test
    void dynamicNtkBaseFollowsTheReferenceWhileDecodingPastMaxPositions() throws IOException {
        Case c = load("b_long");
        KvCache cache = c.model().llm().newCache();
        new Generator(c.model()).generate(request(c, SamplingParams.greedy(STEPS, Set.of()), cache));
        JsonNode log = c.json().get("rope_recomputes");
        JsonNode last = log.get(log.size() - 1);
        assertThat(cache.length()).isEqualTo(last.get(0).intValue());
        assertThat(cache.ropeBase()).isCloseTo(last.get(1).asDouble(), org.assertj.core.data.Offset.offset(1e-6 * last.get(1).asDouble()));
        assertThat(log.get(0).get(0).intValue()).as("prefill uses one base for the whole prompt").isEqualTo(c.promptIds().length);
    }

    @Test
    void twoThreadsShareOneModelWithoutInterfering() throws Exception {
        List<Case> cases = List.of(load("a_text"), load("a_two_images"), load("a_batch_1"));
        var pool = java.util.concurrent.Executors.newFixedThreadPool(3);
        try {
            List<java.util.concurrent.Future<GenerationResult>> futures = new ArrayList<>();
            for (Case c : cases) {
                futures.add(pool.submit(() -> new Generator(c.model()).generate(request(c, SamplingParams.greedy(STEPS, Set.of()), null))));
            }
            for (int i = 0; i < cases.size(); i++) {
                assertThat(futures.get(i).get().tokenIds()).as(cases.get(i).name()).containsExactly(cases.get(i).expectedTokens());
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void sequencesPastMaxPositionsInOneBatchEachKeepTheirOwnNtkBase() throws IOException {
        // b_long (78 tokens) and b_vision (293 tokens) decode together past max_position_embeddings 64:
        // every step each sequence's RoPE base follows its own length
        Case a = load("b_long"), b = load("b_vision");
        List<GenerationResult> r = new Generator(a.model()).generate(List.of(
                request(a, greedyWithLogprobs(), null), request(b, greedyWithLogprobs(), null)), null);
        assertThat(r.get(0).tokenIds()).containsExactly(a.expectedTokens());
        assertThat(r.get(1).tokenIds()).containsExactly(b.expectedTokens());
        assertLogprobs("b_long+b_vision", r.get(0), a.json());
        assertLogprobs("b_vision+b_long", r.get(1), b.json());
    }

    @Test
    void stopTokensEndGenerationAndAreIncluded() throws IOException {
        Case c = load("a_text");
        int[] want = c.expectedTokens();
        int stop = want[5];
        int first = 0;
        while (want[first] != stop) first++;
        GenerationResult r = new Generator(c.model()).generate(request(c, SamplingParams.greedy(STEPS, Set.of(stop)), null));
        assertThat(r.tokenIds()).containsExactly(java.util.Arrays.copyOf(want, first + 1));
        assertThat(r.finishReason()).isEqualTo(FinishReason.STOP);

        TokenListener abortAfterThree = (i, t) -> false;
        GenerationResult aborted = new Generator(c.model()).generate(
                List.of(request(c, SamplingParams.greedy(STEPS, Set.of()), null)), abortAfterThree).get(0);
        assertThat(aborted.tokenIds()).containsExactly(want[0]);
        assertThat(aborted.finishReason()).isEqualTo(FinishReason.ABORTED);
    }
}
