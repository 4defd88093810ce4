package org.internvl4j.chat;

import java.util.List;
import java.util.Set;
import org.internvl4j.generate.SamplingParams;
import org.internvl4j.image.PixelValues;
import org.internvl4j.image.VideoFrames;

/**
 * One call of {@code chat()}: a question, its images, optional history and generation settings.
 *
 * @param question       the user's question; {@code <image>} placeholders are filled by the images in order
 * @param images         preprocessed images (one {@link PixelValues} per image), may be empty
 * @param numPatchesList null: chat()'s rules for CLI-style inputs (see {@link ChatQuery#build}). Otherwise the
 *                       model card's {@code num_patches_list}: tiles per placeholder, summing to the images' tiles
 * @param history        earlier turns, or null for a first turn (an empty list counts as history, as in chat())
 * @param systemMessage  null for the template's default
 * @param params         sampling settings; the template's stop token is added to its stop ids
 * @param stopStrings    extra stop strings: generation ends when the response text contains one, and the
 *                       response is cut before it
 */
public record ChatRequest(String question, List<PixelValues> images, List<Integer> numPatchesList,
                          List<Turn> history, String systemMessage, SamplingParams params,
                          List<String> stopStrings) {

    /** The model card's {@code generation_config = dict(max_new_tokens=1024, do_sample=False)}. */
    public static final int DEFAULT_MAX_NEW_TOKENS = 1024;

    public ChatRequest {
        if (question == null) throw new IllegalArgumentException("question must not be null (use \"\" for an image alone)");
        images = images == null ? List.of() : List.copyOf(images);
        numPatchesList = numPatchesList == null ? null : List.copyOf(numPatchesList);
        history = history == null ? null : List.copyOf(history);
        params = params == null ? SamplingParams.greedy(DEFAULT_MAX_NEW_TOKENS, Set.of()) : params;
        stopStrings = stopStrings == null ? List.of() : List.copyOf(stopStrings);
    }

    /** A text-only question, greedy. */
    public static ChatRequest of(String question) {
        return new ChatRequest(question, List.of(), null, null, null, null, null);
    }

    /** A question about images; with no {@code <image>} in it, all images' tiles share one prepended placeholder. */
    public static ChatRequest of(String question, PixelValues... images) {
        return new ChatRequest(question, List.of(images), null, null, null, null, null);
    }

    /** The model card's separate form: {@code Image-1: <image>\nImage-2: <image>\n} + question, one patch count per image. */
    public static ChatRequest separateImages(String question, List<PixelValues> images) {
        return new ChatRequest(ChatQuery.numberedImages(images.size(), question), images, null, null, null, null, null);
    }

    /** The model card's video form: {@code Frame1: <image>\n...} + question, one frame per placeholder. */
    public static ChatRequest video(String question, List<PixelValues> frames) {
        return new ChatRequest(ChatQuery.videoFrames(frames.size(), question), frames, null, null, null, null, null);
    }

    /** A video loaded by {@link org.internvl4j.image.VideoLoader}: its frames, one placeholder each. */
    public static ChatRequest video(String question, VideoFrames video) {
        return video(question, video.frames());
    }

    public ChatRequest withHistory(List<Turn> h) {
        return new ChatRequest(question, images, numPatchesList, h, systemMessage, params, stopStrings);
    }

    public ChatRequest withSystemMessage(String s) {
        return new ChatRequest(question, images, numPatchesList, history, s, params, stopStrings);
    }

    public ChatRequest withParams(SamplingParams p) {
        return new ChatRequest(question, images, numPatchesList, history, systemMessage, p, stopStrings);
    }

    public ChatRequest withMaxNewTokens(int n) {
        return withParams(params.withMaxNewTokens(n));
    }

    public ChatRequest withNumPatchesList(List<Integer> n) {
        return new ChatRequest(question, images, n, history, systemMessage, params, stopStrings);
    }

    public ChatRequest withStopStrings(List<String> s) {
        return new ChatRequest(question, images, numPatchesList, history, systemMessage, params, s);
    }
}
