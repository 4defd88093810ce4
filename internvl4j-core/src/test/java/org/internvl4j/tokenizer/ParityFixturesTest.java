package org.internvl4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Java against the fixtures of scripts/fixtures/tokenizer_fixtures.py: ids and decodes recorded with
 * Python sentencepiece 0.1.97 (sp/) and with the reference's InternLM2TokenizerRef (hf/).
 */
class ParityFixturesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static Stream<String> spModels() {
        return Stream.of("bf_identity", "nfkc_default", "bf_dummy_userdef", "noescape_nobf");
    }

    static List<JsonNode> records(Path jsonl) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(jsonl)) {
            if (!line.isBlank()) out.add(JSON.readTree(line));
        }
        return out;
    }

    static int[] ints(JsonNode n) {
        return JSON.convertValue(n, int[].class);
    }

    @ParameterizedTest
    @MethodSource("spModels")
    void sentencePieceEncodeAndDecode(String name) throws IOException {
        Path dir = TestFiles.testdata().resolve("sp");
        SentencePieceProcessor sp = SentencePieceProcessor.load(dir.resolve(name + ".model"));
        int texts = 0, roundTrips = 0, decodes = 0;
        for (JsonNode r : records(dir.resolve(name + ".jsonl"))) {
            if (r.has("text")) {
                String text = r.get("text").asText();
                int[] ids = ints(r.get("ids"));
                assertThat(sp.encode(text)).as("%s: ids of %s", name, text).containsExactly(ids);
                String decoded = r.get("decode").asText();
                assertThat(sp.decode(ids)).as("%s: decode of %s", name, text).isEqualTo(decoded);
                texts++;
                if (decoded.equals(text)) roundTrips++;
            } else {
                int[] ids = ints(r.get("decode_ids"));
                assertThat(sp.decode(ids)).as("%s: decode of %s", name, r.get("decode_ids")).isEqualTo(r.get("decode").asText());
                decodes++;
            }
        }
        assertThat(texts).isGreaterThanOrEqualTo(300);
        assertThat(decodes).isGreaterThanOrEqualTo(100);
        assertThat(roundTrips).as("strings that round-trip").isGreaterThan(0);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-a", "tiny-c", "tiny-a-strip", "real"})
    void internLM2EncodeDecodeAndStream(String name) throws IOException {
        Path hf = TestFiles.testdata().resolve("hf");
        InternLM2Tokenizer tok;
        if (name.equals("real")) {
            Path real = TestFiles.requireRealTokenizer();
            tok = InternLM2Tokenizer.load(real.resolve("tokenizer.model"), real.resolve("internvl2-2b-hf-json"));
        } else if (name.equals("tiny-a-strip")) { // tiny-a's model with lstrip/rstrip and a non-special added token
            tok = InternLM2Tokenizer.load(hf.resolve("tiny-a/tokenizer.model"), hf.resolve(name));
        } else {
            tok = InternLM2Tokenizer.load(hf.resolve(name));
        }
        int texts = 0, decodes = 0, roundTrips = 0;
        for (JsonNode r : records(hf.resolve(name + ".jsonl"))) {
            if (r.has("text")) {
                String text = r.get("text").asText();
                int[] ids = ints(r.get("ids"));
                assertThat(tok.encode(text)).as("%s: ids of %s", name, text).containsExactly(ids);
                assertThat(tok.decode(ids, false)).as("%s: decode of %s", name, text).isEqualTo(r.get("decode").asText());
                assertThat(tok.decode(ids, true)).as("%s: decode (skip) of %s", name, text).isEqualTo(r.get("decode_skip").asText());
                if (r.get("decode_skip").asText().equals(text)) roundTrips++;
                for (boolean skip : new boolean[] {false, true}) {
                    assertThat(streamed(tok, ids, skip)).as("%s: streamed decode of %s", name, text).isEqualTo(tok.decode(ids, skip));
                }
                texts++;
            } else {
                int[] ids = ints(r.get("decode_ids"));
                boolean skip = r.get("skip").asBoolean();
                String expected = r.get("decode").asText();
                assertThat(tok.decode(ids, skip)).as("%s: decode(%s, skip=%s)", name, r.get("decode_ids"), skip).isEqualTo(expected);
                assertThat(streamed(tok, ids, skip)).as("%s: streamed decode(%s, skip=%s)", name, r.get("decode_ids"), skip)
                        .isEqualTo(expected);
                decodes++;
            }
        }
        assertThat(texts).isGreaterThanOrEqualTo(300);
        assertThat(decodes).isGreaterThanOrEqualTo(200);
        assertThat(roundTrips).as("strings that round-trip").isGreaterThan(100);
    }

    static String streamed(InternLM2Tokenizer tok, int[] ids, boolean skip) {
        StreamingDetokenizer d = tok.newStreamingDetokenizer(skip);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) sb.append(d.push(id));
        return sb.append(d.flush()).toString();
    }
}
