package org.internvl4j.pipeline;

import org.internvl4j.testing.TestData;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.internvl4j.generate.SamplingParams;
import org.junit.jupiter.api.Test;

/** The pipeline against the reference chat() fixtures (testdata/chat). */
class PipelineTest {
    static Path testdata() {
        return TestData.dir("chat").getParent();
    }

    static JsonNode fx(String name) throws Exception {
        return new ObjectMapper().readTree(Files.readString(testdata().resolve("chat/" + name + ".json")));
    }

    static int[] ints(JsonNode a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) r[i] = a.get(i).asInt();
        return r;
    }

    static String img(String name) {
        return testdata().resolve("chat/" + name).toString();
    }

    @Test
    void runsPromptsBatchesAndSessions() throws Exception {
        Pipeline.Options opts = Pipeline.Options.defaults().withMaxNum(2).withParams(SamplingParams.greedy(10, Set.of()));
        try (Pipeline pipe = Pipeline.load(testdata().resolve("tiny-models/tiny-a"), opts)) {
            // a list of prompts, decoded together
            List<Pipeline.Response> rs = pipe.run(List.of(
                    Pipeline.Prompt.of(fx("batch_0").get("inputs").get("question").asText()),
                    Pipeline.Prompt.of(fx("batch_1").get("inputs").get("question").asText(), img("img_b.png")),
                    Pipeline.Prompt.of(fx("batch_2").get("inputs").get("question").asText())));
            for (int i = 0; i < 3; i++) {
                JsonNode f = fx("batch_" + i);
                assertThat(rs.get(i).text()).isEqualTo(f.get("response").asText());
                assertThat(rs.get(i).result().tokenIds()).containsExactly(ints(f.get("tokens")));
            }
            // one prompt
            assertThat(pipe.run(fx("batch_0").get("inputs").get("question").asText()).text())
                    .isEqualTo(fx("batch_0").get("response").asText());
        }
        Pipeline.Options twelve = Pipeline.Options.defaults().withMaxNum(2).withParams(SamplingParams.greedy(12, Set.of()));
        try (Pipeline pipe = Pipeline.load(testdata().resolve("tiny-models/tiny-a"), twelve)) {
            Pipeline.Session s = pipe.chat();
            JsonNode t1 = fx("history_turn1");
            JsonNode t2 = fx("history_turn2");
            assertThat(s.ask(t1.get("inputs").get("question").asText(), img("img_b.png")).text()).isEqualTo(t1.get("response").asText());
            Pipeline.Response r2 = s.ask(t2.get("inputs").get("question").asText());
            assertThat(r2.result().tokenIds()).containsExactly(ints(t2.get("tokens")));
            assertThat(r2.text()).isEqualTo(t2.get("response").asText());
            assertThat(s.session().history()).hasSize(2);
        }
    }

    @Test
    void maxNumDefaultsToTheCheckpointsMaxDynamicPatch() {
        try (Pipeline pipe = Pipeline.load(testdata().resolve("tiny-models/tiny-a"))) {
            assertThat(pipe.imagePreprocessor().maxNum()).isEqualTo(pipe.chatModel().model().config().maxDynamicPatch());
        }
    }
}
