package org.internvl4j.tokenizer;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Translates a pre-tokenizer regex of a Hugging Face tokenizer.json, written for the Oniguruma engine
 * that the Rust tokenizers library uses, into a {@link Pattern} that matches the same strings.
 *
 * <p>Most syntax means the same in both engines (alternation order, greedy/lazy/possessive quantifiers,
 * lookaround, atomic groups, {@code \p{L}} / {@code \p{N}} general categories). These constructs differ
 * and are rewritten:
 * <ul>
 *   <li>{@code \s}, {@code \S}: Unicode White_Space in Oniguruma (U+0085, U+00A0, U+3000 ...), ASCII in Java;
 *       written as {@code \p{IsWhite_Space}}. {@code \d} is {@code \p{Nd}}; {@code \w} is letters, marks,
 *       decimal digits and connector punctuation; {@code \h} is a hex digit; {@code \v} is U+000B.</li>
 *   <li>{@code (?i:...)}: Oniguruma folds case with Unicode rules (U+017F LONG S matches {@code s}, U+212A
 *       KELVIN SIGN matches {@code k}); Java's {@code (?i)} is ASCII-only, so it becomes {@code (?iu:...)}.</li>
 *   <li>{@code \p{Name}}: a general category, script or binary property in Oniguruma; Java wants
 *       {@code \p{IsName}} for scripts and properties (and accepts it for categories).</li>
 *   <li>{@code .} excludes only {@code \n} in Oniguruma; {@code ^}/{@code $} are line anchors (Ruby syntax).</li>
 *   <li>{@code {,n}} means {@code {0,n}}.</li>
 * </ul>
 * Constructs that cannot be carried over (back-references, {@code \b}, {@code \G}, POSIX brackets,
 * {@code \W} inside a class, {@code \K}, absent operators, {@code X{n}+}) are refused with the pattern
 * and position.
 */
final class OnigRegex {
    private OnigRegex() {
    }

    static final String WHITE_SPACE = "\\p{IsWhite_Space}";
    static final String NOT_WHITE_SPACE = "\\P{IsWhite_Space}";
    private static final String WORD_CHARS = "\\p{IsAlphabetic}\\p{IsM}\\p{IsNd}\\p{IsPc}";

    static Pattern compile(String onig) {
        String java = translate(onig);
        try {
            return Pattern.compile(java);
        } catch (PatternSyntaxException e) {
            throw new TokenizerException("pre-tokenizer regex " + quote(onig) + " cannot be compiled for Java (as "
                    + quote(java) + "): " + e.getDescription(), e);
        }
    }

