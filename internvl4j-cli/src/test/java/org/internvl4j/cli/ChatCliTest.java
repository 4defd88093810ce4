package org.internvl4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** `internvl generate` and `internvl chat` against the reference chat() fixtures in testdata/chat. */
class ChatCliTest {
    static final String MODEL = Run.testdata("tiny-models/tiny-a").toString();
    static final Path CHAT = Run.testdata("chat");

    static JsonNode fixture(String name) throws Exception {
        return new ObjectMapper().readTree(Files.readString(CHAT.resolve(name + ".json")));
    }

    static Run generate(String... args) {
        return Run.internvl(prepend("generate", args));
    }

    static String[] prepend(String first, String[] rest) {
        String[] all = new String[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }

    static String img(String name) {
        return CHAT.resolve(name).toString();
    }

    static void assertJsonMatches(Run r, JsonNode fx) {
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j;
        try {
            j = new ObjectMapper().readTree(r.out());
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + r.out(), e);
        }
        assertThat(j.get("prompt_token_ids")).isEqualTo(fx.get("prompt_ids"));
        assertThat(j.get("token_ids")).isEqualTo(fx.get("tokens"));
        assertThat(j.get("text").asText()).isEqualTo(fx.get("response").asText());
        assertThat(j.get("timings").get("prefill_tokens").asInt()).isEqualTo(fx.get("prompt_ids").size());
    }

    @Test
    void generateJsonCombinedImagesWithLogprobs() throws Exception {
        JsonNode fx = fixture("two_combined");
        Run r = generate("--model", MODEL, "--prompt", "Describe the two images.", "--image", img("img_a.png"),
                "--image", img("img_b.png"), "--max-num", "2", "--max-new-tokens", "12", "--json", "--logprobs", "5");
        assertJsonMatches(r, fx);
        JsonNode lps = new ObjectMapper().readTree(r.out()).get("logprobs");
        assertThat(lps.size()).isEqualTo(fx.get("steps").size());
        for (int s = 0; s < lps.size(); s++) {
            for (int k = 0; k < 5; k++) {
                JsonNode ours = lps.get(s).get(k);
                JsonNode ref = fx.get("steps").get(s).get("top").get(k);
                assertThat(ours.get("id").asInt()).isEqualTo(ref.get("id").asInt());
                assertThat(ours.get("logprob").asDouble()).isCloseTo(ref.get("logprob").asDouble(), within(1e-3));
            }
        }
    }

    @Test
    void generateSeparateImages() throws Exception {
        assertJsonMatches(generate("--model", MODEL, "--prompt", "Describe the two images.", "--image", img("img_a.png"),
                "--image", img("img_b.png"), "--separate-images", "--max-num", "2", "--max-new-tokens", "12", "--json"),
                fixture("two_separate"));
    }

    @Test
    void generateWithHistoryAndSystem(@TempDir Path tmp) throws Exception {
        JsonNode fx = fixture("history_turn2");
        Path h = tmp.resolve("history.json");
        Files.writeString(h, fx.get("inputs").get("history").toString());
        assertJsonMatches(generate("--model", MODEL, "--prompt", fx.get("inputs").get("question").asText(), "--image",
                img("img_b.png"), "--max-num", "2", "--history", h.toString(), "--max-new-tokens", "12", "--json"), fx);
        JsonNode sys = fixture("system");
        assertJsonMatches(generate("--model", MODEL, "--prompt", "Say hi.", "--system", "You are a terse assistant.",
                "--max-new-tokens", "8", "--json", "--greedy"), sys);
    }

    @Test
    void generateVideo() throws Exception {
        JsonNode fx = fixture("video");
        assertJsonMatches(generate("--model", MODEL, "--prompt", "What happens in the video?", "--video",
                CHAT.resolve("video.avi").toString(), "--segments", "4", "--max-new-tokens", "12", "--json"), fx);
    }

    @Test
    void generatePlainTextIsTheResponse() throws Exception {
        JsonNode fx = fixture("text");
        Run r = generate("--model", MODEL, "--prompt", "Hello, who are you?", "--max-new-tokens", "16");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo(fx.get("response").asText() + System.lineSeparator());
    }

