package org.internvl4j.llm;

/**
 * The Java heap ran out while a KV cache took a new block: the context grew past what the heap holds. Thrown
 * instead of the {@link OutOfMemoryError}, before anything of the step was written, so the cache still holds what
 * it held (its blocks taken ahead are given back) and the model and its other caches go on working.
 */
public final class KvCacheMemoryException extends RuntimeException {
    private final int heldTokens;
    private final long neededTokens;
    private final long bytesPerToken;

    public KvCacheMemoryException(int heldTokens, long neededTokens, long bytesPerToken, OutOfMemoryError cause) {
        super(message(heldTokens, neededTokens, bytesPerToken), cause);
        this.heldTokens = heldTokens;
        this.neededTokens = neededTokens;
        this.bytesPerToken = bytesPerToken;
    }

    private static String message(int held, long needed, long perToken) {
        long maxHeap = Runtime.getRuntime().maxMemory();
        long need = needed * perToken;
        long suggestGib = (maxHeap + need + (1L << 30) - 1) / (1L << 30) + 1;
        return "out of memory for the KV cache at a context of " + needed + " tokens (it held " + held + "; " + mib(need)
                + " of keys and values at " + perToken + " bytes a token) in a Java heap of at most " + mib(maxHeap)
                + ": give the JVM more heap (bin/internvl: INTERNVL_HEAP=-Xmx" + suggestGib
                + "g) or shorten the prompt or max_new_tokens; nothing was generated for this step and the model is unchanged";
    }

    private static String mib(long bytes) {
        return bytes >= 1L << 30 ? String.format(java.util.Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30))
                : String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    /** Tokens the cache held when it failed to grow. */
    public int heldTokens() {
        return heldTokens;
    }

    /** The context length it was growing to (prompt so far plus the step's new tokens). */
    public long neededTokens() {
        return neededTokens;
    }

    public long bytesPerToken() {
        return bytesPerToken;
    }
}
