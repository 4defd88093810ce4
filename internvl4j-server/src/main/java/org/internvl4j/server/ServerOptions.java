package org.internvl4j.server;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What {@code internvl serve} was told.
 *
 * @param modelDir          the checkpoint directory
 * @param host              address to bind (loopback unless told otherwise)
 * @param port              TCP port; 0 picks a free one
 * @param apiKeys           accepted bearer keys of /v1/*; empty: no key needed
 * @param servedModelName   the model id clients name (default: the directory's name)
 * @param maxBatch          sequences decoded together at most
 * @param sessionLen        prompt + completion tokens of one request at most
 * @param kvCacheGib        KV cache budget in GiB; 0 ({@link #KV_CACHE_DEFAULT}): 4 GiB, or less when the heap holds less
 * @param maxNum            tiles per image at most
 * @param allowRemoteImages fetch http(s) image URLs (never private, loopback or link-local addresses)
 * @param maxBodyBytes      request bodies above this get 413
 * @param maxWaiting        requests queued beyond the running batch; more get 429
 * @param requestTimeout    a request running longer ends (zero: no limit)
 * @param maxHeaderBytes    request line and headers above this get 431 (Jetty's default is 8 KiB)
 */
public record ServerOptions(Path modelDir, String host, int port, List<String> apiKeys, String servedModelName,
                            int maxBatch, int sessionLen, double kvCacheGib, int maxNum, boolean allowRemoteImages,
                            long maxBodyBytes, int maxWaiting, Duration requestTimeout, int maxHeaderBytes) {

    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 23333;
    public static final int DEFAULT_MAX_HEADER_BYTES = 8 << 10;
    /** kvCacheGib when --kv-cache-gib is not given: {@link #DEFAULT_KV_CACHE_GIB}, clamped to what the heap holds. */
    public static final double KV_CACHE_DEFAULT = 0;
    public static final double DEFAULT_KV_CACHE_GIB = 4;

    public ServerOptions {
        if (modelDir == null) throw new IllegalArgumentException("a model directory is needed");
        if (host == null || host.isBlank()) host = DEFAULT_HOST;
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be in 0..65535, got " + port);
        apiKeys = apiKeys == null ? List.of() : List.copyOf(apiKeys);
        for (String k : apiKeys) if (k.isEmpty()) throw new IllegalArgumentException("--api-key must not be empty");
        if (servedModelName == null || servedModelName.isBlank()) {
            servedModelName = modelDir.getFileName() == null ? "internvl" : modelDir.getFileName().toString();
        }
        if (maxBatch < 1) throw new IllegalArgumentException("--max-batch must be >= 1, got " + maxBatch);
        if (sessionLen < 2) throw new IllegalArgumentException("--session-len must be >= 2, got " + sessionLen);
        if (!(kvCacheGib >= 0) || Double.isInfinite(kvCacheGib)) throw new IllegalArgumentException("--kv-cache-gib must be > 0, got " + kvCacheGib);
        if (maxNum < 1) throw new IllegalArgumentException("--max-num must be >= 1, got " + maxNum);
        if (maxBodyBytes < 1024) throw new IllegalArgumentException("the body limit must be >= 1024 bytes, got " + maxBodyBytes);
        if (maxWaiting < 0) throw new IllegalArgumentException("the queue limit must be >= 0, got " + maxWaiting);
        if (requestTimeout == null || requestTimeout.isNegative()) requestTimeout = Duration.ZERO;
        if (maxHeaderBytes < 1024) throw new IllegalArgumentException("the header limit must be >= 1024 bytes, got " + maxHeaderBytes);
    }

    /** As the canonical constructor, with Jetty's default header limit. */
    public ServerOptions(Path modelDir, String host, int port, List<String> apiKeys, String servedModelName,
                         int maxBatch, int sessionLen, double kvCacheGib, int maxNum, boolean allowRemoteImages,
                         long maxBodyBytes, int maxWaiting, Duration requestTimeout) {
        this(modelDir, host, port, apiKeys, servedModelName, maxBatch, sessionLen, kvCacheGib, maxNum, allowRemoteImages,
                maxBodyBytes, maxWaiting, requestTimeout, DEFAULT_MAX_HEADER_BYTES);
    }

    /** The defaults of {@code internvl serve} for a model directory. */
    public static ServerOptions defaults(Path modelDir) {
        return new ServerOptions(modelDir, DEFAULT_HOST, DEFAULT_PORT, List.of(), null, 16, 8192, KV_CACHE_DEFAULT, 12, false,
                64L << 20, 64, Duration.ZERO);
    }

    public ServerOptions withPort(int p) {
        return new ServerOptions(modelDir, host, p, apiKeys, servedModelName, maxBatch, sessionLen, kvCacheGib, maxNum,
                allowRemoteImages, maxBodyBytes, maxWaiting, requestTimeout, maxHeaderBytes);
    }

    public ServerOptions withApiKeys(List<String> keys) {
        return new ServerOptions(modelDir, host, port, keys, servedModelName, maxBatch, sessionLen, kvCacheGib, maxNum,
                allowRemoteImages, maxBodyBytes, maxWaiting, requestTimeout, maxHeaderBytes);
    }

    public ServerOptions withServedModelName(String name) {
        return new ServerOptions(modelDir, host, port, apiKeys, name, maxBatch, sessionLen, kvCacheGib, maxNum,
                allowRemoteImages, maxBodyBytes, maxWaiting, requestTimeout, maxHeaderBytes);
    }

    public ServerOptions withMaxBatch(int n) {
        return new ServerOptions(modelDir, host, port, apiKeys, servedModelName, n, sessionLen, kvCacheGib, maxNum,
                allowRemoteImages, maxBodyBytes, maxWaiting, requestTimeout, maxHeaderBytes);
    }

    public ServerOptions withSessionLen(int n) {
        return new ServerOptions(modelDir, host, port, apiKeys, servedModelName, maxBatch, n, kvCacheGib, maxNum,
                allowRemoteImages, maxBodyBytes, maxWaiting, requestTimeout, maxHeaderBytes);
    }

    public ServerOptions withKvCacheGib(double g) {
        return new ServerOptions(modelDir, host, port, apiKeys, servedModelName, maxBatch, sessionLen, g, maxNum,
                allowRemoteImages, maxBodyBytes, maxWaiting, requestTimeout, maxHeaderBytes);
    }

    public ServerOptions withMaxNum(int n) {
        return new ServerOptions(modelDir, host, port, apiKeys, servedModelName, maxBatch, sessionLen, kvCacheGib, n,
                allowRemoteImages, maxBodyBytes, maxWaiting, requestTimeout, maxHeaderBytes);
    }

    public ServerOptions withAllowRemoteImages(boolean b) {
        return new ServerOptions(modelDir, host, port, apiKeys, servedModelName, maxBatch, sessionLen, kvCacheGib, maxNum,
                b, maxBodyBytes, maxWaiting, requestTimeout, maxHeaderBytes);
    }

    public ServerOptions withMaxBodyBytes(long n) {
        return new ServerOptions(modelDir, host, port, apiKeys, servedModelName, maxBatch, sessionLen, kvCacheGib, maxNum,
                allowRemoteImages, n, maxWaiting, requestTimeout, maxHeaderBytes);
    }

    public ServerOptions withMaxWaiting(int n) {
        return new ServerOptions(modelDir, host, port, apiKeys, servedModelName, maxBatch, sessionLen, kvCacheGib, maxNum,
                allowRemoteImages, maxBodyBytes, n, requestTimeout, maxHeaderBytes);
    }

    public ServerOptions withRequestTimeout(Duration d) {
        return new ServerOptions(modelDir, host, port, apiKeys, servedModelName, maxBatch, sessionLen, kvCacheGib, maxNum,
                allowRemoteImages, maxBodyBytes, maxWaiting, d, maxHeaderBytes);
    }

    public ServerOptions withMaxHeaderBytes(int n) {
        return new ServerOptions(modelDir, host, port, apiKeys, servedModelName, maxBatch, sessionLen, kvCacheGib, maxNum,
                allowRemoteImages, maxBodyBytes, maxWaiting, requestTimeout, n);
    }
}
