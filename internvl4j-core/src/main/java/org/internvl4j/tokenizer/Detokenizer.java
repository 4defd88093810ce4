package org.internvl4j.tokenizer;

/**
 * Incremental decoding for streaming generation: {@link #push} returns the text that no later token can
 * change, {@link #flush} the rest, and everything returned concatenates to the full decode of the pushed
 * ids, exactly. Not thread-safe: one per sequence.
 */
public interface Detokenizer {
    /** Adds one token; returns the newly completed text, possibly "". Throws IllegalArgumentException for a bad id. */
    String push(int id);

    /** Ends the stream: returns the text still held back. */
    String flush();
}
