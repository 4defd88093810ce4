package org.internvl4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Added-token settings the real files do not use (lstrip, rstrip, normalized, overlapping tokens) and an
 * NFKC normalizer, against the Rust tokenizers library on a small synthetic tokenizer; then the errors.
 */
class BpeAddedTokensTest {
    static ObjectNode token(int id, String content, boolean lstrip, boolean rstrip, boolean normalized, boolean special) {
        return BpeFixturesTest.JSON.createObjectNode().put("id", id).put("content", content).put("single_word", false)
                .put("lstrip", lstrip).put("rstrip", rstrip).put("normalized", normalized).put("special", special);
    }

    /** Byte vocabulary, 4000 pair merges, NFKC, the Qwen2 split regex, and added tokens with every setting. */
    static ObjectNode synthetic() {
        ObjectNode root = BpeRegexEngineTest.pairTokenizer(BpeRegexEngineTest.splitThenByteLevel(BpeRegexEngineTest.QWEN2), 4000);
        root.set("normalizer", BpeFixturesTest.JSON.createObjectNode().put("type", "NFKC"));
        ArrayNode added = root.putArray("added_tokens");
        int base = 256 + 4000;
        added.add(token(base, "<l>", true, false, false, true));
        added.add(token(base + 1, "<r>", false, true, false, true));
        added.add(token(base + 2, "<lr>", true, true, false, false));
        added.add(token(base + 3, "ﬁx", false, false, true, false));   // NFKC: "fix", matched after normalization
        added.add(token(base + 4, "<s>", false, false, false, true));
        added.add(token(base + 5, "<ss>", false, false, false, true));  // longer match at the same place wins
        added.add(token(base + 6, "ss>", false, false, false, false));
        return root;
    }

    static final List<String> CASES = List.of("a  <l>b", "a\t\n<l>  b", "a <r>  b", "a <r>\u3000\u00a0b", " <lr> ", "x  <lr>\n\ny",
            "<l><l>", "<r><r> <r>", "\u3000<l>", "x\u00a0<l>", "x\u0085<l>", "fix ﬁx ﬁ x FIX", "ﬁxﬁx", "<ss><s><sss>>", "<s", "s>",
            "a<l>b<r>c<lr>d<s>e<ss>f", "  <r>", "<l>  ", "<lr>", "ﬀ ① ｈｅｌｌｏ Ⅻ ㌀", "e\u0301 \u212b", "text with <s> inside");

