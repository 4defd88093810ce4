package org.internvl4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.internvl4j.cli.ChatCliTest.MODEL;
import static org.internvl4j.cli.ChatCliTest.chat;
import static org.internvl4j.cli.ChatCliTest.fixture;
import static org.internvl4j.cli.ChatCliTest.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The chat's commands (/system, /set, /save, /load) and \"\"\" blocks, read from a pipe. */
class ChatCommandsTest {
    /** The text generate prints for the same question: the expectation the chat must meet. */
    static String answer(String... generateArgs) {
        Run r = generate(generateArgs);
        assertThat(r.code()).as(r.err()).isZero();
        return r.out().strip();
    }

    @Test
    void systemSetsTheSystemMessageAndStartsOver() throws Exception {
        JsonNode fx = fixture("system");
        Run r = chat("/system " + fx.get("inputs").get("system").asText() + "\n" + fx.get("inputs").get("question").asText() + "\n",
                "-m", MODEL, "--max-new-tokens", "8");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("(system message set; conversation cleared)").contains(fx.get("response").asText());
    }

    @Test
    void setChangesTheSamplingSettings() {
        String sampled = answer("-m", MODEL, "--max-new-tokens", "6", "--temperature", "0.7", "--seed", "5", "Tell me a story.");
        Run r = chat("/set temperature 0.7\n/set seed 5\n/set max-new-tokens 6\n/set\nTell me a story.\n/set top-p 2\n/set bogus 1\n",
                "-m", MODEL);
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("max-new-tokens 6, sampling: temperature 0.7, top-k 50, top-p 1.0, seed 5").contains(sampled);
        assertThat(r.err()).contains("error: /set top-p must be above 0 and at most 1, got 2.0")
                .contains("error: /set no setting 'bogus'; the settings: max-new-tokens, temperature");
        Run greedy = chat("/set temperature 0.7\n/set greedy\n/set\n", "-m", MODEL);
        assertThat(greedy.out()).contains("max-new-tokens 1024, greedy");
    }

    @Test
    void saveThenLoadContinuesTheConversation(@TempDir Path tmp) throws Exception {
        JsonNode fx = fixture("text");
        String q1 = fx.get("inputs").get("question").asText();
        Path saved = tmp.resolve("chat.json");
        Run first = chat(q1 + "\n/save " + saved + "\n", "-m", MODEL, "--max-new-tokens", "16");
        assertThat(first.code()).as(first.err()).isZero();
        assertThat(first.out()).contains("(saved 1 turns to " + saved + ")");
        JsonNode file = new ObjectMapper().readTree(Files.readString(saved));
        assertThat(file.get("system").isNull()).isTrue();
        assertThat(file.get("history").get(0).get(0).asText()).isEqualTo(q1);
        assertThat(file.get("history").get(0).get(1).asText()).isEqualTo(fx.get("response").asText());

        // the next turn after /load is chat() with that history, as generate --history computes it
        Path history = tmp.resolve("history.json");
        Files.writeString(history, file.get("history").toString());
        String expected = answer("-m", MODEL, "--max-new-tokens", "12", "--history", history.toString(), "And then?");
        Run second = chat("/load " + saved + "\nAnd then?\n", "-m", MODEL, "--max-new-tokens", "12");
        assertThat(second.code()).as(second.err()).isZero();
        assertThat(second.out()).contains("(loaded 1 turns from " + saved + ")").contains(expected);
        // a --history list loads too
        Run list = chat("/load " + history + "\nAnd then?\n", "-m", MODEL, "--max-new-tokens", "12");
        assertThat(list.out()).contains(expected);
    }

    @Test
    void tripleQuotesMakeOneQuestionOfSeveralLines() {
        String expected = answer("-m", MODEL, "--max-new-tokens", "8", "Say\nhi\n  twice.");
        Run r = chat("\"\"\"Say\nhi\n  twice.\"\"\"\n", "-m", MODEL, "--max-new-tokens", "8");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains(expected);
        Run open = chat("\"\"\"\nSay\nhi\n  twice.\n\"\"\"\n", "-m", MODEL, "--max-new-tokens", "8");
        assertThat(open.out()).contains(expected);
    }

    @Test
    void blockParsing() throws Exception {
        var lines = new java.util.ArrayDeque<>(java.util.List.of("b", "c\"\"\" ignored"));
        assertThat(ChatCommand.block("\"\"\"a", lines::poll)).isEqualTo("a\nb\nc");
        assertThat(ChatCommand.block("\"\"\"one line\"\"\"", () -> null)).isEqualTo("one line");
        assertThat(ChatCommand.block("\"\"\"", () -> null)).isNull();
    }
}
