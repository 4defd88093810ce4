package org.internvl4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The slow Qwen2Tokenizer layout (vocab.json + merges.txt + tokenizer_config.json, no tokenizer.json), as
 * InternVL's Qwen2-based checkpoints ship it: written here from Qwen3's tokenizer.json, it must encode every
 * fixture string to the golden ids, and decode as the tokenizer.json does except for which tokens
 * skip_special_tokens drops (transformers' slow rule: bos/eos/unk/pad and additional_special_tokens).
 */
class BpeSlowQwen2LayoutTest {
    static Path writeSlowLayout(Path dir) throws Exception {
        Path qwen = BpeFixturesTest.bpeDir().resolve("qwen3");
        JsonNode root;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(qwen.resolve("tokenizer.json.gz")))) {
            root = BpeFixturesTest.JSON.readTree(in);
        }
        BpeFixturesTest.JSON.writeValue(dir.resolve("vocab.json").toFile(), root.get("model").get("vocab"));
        List<String> merges = new ArrayList<>(List.of("#version: 0.2"));
        for (JsonNode m : root.get("model").get("merges")) merges.add(m.get(0).asText() + " " + m.get(1).asText());
        Files.write(dir.resolve("merges.txt"), merges, StandardCharsets.UTF_8);
        Files.copy(qwen.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
        return dir;
    }

    @TempDir
    static Path shared;
    static Path slowDir;
    static Tokenizer fast;

    @org.junit.jupiter.api.BeforeAll
    static void writeOnce() throws Exception {
        slowDir = writeSlowLayout(Files.createDirectory(shared.resolve("slow")));
        fast = Tokenizer.load(BpeFixturesTest.bpeDir().resolve("qwen3"));
    }

    /** A folder (in the same temporary folder) with the big files linked and tokenizer_config.json copied to edit. */
    static Path variant(Path dir) throws Exception {
        Files.createSymbolicLink(dir.resolve("vocab.json"), slowDir.resolve("vocab.json"));
        Files.createSymbolicLink(dir.resolve("merges.txt"), slowDir.resolve("merges.txt"));
        Files.copy(slowDir.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
        return dir;
    }

    @Test
    void encodesLikeTheTokenizerJson() throws Exception {
        Tokenizer slow = Tokenizer.load(slowDir);
        assertThat(slow).isInstanceOf(ByteLevelBpeTokenizer.class);
        List<String> failures = new ArrayList<>();
        int strings = 0;
        for (JsonNode l : BpeFixturesTest.lines("qwen3.jsonl.gz")) {
            if (l.has("ids")) {
                String text = l.get("text").asText();
                if (!Arrays.equals(slow.encode(text), BpeFixturesTest.ints(l.get("ids")))) failures.add(text);
                strings++;
            } else if (!l.get("skip").asBoolean()) {
                int[] ids = BpeFixturesTest.ints(l.get("decode_ids"));
                if (!slow.decode(ids, false).equals(l.get("text").asText())) failures.add("decode " + Arrays.toString(ids));
            }
        }
        assertThat(failures).isEmpty();
        assertThat(strings).isGreaterThan(3000);
        assertThat(slow.vocabSize()).isEqualTo(fast.vocabSize());
        assertThat(slow.addedTokens()).isEqualTo(fast.addedTokens());
        assertThat(slow.eosId()).isEqualTo(fast.eosId()).isEqualTo(slow.tokenId("<|im_end|>"));
    }

    @Test
    void skipSpecialTokensFollowsTheSlowRule() throws Exception {
        Path dir = variant(Files.createTempDirectory(shared, "variant"));
        // Take <|im_start|> out of additional_special_tokens: still special=true in added_tokens_decoder (and in
        // tokenizer.json), but transformers' slow decode no longer skips it.
        ObjectNode cfg = (ObjectNode) BpeFixturesTest.JSON.readTree(dir.resolve("tokenizer_config.json").toFile());
        var extra = (com.fasterxml.jackson.databind.node.ArrayNode) cfg.get("additional_special_tokens");
        for (int i = extra.size() - 1; i >= 0; i--) if (extra.get(i).asText().equals("<|im_start|>")) extra.remove(i);
        BpeFixturesTest.JSON.writeValue(dir.resolve("tokenizer_config.json").toFile(), cfg);
        Tokenizer slow = Tokenizer.load(dir);
        int imStart = slow.tokenId("<|im_start|>");
        int[] ids = {imStart, slow.tokenId("<think>"), 64, slow.tokenId("<|im_end|>"), slow.tokenId("<|endoftext|>")};
        assertThat(fast.decode(ids, true)).isEqualTo("<think>a");
        assertThat(slow.decode(ids, true)).isEqualTo("<|im_start|><think>a");
        assertThat(BpeFixturesTest.stream(slow, ids, true)).isEqualTo("<|im_start|><think>a");
        assertThat(slow.isSpecial(imStart)).isFalse();
        assertThat(slow.isSpecial(slow.tokenId("<|im_end|>"))).isTrue();   // eos_token
        assertThat(slow.isSpecial(slow.tokenId("<|endoftext|>"))).isTrue(); // pad_token
    }

    @Test
    void otherTokenizerClassesAreRefused() throws Exception {
        Path dir = variant(Files.createTempDirectory(shared, "variant"));
        ObjectNode cfg = (ObjectNode) BpeFixturesTest.JSON.readTree(dir.resolve("tokenizer_config.json").toFile());
        cfg.put("tokenizer_class", "GPT2Tokenizer");
        BpeFixturesTest.JSON.writeValue(dir.resolve("tokenizer_config.json").toFile(), cfg);
        assertThatThrownBy(() -> Tokenizer.load(dir)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("tokenizer_class is \"GPT2Tokenizer\"").hasMessageContaining("Qwen2Tokenizer only");
    }
}
