package org.internvl4j.tokenizer;

import java.nio.charset.StandardCharsets;

/** UTF-8 helpers with SentencePiece's exact rules (util.cc DecodeUTF8, v0.1.97). */
final class Utf8 {
    private Utf8() {
    }

    /** Length of one character by its lead byte, as SentencePiece's OneCharLen table gives it. */
    static int oneCharLen(byte lead) {
        int hi = (lead & 0xFF) >>> 4;
        return hi < 12 ? 1 : hi < 14 ? 2 : hi == 14 ? 3 : 4;
    }

    private static boolean trail(byte b) {
        return (b & 0xC0) == 0x80;
    }

    private static boolean validCodepoint(int c) {
        return c < 0xD800 || (c >= 0xE000 && c <= 0x10FFFF);
    }

    /**
     * DecodeUTF8: the byte length of the valid character at s[pos] (within s[pos, end)), or 0 when
     * the bytes there are not a valid, shortest-form, non-surrogate character.
     */
    static int validCharLength(byte[] s, int pos, int end) {
        int len = end - pos;
        int b0 = s[pos] & 0xFF;
        if (b0 < 0x80) return 1;
        if (len >= 2 && (b0 & 0xE0) == 0xC0) {
            int cp = (b0 & 0x1F) << 6 | (s[pos + 1] & 0x3F);
            if (trail(s[pos + 1]) && cp >= 0x80 && validCodepoint(cp)) return 2;
        } else if (len >= 3 && (b0 & 0xF0) == 0xE0) {
            int cp = (b0 & 0x0F) << 12 | (s[pos + 1] & 0x3F) << 6 | (s[pos + 2] & 0x3F);
            if (trail(s[pos + 1]) && trail(s[pos + 2]) && cp >= 0x800 && validCodepoint(cp)) return 3;
        } else if (len >= 4 && (b0 & 0xF8) == 0xF0) {
            int cp = (b0 & 0x07) << 18 | (s[pos + 1] & 0x3F) << 12 | (s[pos + 2] & 0x3F) << 6 | (s[pos + 3] & 0x3F);
            if (trail(s[pos + 1]) && trail(s[pos + 2]) && trail(s[pos + 3]) && cp >= 0x10000 && validCodepoint(cp)) return 4;
        }
        return 0;
    }

    /** The bytes a lead byte asks for (1 for bytes that cannot start a valid character). */
    static int neededLength(byte lead) {
        int b0 = lead & 0xFF;
        if ((b0 & 0xE0) == 0xC0) return 2;
        if ((b0 & 0xF0) == 0xE0) return 3;
        if ((b0 & 0xF8) == 0xF0) return 4;
        return 1;
    }

    /**
     * Decodes bytes as SentencePiece's decoder does for runs of byte pieces: each valid character
     * is kept, every byte of an invalid or incomplete sequence becomes its own U+FFFD.
     */
    static void decodeBytes(byte[] b, int from, int to, StringBuilder out) {
        int pos = from;
        while (pos < to) {
            int m = validCharLength(b, pos, to);
            if (m == 0) {
                out.append('\uFFFD');
                pos++;
            } else {
                out.append(new String(b, pos, m, StandardCharsets.UTF_8));
                pos += m;
            }
        }
    }

    /** UTF-8 bytes of a Java string; an unpaired surrogate is an error (Python cannot encode it either). */
    static byte[] encode(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                    i++;
                } else {
                    throw new IllegalArgumentException("text has an unpaired surrogate U+" + Integer.toHexString(c).toUpperCase()
                            + " at index " + i + "; it cannot be encoded as UTF-8");
                }
            }
        }
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
