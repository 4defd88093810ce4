package org.internvl4j.cli;

import java.util.Locale;
import java.util.Set;
import org.internvl4j.generate.SamplingParams;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * Generation options shared by {@code chat} and {@code generate}; they map to {@link SamplingParams}.
 * Chat's {@code /set NAME VALUE} sets the same fields by the options' names without the dashes.
 */
final class SamplingOptions {
    @Option(names = "--max-new-tokens", paramLabel = "N", description = "Tokens to generate at most (default: ${DEFAULT-VALUE}).")
    int maxNewTokens = 1024;

    @Option(names = "--greedy", description = "Greedy decoding (the default; chat() with do_sample=False).")
    boolean greedy;

    @Option(names = "--temperature", paramLabel = "T", description = "Sample with this temperature; 0 means greedy.")
    Float temperature;

    @Option(names = "--top-k", paramLabel = "K", description = "Sample from the K most likely tokens (default when sampling: 50, as Hugging Face).")
    Integer topK;

    @Option(names = "--top-p", paramLabel = "P", description = "Sample from the smallest set with probability >= P.")
    Float topP;

    @Option(names = "--seed", paramLabel = "N", description = "Seed of the sampler: the same seed repeats the output.")
    Long seed;

    @Option(names = "--repetition-penalty", paramLabel = "R", description = "Penalise tokens already generated (1 = off).")
    float repetitionPenalty = 1f;

    /** The names /set takes, as the options without their dashes. */
    static final String SET_NAMES = "max-new-tokens, temperature, top-k, top-p, seed, repetition-penalty, greedy";

    /**
     * The settings, checked; a bad one is an IllegalArgumentException whose message starts with the
     * option's name without dashes ("max-new-tokens must be at least 1, got 0"), for the caller to
     * prefix with "--" or "/set ".
     * Sampling is on when a sampling option is given, unless --greedy or --temperature 0.
     */
    SamplingParams params(int logprobs) {
        if (maxNewTokens < 1) throw new IllegalArgumentException("max-new-tokens must be at least 1, got " + maxNewTokens);
        if (temperature != null && !(temperature >= 0 && Float.isFinite(temperature))) {
            throw new IllegalArgumentException("temperature must be 0 (greedy) or positive, got " + temperature);
        }
        if (topK != null && topK < 0) throw new IllegalArgumentException("top-k must be at least 0 (0 turns it off), got " + topK);
        if (topP != null && !(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be above 0 and at most 1, got " + topP);
        if (!(repetitionPenalty > 0 && Float.isFinite(repetitionPenalty))) {
            throw new IllegalArgumentException("repetition-penalty must be positive (1 turns it off), got " + repetitionPenalty);
        }
        boolean samplingOption = temperature != null || topK != null || topP != null || seed != null;
        if (greedy && samplingOption && !(temperature != null && temperature == 0)) {
            throw new IllegalArgumentException("greedy cannot be combined with --temperature, --top-k, --top-p or --seed");
        }
        // --temperature 0 is greedy, as in llama.cpp, Ollama and the OpenAI API
        boolean sample = !greedy && samplingOption && !(temperature != null && temperature == 0);
        return new SamplingParams(maxNewTokens, sample, sample && temperature != null ? temperature : 1f,
                sample ? (topK == null ? 50 : topK) : 0, topP == null ? 1f : topP, repetitionPenalty,
                seed == null ? 0L : seed, Set.of(), logprobs);
    }

    /** The settings of a command line: a bad one is a usage error naming the option (--top-p ...). */
    SamplingParams params(CommandSpec spec, int logprobs) {
        try {
            return params(logprobs);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--" + e.getMessage());
        }
    }

    /** Chat's /set NAME VALUE; the settings stay as they were when the value is bad. */
    void set(String name, String value) {
        String n = name.toLowerCase(Locale.ROOT);
        SamplingOptions before = copy();
        try {
            switch (n) {
                case "max-new-tokens" -> maxNewTokens = Integer.parseInt(value);
                case "temperature" -> temperature = Float.parseFloat(value);
                case "top-k" -> topK = Integer.parseInt(value);
                case "top-p" -> topP = Float.parseFloat(value);
                case "seed" -> seed = Long.parseLong(value);
                case "repetition-penalty" -> repetitionPenalty = Float.parseFloat(value);
                case "greedy" -> {
                    greedy = value.isEmpty() || Boolean.parseBoolean(value) || value.equals("on");
                    if (greedy) {
                        temperature = null;
                        topK = null;
                        topP = null;
                        seed = null;
                    }
                }
                default -> throw new IllegalArgumentException("no setting '" + name + "'; the settings: " + SET_NAMES);
            }
            if (!n.equals("greedy") && !n.equals("max-new-tokens") && !n.equals("repetition-penalty")) greedy = false;
            params(0);
        } catch (NumberFormatException e) {
            restore(before);
            throw new IllegalArgumentException(n + " takes a number, got '" + value + "'");
        } catch (IllegalArgumentException e) {
            restore(before);
            throw e;
        }
    }

    /** The settings as /set shows them. */
    String describe() {
        SamplingParams p = params(0);
        return "max-new-tokens " + p.maxNewTokens() + ", " + (p.doSample()
                ? "sampling: temperature " + p.temperature() + ", top-k " + p.topK() + ", top-p " + p.topP() + ", seed " + p.seed()
                : "greedy") + ", repetition-penalty " + p.repetitionPenalty();
    }

    private SamplingOptions copy() {
        SamplingOptions c = new SamplingOptions();
        c.restore(this);
        return c;
    }

    private void restore(SamplingOptions o) {
        maxNewTokens = o.maxNewTokens;
        greedy = o.greedy;
        temperature = o.temperature;
        topK = o.topK;
        topP = o.topP;
        seed = o.seed;
        repetitionPenalty = o.repetitionPenalty;
    }
}
