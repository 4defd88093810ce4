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
}
