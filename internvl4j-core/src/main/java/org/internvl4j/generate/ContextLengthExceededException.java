package org.internvl4j.generate;

/** The prompt plus the requested new tokens do not fit the generator's context window. */
public final class ContextLengthExceededException extends RuntimeException {
    private final int promptTokens;
    private final int maxNewTokens;
    private final int contextWindow;

    public ContextLengthExceededException(int requestIndex, int promptTokens, int maxNewTokens, int contextWindow) {
        super("request " + requestIndex + ": prompt of " + promptTokens + " tokens + max_new_tokens " + maxNewTokens
                + " = " + ((long) promptTokens + maxNewTokens) + " tokens exceeds the context window of "
                + contextWindow + " tokens (shorten the prompt, use fewer image tiles or lower max_new_tokens)");
        this.promptTokens = promptTokens;
        this.maxNewTokens = maxNewTokens;
        this.contextWindow = contextWindow;
    }

    public int promptTokens() {
        return promptTokens;
    }

    public int maxNewTokens() {
        return maxNewTokens;
    }

    public int contextWindow() {
        return contextWindow;
    }
}
