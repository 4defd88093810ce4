package org.internvl4j.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.internvl4j.llm.KvCache;

/**
 * Finished sequences' KV caches, keyed by their token ids, for reuse by later prompts that start the same way
 * (a system prompt, earlier turns of a conversation, the same image). A hit forks the cache at the common prefix
 * (sharing its full blocks), so one entry serves any number of requests. Entries hold KV blocks of the budget; the
 * least recently used one is released when blocks are needed (its blocks return to the pool unless a running
 * sequence shares them). Only the engine thread uses it.
 */
final class PrefixCache {
    record Entry(KvCache cache, int[] tokens, long[] lastUse) {}

    /** A lookup result: the entry and how many leading tokens match. */
    record Match(Entry entry, int length) {}

    private final int maxEntries;
    private final double freshRopeBase;
    private final List<Entry> entries = new ArrayList<>();
    private long clock;

    /** @param freshRopeBase the RoPE base of a new cache: entries whose base moved (dynamic NTK) are not reused */
    PrefixCache(int maxEntries, double freshRopeBase) {
        this.maxEntries = maxEntries;
        this.freshRopeBase = freshRopeBase;
    }

    /**
     * The entry sharing the longest prefix with ids[0, length), at most length - 1 tokens (the last id must run
     * to give logits); null below minLength.
     */
    Match lookup(int[] ids, int length, int minLength) {
        Entry best = null;
        int bestLen = 0;
        for (Entry e : entries) {
            int n = 0, max = Math.min(e.tokens.length, length - 1);
            while (n < max && e.tokens[n] == ids[n]) n++;
            if (n > bestLen) {
                best = e;
                bestLen = n;
            }
        }
        if (best == null || bestLen < minLength) return null;
        best.lastUse[0] = ++clock;
        return new Match(best, bestLen);
    }

    /**
     * Adds a finished sequence's cache, releasing the entries it makes redundant (those whose tokens are a prefix
     * of its tokens) and the least recently used one beyond the entry limit. Refuses (returns false: the caller
     * keeps the cache) a cache whose RoPE base moved or an empty one.
     */
    boolean add(KvCache cache) {
        if (maxEntries == 0 || cache.ropeBase() != freshRopeBase || cache.length() == 0) return false;
        int[] tokens = cache.tokens();
        for (var it = entries.iterator(); it.hasNext(); ) {
            Entry e = it.next();
            if (e.tokens.length <= tokens.length && Arrays.equals(e.tokens, 0, e.tokens.length, tokens, 0, e.tokens.length)) {
                e.cache.release();
                it.remove();
            }
        }
        entries.add(new Entry(cache, tokens, new long[] {++clock}));
        if (entries.size() > maxEntries) evictOneExcept(null);
        return true;
    }

    /** Releases the least recently used entry other than keep; false when there is none. */
    boolean evictOneExcept(Entry keep) {
        Entry lru = null;
        for (Entry e : entries) if (e != keep && (lru == null || e.lastUse[0] < lru.lastUse[0])) lru = e;
        if (lru == null) return false;
        entries.remove(lru);
        lru.cache.release();
        return true;
    }

    int size() {
        return entries.size();
    }

    void clear() {
        for (Entry e : entries) e.cache.release();
        entries.clear();
    }
}
