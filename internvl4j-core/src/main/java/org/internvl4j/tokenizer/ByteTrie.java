package org.internvl4j.tokenizer;

import java.util.HashMap;
import java.util.Map;

/**
 * Longest-prefix matcher over UTF-8 byte strings: SentencePiece's PrefixMatcher, which keeps
 * user-defined symbols whole (normalizer.cc PrefixMatcher::PrefixMatch).
 */
final class ByteTrie {
    private final Map<Long, Integer> children = new HashMap<>();
    private boolean[] terminal = new boolean[16];
    /** Lead bytes of the keys: most positions of a text fail here without a map lookup. */
    private final boolean[] firstByte = new boolean[256];
    private int nodes = 1;

    void add(byte[] key) {
        if (key.length == 0) return;
        firstByte[key[0] & 0xFF] = true;
        int node = 0;
        for (byte b : key) {
            long edge = (long) node << 8 | (b & 0xFF);
            Integer child = children.get(edge);
            if (child == null) {
                child = nodes++;
                children.put(edge, child);
                if (nodes > terminal.length) {
                    terminal = java.util.Arrays.copyOf(terminal, terminal.length * 2);
                }
            }
            node = child;
        }
        terminal[node] = true;
    }

    boolean isEmpty() {
        return nodes == 1;
    }

    /** Length in bytes of the longest key that is a prefix of s[from, to), or 0 when none is. */
    int longestMatch(byte[] s, int from, int to) {
        if (from >= to || !firstByte[s[from] & 0xFF]) return 0;
        int node = 0, best = 0;
        for (int i = from; i < to; i++) {
            Integer child = children.get((long) node << 8 | (s[i] & 0xFF));
            if (child == null) break;
            node = child;
            if (terminal[node]) best = i + 1 - from;
        }
        return best;
    }
}
