package org.internvl4j.engine;

import java.util.List;
import org.internvl4j.generate.SamplingParams;
import org.internvl4j.image.PixelValues;

/**
 * One sequence to generate for.
 *
 * @param promptIds           the whole prompt, BOS included, with {@code <IMG_CONTEXT>} ids where image features go
 * @param images              preprocessed images in prompt order; image i fills the next tiles_i x tokensPerTile
 *                            {@code <IMG_CONTEXT>} ids. The engine runs the vision tower (or reuses cached features)
 * @param imageContextTokenId the id of {@code <IMG_CONTEXT>}; ignored without images
 * @param params              sampling settings (stop ids, seed, top-n logprobs)
 * @param tokenLogprobs       report each generated token's own log-probability (also without top-n)
 */
public record EngineRequest(int[] promptIds, List<PixelValues> images, int imageContextTokenId, SamplingParams params,
                            boolean tokenLogprobs) {

    public EngineRequest {
        if (promptIds == null || promptIds.length == 0) throw new IllegalArgumentException("promptIds must not be empty");
        if (params == null) throw new IllegalArgumentException("params must not be null");
        images = images == null ? List.of() : List.copyOf(images);
    }

    /** A text-only request. */
    public static EngineRequest text(int[] promptIds, SamplingParams params) {
        return new EngineRequest(promptIds, List.of(), -1, params, false);
    }
}
