package org.internvl4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.internvl4j.cli.ChatCliTest.CHAT;
import static org.internvl4j.cli.ChatCliTest.MODEL;
import static org.internvl4j.cli.ChatCliTest.fixture;
import static org.internvl4j.cli.ChatCliTest.generate;
import static org.internvl4j.cli.ChatCliTest.img;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/** The conventions users know from llama.cpp, Ollama, OpenAI and the HF CLI, one test each (issue 14). */
class ConventionsTest {
    static JsonNode json(Run r) throws Exception {
        assertThat(r.code()).as(r.err()).isZero();
        return new ObjectMapper().readTree(r.out());
    }

    @Test
    void generateTakesThePromptAsAnArgumentOrAnOption() throws Exception {
        JsonNode fx = fixture("text");
        String q = fx.get("inputs").get("question").asText();
        JsonNode positional = json(generate("-m", MODEL, "--max-new-tokens", "16", "--json", q));
        JsonNode option = json(generate("--model", MODEL, "--max-new-tokens", "16", "--json", "--prompt", q));
        assertThat(positional.get("text").asText()).isEqualTo(fx.get("response").asText());
        assertThat(option.get("token_ids")).isEqualTo(positional.get("token_ids"));

        Run both = generate("-m", MODEL, "--prompt", q, q);
        assertThat(both.code()).isEqualTo(2);
        assertThat(both.err()).contains("given twice");
        Run none = generate("-m", MODEL);
        assertThat(none.code()).isEqualTo(2);
        assertThat(none.err()).contains("missing the prompt");
    }

    @Test
    void aRepeatedOptionTakesTheLastValue() throws Exception {
        JsonNode fx = fixture("text");
        JsonNode j = json(generate("-m", MODEL, "--max-new-tokens", "3", "--max-new-tokens", "16", "--json",
                fx.get("inputs").get("question").asText()));
        assertThat(j.get("token_ids")).isEqualTo(fx.get("tokens"));
    }

    @Test
    void temperatureZeroIsGreedy() throws Exception {
        JsonNode fx = fixture("text");
        // with top-p and a seed too: llama.cpp and Ollama ignore them at temperature 0
        JsonNode j = json(generate("-m", MODEL, "--max-new-tokens", "16", "--temperature", "0", "--top-p", "0.5", "--seed", "3",
                "--json", fx.get("inputs").get("question").asText()));
        assertThat(j.get("token_ids")).isEqualTo(fx.get("tokens"));
        assertThat(j.get("text").asText()).isEqualTo(fx.get("response").asText());
    }

    @Test
    void aStopStringFinishesWithStop() throws Exception {
        JsonNode fx = fixture("text");
        String response = fx.get("response").asText();
        String stop = " open";
        assertThat(response).contains(stop);
        JsonNode j = json(generate("-m", MODEL, "--max-new-tokens", "16", "--stop", stop, "--json",
                fx.get("inputs").get("question").asText()));
        assertThat(j.get("finish_reason").asText()).isEqualTo("stop");
        assertThat(j.get("text").asText()).isEqualTo(response.substring(0, response.indexOf(stop)).strip());
        JsonNode full = json(generate("-m", MODEL, "--max-new-tokens", "16", "--json", fx.get("inputs").get("question").asText()));
        assertThat(full.get("finish_reason").asText()).isEqualTo("length");
    }

