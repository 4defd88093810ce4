package org.internvl4j.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.internvl4j.chat.ChatModel;
import org.internvl4j.image.ImagePreprocessor;
import picocli.CommandLine.Option;

/** The images, video, tiling and system message that `chat` and `generate` both take. */
final class MediaOptions {
    @Option(names = "--image", paramLabel = "FILE|URL", description = "Image file, URL or data URI (repeatable, in placeholder order; in chat: for the first question).")
    List<String> images = new ArrayList<>();

    @Option(names = "--video", paramLabel = "FILE", description = "Video file: its frames go in as Frame1: <image>\\n...")
    Path video;

    @Option(names = "--segments", paramLabel = "N", description = "Frames sampled from --video (default: ${DEFAULT-VALUE}).")
    int segments = 8;

    @Option(names = "--max-num", paramLabel = "N", description = "Tiles per image at most (default: config.json's max_dynamic_patch; video frames: 1).")
    Integer maxNum;

    @Option(names = "--system", paramLabel = "TEXT", description = "System message (default: the template's).")
    String system;

    void checkOneKind() {
        if (video != null && !images.isEmpty()) throw new IllegalArgumentException("give either --video or --image, not both");
    }

    /** Tiling for images: --max-num, else the checkpoint's max_dynamic_patch. */
    ImagePreprocessor images(ChatModel chat) {
        return preprocessor(chat, maxNum == null ? chat.model().config().maxDynamicPatch() : maxNum);
    }

    /** Tiling for video frames: --max-num, else one tile per frame as the model card does. */
    ImagePreprocessor frames(ChatModel chat) {
        return preprocessor(chat, maxNum == null ? 1 : maxNum);
    }

    private static ImagePreprocessor preprocessor(ChatModel chat, int maxNum) {
        var config = chat.model().config();
        return ImagePreprocessor.builder().inputSize(chat.model().imageSize()).minNum(config.minDynamicPatch())
                .maxNum(maxNum).useThumbnail(config.useThumbnail()).build();
    }
}
