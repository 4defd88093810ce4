package org.internvl4j.engine;

/** The engine's queue is full (or it is shut down): try again after {@link #retryAfterSeconds()}. */
public final class EngineFullException extends RuntimeException {
    private final int retryAfterSeconds;
    private final boolean shutdown;

    public EngineFullException(String message, int retryAfterSeconds, boolean shutdown) {
        super(message);
        this.retryAfterSeconds = retryAfterSeconds;
        this.shutdown = shutdown;
    }

    public int retryAfterSeconds() {
        return retryAfterSeconds;
    }

    /** True when the engine is closed rather than busy. */
    public boolean shutdown() {
        return shutdown;
    }
}
