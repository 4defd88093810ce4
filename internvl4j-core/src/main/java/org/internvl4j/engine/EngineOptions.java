package org.internvl4j.engine;

import java.time.Duration;

/**
 * Limits of an {@link Engine}.
 *
 * @param maxBatch           sequences running at once (prefilling or decoding), >= 1
 * @param maxWaiting         requests queued beyond the running ones; past this {@link Engine#submit} refuses
 * @param prefillChunkTokens prompt tokens prefilled per step across newcomers, so that a long prompt delays the
 *                           running sequences' next token by one chunk, not by the whole prompt
 * @param kvCacheBytes       the KV cache budget: keys and values of all sequences and of the prefix cache
 * @param blockTokens        tokens per KV block, the unit of the budget
 * @param contextWindow      prompt + generated tokens of one sequence at most
 * @param requestTimeout     a request still running after this ends with {@link Finish#TIMEOUT}; zero: no limit
 * @param prefixCacheEntries finished sequences kept for prefix reuse at most (0 disables the prefix cache)
 * @param featureCacheBytes  image features kept for reuse, in bytes of floats (0 disables the feature cache)
 */
public record EngineOptions(int maxBatch, int maxWaiting, int prefillChunkTokens, long kvCacheBytes, int blockTokens,
                            int contextWindow, Duration requestTimeout, int prefixCacheEntries, long featureCacheBytes) {

    public EngineOptions {
        if (maxBatch < 1) throw new IllegalArgumentException("max batch must be >= 1, got " + maxBatch);
        if (maxWaiting < 0) throw new IllegalArgumentException("max waiting must be >= 0, got " + maxWaiting);
        if (prefillChunkTokens < 1) throw new IllegalArgumentException("prefill chunk must be >= 1 token, got " + prefillChunkTokens);
        if (kvCacheBytes <= 0) throw new IllegalArgumentException("the KV cache budget must be > 0 bytes, got " + kvCacheBytes);
        if (blockTokens < 1) throw new IllegalArgumentException("block size must be >= 1 token, got " + blockTokens);
        if (contextWindow < 2) throw new IllegalArgumentException("context window must be >= 2 tokens, got " + contextWindow);
        if (requestTimeout == null || requestTimeout.isNegative()) throw new IllegalArgumentException("request timeout must be >= 0");
        if (prefixCacheEntries < 0 || featureCacheBytes < 0) throw new IllegalArgumentException("cache sizes must be >= 0");
    }

    /** 16 sequences, 64 waiting, 256-token prefill chunks, 16-token blocks, no timeout. */
    public static EngineOptions defaults(long kvCacheBytes, int contextWindow) {
        return new EngineOptions(16, 64, 256, kvCacheBytes, 16, contextWindow, Duration.ZERO, 64, 256L << 20);
    }

    public EngineOptions withMaxBatch(int n) {
        return new EngineOptions(n, maxWaiting, prefillChunkTokens, kvCacheBytes, blockTokens, contextWindow, requestTimeout,
                prefixCacheEntries, featureCacheBytes);
    }

    public EngineOptions withMaxWaiting(int n) {
        return new EngineOptions(maxBatch, n, prefillChunkTokens, kvCacheBytes, blockTokens, contextWindow, requestTimeout,
                prefixCacheEntries, featureCacheBytes);
    }

    public EngineOptions withPrefillChunkTokens(int n) {
        return new EngineOptions(maxBatch, maxWaiting, n, kvCacheBytes, blockTokens, contextWindow, requestTimeout,
                prefixCacheEntries, featureCacheBytes);
    }

    public EngineOptions withRequestTimeout(Duration d) {
        return new EngineOptions(maxBatch, maxWaiting, prefillChunkTokens, kvCacheBytes, blockTokens, contextWindow, d,
                prefixCacheEntries, featureCacheBytes);
    }

    public EngineOptions withPrefixCacheEntries(int n) {
        return new EngineOptions(maxBatch, maxWaiting, prefillChunkTokens, kvCacheBytes, blockTokens, contextWindow, requestTimeout,
                n, featureCacheBytes);
    }

    public EngineOptions withKvCacheBytes(long b) {
        return new EngineOptions(maxBatch, maxWaiting, prefillChunkTokens, b, blockTokens, contextWindow, requestTimeout,
                prefixCacheEntries, featureCacheBytes);
    }
}
