package org.internvl4j.generate;

/** Why a request stopped generating. */
public enum FinishReason {
    /** A stop token was generated (it is the last token of the result). */
    STOP,
    /** maxNewTokens were generated. */
    LENGTH,
    /** The {@link TokenListener} returned false. */
    ABORTED
}
