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

    /**
     * Decodes UTF-8 as Rust's String::from_utf8_lossy (and the WHATWG decoder) do: one U+FFFD per maximal
     * subpart of an ill-formed sequence (Unicode 15, section 3.9, U+FFFD substitution of maximal subparts).
     * Java's own decoder differs for encoded surrogates (ED A0..BF ..), which it replaces as one unit.
     */
    static String decodeLossy(byte[] b, int from, int to) {
        StringBuilder out = new StringBuilder(to - from);
        int i = from;
        while (i < to) {
            int b0 = b[i] & 0xFF;
            if (b0 < 0x80) {
                out.append((char) b0);
                i++;
                continue;
            }
            int need, lo = 0x80, hi = 0xBF, cp;
            if (b0 >= 0xC2 && b0 <= 0xDF) {
                need = 1;
                cp = b0 & 0x1F;
            } else if (b0 >= 0xE0 && b0 <= 0xEF) {
                need = 2;
                cp = b0 & 0x0F;
                if (b0 == 0xE0) lo = 0xA0;
                else if (b0 == 0xED) hi = 0x9F;
            } else if (b0 >= 0xF0 && b0 <= 0xF4) {
                need = 3;
                cp = b0 & 0x07;
                if (b0 == 0xF0) lo = 0x90;
                else if (b0 == 0xF4) hi = 0x8F;
            } else {
                out.append('\uFFFD');
                i++;
                continue;
            }
            int j = i + 1;
            boolean ok = true;
            for (int k = 0; k < need; k++, j++) {
                int c = j < to ? b[j] & 0xFF : -1;
                if (c < (k == 0 ? lo : 0x80) || c > (k == 0 ? hi : 0xBF)) {
                    ok = false;
                    break;
                }
                cp = cp << 6 | (c & 0x3F);
            }
            if (ok) out.appendCodePoint(cp);
            else out.append('\uFFFD');
            i = j;
        }
        return out.toString();
    }
}
