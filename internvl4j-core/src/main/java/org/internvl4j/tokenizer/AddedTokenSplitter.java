package org.internvl4j.tokenizer;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The added-token split of transformers' slow tokenizers (PreTrainedTokenizer.tokenize over its Trie): the text
 * becomes [text, token, text, ..., token, text], cut at each added token where it starts (the longest one there), and
 * a token's lstrip/rstrip trims the text beside it. Shared by the SentencePiece tokenizers (InternLM2, Llama/Phi-3/Yi);
 * the byte-level BPE tokenizer follows the Rust tokenizers' added vocabulary instead.
 */
final class AddedTokenSplitter {
    private final Predicate<String> lstrip;
    private final Predicate<String> rstrip;
    /** Added tokens by first character, longest first. */
    private final Map<Character, List<String>> byFirstChar = new HashMap<>();

    /** The added tokens' texts, and which of them strip the whitespace on their left or right. */
    AddedTokenSplitter(Collection<String> tokens, Predicate<String> lstrip, Predicate<String> rstrip) {
        this.lstrip = lstrip;
        this.rstrip = rstrip;
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
            if (rstrip.test(t) && !out.get(k + 1).isEmpty()) out.set(k + 1, PythonStrings.lstrip(out.get(k + 1)));
            if (lstrip.test(t) && !out.get(k - 1).isEmpty()) out.set(k - 1, PythonStrings.rstrip(out.get(k - 1)));
        }
        return out;
    }
}
