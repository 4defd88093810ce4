package org.internvl4j.engine;

/** Why a sequence left the engine. */
public enum Finish {
    /** A stop token was generated (it is the last token). */
    STOP,
    /** max_new_tokens were generated, or the context window or the whole KV budget was reached. */
    LENGTH,
    /** The listener returned false or the request was cancelled (e.g. its client went away). */
    CANCELLED,
    /** The engine's request timeout passed. */
    TIMEOUT
}
