package org.internvl4j.llm;

import java.util.Locale;

/**
 * The KV cache of a sequence does not fit in the heap (a very long context, or too many at once): raised instead of
 * an OutOfMemoryError, before or in place of the allocation, so the caller can end that one request and go on.
 */
public final class KvCacheMemoryException extends IllegalStateException {
    private final long tokens;
    private final long bytes;

    KvCacheMemoryException(long tokens, long capacity, long bytes, long maxHeap) {
        super(String.format(Locale.ROOT, "out of memory for the KV cache: %,d tokens (room for %,d) need %.1f MiB of heap, "
                        + "and the JVM could not provide it (max heap %.1f MiB); shorten the context (prompt + max_new_tokens) "
                        + "or give the JVM more heap (INTERNVL_HEAP=-Xmx...)",
                tokens, capacity, bytes / 1048576.0, maxHeap / 1048576.0));
        this.tokens = tokens;
        this.bytes = bytes;
    }

    /** Tokens the sequence needed room for. */
    public long tokens() {
        return tokens;
    }

    /** Bytes the cache would have taken. */
    public long bytes() {
        return bytes;
    }
}