    @Test
    void addedTokenSettingsMatchRustTokenizers() throws Exception {
        ObjectNode json = synthetic();
        ByteLevelBpeTokenizer tok = ByteLevelBpeTokenizer.fromJson(json, BpeFixturesTest.JSON.createObjectNode(), "synthetic");
        byte[] bytes = BpeFixturesTest.JSON.writeValueAsBytes(json);
        List<String> failures = new ArrayList<>();
        try (HuggingFaceTokenizer rust = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(bytes), Map.of("addSpecialTokens", "true"))) {
            for (String t : CASES) {
                long[] want = rust.encode(t).getIds();
                int[] got = tok.encode(t);
                if (!Arrays.equals(Arrays.stream(got).asLongStream().toArray(), want)) {
                    failures.add(t + ": rust " + Arrays.toString(want) + " java " + Arrays.toString(got));
                    continue;
                }
                for (boolean skip : new boolean[] {false, true}) {
                    String r = rust.decode(want, skip);
                    if (!tok.decode(got, skip).equals(r)) failures.add("decode(skip=" + skip + ") " + t + ": rust " + r + " java " + tok.decode(got, skip));
                    if (!BpeFixturesTest.stream(tok, got, skip).equals(r)) failures.add("stream decode(skip=" + skip + ") " + t);
                }
            }
        }
        assertThat(failures).isEmpty();
        assertThat(tok.isSpecial(tok.tokenId("<l>"))).isTrue();
        assertThat(tok.isSpecial(tok.tokenId("<lr>"))).isFalse();
        assertThat(tok.addedTokens()).containsEntry("<ss>", 256 + 4000 + 5).hasSize(7);
    }

    /** Writes synthetic() changed by edit as tokenizer.json and expects Tokenizer.load to refuse it naming what. */
    static void refuses(Path dir, Consumer<ObjectNode> edit, String... messageParts) throws Exception {
        ObjectNode json = synthetic();
        edit.accept(json);
        Files.write(dir.resolve("tokenizer.json"), BpeFixturesTest.JSON.writeValueAsBytes(json));
        var thrown = assertThatThrownBy(() -> Tokenizer.load(dir)).isInstanceOf(TokenizerException.class);
        for (String p : messageParts) thrown.hasMessageContaining(p);
    }

    static ObjectNode model(ObjectNode root) {
        return (ObjectNode) root.get("model");
    }

    @Test
    void unsupportedFilesAreRefusedWithTheReason(@TempDir Path dir) throws Exception {
        refuses(dir, j -> model(j).put("type", "WordPiece"), "model.type is \"WordPiece\"", "only byte-level \"BPE\"");
        refuses(dir, j -> model(j).put("byte_fallback", true), "byte_fallback=true");
        refuses(dir, j -> model(j).put("continuing_subword_prefix", "##"), "continuing_subword_prefix");
        refuses(dir, j -> model(j).put("dropout", 0.1), "dropout");
        refuses(dir, j -> model(j).set("merges", BpeFixturesTest.JSON.createArrayNode().add("a")), "model.merges[0] \"a\"", "left right");
        refuses(dir, j -> model(j).set("merges", BpeFixturesTest.JSON.createArrayNode().add("x zz")), "merge 0", "not in model.vocab");
        refuses(dir, j -> ((ObjectNode) model(j).get("vocab")).remove("Ġ"), "lacks the byte-level token for byte 0x20");
        refuses(dir, j -> j.set("normalizer", BpeFixturesTest.JSON.createObjectNode().put("type", "Lowercase")), "normalizer \"Lowercase\"");
        refuses(dir, j -> j.set("pre_tokenizer", BpeFixturesTest.JSON.createObjectNode().put("type", "Metaspace")), "pre_tokenizer \"Metaspace\"");
        refuses(dir, j -> j.set("pre_tokenizer", BpeRegexEngineTest.splitThenByteLevel("(a)\\1")), "the escape \\1", "not supported");
        refuses(dir, j -> j.set("pre_tokenizer", BpeRegexEngineTest.splitThenByteLevel("a{2}+")), "not supported");
        refuses(dir, j -> ((ObjectNode) j.get("pre_tokenizer").get("pretokenizers").get(0)).put("behavior", "Removed"), "behavior Removed");
        refuses(dir, j -> j.set("decoder", BpeFixturesTest.JSON.createObjectNode().put("type", "Metaspace")), "decoder \"Metaspace\"");
        refuses(dir, j -> j.putNull("decoder"), "decoder \"none\"");
        refuses(dir, j -> j.set("post_processor", BpeFixturesTest.JSON.createObjectNode().put("type", "RobertaProcessing")), "post_processor \"RobertaProcessing\"");
        refuses(dir, j -> ((ObjectNode) j.get("added_tokens").get(0)).put("single_word", true), "added_tokens[0]", "single_word");
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": ");
        assertThatThrownBy(() -> Tokenizer.load(dir)).isInstanceOf(TokenizerException.class).hasMessageContaining("not valid JSON");
    }

    @Test
    void badIdsAreRefused() {
        ByteLevelBpeTokenizer tok = ByteLevelBpeTokenizer.fromJson(synthetic(), BpeFixturesTest.JSON.createObjectNode(), "synthetic");
        assertThatThrownBy(() -> tok.decode(new int[] {1, 999_999}, false)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("999999");
        assertThatThrownBy(() -> tok.newStreamingDetokenizer(true).push(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> tok.tokenId("no such token")).isInstanceOf(IllegalArgumentException.class);
        assertThat(tok.bosId()).isEqualTo(-1);
        assertThat(tok.eosId()).isEqualTo(-1);
    }
}
