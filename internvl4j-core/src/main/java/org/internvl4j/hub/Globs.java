package org.internvl4j.hub;

import java.util.List;
import java.util.regex.Pattern;

/**
 * Shell-style patterns for repository paths, with the semantics of Python's fnmatch (which
 * huggingface_hub's allow_patterns use): {@code *} matches any run of characters including '/',
 * {@code ?} one character, {@code [abc]} / {@code [!abc]} a set. A pattern ending in '/' matches
 * everything under that folder.
 */
public final class Globs {
    private Globs() {}

    public static boolean matchesAny(List<String> patterns, String path) {
        for (String p : patterns) {
            if (toRegex(p).matcher(path).matches()) {
                return true;
            }
        }
        return false;
    }

    static Pattern toRegex(String glob) {
        String g = glob.endsWith("/") ? glob + "*" : glob;
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < g.length(); i++) {
            char c = g.charAt(i);
            switch (c) {
                case '*' -> re.append(".*");
                case '?' -> re.append('.');
                case '[' -> {
                    int j = g.indexOf(']', i + 2);
                    if (j < 0) {
                        re.append("\\[");
                    } else {
                        String set = g.substring(i + 1, j);
                        if (set.startsWith("!")) {
                            set = "^" + set.substring(1);
                        }
                        re.append('[').append(set.replace("\\", "\\\\")).append(']');
                        i = j;
                    }
                }
                default -> re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.toString(), Pattern.DOTALL);
    }
}