    @Test
    void logprobEntriesCarryTheTokenTextAndBytes() throws Exception {
        JsonNode fx = fixture("two_combined");
        JsonNode j = json(generate("-m", MODEL, "--image", img("img_a.png"), "--image", img("img_b.png"), "--max-num", "2",
                "--max-new-tokens", "12", "--json", "--logprobs", "3", "Describe the two images."));
        // greedy: each step's best entry is the token chosen; their bytes, joined, are the response
        ByteArrayOutputStream chosen = new ByteArrayOutputStream();
        for (int s = 0; s < j.get("logprobs").size(); s++) {
            JsonNode best = j.get("logprobs").get(s).get(0);
            assertThat(best.get("id")).isEqualTo(j.get("token_ids").get(s));
            assertThat(best.fieldNames()).toIterable().containsExactly("id", "token", "bytes", "logprob");
            byte[] bytes = new byte[best.get("bytes").size()];
            for (int k = 0; k < bytes.length; k++) bytes[k] = (byte) best.get("bytes").get(k).asInt();
            if (new String(bytes, StandardCharsets.UTF_8).equals(best.get("token").asText())) chosen.writeBytes(bytes);
            else assertThat(best.get("token").asText()).startsWith("\\x");   // part of a character
        }
        assertThat(chosen.toString(StandardCharsets.UTF_8).strip()).isEqualTo(fx.get("response").asText());
    }

    @Test
    void logprobsWithoutJsonPrintATable() throws Exception {
        JsonNode fx = fixture("text");
        Run r = generate("-m", MODEL, "--max-new-tokens", "16", "--logprobs", "2", fx.get("inputs").get("question").asText());
        assertThat(r.code()).as(r.err()).isZero();
        String[] lines = r.out().split("\n");
        assertThat(lines[0]).isEqualTo(fx.get("response").asText());
        assertThat(lines[2]).contains("step", "token", "logprob", "top alternatives");
        assertThat(lines).hasSize(3 + 16);
        assertThat(lines[3]).startsWith("   1  \"");
    }

    @Test
    void modelCommandsTakeDashM(@TempDir Path tmp) {
        Run inspect = Run.internvl("inspect", "-m", MODEL);
        assertThat(inspect.code()).as(inspect.err()).isZero();
        assertThat(inspect.out()).contains("complete");
        assertThat(Run.internvl("inspect", MODEL).out()).isEqualTo(inspect.out());
        assertThat(Run.internvl("inspect", "--model", MODEL).out()).isEqualTo(inspect.out());
        Run twice = Run.internvl("inspect", "-m", MODEL, MODEL);
        assertThat(twice.code()).isEqualTo(2);
        assertThat(twice.err()).contains("given twice");
        // every command that reads a model has -m and --model with the same placeholder
        CommandLine root = Main.commandLine();
        for (String cmd : new String[] {"chat", "generate", "inspect", "tokenize"}) {
            OptionSpec m = root.getSubcommands().get(cmd).getCommandSpec().findOption("-m");
            assertThat(m).as(cmd).isNotNull();
            assertThat(m.names()).as(cmd).contains("--model");
            assertThat(m.paramLabel()).as(cmd).isEqualTo("DIR|OWNER/NAME[@REV]");
        }
        OptionSpec bench = root.getSubcommands().get("bench").getSubcommands().get("model").getCommandSpec().findOption("-m");
        assertThat(bench.paramLabel()).isEqualTo("DIR|OWNER/NAME[@REV]");
    }

    @Test
    void theSameOptionHasTheSamePlaceholderEverywhere() {
        Map<String, Set<String>> labels = new TreeMap<>();
        Map<String, String> where = new HashMap<>();
        walk(Main.commandLine(), labels, where);
        for (var e : labels.entrySet()) {
            assertThat(e.getValue()).as("placeholders of " + e.getKey() + " (in " + where.get(e.getKey()) + ")").hasSize(1);
        }
        assertThat(labels.get("--image")).containsExactly("FILE|URL");
        assertThat(labels.get("--seed")).containsExactly("N");
    }

    private static void walk(CommandLine cl, Map<String, Set<String>> labels, Map<String, String> where) {
        CommandSpec spec = cl.getCommandSpec();
        for (OptionSpec o : spec.options()) {
            if (o.arity().max() == 0) continue;   // flags have no placeholder
            labels.computeIfAbsent(o.longestName(), k -> new TreeSet<>()).add(o.paramLabel());
            where.merge(o.longestName(), spec.qualifiedName(), (a, b) -> a + ", " + b);
        }
        for (CommandLine sub : cl.getSubcommands().values()) walk(sub, labels, where);
    }

    // ------------------------------------------------------------------ messages

