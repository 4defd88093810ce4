package org.internvl4j.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class ChatQueryTest {
    private static final ConversationTemplate T = ConversationTemplate.INTERNLM2_CHAT;

    /** Tile counts come from the reference's num_patches_list for the combined case, per image otherwise. */
    @ParameterizedTest
    @ValueSource(strings = {"text", "system", "image_tiles", "two_separate", "two_combined", "history_turn1",
        "history_turn2", "text_turn2", "batch_0", "batch_1", "batch_2", "video"})
    void promptStringEqualsTheReference(String name) {
        ChatFixtures.Case c = ChatFixtures.load(name);
        List<Integer> tiles = tilesPerImage(c);
        ChatQuery.Built b = ChatQuery.build(T, c.system(), c.history(), c.question(), tiles, 256);
        assertThat(b.query()).isEqualTo(c.prompt());
        assertThat(b.numPatchesList()).isEqualTo(c.numPatchesList());
    }

    /** Per-image tile counts of a case, recovered from the fixture's own inputs. */
    static List<Integer> tilesPerImage(ChatFixtures.Case c) {
        return switch (c.name()) {
            case "two_combined" -> List.of(3, 3);   // img_a and img_b at max_num 2 (both 2 tiles + thumbnail)
            default -> c.images().isEmpty() ? List.of() : c.numPatchesList();
        };
    }

    @Test
    void defaultSystemMessageIsExactAndThereIsNoNewlineAfterImEnd() {
        String p = ChatQuery.chatPrompt(T, null, null, "Hi");
        assertThat(p).isEqualTo("<|im_start|>system\n你是由上海人工智能实验室联合商汤科技开发的书生多模态大模型，英文名叫InternVL, "
                + "是一个有用无害的人工智能助手。<|im_end|><|im_start|>user\nHi<|im_end|><|im_start|>assistant\n");
    }

    @Test
    void emptyHistoryAnswerLeavesOnlyTheRoleHeader() {
        String p = ChatQuery.chatPrompt(T, "S", List.of(new Turn("q", "")), "x");
        assertThat(p).isEqualTo("<|im_start|>system\nS<|im_end|><|im_start|>user\nq<|im_end|><|im_start|>assistant\n"
                + "<|im_start|>user\nx<|im_end|><|im_start|>assistant\n");
    }

    @Test
    void otherTemplatesFollowConversationPy() {
        assertThat(ChatQuery.chatPrompt(ConversationTemplate.forName("phi3-chat"), "S", List.of(new Turn("a", "b")), "c"))
                .isEqualTo("<|system|>\nS<|end|><|user|>\na<|end|><|assistant|>\nb<|end|><|user|>\nc<|end|><|assistant|>\n");
        assertThat(ChatQuery.chatPrompt(ConversationTemplate.forName("internvl2_5"), null, null, "c"))
                .isEqualTo("<|im_start|>system\n你是书生·万象，英文名是InternVL，是由上海人工智能实验室、清华大学及多家合作单位联合开发的多模态大语言模型。"
                        + "<|im_end|>\n<|im_start|>user\nc<|im_end|>\n<|im_start|>assistant\n");
        assertThat(ChatQuery.chatPrompt(ConversationTemplate.forName("Hermes-2"), "S", null, "c"))
                .isEqualTo(ChatQuery.chatPrompt(T, "S", null, "c"));
        assertThat(ConversationTemplate.INTERNVL2_5.stopString()).isEqualTo("<|im_end|>");
        assertThat(ConversationTemplate.PHI3_CHAT.stopString()).isEqualTo("<|end|>");
        assertThatThrownBy(() -> ConversationTemplate.forName("vicuna"))
                .hasMessageContaining("'vicuna'").hasMessageContaining("internlm2-chat");
    }

    @Test
    void placeholdersAreFilledInOrderHistoryFirst() {
        List<Turn> h = List.of(new Turn("<image>\nfirst", "ok"));
        ChatQuery.Built b = ChatQuery.build(T, "S", h, "and <image>?", List.of(1, 2), 1);
        String one = "<img><IMG_CONTEXT></img>";
        String two = "<img><IMG_CONTEXT><IMG_CONTEXT></img>";
        assertThat(b.query()).isEqualTo("<|im_start|>system\nS<|im_end|><|im_start|>user\n" + one + "\nfirst<|im_end|>"
                + "<|im_start|>assistant\nok<|im_end|><|im_start|>user\nand " + two + "?<|im_end|><|im_start|>assistant\n");
        assertThat(b.question()).isEqualTo("and <image>?");
    }

    @Test
    void noAutoPrependWithHistoryEvenWhenEmpty() {
        assertThatThrownBy(() -> ChatQuery.build(T, null, List.of(), "look", List.of(3), 256))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0 <image> placeholders but 1 image was given");
        ChatQuery.Built b = ChatQuery.build(T, null, null, "look", List.of(3, 4), 1);
        assertThat(b.question()).isEqualTo("<image>\nlook");
        assertThat(b.numPatchesList()).containsExactly(7);
    }

    @Test
    void imageCountMustMatchPlaceholders() {
        assertThatThrownBy(() -> ChatQuery.build(T, null, null, "Image-1: <image>\nImage-2: <image>\n", List.of(2), 256))
                .hasMessageContaining("2 <image> placeholders but 1 image was given");
        assertThatThrownBy(() -> ChatQuery.build(T, null, null, "<image> only", List.of(1, 1, 1), 256))
                .hasMessageContaining("1 <image> placeholder but 3 images were given");
        assertThatThrownBy(() -> ChatQuery.build(T, null, null, "where is <image>?", List.of(), 256))
                .hasMessageContaining("1 <image> placeholder but 0 images were given");
    }

    @Test
    void emptyPromptIsAnError() {
        assertThatThrownBy(() -> ChatQuery.build(T, null, null, "", List.of(), 256)).hasMessageContaining("prompt is empty");
        assertThatThrownBy(() -> ChatQuery.build(T, null, null, " \n\u00a0", List.of(), 256)).hasMessageContaining("prompt is empty");
        // an image alone is a valid request: the question becomes "<image>\n"
        assertThat(ChatQuery.build(T, null, null, "", List.of(1), 1).question()).isEqualTo("<image>\n");
    }

    @Test
    void numberedForms() {
        assertThat(ChatQuery.numberedImages(2, "Q")).isEqualTo("Image-1: <image>\nImage-2: <image>\nQ");
        assertThat(ChatQuery.videoFrames(4, "What happens in the video?")).isEqualTo(ChatFixtures.load("video").question());
        assertThat(ChatQuery.numberedImages(2, "Describe the two images.")).isEqualTo(ChatFixtures.load("two_separate").question());
    }
}
