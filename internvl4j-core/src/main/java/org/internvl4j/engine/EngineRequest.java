package org.internvl4j.engine;

import java.util.List;
import org.internvl4j.generate.SamplingParams;
import org.internvl4j.image.PixelValues;
import org.internvl4j.llm.KvCache;

/**
 * One sequence to generate for.
 *
 * @param promptIds           the whole prompt, BOS included, with {@code <IMG_CONTEXT>} ids where image features go
 * @param images              preprocessed images in prompt order; image i fills the next tiles_i x tokensPerTile
 *                            {@code <IMG_CONTEXT>} ids. The engine runs the vision tower (or reuses cached features)
 * @param imageContextTokenId the id of {@code <IMG_CONTEXT>}; ignored without images
 * @param params              sampling settings (stop ids, seed, top-n logprobs)
 * @param tokenLogprobs       report each generated token's own log-probability (also without top-n)
 * @param imageEmbeds         instead of images: the features of every {@code <IMG_CONTEXT>} id of the prompt, in
 *                            order, [rows, hidden] (already run through the vision tower); null otherwise
 * @param cache               the request's own KV cache (from its own pool), or null for one from the engine's
 *                            budget. With one, the engine continues from the longest prefix of the prompt it holds,
 *                            prefills the rest in one forward (exactly as the {@code Generator}), never preempts
 *                            it, and leaves the sequence in it
 */
public record EngineRequest(int[] promptIds, List<PixelValues> images, int imageContextTokenId, SamplingParams params,
                            boolean tokenLogprobs, float[] imageEmbeds, KvCache cache) {

    public EngineRequest {
        if (promptIds == null || promptIds.length == 0) throw new IllegalArgumentException("promptIds must not be empty");
        if (params == null) throw new IllegalArgumentException("params must not be null");
        images = images == null ? List.of() : List.copyOf(images);
        if (imageEmbeds != null && !images.isEmpty()) throw new IllegalArgumentException("give images or their features, not both");
    }

    /** A request with images for the engine to encode and a cache from its budget. */
    public EngineRequest(int[] promptIds, List<PixelValues> images, int imageContextTokenId, SamplingParams params,
                         boolean tokenLogprobs) {
        this(promptIds, images, imageContextTokenId, params, tokenLogprobs, null, null);
    }

    /** True if the prompt has image rows (images or their features). */
    public boolean hasImages() {
        return !images.isEmpty() || imageEmbeds != null;
    }

    /** A text-only request. */
    public static EngineRequest text(int[] promptIds, SamplingParams params) {
        return new EngineRequest(promptIds, List.of(), -1, params, false);
    }
}
