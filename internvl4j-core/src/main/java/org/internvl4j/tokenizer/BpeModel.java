package org.internvl4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The byte-level BPE model of a tokenizer.json: a vocabulary of byte-level token strings and ranked
 * merges. A pre-token's UTF-8 bytes start as one token each; then the adjacent pair with the lowest
 * merge rank (the leftmost of equal ones) is merged until no pair has a merge, as the Rust tokenizers
 * library's {@code Word::merge_all} does. With {@code ignore_merges} a pre-token that is itself a
 * vocabulary token is that token. Immutable apart from a thread-safe cache of recent pre-tokens.
 */
final class BpeModel {
    /** GPT-2's bytes_to_unicode: byte b is written as the character BYTE_CHAR[b] in vocabulary strings. */
    static final char[] BYTE_CHAR = new char[256];
    /** The inverse: a character to its byte, or -1 for characters that do not stand for a byte. */
    static final short[] CHAR_BYTE = new short[512];

    static {
        Arrays.fill(CHAR_BYTE, (short) -1);
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char ch = printable ? (char) b : (char) (256 + extra++);
            BYTE_CHAR[b] = ch;
            CHAR_BYTE[ch] = (short) b;
        }
    }

    private static final int CACHE_MAX_ENTRIES = 200_000;
    private static final int CACHE_MAX_WORD_CHARS = 100;

    private final Map<String, Integer> vocab;
    private final String[] idToToken;
    private final int[] byteIds = new int[256];
    private final PairTable merges;
    /** merged token id by merge rank. */
    private final int[] mergeResult;
    private final boolean ignoreMerges;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * @param vocab token string -> id
     * @param mergePairs the merges in rank order, each as {left, right} token strings
     */
    BpeModel(Map<String, Integer> vocab, String[][] mergePairs, boolean ignoreMerges, String where) {
        this.vocab = vocab;
        this.ignoreMerges = ignoreMerges;
        int maxId = -1;
        for (int id : vocab.values()) {
            if (id < 0) throw new TokenizerException(where + ": model.vocab has a negative id " + id);
            maxId = Math.max(maxId, id);
        }
        idToToken = new String[maxId + 1];
        for (var e : vocab.entrySet()) {
            if (idToToken[e.getValue()] != null) {
                throw new TokenizerException(where + ": model.vocab gives id " + e.getValue() + " to both "
                        + idToToken[e.getValue()] + " and " + e.getKey());
            }
            idToToken[e.getValue()] = e.getKey();
        }
        for (int b = 0; b < 256; b++) {
            Integer id = vocab.get(String.valueOf(BYTE_CHAR[b]));
            if (id == null) {
                throw new TokenizerException(where + ": model.vocab lacks the byte-level token for byte 0x"
                        + Integer.toHexString(b) + " (\"" + BYTE_CHAR[b] + "\"): not a byte-level BPE vocabulary");
            }
            byteIds[b] = id;
        }
        merges = new PairTable(mergePairs.length);
        mergeResult = new int[mergePairs.length];
        for (int r = 0; r < mergePairs.length; r++) {
            String a = mergePairs[r][0], b = mergePairs[r][1];
            Integer ia = vocab.get(a), ib = vocab.get(b), im = vocab.get(a + b);
            if (ia == null || ib == null || im == null) {
                throw new TokenizerException(where + ": merge " + r + " (\"" + a + "\" \"" + b + "\") uses a token that is not in model.vocab");
            }
            // The first of duplicate merges keeps its rank.
            if (merges.putIfAbsent(ia, ib, r)) mergeResult[r] = im;
        }
    }

    /** One past the largest vocabulary id. */
    int size() {
        return idToToken.length;
    }

    /** The vocabulary string of an id, or null for an id the vocabulary does not use. */
    String token(int id) {
        return id >= 0 && id < idToToken.length ? idToToken[id] : null;
    }

    Integer id(String token) {
        return vocab.get(token);
    }

    /** Appends the ids of one pre-token (a piece of text without unpaired surrogates). */
    void encodeWord(String word, IntList out) {
        int[] hit = cache.get(word);
        if (hit != null) {
            out.addAll(hit);
            return;
        }
        int[] ids = encodeUncached(word.getBytes(StandardCharsets.UTF_8));
        if (word.length() <= CACHE_MAX_WORD_CHARS && cache.size() < CACHE_MAX_ENTRIES) cache.put(word, ids);
        out.addAll(ids);
    }

    int[] encodeUncached(byte[] bytes) {
        int n = bytes.length;
        if (ignoreMerges) {
            char[] chars = new char[n];
            for (int i = 0; i < n; i++) chars[i] = BYTE_CHAR[bytes[i] & 0xFF];
            Integer whole = vocab.get(new String(chars));
            if (whole != null) return new int[] {whole};
        }
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = byteIds[bytes[i] & 0xFF];
        return n <= 24 ? mergeByScan(ids) : mergeByHeap(ids);
    }

    /** Short words: rescan the pair ranks after each merge (no allocation beyond two arrays). */
    private int[] mergeByScan(int[] ids) {
        int n = ids.length;
        if (n < 2) return ids;
        int[] ranks = new int[n - 1];
        for (int i = 0; i < n - 1; i++) ranks[i] = merges.get(ids[i], ids[i + 1]);
        while (n > 1) {
            int best = Integer.MAX_VALUE, pos = -1;
            for (int i = 0; i < n - 1; i++) {
                if (ranks[i] < best) {
                    best = ranks[i];
                    pos = i;
                }
            }
            if (pos < 0) break;
            ids[pos] = mergeResult[best];
            System.arraycopy(ids, pos + 2, ids, pos + 1, n - pos - 2);
            System.arraycopy(ranks, pos + 1, ranks, pos, n - pos - 2);
            n--;
            if (pos > 0) ranks[pos - 1] = merges.get(ids[pos - 1], ids[pos]);
            if (pos < n - 1) ranks[pos] = merges.get(ids[pos], ids[pos + 1]);
        }
        return Arrays.copyOf(ids, n);
    }

    /**
     * Long words (whitespace runs, long scripts without spaces): symbols in a linked list and candidate
     * merges in a min-heap keyed by (rank, position), stale entries skipped when popped.
     */
    private int[] mergeByHeap(int[] ids) {
        int n = ids.length;
        int[] next = new int[n], prev = new int[n];
        for (int i = 0; i < n; i++) {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        LongHeap heap = new LongHeap(n);
        for (int i = 0; i < n - 1; i++) {
            int r = merges.get(ids[i], ids[i + 1]);
            if (r != Integer.MAX_VALUE) heap.push((long) r << 32 | i);
        }
        int alive = n;
        while (!heap.isEmpty()) {
            long top = heap.pop();
            int rank = (int) (top >>> 32), pos = (int) top;
            int right = next[pos];
            if (ids[pos] < 0 || right < 0 || merges.get(ids[pos], ids[right]) != rank) continue; // stale
            ids[pos] = mergeResult[rank];
            ids[right] = -1;
            next[pos] = next[right];
            if (next[right] >= 0) prev[next[right]] = pos;
            alive--;
            if (prev[pos] >= 0) {
                int r = merges.get(ids[prev[pos]], ids[pos]);
                if (r != Integer.MAX_VALUE) heap.push((long) r << 32 | prev[pos]);
            }
            if (next[pos] >= 0) {
                int r = merges.get(ids[pos], ids[next[pos]]);
                if (r != Integer.MAX_VALUE) heap.push((long) r << 32 | pos);
            }
        }
        int[] out = new int[alive];
        for (int i = 0, k = 0; i >= 0; i = next[i]) out[k++] = ids[i];
        return out;
    }

    /** Open-addressing map from a token pair to its merge rank (Integer.MAX_VALUE when absent). */
    static final class PairTable {
        private final long[] keys;
        private final int[] values;
        private final int mask;

        PairTable(int expected) {
            int cap = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
            keys = new long[cap];
            Arrays.fill(keys, -1L);
            values = new int[cap];
            mask = cap - 1;
        }

        private static int slot(long key) {
            long h = key * 0x9E3779B97F4A7C15L;
            return (int) (h ^ (h >>> 29));
        }

        boolean putIfAbsent(int a, int b, int value) {
            long key = (long) a << 32 | (b & 0xFFFFFFFFL);
            int i = slot(key) & mask;
            while (keys[i] != -1L) {
                if (keys[i] == key) return false;
                i = (i + 1) & mask;
            }
            keys[i] = key;
            values[i] = value;
            return true;
        }

        int get(int a, int b) {
            long key = (long) a << 32 | (b & 0xFFFFFFFFL);
            int i = slot(key) & mask;
            long k;
            while ((k = keys[i]) != -1L) {
                if (k == key) return values[i];
                i = (i + 1) & mask;
            }
            return Integer.MAX_VALUE;
        }
    }

    /** A binary min-heap of longs. */
    static final class LongHeap {
        private long[] a;
        private int n;

        LongHeap(int capacity) {
            a = new long[Math.max(4, capacity)];
        }

        boolean isEmpty() {
            return n == 0;
        }

        void push(long v) {
            if (n == a.length) a = Arrays.copyOf(a, n * 2);
            int i = n++;
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (a[p] <= v) break;
                a[i] = a[p];
                i = p;
            }
            a[i] = v;
        }

        long pop() {
            long top = a[0];
            long v = a[--n];
            int i = 0;
            while (true) {
                int c = 2 * i + 1;
                if (c >= n) break;
                if (c + 1 < n && a[c + 1] < a[c]) c++;
                if (a[c] >= v) break;
                a[i] = a[c];
                i = c;
            }
            a[i] = v;
            return top;
        }
    }

    /** A growable int array. */
    static final class IntList {
        int[] a;
        int n;

        IntList(int capacity) {
            a = new int[Math.max(4, capacity)];
        }

        void add(int v) {
            if (n == a.length) a = Arrays.copyOf(a, n * 2);
            a[n++] = v;
        }

        void addAll(int[] v) {
            if (n + v.length > a.length) a = Arrays.copyOf(a, Math.max(n * 2, n + v.length));
            System.arraycopy(v, 0, a, n, v.length);
            n += v.length;
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
