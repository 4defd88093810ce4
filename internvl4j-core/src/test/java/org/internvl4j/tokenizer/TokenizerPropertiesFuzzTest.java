package org.internvl4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.text.Normalizer;
import org.internvl4j.testing.Fuzzing;
import org.internvl4j.testing.TestData;

/**
 * Properties of encode/decode on any text, for the SentencePiece tokenizer (tiny-a, InternLM2's layout) and
 * the byte-level BPE one (tiny-qwen2, Qwen2's layout):
 * <ul>
 *   <li>streaming detokenization (push each id, then flush) equals the whole decode, for the ids of the text
 *       and for arbitrary in-range ids, with and without skipping special tokens;</li>
 *   <li>round trip where the tokenizer promises it: BPE gives back the NFC form of any text (its
 *       normalizer is NFC, its byte-level alphabet covers every byte); SentencePiece gives back text that has
 *       no '▁', no added-token text and nothing transformers' clean_up_tokenization would change.</li>
 * </ul>
 * Input bytes become text as {@link Fuzzing#text} says. Corpus: TokenizerPropertiesFuzzTestInputs/encodeDecode.
 */
class TokenizerPropertiesFuzzTest {
    private static final InternLM2Tokenizer SP = InternLM2Tokenizer.load(TestData.dir("tokenizer/hf/tiny-a"));
    private static final ByteLevelBpeTokenizer BPE = ByteLevelBpeTokenizer.load(TestData.dir("tiny-models/tiny-qwen2"));

    /** One text through both tokenizers. */
    @FuzzTest(maxDuration = "30s")
    void encodeDecode(byte[] data) {
        sentencePiece(data);
        bytePairEncoding(data);
    }

    private static void sentencePiece(byte[] data) {
        String s = Fuzzing.text(data);
        int[] ids = SP.encode(s, false);
        for (int id : ids) assertThat(id).isBetween(0, SP.vocabSize() - 1);
        if (roundTrips(s)) assertThat(SP.decode(ids, true)).as("decode(encode(s))").isEqualTo(s);
        for (boolean skip : new boolean[] {true, false}) {
            assertStreamingEqualsDecode(SP.newStreamingDetokenizer(skip), ids, SP.decode(ids, skip));
            int[] any = arbitraryIds(data, SP.vocabSize());
            assertStreamingEqualsDecode(SP.newStreamingDetokenizer(skip), any, SP.decode(any, skip));
        }
    }

    private static void bytePairEncoding(byte[] data) {
        String s = Fuzzing.text(data);
        int[] ids = BPE.encode(s, false);
        for (int id : ids) assertThat(id).isBetween(0, BPE.vocabSize() - 1);
        if (wellFormed(s)) {
            assertThat(BPE.decode(ids, false)).as("decode(encode(s))").isEqualTo(Normalizer.normalize(s, Normalizer.Form.NFC));
        }
        for (boolean skip : new boolean[] {true, false}) {
            assertStreamingEqualsDecode(BPE.newStreamingDetokenizer(skip), ids, BPE.decode(ids, skip));
            int[] any = arbitraryIds(data, BPE.vocabSize());
            assertStreamingEqualsDecode(BPE.newStreamingDetokenizer(skip), any, BPE.decode(any, skip));
        }
    }

    private static void assertStreamingEqualsDecode(Detokenizer d, int[] ids, String whole) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) sb.append(d.push(id));
        sb.append(d.flush());
        assertThat(sb.toString()).as("streamed pieces").isEqualTo(whole);
    }

    /** Ids from pairs of input bytes, each taken modulo the vocabulary size. */
    private static int[] arbitraryIds(byte[] data, int vocab) {
        int[] ids = new int[data.length / 2];
        for (int i = 0; i < ids.length; i++) ids[i] = (((data[2 * i] & 0xFF) << 8) | (data[2 * i + 1] & 0xFF)) % vocab;
        return ids;
    }

    private static boolean wellFormed(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) return false;
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    private static boolean roundTrips(String s) {
        if (!wellFormed(s) || s.indexOf('\u2581') >= 0) return false;
        if (!InternLM2Tokenizer.cleanUpTokenization(s).equals(s)) return false;
        for (String t : SP.addedTokens().keySet()) if (s.contains(t)) return false;
        return true;
    }
}
