package org.internvl4j.tokenizer;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * Splits text at added tokens: [text, token, text, ..., token, text], scanning left to right and taking at each
 * position the longest token that starts there (transformers' slow tokenizers' Trie.split, and the Rust tokenizers'
 * leftmost-longest match alike); a token's lstrip/rstrip trims the text beside it. The tokenizers differ only in what
 * whitespace a trim removes (Python's str.strip for the SentencePiece ones, Rust's char::is_whitespace for the
 * byte-level BPE one), so they pass their own trims.
 */
final class AddedTokenSplitter {
    private final Predicate<String> lstrip;
    private final Predicate<String> rstrip;
    private final UnaryOperator<String> trimEnd;
    private final UnaryOperator<String> trimStart;
    /** Added tokens by first character, longest first. */
    private final Map<Character, List<String>> byFirstChar = new HashMap<>();

    /**
     * The added tokens' texts; which of them strip the whitespace on their left or right; and the trims that do it
     * (trimEnd for the text before a token, trimStart for the text after it).
     */
    AddedTokenSplitter(Collection<String> tokens, Predicate<String> lstrip, Predicate<String> rstrip, UnaryOperator<String> trimEnd,
                       UnaryOperator<String> trimStart) {
        this.lstrip = lstrip;
        this.rstrip = rstrip;
        this.trimEnd = trimEnd;
        this.trimStart = trimStart;
        for (String t : tokens) byFirstChar.computeIfAbsent(t.charAt(0), c -> new ArrayList<>()).add(t);
        byFirstChar.values().forEach(l -> l.sort((a, b) -> Integer.compare(b.length(), a.length())));
    }

    List<String> split(String text) {
        List<String> out = new ArrayList<>();
        StringBuilder buf = new StringBuilder();
        int i = 0;
        while (i < text.length()) {
            String hit = null;
            List<String> cands = byFirstChar.get(text.charAt(i));
            if (cands != null) {
                for (String t : cands) {
                    if (text.startsWith(t, i)) {
                        hit = t;
                        break;
                    }
                }
            }
            if (hit == null) {
                buf.append(text.charAt(i++));
            } else {
                out.add(buf.toString());
                out.add(hit);
                buf.setLength(0);
                i += hit.length();
            }
        }
        out.add(buf.toString());
        for (int k = 1; k < out.size(); k += 2) {
            String t = out.get(k);
            if (rstrip.test(t) && !out.get(k + 1).isEmpty()) out.set(k + 1, trimStart.apply(out.get(k + 1)));
            if (lstrip.test(t) && !out.get(k - 1).isEmpty()) out.set(k - 1, trimEnd.apply(out.get(k - 1)));
        }
        return out;
    }
}