    static String translate(String re) {
        StringBuilder out = new StringBuilder(re.length() + 32);
        int classDepth = 0;
        int i = 0;
        while (i < re.length()) {
            char c = re.charAt(i);
            if (c == '\\') {
                if (i + 1 >= re.length()) throw unsupported(re, i, "a trailing backslash");
                char e = re.charAt(i + 1);
                boolean inClass = classDepth > 0;
                switch (e) {
                    case 's' -> out.append(WHITE_SPACE);
                    case 'S' -> out.append(NOT_WHITE_SPACE);
                    case 'd' -> out.append("\\p{IsNd}");
                    case 'D' -> out.append("\\P{IsNd}");
                    case 'w' -> out.append(inClass ? WORD_CHARS : "[" + WORD_CHARS + "]");
                    case 'W' -> {
                        if (inClass) throw unsupported(re, i, "\\W inside a character class");
                        out.append("[^" + WORD_CHARS + "]");
                    }
                    case 'h' -> out.append(inClass ? "0-9a-fA-F" : "[0-9a-fA-F]");
                    case 'H' -> {
                        if (inClass) throw unsupported(re, i, "\\H inside a character class");
                        out.append("[^0-9a-fA-F]");
                    }
                    case 'v' -> out.append("\\x0B");
                    case 'p', 'P' -> {
                        int close = re.indexOf('}', i);
                        if (i + 2 >= re.length() || re.charAt(i + 2) != '{' || close < 0) {
                            throw unsupported(re, i, "\\" + e + " without {Name}");
                        }
                        String name = re.substring(i + 3, close);
                        boolean negate = e == 'P';
                        if (name.startsWith("^")) {
                            negate = !negate;
                            name = name.substring(1);
                        }
                        if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) throw unsupported(re, i, "the property name " + quote(name));
                        out.append(negate ? "\\P{Is" : "\\p{Is").append(name).append('}');
                        i = close + 1;
                        continue;
                    }
                    case 'x', 'u', 'n', 'r', 't', 'f', 'a', 'e', '0' -> out.append(c).append(e);
                    case 'A', 'z' -> {
                        if (inClass) throw unsupported(re, i, "\\" + e + " inside a character class");
                        out.append(c).append(e);
                    }
                    default -> {
                        if (Character.isLetterOrDigit(e)) {
                            throw unsupported(re, i, "the escape \\" + e);
                        }
                        out.append(c).append(e); // an escaped punctuation character: literal in both
                    }
                }
                i += 2;
                continue;
            }
            if (classDepth > 0) {
                if (c == '[') {
                    if (re.startsWith("[:", i)) throw unsupported(re, i, "POSIX bracket expressions");
                    classDepth++;
                } else if (c == ']') {
                    classDepth--;
                }
                out.append(c);
                i++;
                continue;
            }
            switch (c) {
                case '[' -> {
                    classDepth++;
                    out.append(c);
                    i++;
                    // A ']' right after '[' or '[^' is a literal in Oniguruma.
                    if (re.startsWith("^", i)) {
                        out.append('^');
                        i++;
                    }
                    if (re.startsWith("]", i)) {
                        out.append("\\]");
                        i++;
                    }
                }
                case '(' -> {
                    if (re.startsWith("(?", i)) {
                        int j = i + 2;
                        while (j < re.length() && (Character.isLetter(re.charAt(j)) || re.charAt(j) == '-')) j++;
                        String flags = re.substring(i + 2, j);
                        if (!flags.isEmpty()) {
                            if (!flags.equals("i") && !flags.equals("-i")) throw unsupported(re, i, "the group flags (?" + flags);
                            if (j >= re.length() || (re.charAt(j) != ':' && re.charAt(j) != ')')) {
                                throw unsupported(re, i, "the group (?" + flags + re.charAt(Math.min(j, re.length() - 1)));
                            }
                            out.append(flags.equals("i") ? "(?iu" : "(?-iu");
                            i = j;
                            continue;
                        }
                        if (re.startsWith("(?#", i) || re.startsWith("(?~", i)) throw unsupported(re, i, "comments or absent operators");
                    }
                    out.append(c);
                    i++;
                }
                case '.' -> {
                    out.append("[^\\n]");
                    i++;
                }
                case '^' -> {
                    out.append("(?md:^)");
                    i++;
                }
                case '$' -> {
                    out.append("(?md:$)");
                    i++;
                }
                case '}' -> {
                    // In Ruby syntax "X{2}+" repeats "X{2}"; in Java it is possessive.
                    if (re.startsWith("}+", i) && re.substring(0, i).matches("(?s).*\\{\\d*,?\\d*")) {
                        throw unsupported(re, i, "an interval followed by + (a repeat in Oniguruma, possessive in Java)");
                    }
                    out.append(c);
                    i++;
                }
                case '{' -> {
                    if (re.startsWith("{,", i)) {
                        out.append("{0,");
                        i += 2;
                    } else {
                        out.append(c);
                        i++;
                    }
                }
                default -> {
                    out.append(c);
                    i++;
                }
            }
        }
        if (classDepth != 0) throw unsupported(re, re.length(), "an unclosed character class");
        return out.toString();
    }

    private static TokenizerException unsupported(String re, int pos, String what) {
        return new TokenizerException("pre-tokenizer regex " + quote(re) + ": " + what + " (at index " + pos
                + ") is not supported");
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n").replace("\r", "\\r") + "\"";
    }
}
