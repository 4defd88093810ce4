package org.internvl4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.GZIPInputStream;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The second oracle: Hugging Face's Rust tokenizers library itself (through DJL's JNI binding), which
 * compiles the Split regex with Oniguruma. Checks the fixture strings and strings aimed at the places
 * where regex engines differ (Unicode white space, case folding in (?i:...), Unicode categories).
 */
class BpeRustOracleTest {
    /** Strings aimed at regex-engine differences; each is also tried inside text and around digits. */
    static final List<String> ENGINE_CASES = List.of("'s", "'S", "'ſ", "'ſt", "'ſa", "'ſab", "'ſabc", "x'ſs", "'ſ'ſ'ſ", "'Ka", "'Kab", "'K", "'ll", "'LL", "'Ll", "'İ", "'ı", "'ﬅ", "'ẞ",
            "a\u0085b", "a\u0085\u0085 b", "\ufeff", "x\ufeffy", " \ufeff ", "\u2028\u2029", "\u180e", "\u200b \u200b", "\u00a0\u00a0x",
            "\u3000abc", "\u1680", "\u202f", "\u205f", "\u000b\u000c", "\u001c\u001d\u001e\u001f", "a\r\n\r\nb", "\r\r\n",
            "١٢٣٤", "۱۲۳", "߀߁", "௧௨", "Ⅰ Ⅱ", "①②③", "¹²³", "𝟙𝟚𝟛", "〇一二", "x²³", "½¾", "𐒠𐒡", "🄁",
            "ǅungla", "ǈ", "ᾈ", "ʰʲ", "ꙮ", "\u0345", "a\u0301\u0302", "\u0903a", "ก\u0e31", "𝒜𝒷", "ℌ", "ⅅ", "々", "ー", "〆",
            "\u00ad", "\u061c", "\u200d", "\u2060", "\ue000", "\udb80\udc00", "\ud83c\udfff");

    static HuggingFaceTokenizer rust(InputStream tokenizerJson, boolean addSpecial) throws Exception {
        return HuggingFaceTokenizer.newInstance(tokenizerJson, Map.of("addSpecialTokens", Boolean.toString(addSpecial)));
    }

    static boolean hasUnpairedSurrogate(String s) {
        return !ByteLevelBpeTokenizer.replaceUnpairedSurrogates(s).equals(s);
    }

    static void compare(Tokenizer tok, HuggingFaceTokenizer rust, boolean addSpecial, List<String> texts, boolean cleanUp) {
        List<String> failures = new ArrayList<>();
        for (String t : texts) {
            if (hasUnpairedSurrogate(t)) continue; // Rust strings cannot hold them; the JS fixtures cover these
            long[] want = rust.encode(t).getIds();
            int[] got = tok.encode(t, addSpecial);
            if (!Arrays.equals(Arrays.stream(got).asLongStream().toArray(), want)) {
                failures.add(BpeFixturesTest.JSON.valueToTree(t) + ": rust " + Arrays.toString(want) + " java " + Arrays.toString(got));
                continue;
            }
            String rustText = rust.decode(want, false);
            if (cleanUp) rustText = InternLM2Tokenizer.cleanUpTokenization(rustText);
            if (!tok.decode(got, false).equals(rustText)) failures.add("decode of " + BpeFixturesTest.JSON.valueToTree(t));
        }
        assertThat(failures).as(failures.size() + " differences").isEmpty();
    }

    static List<String> texts(String fixture) throws Exception {
        List<String> out = new ArrayList<>();
        for (JsonNode l : BpeFixturesTest.lines(fixture)) if (l.has("text") && l.has("ids")) out.add(l.get("text").asText());
        for (String c : ENGINE_CASES) {
            out.add(c);
            out.add("He" + c + " 12" + c + "34 " + c + "\n");
        }
        return out;
    }

    @Test
    void qwen3MatchesRustTokenizers() throws Exception {
        Path gz = BpeFixturesTest.bpeDir().resolve("qwen3/tokenizer.json.gz");
        Tokenizer tok = Tokenizer.load(gz.getParent());
        List<String> texts = texts("qwen3.jsonl.gz");
        for (boolean special : new boolean[] {true, false}) {
            try (InputStream in = new GZIPInputStream(Files.newInputStream(gz)); HuggingFaceTokenizer rust = rust(in, special)) {
                compare(tok, rust, special, texts, false);
            }
        }
    }

    @Test
    void llama3MatchesRustTokenizers() throws Exception {
        Optional<Path> dir = BpeFixturesTest.llama3Dir();
        Assumptions.assumeTrue(dir.isPresent(), BpeFixturesTest.NO_LLAMA3);
        Tokenizer tok = Tokenizer.load(dir.get());
        try (InputStream in = Files.newInputStream(dir.get().resolve("tokenizer.json")); HuggingFaceTokenizer rust = rust(in, true)) {
            compare(tok, rust, true, texts("llama3.jsonl.gz"), true);
        }
    }
}
