package org.internvl4j.engine;

import java.util.List;
import org.internvl4j.generate.TokenLogprob;

/**
 * Receives one sequence's output. Called on the engine's thread, between steps: keep it short (hand the work to
 * another thread), never block.
 */
public interface SequenceListener {
    /**
     * A generated token, in order, the stop token included.
     *
     * @param logprob the token's log-probability (log_softmax of the raw logits); NaN unless logprobs were requested
     * @param top     the step's top-n log-probabilities (empty unless requested)
     * @return false to end the sequence now ({@link Finish#CANCELLED})
     */
    boolean onToken(int tokenId, float logprob, List<TokenLogprob> top);

    /** The sequence left the engine; called exactly once, after its last token (or with error non-null). */
    void onFinish(Finish finish, Usage usage, RuntimeException error);

    /**
     * Token counts of a finished sequence.
     *
     * @param promptTokens     the prompt's tokens
     * @param completionTokens generated tokens
     * @param cachedTokens     prompt tokens whose keys and values came from the prefix cache
     * @param preemptions      times the sequence was preempted and recomputed
     * @param prefillNanos     time of the forwards that computed its prompt (shared with the batch's other rows)
     * @param prefillTokens    prompt tokens computed
     * @param decodeNanos      time of the forwards that computed its generated tokens
     * @param decodeSteps      those forwards
     */
    record Usage(int promptTokens, int completionTokens, int cachedTokens, int preemptions, long prefillNanos,
                 int prefillTokens, long decodeNanos, int decodeSteps) {
        public Usage(int promptTokens, int completionTokens, int cachedTokens, int preemptions) {
            this(promptTokens, completionTokens, cachedTokens, preemptions, 0, 0, 0, 0);
        }
    }
}
