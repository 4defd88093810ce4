package org.internvl4j.chat;

import java.util.ArrayList;
import java.util.List;

/**
 * The prompt of {@code InternVLChatModel.chat()}: the template filled with the history and the question, and every
 * {@code <image>} placeholder expanded to {@code <img>} + {@code <IMG_CONTEXT>} x tokens-per-tile x tiles +
 * {@code </img>}. Plain strings only; tokenizing is the caller's job.
 */
public final class ChatQuery {
    public static final String IMAGE_PLACEHOLDER = "<image>";
    public static final String IMG_START_TOKEN = "<img>";
    public static final String IMG_END_TOKEN = "</img>";
    public static final String IMG_CONTEXT_TOKEN = "<IMG_CONTEXT>";

    private ChatQuery() {}

    /**
     * A built prompt.
     *
     * @param question       the question as it went into the prompt (what a history turn records)
     * @param query          the full prompt text, placeholders expanded
     * @param numPatchesList tiles per placeholder, in prompt order
     */
    public record Built(String question, String query, List<Integer> numPatchesList) {}

    /**
     * chat()'s rules for CLI-style inputs (the reference {@code chat()}): with no history, images and no
     * {@code <image>} in the question, {@code <image>\n} is prepended and the tiles of all images fill that one
     * placeholder; otherwise every image fills the next placeholder of the whole prompt, history questions first.
     *
     * @param tilesPerImage tile count of each image, in order (empty for text only)
     * @param history       earlier turns, or null for none (an empty list still counts as history, as in chat())
     */
    public static Built build(ConversationTemplate template, String system, List<Turn> history, String question,
                              List<Integer> tilesPerImage, int tokensPerTile) {
        boolean combined = history == null && !tilesPerImage.isEmpty() && !question.contains(IMAGE_PLACEHOLDER);
        List<Integer> numPatches = combined
                ? List.of(tilesPerImage.stream().mapToInt(Integer::intValue).sum())
                : List.copyOf(tilesPerImage);
        return buildWithPatches(template, system, history, question, numPatches, !tilesPerImage.isEmpty(), tokensPerTile);
    }

    /**
     * The model card's {@code chat(pixel_values, question, num_patches_list=..., history=...)}: the caller gives
     * the tile count of each placeholder. {@code <image>\n} is prepended when there is no history, there are
     * pixels and the question has no placeholder.
     */
    public static Built buildWithPatches(ConversationTemplate template, String system, List<Turn> history,
                                         String question, List<Integer> numPatchesList, boolean hasPixels,
                                         int tokensPerTile) {
        if (question == null) throw new IllegalArgumentException("the question is null");
        if (!hasPixels && PyStrings.strip(question).isEmpty()) {
            throw new IllegalArgumentException("the prompt is empty: give a question (or an image to ask about)");
        }
        if (history == null && hasPixels && !question.contains(IMAGE_PLACEHOLDER)) {
            question = IMAGE_PLACEHOLDER + "\n" + question;
        }
        String query = chatPrompt(template, system, history, question);
        int placeholders = countPlaceholders(query);
        if (placeholders != numPatchesList.size()) {
            throw new IllegalArgumentException(mismatch(placeholders, numPatchesList.size(), history));
        }
        return new Built(question, expandPlaceholders(query, numPatchesList, tokensPerTile), List.copyOf(numPatchesList));
    }

    private static String mismatch(int placeholders, int images, List<Turn> history) {
        return "the prompt" + (history == null || history.isEmpty() ? "" : " (with its history)") + " has "
                + placeholders + " <image> placeholder" + (placeholders == 1 ? "" : "s") + " but " + images
                + " image" + (images == 1 ? " was" : "s were") + " given; each image fills the next placeholder"
                + " in order (without history and without placeholders, all images share one prepended <image>)";
    }

    /** The template filled with system message, history and question, placeholders not yet expanded. */
    public static String chatPrompt(ConversationTemplate template, String system, List<Turn> history, String question) {
        List<ConversationTemplate.Message> msgs = new ArrayList<>();
        if (history != null) {
            for (Turn t : history) {
                msgs.add(new ConversationTemplate.Message(true, t.question()));
                msgs.add(new ConversationTemplate.Message(false, t.answer()));
            }
        }
        msgs.add(new ConversationTemplate.Message(true, question));
        msgs.add(new ConversationTemplate.Message(false, null));
        return template.prompt(system == null ? template.systemMessage() : system, msgs);
    }

    public static int countPlaceholders(String s) {
        int n = 0;
        for (int i = s.indexOf(IMAGE_PLACEHOLDER); i >= 0; i = s.indexOf(IMAGE_PLACEHOLDER, i + IMAGE_PLACEHOLDER.length())) n++;
        return n;
    }

    /**
     * Python's {@code for n in num_patches_list: query = query.replace('<image>', tokens(n), 1)}. Scanning on
     * after each insertion is the same: the inserted text holds no placeholder and cannot form one with its
     * neighbours.
     */
    public static String expandPlaceholders(String query, List<Integer> numPatchesList, int tokensPerTile) {
        StringBuilder sb = new StringBuilder();
        int from = 0;
        for (int n : numPatchesList) {
            int at = query.indexOf(IMAGE_PLACEHOLDER, from);
            if (at < 0) break;
            sb.append(query, from, at).append(imageTokens(n, tokensPerTile));
            from = at + IMAGE_PLACEHOLDER.length();
        }
        return sb.append(query, from, query.length()).toString();
    }

    /** {@code <img>} + {@code <IMG_CONTEXT>} x (tokensPerTile * tiles) + {@code </img>}. */
    public static String imageTokens(int tiles, int tokensPerTile) {
        if (tiles <= 0) throw new IllegalArgumentException("an image needs at least one tile (got " + tiles + ")");
        return IMG_START_TOKEN + IMG_CONTEXT_TOKEN.repeat(tiles * tokensPerTile) + IMG_END_TOKEN;
    }

    /** The model card's numbered form for separate images: {@code Image-1: <image>\nImage-2: <image>\n} + question. */
    public static String numberedImages(int count, String question) {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= count; i++) sb.append("Image-").append(i).append(": <image>\n");
        return sb.append(question).toString();
    }

    /** The model card's video prefix: {@code Frame1: <image>\nFrame2: <image>\n...} + question. */
    public static String videoFrames(int count, String question) {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= count; i++) sb.append("Frame").append(i).append(": <image>\n");
        return sb.append(question).toString();
    }
}
