package org.internvl4j.generate;

import java.util.List;

/**
 * @param promptIds    the request's prompt ids
 * @param tokenIds     the generated ids, the stop token included when there was one
 * @param logprobs     per generated token, the top-n log-probabilities of its step (best first, lower id
 *                     first on ties); empty lists when none were requested
 * @param finishReason why generation ended
 * @param timings      wall-clock times
 */
public record GenerationResult(int[] promptIds, int[] tokenIds, List<List<TokenLogprob>> logprobs,
                               FinishReason finishReason, Timings timings) {
}
