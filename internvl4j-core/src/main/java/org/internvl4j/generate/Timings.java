package org.internvl4j.generate;

/**
 * Wall-clock times of one request. In a batch, prefill and decode steps are shared, so each request
 * reports the time of the steps it took part in. visionNanos is filled by callers that ran the
 * vision tower (the generator sees only embeddings), 0 otherwise.
 */
public record Timings(long prefillNanos, int prefillTokens, long decodeNanos, int decodeTokens, long visionNanos) {

    public Timings withVisionNanos(long nanos) {
        return new Timings(prefillNanos, prefillTokens, decodeNanos, decodeTokens, nanos);
    }

    public double prefillTokensPerSecond() {
        return prefillNanos == 0 ? 0 : prefillTokens * 1e9 / prefillNanos;
    }

    public double decodeTokensPerSecond() {
        return decodeNanos == 0 ? 0 : decodeTokens * 1e9 / decodeNanos;
    }
}
