package org.internvl4j.tokenizer;

/** Python's str.lstrip()/rstrip() without arguments: they strip what str.isspace() calls whitespace. */
final class PythonStrings {
    private PythonStrings() {
    }

    /** str.isspace for one code point: bidi class WS, B or S, or category Zs (CPython's _PyUnicode_IsWhitespace). */
    static boolean isSpace(int c) {
        return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680
                || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
    }

    static String lstrip(String s) {
        int i = 0;
        while (i < s.length() && isSpace(s.charAt(i))) i++;
        return s.substring(i);
    }

    static String rstrip(String s) {
        int i = s.length();
        while (i > 0 && isSpace(s.charAt(i - 1))) i--;
        return s.substring(0, i);
    }
}
