package org.internvl4j.generate;

import org.internvl4j.llm.KvCache;

/**
 * One sequence to generate for.
 *
 * @param promptIds           the whole prompt, BOS included (for a session: the whole conversation so far)
 * @param imageEmbeds         nullable; [nImageTokens * hidden] projector outputs, in order, that replace the
 *                            embeddings at the {@code imageContextTokenId} positions of the ids that are
 *                            prefilled (those beyond what {@code cache} already holds)
 * @param imageContextTokenId the id of {@code <IMG_CONTEXT>} (the tokenizer knows it); ignored without images
 * @param params              sampling parameters
 * @param cache               nullable: a fresh cache is made. Non-null: continue a session; the cache is
 *                            cut to the longest common prefix of its tokens and {@code promptIds}, and only
 *                            the rest is prefilled. The generator mutates it: afterwards it holds the prompt
 *                            and every generated token but the last.
 */
public record GenerationRequest(int[] promptIds, float[] imageEmbeds, int imageContextTokenId,
                                SamplingParams params, KvCache cache) {

    public GenerationRequest {
        if (promptIds == null || promptIds.length == 0) throw new IllegalArgumentException("promptIds must not be empty");
        if (params == null) throw new IllegalArgumentException("params must not be null");
    }

    /** A text-only request with a fresh cache. */
    public static GenerationRequest text(int[] promptIds, SamplingParams params) {
        return new GenerationRequest(promptIds, null, -1, params, null);
    }
}
