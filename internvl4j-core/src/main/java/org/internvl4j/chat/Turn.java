package org.internvl4j.chat;

/**
 * One finished round of a conversation. {@code question} is the question as it went into the prompt (after the
 * automatic {@code <image>\n}), so replaying it keeps its image placeholders; {@code answer} is the response text.
 */
public record Turn(String question, String answer) {
    public Turn {
        if (question == null || answer == null) throw new IllegalArgumentException("a history turn needs a question and an answer (got null)");
    }
}
