package org.internvl4j.cli;

import java.util.Set;
import org.internvl4j.generate.SamplingParams;
import picocli.CommandLine.Option;

/** Generation options shared by {@code chat} and {@code generate}; they map to {@link SamplingParams}. */
final class SamplingOptions {
    @Option(names = "--max-new-tokens", paramLabel = "N", description = "Tokens to generate at most (default: ${DEFAULT-VALUE}).")
    int maxNewTokens = 1024;

    @Option(names = "--greedy", description = "Greedy decoding (the default; chat() with do_sample=False).")
    boolean greedy;

    @Option(names = "--temperature", paramLabel = "T", description = "Sample with this temperature.")
    Float temperature;

    @Option(names = "--top-k", paramLabel = "K", description = "Sample from the K most likely tokens (default when sampling: 50, as Hugging Face).")
    Integer topK;

    @Option(names = "--top-p", paramLabel = "P", description = "Sample from the smallest set with probability >= P.")
    Float topP;

    @Option(names = "--seed", paramLabel = "S", description = "Seed of the sampler: the same seed repeats the output.")
    Long seed;

    @Option(names = "--repetition-penalty", paramLabel = "R", description = "Penalise tokens already generated (1 = off).")
    float repetitionPenalty = 1f;

    /** Sampling is on when a sampling option is given and --greedy is not. */
    SamplingParams params(int logprobs) {
        boolean sample = !greedy && (temperature != null || topK != null || topP != null || seed != null);
        if (greedy && (temperature != null || topK != null || topP != null || seed != null)) {
            throw new IllegalArgumentException("--greedy cannot be combined with --temperature, --top-k, --top-p or --seed");
        }
        return new SamplingParams(maxNewTokens, sample, temperature == null ? 1f : temperature,
                sample ? (topK == null ? 50 : topK) : 0, topP == null ? 1f : topP, repetitionPenalty,
                seed == null ? 0L : seed, Set.of(), logprobs);
    }
}
