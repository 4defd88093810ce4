package org.internvl4j.tokenizer;

import java.util.Arrays;

/**
 * Streaming for {@link LlamaTokenizer} by decoding the ids so far again at each token and handing out what is new.
 * Held back: the bytes of an incomplete character at the end (a skipped special token does not end a byte run);
 * with {@code legacy} and special tokens kept, the text since the last special token (the next one puts a space
 * in front of that text); with the clean-up on, the text from the last space (a later " ." or " n't" would change it). Everything handed out is a prefix of the final
 * decode, so the pieces concatenate to it exactly. Each push decodes the whole sequence: O(n) per token, which
 * is microseconds for chat-length answers.
 */
final class RedecodingDetokenizer implements Detokenizer {
    private final LlamaTokenizer tok;
    private final boolean skip;
    private int[] ids = new int[64];
    private int n;
    private final StringBuilder emitted = new StringBuilder();

    RedecodingDetokenizer(LlamaTokenizer tok, boolean skipSpecialTokens) {
        this.tok = tok;
        this.skip = skipSpecialTokens;
    }

    @Override
    public String push(int id) {
        tok.idToToken(id); // throws for a bad id
        if (n == ids.length) ids = Arrays.copyOf(ids, n * 2);
        ids[n++] = id;
        int stable = n;
        // an incomplete UTF-8 character at the end: back to its lead byte's token
        int seen = 0;
        for (int i = n - 1; i >= 0 && seen < 4; i--) {
            if (skip && tok.isSpecial(ids[i])) continue;
            int b = tok.byteValue(ids[i]);
            if (b < 0) break;
            seen++;
            if ((b & 0xC0) != 0x80) { // a lead (or ASCII) byte
                if (Utf8.neededLength((byte) b) > seen) stable = i;
                break;
            }
        }
        if (tok.legacy() && !skip) {
            while (stable > 0 && !tok.isSpecialText(ids[stable - 1])) stable--;
        }
        String text = tok.decode(Arrays.copyOf(ids, stable), skip);
        int end = text.length();
        if (tok.cleansUp()) end = Math.max(0, text.lastIndexOf(' '));
        return take(text, end);
    }

    @Override
    public String flush() {
        String text = tok.decode(Arrays.copyOf(ids, n), skip);
        return take(text, text.length());
    }

    private String take(String text, int end) {
        int from = emitted.length();
        if (end <= from || !text.startsWith(emitted.toString())) return "";
        String s = text.substring(from, end);
        emitted.append(s);
        return s;
    }
}