    @Test
    void generateSamplingRepeatsWithASeed() {
        String[] args = {"--model", MODEL, "--prompt", "Tell me a story.", "--temperature", "0.8", "--top-p", "0.9",
            "--seed", "7", "--max-new-tokens", "12", "--json"};
        Run a = generate(args);
        Run b = generate(args);
        assertThat(a.code()).as(a.err()).isZero();
        assertThat(a.out()).isNotEmpty();
        assertThat(a.out().replaceAll("\"timings\".*", "")).isEqualTo(b.out().replaceAll("\"timings\".*", ""));
    }

    @Test
    void generateErrorsAreClear() {
        Run r = generate("--model", MODEL, "--prompt", "Image-1: <image>\nImage-2: <image>\nCompare.", "--image", img("img_b.png"));
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("2 <image> placeholders but 1 image was given");
        r = generate("--model", MODEL, "--prompt", "");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("prompt is empty");
        r = generate("--model", CHAT.resolve("nope").toString(), "--prompt", "hi");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("nope").contains("no such directory");
        r = generate("--model", MODEL, "--prompt", "hi", "--greedy", "--temperature", "0.5");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--greedy cannot be combined");
        r = generate("--model", MODEL, "--prompt", "hi", "--image", img("missing.png"));
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("missing.png");
    }

    static Run chat(String stdin, String... args) {
        CommandLine cl = new CommandLine(new ChatCommand(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8))));
        return Run.of(cl, args);
    }

    @Test
    void interactiveChatKeepsHistoryAndStreams() throws Exception {
        JsonNode t1 = fixture("history_turn1");
        JsonNode t2 = fixture("history_turn2");
        String stdin = "/help\n/image " + img("img_b.png") + "\n" + t1.get("inputs").get("question").asText() + "\n"
                + t2.get("inputs").get("question").asText() + "\n/bogus\n/quit\nnever read\n";
        Run r = chat(stdin, "--model", MODEL, "--max-num", "2", "--max-new-tokens", "12");
        assertThat(r.code()).as(r.err()).isZero();
        String out = r.out();
        assertThat(out).contains("/reset").contains("(image attached: 3 tiles)").contains("unknown command /bogus");
        int a = out.indexOf(t1.get("response").asText());
        int b = out.indexOf(t2.get("response").asText());
        assertThat(a).isPositive();
        assertThat(b).isGreaterThan(a);
        assertThat(out).doesNotContain("never read");
    }

    @Test
    void interactiveResetStartsOver() throws Exception {
        JsonNode t = fixture("text");
        String q = t.get("inputs").get("question").asText();
        Run r = chat(q + "\n/reset\n" + q + "\n", "--model", MODEL, "--max-new-tokens", "16");
        assertThat(r.code()).as(r.err()).isZero();
        String resp = t.get("response").asText();
        int first = r.out().indexOf(resp);
        assertThat(first).isPositive();
        assertThat(r.out().indexOf(resp, first + resp.length())).isPositive();  // same answer again after the reset
        assertThat(r.out()).contains("(conversation cleared)");
    }

    @Test
    void interactiveErrorKeepsTheSessionGoing() throws Exception {
        JsonNode t = fixture("text");
        Run r = chat("/image " + img("missing.png") + "\n" + t.get("inputs").get("question").asText() + "\n",
                "--model", MODEL, "--max-new-tokens", "16");
        assertThat(r.code()).isZero();
        assertThat(r.err()).contains("missing.png");
        assertThat(r.out()).contains(t.get("response").asText());
    }

    @Test
    void oneShotChatWithImage() throws Exception {
        JsonNode fx = fixture("image_tiles");
        Run r = chat("", "--model", MODEL, "--image", img("img_a.png"), "--max-num", "6", "--max-new-tokens", "12",
                "Describe the image.");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo(fx.get("response").asText() + System.lineSeparator());
    }

    @Test
    void commandsAreRegistered() {
        List<String> names = new ArrayList<>(Main.commandLine().getSubcommands().keySet());
        assertThat(names).contains("chat", "generate");
    }
}
