package org.internvl4j.chat;

/** Python string semantics that Java lacks; {@code chat()} post-processes the response with them. */
public final class PyStrings {
    private PyStrings() {}

    /**
     * Python's {@code str.isspace()} for one code point: bidirectional class WS, B or S, or general category Zs
     * (CPython {@code _PyUnicode_IsWhitespace}). Java's {@link Character#isWhitespace} excludes NBSP, U+2007 and
     * U+202F and includes nothing for U+0085, so it cannot be used.
     */
    public static boolean isSpace(int cp) {
        return switch (cp) {
            case 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85, 0xA0, 0x1680,
                 0x2028, 0x2029, 0x202F, 0x205F, 0x3000 -> true;
            default -> cp >= 0x2000 && cp <= 0x200A;
        };
    }

    /** Python's {@code str.strip()} with no argument: removes {@link #isSpace} code points at both ends. */
    public static String strip(String s) {
        int start = 0;
        int end = s.length();
        while (start < end) {
            int cp = s.codePointAt(start);
            if (!isSpace(cp)) break;
            start += Character.charCount(cp);
        }
        while (end > start) {
            int cp = s.codePointBefore(end);
            if (!isSpace(cp)) break;
            end -= Character.charCount(cp);
        }
        return s.substring(start, end);
    }
}
