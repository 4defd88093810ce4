package org.internvl4j.generate;

/** Why a request stopped generating. */
public enum FinishReason {
    /** A stop token was generated (it is the last token of the result), or the chat layer saw a stop string. */
    STOP,
    /** maxNewTokens were generated. */
    LENGTH,
    /** The {@link TokenListener} returned false. */
    ABORTED,
    /** The generator's time limit passed ({@link Generator#withTimeLimit}, {@code -Dinternvl.limit.decodeSeconds}). */
    TIME_LIMIT,
    /** The generating thread was interrupted; its interrupt status stays set for the caller to see. */
    INTERRUPTED
}
