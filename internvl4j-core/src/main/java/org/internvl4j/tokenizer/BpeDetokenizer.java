package org.internvl4j.tokenizer;

import java.util.Arrays;

/**
 * Streaming {@link ByteLevelBpeTokenizer#decode(int[], boolean)}. Tokens add bytes; the bytes are read as
 * UTF-8 up to a trailing sequence that is still a valid start of a character (at most 3 bytes), which
 * waits for the next token. Bytes that can no longer form a character become U+FFFD at once, exactly as
 * the whole decode would replace them, because a maximal invalid subsequence never reaches past the lead
 * byte of the held tail. clean_up_tokenization, when the tokenizer uses it, runs as streaming replacers.
 */
final class BpeDetokenizer implements Detokenizer {
    private final ByteLevelBpeTokenizer tokenizer;
    private final boolean skipSpecialTokens;
    private final StreamingDetokenizer.CleanUpChain cleanUp;
    private byte[] pending = new byte[16];
    private int n;

    BpeDetokenizer(ByteLevelBpeTokenizer tokenizer, boolean skipSpecialTokens) {
        this.tokenizer = tokenizer;
        this.skipSpecialTokens = skipSpecialTokens;
        this.cleanUp = tokenizer.cleansUpSpaces() ? new StreamingDetokenizer.CleanUpChain() : null;
    }

    @Override
    public String push(int id) {
        byte[] b = tokenizer.bytesOf(id);
        if (skipSpecialTokens && tokenizer.isSpecial(id)) return "";
        if (n + b.length > pending.length) pending = Arrays.copyOf(pending, Math.max(pending.length * 2, n + b.length));
        System.arraycopy(b, 0, pending, n, b.length);
        n += b.length;
        int cut = completeLength(pending, n);
        String text = Utf8.decodeLossy(pending, 0, cut);
        System.arraycopy(pending, cut, pending, 0, n - cut);
        n -= cut;
        return cleanUp == null ? text : cleanUp.push(text);
    }

    @Override
    public String flush() {
        String text = Utf8.decodeLossy(pending, 0, n);
        n = 0;
        return cleanUp == null ? text : cleanUp.push(text) + cleanUp.finish();
    }

    /** The length of b[0, n) without a trailing incomplete but still valid UTF-8 sequence. */
    static int completeLength(byte[] b, int n) {
        for (int back = 1; back <= 3 && back <= n; back++) {
            int lead = b[n - back] & 0xFF;
            if (lead < 0x80) return n;          // ASCII: nothing after it can be incomplete
            if (lead >= 0xC0) {                 // the last lead byte
                int need = lead >= 0xC2 && lead <= 0xDF ? 2 : lead >= 0xE0 && lead <= 0xEF ? 3 : lead >= 0xF0 && lead <= 0xF4 ? 4 : 0;
                if (need <= back) return n;     // complete, or a byte that never starts a character
                for (int k = 1; k < back; k++) {
                    int c = b[n - back + k] & 0xFF;
                    int lo = 0x80, hi = 0xBF;
                    if (k == 1) {
                        if (lead == 0xE0) lo = 0xA0;
                        else if (lead == 0xED) hi = 0x9F;
                        else if (lead == 0xF0) lo = 0x90;
                        else if (lead == 0xF4) hi = 0x8F;
                    }
                    if (c < lo || c > hi) return n; // already invalid: decodes to U+FFFD now
                }
                return n - back;
            }
        }
        return n;
    }
}
