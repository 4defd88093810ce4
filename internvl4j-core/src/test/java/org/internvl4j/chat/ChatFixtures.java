package org.internvl4j.chat;

import org.internvl4j.testing.TestData;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads the reference chat() cases in testdata/chat (see testdata/chat/README.md). */
final class ChatFixtures {
    private ChatFixtures() {}

    /** The repository's testdata/ folder, found by walking up from the working directory. */
    static Path testdata() {
        return TestData.dir("chat").getParent();
    }

    static Path chatDir() {
        return testdata().resolve("chat");
    }

    static Path tinyModel(String variant) {
        return testdata().resolve("tiny-models").resolve("tiny-" + variant);
    }

    /** One case: the inputs given to the reference chat() and what it produced. */
    record Case(String name, String question, List<String> images, int maxNum, List<Turn> history, String system,
                int maxNewTokens, String prompt, int[] promptIds, List<Integer> numPatchesList, int[] tokens,
                String response, JsonNode json) {

        List<Path> imagePaths() {
            return images.stream().map(chatDir()::resolve).toList();
        }

        /** Reference top-k of step {@code step}: ids and log-probabilities, best first. */
        int[] topIds(int step) {
            JsonNode top = json.get("steps").get(step).get("top");
            int[] ids = new int[top.size()];
            for (int i = 0; i < ids.length; i++) ids[i] = top.get(i).get("id").asInt();
            return ids;
        }

        double[] topLogprobs(int step) {
            JsonNode top = json.get("steps").get(step).get("top");
            double[] lp = new double[top.size()];
            for (int i = 0; i < lp.length; i++) lp[i] = top.get(i).get("logprob").asDouble();
            return lp;
        }
    }

    static Case load(String name) {
        JsonNode j;
        try {
            j = new ObjectMapper().readTree(Files.readString(chatDir().resolve(name + ".json")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        JsonNode in = j.get("inputs");
        List<Turn> history = null;
        if (!in.get("history").isNull()) {
            history = new ArrayList<>();
            for (JsonNode t : in.get("history")) history.add(new Turn(t.get(0).asText(), t.get(1).asText()));
        }
        List<String> images = new ArrayList<>();
        in.get("images").forEach(n -> images.add(n.asText()));
        List<Integer> patches = new ArrayList<>();
        j.get("num_patches_list").forEach(n -> patches.add(n.asInt()));
        return new Case(name, in.get("question").asText(), images, in.get("max_num").asInt(), history,
                in.get("system").isNull() ? null : in.get("system").asText(), in.get("max_new_tokens").asInt(),
                j.get("prompt").asText(), ints(j.get("prompt_ids")), patches, ints(j.get("tokens")),
                j.get("response").asText(), j);
    }

    static int[] ints(JsonNode arr) {
        int[] r = new int[arr.size()];
        for (int i = 0; i < r.length; i++) r[i] = arr.get(i).asInt();
        return r;
    }
}
