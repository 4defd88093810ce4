package org.internvl4j.tokenizer;

import org.internvl4j.testing.TestData;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The real InternVL2-8B tokenizer against the shared golden ids (skipped where shared/ is absent, failed then in CI). */
class RealTokenizerTest {
    static InternLM2Tokenizer tok;
    static Path dir;

    @BeforeAll
    static void load() {
        var d = TestFiles.realTokenizer();
        if (d.isEmpty()) return;
        dir = d.get();
        tok = InternLM2Tokenizer.load(dir.resolve("tokenizer.model"), dir.resolve("internvl2-2b-hf-json"));
    }

    @BeforeEach
    void needsSharedFolder() {
        TestData.assumeShared(tok != null, TestFiles.NO_REAL_TOKENIZER); // skipped per test with the reason, or failed in CI
    }

    @Test
    void goldenIds() throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<String> lines = Files.readAllLines(dir.resolve("golden_ids.jsonl"));
        assertThat(lines).hasSizeGreaterThanOrEqualTo(198);
        int checked = 0;
        for (String line : lines) {
            if (line.isBlank()) continue;
            JsonNode rec = json.readTree(line);
            String text = rec.get("text").asText();
            int[] expected = json.convertValue(rec.get("ids"), int[].class);
            assertThat(tok.encode(text)).as("ids of %s", text).containsExactly(expected);
            checked++;
        }
        assertThat(checked).isEqualTo(lines.size());
    }

    @Test
    void specialIds() {
        assertThat(tok.vocabSize()).isEqualTo(92553);
        assertThat(tok.bosId()).isEqualTo(1);
        assertThat(tok.eosId()).isEqualTo(2);
        assertThat(tok.tokenId("<|im_end|>")).isEqualTo(92542);
        assertThat(tok.tokenId("<|im_start|>")).isEqualTo(92543);
        assertThat(tok.tokenId("<img>")).isEqualTo(92544);
        assertThat(tok.tokenId("<IMG_CONTEXT>")).isEqualTo(92546);
        assertThat(tok.tokenId("</box>")).isEqualTo(92552);
        assertThat(tok.tokenId("[UNUSED_TOKEN_145]")).isEqualTo(92542);
        assertThat(tok.tokenId("<0x0A>")).isEqualTo(13);
    }
}
