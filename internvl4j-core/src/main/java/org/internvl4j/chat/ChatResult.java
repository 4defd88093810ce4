package org.internvl4j.chat;

import java.util.List;
import org.internvl4j.generate.FinishReason;
import org.internvl4j.generate.Timings;
import org.internvl4j.generate.TokenLogprob;

/**
 * What one chat call produced.
 *
 * @param question       the question as it went into the prompt (with the automatic {@code <image>\n})
 * @param prompt         the full prompt text, placeholders expanded
 * @param promptIds      its token ids, BOS first
 * @param numPatchesList tiles per placeholder, in prompt order
 * @param tokenIds       generated ids, the stop token included when generation ended on it
 * @param response       decode(skip special) cut at the first stop string, then Python's strip()
 * @param logprobs       per generated token, the requested top-n log-probabilities (empty lists if none)
 * @param finishReason   why generation ended
 * @param timings        prefill (with the count of tokens actually prefilled), decode and vision times
 * @param history        the conversation after this turn: the request's history plus (question, response)
 */
public record ChatResult(String question, String prompt, int[] promptIds, List<Integer> numPatchesList,
                         int[] tokenIds, String response, List<List<TokenLogprob>> logprobs,
                         FinishReason finishReason, Timings timings, List<Turn> history) {
}
