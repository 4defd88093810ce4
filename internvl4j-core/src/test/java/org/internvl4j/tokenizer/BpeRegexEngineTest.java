package org.internvl4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

/**
 * The pre-tokenizer regexes (Qwen2, Llama 3, GPT-2) in Java against Oniguruma in the Rust tokenizers
 * library, on a synthetic tokenizer whose merges make piece boundaries visible: every pair of bytes is a
 * token, so a piece of odd length leaves a lone byte and a shifted boundary changes the ids.
 */
class BpeRegexEngineTest {
    static final String QWEN2 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String LLAMA3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    static ObjectNode pairTokenizer(ObjectNode preTokenizer) {
        return pairTokenizer(preTokenizer, 65536);
    }

    /** The byte vocabulary plus the first {@code pairs} byte pairs (in the scrambled order) as merges. */
    static ObjectNode pairTokenizer(ObjectNode preTokenizer, int pairs) {
        var json = BpeFixturesTest.JSON;
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        root.putArray("added_tokens");
        root.putNull("normalizer");
        root.set("pre_tokenizer", preTokenizer);
        root.set("post_processor", json.createObjectNode().put("type", "ByteLevel").put("add_prefix_space", false)
                .put("trim_offsets", false).put("use_regex", false));
        root.set("decoder", json.createObjectNode().put("type", "ByteLevel").put("add_prefix_space", false)
                .put("trim_offsets", false).put("use_regex", false));
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        ObjectNode vocab = model.putObject("vocab");
        for (int b = 0; b < 256; b++) vocab.put(String.valueOf(BpeModel.BYTE_CHAR[b]), b);
        ArrayNode merges = model.putArray("merges");
        // Ranks in a scrambled order so that the merge order inside a piece is not simply left to right.
        for (int k = 0; k < pairs; k++) {
            int p = (int) ((k * 40503L) & 0xFFFF);
            int a = p >>> 8, b = p & 0xFF;
            String l = String.valueOf(BpeModel.BYTE_CHAR[a]), r = String.valueOf(BpeModel.BYTE_CHAR[b]);
            vocab.put(l + r, 256 + k);
            merges.add(l + " " + r);
        }
        return root;
    }

    static ObjectNode splitThenByteLevel(String regex) {
        var json = BpeFixturesTest.JSON;
        ObjectNode p = json.createObjectNode().put("type", "Sequence");
        ArrayNode list = p.putArray("pretokenizers");
        ObjectNode split = list.addObject().put("type", "Split");
        split.putObject("pattern").put("Regex", regex);
        split.put("behavior", "Isolated").put("invert", false);
        list.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", false).put("use_regex", false);
        return p;
    }

    static List<String> cases() throws Exception {
        List<String> out = new ArrayList<>(BpeRustOracleTest.ENGINE_CASES);
        for (String c : BpeRustOracleTest.ENGINE_CASES) out.add("ab" + c + "cd 1" + c + "23 " + c + c + "\n\n" + c);
        for (var l : BpeFixturesTest.lines("qwen3.jsonl.gz")) if (l.has("ids") && out.size() < 3000) out.add(l.get("text").asText());
        out.removeIf(BpeRustOracleTest::hasUnpairedSurrogate);
        return out;
    }

    static void compare(ObjectNode json) throws Exception {
        ByteLevelBpeTokenizer tok = ByteLevelBpeTokenizer.fromJson(json, BpeFixturesTest.JSON.createObjectNode(), "synthetic");
        byte[] bytes = BpeFixturesTest.JSON.writeValueAsBytes(json);
        List<String> failures = new ArrayList<>();
        try (HuggingFaceTokenizer rust = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(bytes), Map.of("addSpecialTokens", "false"))) {
            for (String t : cases()) {
                long[] want = rust.encode(t).getIds();
                long[] got = Arrays.stream(tok.encode(t, false)).asLongStream().toArray();
                if (!Arrays.equals(want, got)) failures.add(BpeFixturesTest.JSON.writeValueAsString(t));
            }
        }
        assertThat(failures).as("strings split differently from Oniguruma").isEmpty();
    }

    @Test
    void qwen2PatternSplitsLikeOniguruma() throws Exception {
        compare(pairTokenizer(splitThenByteLevel(QWEN2)));
    }

    @Test
    void llama3PatternSplitsLikeOniguruma() throws Exception {
        compare(pairTokenizer(splitThenByteLevel(LLAMA3)));
    }

    @Test
    void gpt2ByteLevelPatternSplitsLikeOniguruma() throws Exception {
        var p = BpeFixturesTest.JSON.createObjectNode().put("type", "ByteLevel").put("add_prefix_space", false)
                .put("trim_offsets", true).put("use_regex", true);
        compare(pairTokenizer(p));
    }

    /**
     * Shows the comparison can tell the (?i:...) folding apart: some ENGINE_CASES split differently when
     * contractions match ASCII letters only, so agreeing with Oniguruma means Unicode case folding.
     */
    @Test
    void theCaseFoldingOfContractionsIsVisible() {
        ByteLevelBpeTokenizer tok = ByteLevelBpeTokenizer.fromJson(pairTokenizer(splitThenByteLevel(QWEN2)),
                BpeFixturesTest.JSON.createObjectNode(), "synthetic");
        ByteLevelBpeTokenizer ascii = ByteLevelBpeTokenizer.fromJson(pairTokenizer(splitThenByteLevel(QWEN2.replace("(?i:", "(?:"))),
                BpeFixturesTest.JSON.createObjectNode(), "synthetic");
        List<String> differ = new ArrayList<>();
        for (String t : BpeRustOracleTest.ENGINE_CASES) {
            if (!Arrays.equals(tok.encode(t, false), ascii.encode(t, false))) differ.add(t);
        }
        assertThat(differ).isNotEmpty().allMatch(t -> t.contains("ſ") || t.contains("K"));
    }
}
