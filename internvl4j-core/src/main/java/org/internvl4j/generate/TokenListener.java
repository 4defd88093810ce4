package org.internvl4j.generate;

/**
 * Called once per generated token, in order, stop token included, from the generating thread.
 * Stop strings need text, so they belong to the chat layer: it detokenizes here and returns false
 * when one appears.
 */
@FunctionalInterface
public interface TokenListener {
    TokenListener NONE = (i, t) -> true;

    /**
     * @param requestIndex index of the request in the batch
     * @param tokenId      the token just generated
     * @return false to end that request now (finish reason {@link FinishReason#ABORTED})
     */
    boolean onToken(int requestIndex, int tokenId);
}
