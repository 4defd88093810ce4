package org.internvl4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.internvl4j.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link LlamaTokenizer} against scripts/fixtures/llama_tokenizer_ref.py (transformers' slow LlamaTokenizer over
 * Python sentencepiece) on the tiny checkpoints' Phi-3-style (legacy false) and Yi-style (legacy, no dummy prefix)
 * tokenizers: 422 strings and 400 random id lists each (testdata/tokenizer/llama, see its README).
 */
class LlamaTokenizerTest {
    static Path model(String name) {
        return TestData.dir("tiny-models").resolve(name);
    }

    static List<JsonNode> lines(String name) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        Path f = TestFiles.testdata().resolve("llama").resolve(name + ".jsonl.gz");
        try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(Files.newInputStream(f)), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) out.add(json.readTree(line));
        }
        return out;
    }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).intValue();
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-phi3", "tiny-llama"})
    void encodesAndDecodesLikeTheReference(String name) throws IOException {
        Tokenizer tok = Tokenizer.load(model(name));
        assertThat(tok).isInstanceOf(LlamaTokenizer.class);
        int strings = 0, idLists = 0;
        for (JsonNode l : lines(name)) {
            int[] ids = ints(l.get("ids"));
            if (l.has("text")) {
                String text = l.get("text").asText();
                assertThat(tok.encode(text)).as("encode %s", text).containsExactly(ids);
                assertThat(tok.encode(text, false)).as("encode without special tokens %s", text).containsExactly(ints(l.get("ids_plain")));
                strings++;
            } else {
                idLists++;
            }
            assertThat(tok.decode(ids, false)).as("decode %s", l.get("ids")).isEqualTo(l.get("decode").asText());
            assertThat(tok.decode(ids, true)).as("decode skipping %s", l.get("ids")).isEqualTo(l.get("decode_skip").asText());
            for (boolean skip : new boolean[] {false, true}) {
                Detokenizer d = tok.newStreamingDetokenizer(skip);
                StringBuilder sb = new StringBuilder();
                for (int id : ids) sb.append(d.push(id));
                sb.append(d.flush());
                assertThat(sb.toString()).as("streamed %s", l.get("ids")).isEqualTo(l.get(skip ? "decode_skip" : "decode").asText());
            }
        }
        assertThat(strings).isGreaterThan(400);
        assertThat(idLists).isEqualTo(400);
    }

    @Test
    void phi3KeepsTheLonePrefixBeforeItsChatTokensAndSwallowsTheNewlineAfterThem() {
        LlamaTokenizer tok = LlamaTokenizer.load(model("tiny-phi3"));
        assertThat(tok.legacy()).isFalse();
        int space = tok.tokenId("\u2581");
        int user = tok.tokenId("<|user|>");
        int[] ids = tok.encode("<|user|>\nHi");
        // <s>, the lone "▁" (the famous 29871 of Phi-3: <|user|> is no special token), <|user|>, then "Hi" without the newline
        assertThat(ids[0]).isEqualTo(tok.bosId());
        assertThat(ids[1]).isEqualTo(space);
        assertThat(ids[2]).isEqualTo(user);
        assertThat(tok.decode(ids, true)).isEqualTo("<|user|> Hi");
        // before a special token (here an InternVL one) the lone "▁" is dropped
        assertThat(tok.encode("<img>x", false)[0]).isEqualTo(tok.tokenId("<img>"));
    }

    @Test
    void yiAddsNoBosAndNoDummyPrefix() {
        LlamaTokenizer tok = LlamaTokenizer.load(model("tiny-llama"));
        assertThat(tok.legacy()).isTrue();
        assertThat(tok.bosId()).isEqualTo(1);
        assertThat(tok.idToToken(1)).isEqualTo("<|startoftext|>");
        assertThat(tok.eosId()).isEqualTo(tok.tokenId("<|im_end|>"));
        int[] ids = tok.encode("Hello");
        assertThat(ids).doesNotContain(1);
        assertThat(tok.idToToken(ids[0])).doesNotStartWith("\u2581");
    }

    @Test
    void streamingHandsOutOnlyFinishedCharacters() {
        LlamaTokenizer tok = LlamaTokenizer.load(model("tiny-phi3"));
        byte[] utf8 = "猫".getBytes(StandardCharsets.UTF_8);
        Detokenizer d = tok.newStreamingDetokenizer(true);
        assertThat(d.push(tok.tokenId(String.format("<0x%02X>", utf8[0] & 0xFF)))).isEmpty();
        assertThat(d.push(tok.tokenId(String.format("<0x%02X>", utf8[1] & 0xFF)))).isEmpty();
        assertThat(d.push(tok.tokenId(String.format("<0x%02X>", utf8[2] & 0xFF)))).isEqualTo("猫");
        assertThat(d.flush()).isEmpty();
        Random rng = new Random(5);
        for (int round = 0; round < 300; round++) {
            int[] ids = new int[rng.nextInt(40)];
            for (int i = 0; i < ids.length; i++) ids[i] = rng.nextInt(tok.vocabSize());
            for (boolean skip : new boolean[] {false, true}) {
                Detokenizer s = tok.newStreamingDetokenizer(skip);
                StringBuilder sb = new StringBuilder();
                for (int id : ids) sb.append(s.push(id));
                assertThat(sb.append(s.flush()).toString()).isEqualTo(tok.decode(ids, skip));
            }
        }
        assertThatThrownBy(() -> d.push(tok.vocabSize() + 5)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void tokenizerLoadPicksTheClassFromTokenizerConfig(@TempDir Path tmp) throws IOException {
        assertThat(Tokenizer.load(model("tiny-phi3"))).isInstanceOf(LlamaTokenizer.class);
        assertThat(Tokenizer.load(TestData.dir("tiny-models").resolve("tiny-a"))).isInstanceOf(InternLM2Tokenizer.class);
        Files.copy(model("tiny-phi3").resolve("tokenizer.model"), tmp.resolve("tokenizer.model"));
        Files.writeString(tmp.resolve("tokenizer_config.json"), "{\"tokenizer_class\": \"LlamaTokenizer\", \"legacy\": \"no\"}");
        assertThatThrownBy(() -> Tokenizer.load(tmp)).isInstanceOf(TokenizerException.class).hasMessageContaining("legacy must be true or false");
        Files.writeString(tmp.resolve("tokenizer_config.json"), "{\"tokenizer_class\": ");
        assertThatThrownBy(() -> Tokenizer.load(tmp)).isInstanceOf(TokenizerException.class).hasMessageContaining("not valid JSON");
    }
}