    @Test
    void errorsNameTheFlagTheUserTyped() {
        String[][] cases = {
            {"--max-new-tokens", "0", "--max-new-tokens must be at least 1, got 0"},
            {"--temperature", "-1", "--temperature must be 0 (greedy) or positive, got -1.0"},
            {"--top-p", "1.5", "--top-p must be above 0 and at most 1, got 1.5"},
            {"--top-k", "-2", "--top-k must be at least 0"},
            {"--repetition-penalty", "0", "--repetition-penalty must be positive"},
            {"--logprobs", "-1", "--logprobs must be at least 0, got -1"},
        };
        for (String[] c : cases) {
            Run r = generate("-m", MODEL, c[0], c[1], "hi");
            assertThat(r.code()).as(c[0]).isEqualTo(2);
            assertThat(r.err()).as(c[0]).startsWith("internvl generate: " + c[2]);
            assertThat(r.err()).doesNotContain("maxNewTokens", "topP", "topK", "repetitionPenalty");
        }
        Run chat = Run.internvl("chat", "-m", MODEL, "--top-p", "0", "hi");
        assertThat(chat.err()).startsWith("internvl chat: --top-p must be above 0");
    }

    @Test
    void aUsageErrorIsOneLineAndWhereToReadMore() {
        Run r = Run.internvl("generate", "-m", MODEL, "--no-such-flag", "hi");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().lines().toList()).containsExactly("internvl generate: Unknown option: '--no-such-flag'",
                "see internvl generate --help");
        Run bad = Run.internvl("bench", "kernels", "--seconds", "soon");
        assertThat(bad.err().lines().toList()).hasSize(2).last().isEqualTo("see internvl bench kernels --help");
        assertThat(bad.err()).contains("--seconds").doesNotContain("Usage:");
        Run top = Run.internvl("--bogus");
        assertThat(top.err()).doesNotContain("Usage:").contains("see internvl --help");
    }

    @Test
    void jsonErrorsSayFileLineAndColumn(@TempDir Path tmp) throws Exception {
        Path h = tmp.resolve("history.json");
        Files.writeString(h, "[\n  [\"q\", \"a\"],\n  [\"q2\" \"a2\"]\n]\n");
        Run r = generate("-m", MODEL, "--history", h.toString(), "hi");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().lines().filter(l -> l.contains("--history")).toList()).hasSize(1);
        assertThat(r.err()).contains("--history " + h + ": not valid JSON at line 3, column 9: unexpected character");
        assertThat(r.err()).doesNotContain("Source:", "JsonParseException", "(code ");
    }

    @Test
    void missingFilesAndDirectoriesAreNamed(@TempDir Path tmp) {
        Run missing = generate("-m", MODEL, "--history", tmp.resolve("nope.json").toString(), "hi");
        assertThat(missing.err()).contains("--history " + tmp.resolve("nope.json") + ": no such file");
        Run dir = generate("-m", MODEL, "--history", tmp.toString(), "hi");
        assertThat(dir.err()).contains("--history " + tmp + ": is a directory, not a file");
        Run image = generate("-m", MODEL, "--image", tmp.toString(), "hi");
        assertThat(image.err()).contains(tmp + ": is a directory, not an image file");
        Run noImage = generate("-m", MODEL, "--image", tmp.resolve("a.png").toString(), "hi");
        assertThat(noImage.err()).contains(tmp.resolve("a.png") + ": no such file");
        Run video = generate("-m", MODEL, "--video", tmp.toString(), "hi");
        assertThat(video.err()).contains(tmp + ": is a directory, not a video file");
    }

    // ------------------------------------------------------------------ help

    @Test
    void helpShowsNestedCommands() {
        Run r = Run.internvl("help", "bench", "kernels");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("Usage: internvl bench kernels").contains("--probe-mib");
        assertThat(Run.internvl("help", "bench").out()).contains("Usage: internvl bench").contains("kernels", "model");
        Run bad = Run.internvl("help", "bench", "nope");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("no command 'nope' in internvl bench; its commands: kernels, model");
    }

    @Test
    void descriptionsAreWholeSentences() {
        checkDescriptions(Main.commandLine());
        // the command lists: one line per command, each a sentence
        for (String[] cmd : new String[][] {{"--help"}, {"bench", "--help"}}) {
            String usage = Run.internvl(cmd).out();
            var lines = usage.substring(usage.indexOf("Commands:")).lines().skip(1).filter(l -> !l.isBlank()).toList();
            assertThat(lines).isNotEmpty().allSatisfy(l -> assertThat(l).matches("  [a-z-]+ +[A-Z].*\\."));
        }
    }

    private static void checkDescriptions(CommandLine cl) {
        assertThat(cl.getCommandSpec().usageMessage().header()).as(cl.getCommandSpec().qualifiedName() + " header").hasSizeLessThan(2);
        for (String d : cl.getCommandSpec().usageMessage().description()) {
            assertThat(d).as(cl.getCommandSpec().qualifiedName()).matches("(?s)[A-Z`<].*[.:)]").doesNotContain("\n");
        }
        for (OptionSpec o : cl.getCommandSpec().options()) {
            for (String d : o.description()) {
                assertThat(d).as(cl.getCommandSpec().qualifiedName() + " " + o.longestName()).matches("(?s)[A-Z\\d-].*\\.\\)?");
            }
        }
        for (CommandLine sub : cl.getSubcommands().values()) checkDescriptions(sub);
    }

    // ------------------------------------------------------------------ progress

    @Test
    void longWorkReportsProgressAsLogLines(@TempDir Path tmp) {
        Run gen = generate("-m", MODEL, "--max-new-tokens", "2", "hi");
        assertThat(gen.err()).contains("loading " + Path.of(MODEL).toAbsolutePath().normalize() + " ...")
                .containsPattern("loading .*: done in \\d+\\.\\d s");
        Run synth = Run.internvl("make-synthetic", "--tiny", tmp.resolve("s").toString());
        assertThat(synth.code()).as(synth.err()).isZero();
        assertThat(synth.err()).contains("writing " + tmp.resolve("s") + " (").containsPattern("writing .*: done in");
        Run one = ChatCliTest.chat("", "-m", MODEL, "--image", img("img_b.png"), "--max-num", "2", "--max-new-tokens", "2", "hi");
        assertThat(one.err()).contains("encoding 3 image tiles").containsPattern("encoding .*: done in");
    }

    @Test
    void benchKernelsSaysHowLongAndHowMuchMemory() {
        assertThat(KernelBench.estimate(2, 3, 2048)).isEqualTo("bench kernels: 2 thread counts x 10 measurements of 3 s: "
                + "about 1 min 40 s, with about 2.7 GiB of memory (the probe's 2048 MiB buffer and the weights)");
        assertThat(KernelBench.estimate(1, 0.5, 64)).contains("1 thread count x", "of 0.5 s", "about 0 min 17 s");
    }

    @Test
    void progressDrawsInPlaceOnATerminal() {
        var w = new java.io.StringWriter();
        try (Progress p = Progress.task(new java.io.PrintWriter(w), true, "loading x")) {
            long end = System.nanoTime() + 1_000_000_000L;
            while (!w.toString().contains("loading x ...") && System.nanoTime() < end) Thread.onSpinWait();
        }
        assertThat(w.toString()).startsWith("\r\033[2Kloading x ... ").endsWith("\r\033[2K").doesNotContain("\n");
    }

    @Test
    void chatHistoryErrorsToo(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("saved.json");
        Files.writeString(f, "{\"history\": [[\"q\", 1]]}");
        Run r = ChatCliTest.chat("/load " + f + "\n/load " + tmp + "\n/load\n", "-m", MODEL);
        assertThat(r.err()).contains("/load " + f + ": turn 1 is not a [question, answer] pair")
                .contains("/load " + tmp + ": is a directory, not a file").contains("/load needs a FILE");
        assertThat(CHAT).exists();
    }
}
