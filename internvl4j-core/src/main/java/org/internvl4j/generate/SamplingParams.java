package org.internvl4j.generate;

import java.util.Set;

/**
 * How to pick the next token, as Hugging Face's logits processors do it (transformers 4.37
 * {@code generate}): repetition penalty first, then temperature, top-k and top-p, then a draw.
 *
 * @param maxNewTokens      generated tokens at most (the stop token counts), >= 1
 * @param doSample          false: greedy (argmax, lowest id on ties) after the repetition penalty
 * @param temperature       > 0; 1 leaves the logits unchanged (only used when sampling)
 * @param topK              keep the k most likely tokens (ties with the k-th kept); 0 disables
 * @param topP              keep the smallest most-likely set with cumulative probability >= topP; 1 disables
 * @param repetitionPenalty 1 disables; > 1 divides positive and multiplies negative logits of every token
 *                          already generated in this request (InternVL's generate passes only
 *                          inputs_embeds to Hugging Face, so the prompt ids are not penalised)
 * @param seed              seeds the request's own random generator: same seed, same draws
 * @param stopTokenIds      generation ends after emitting one of these (it is included in the output);
 *                          the chat layer passes {@code <|im_end|>} and the generation config's eos ids
 * @param logprobs          report the top-n log-probabilities (log_softmax of the raw fp32 logits) of
 *                          every step; 0 for none
 */
public record SamplingParams(int maxNewTokens, boolean doSample, float temperature, int topK, float topP,
                             float repetitionPenalty, long seed, Set<Integer> stopTokenIds, int logprobs) {

    public SamplingParams {
        if (maxNewTokens < 1) throw new IllegalArgumentException("maxNewTokens must be >= 1, got " + maxNewTokens);
        if (!(temperature > 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a positive finite number, got " + temperature);
        }
        if (topK < 0) throw new IllegalArgumentException("topK must be >= 0 (0 disables), got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
        if (!(repetitionPenalty > 0) || Float.isInfinite(repetitionPenalty)) {
            throw new IllegalArgumentException("repetitionPenalty must be a positive finite number, got " + repetitionPenalty);
        }
        if (logprobs < 0) throw new IllegalArgumentException("logprobs must be >= 0, got " + logprobs);
        stopTokenIds = stopTokenIds == null ? Set.of() : Set.copyOf(stopTokenIds);
    }

    /** Greedy decoding without penalties or log-probabilities. */
    public static SamplingParams greedy(int maxNewTokens, Set<Integer> stopTokenIds) {
        return new SamplingParams(maxNewTokens, false, 1f, 0, 1f, 1f, 0L, stopTokenIds, 0);
    }

    /** Sampling with temperature, top-k and top-p, and a seed. */
    public static SamplingParams sample(int maxNewTokens, float temperature, int topK, float topP, long seed,
                                        Set<Integer> stopTokenIds) {
        return new SamplingParams(maxNewTokens, true, temperature, topK, topP, 1f, seed, stopTokenIds, 0);
    }

    public SamplingParams withLogprobs(int n) {
        return new SamplingParams(maxNewTokens, doSample, temperature, topK, topP, repetitionPenalty, seed, stopTokenIds, n);
    }

    public SamplingParams withRepetitionPenalty(float penalty) {
        return new SamplingParams(maxNewTokens, doSample, temperature, topK, topP, penalty, seed, stopTokenIds, logprobs);
    }

    public SamplingParams withMaxNewTokens(int n) {
        return new SamplingParams(n, doSample, temperature, topK, topP, repetitionPenalty, seed, stopTokenIds, logprobs);
    }
}
