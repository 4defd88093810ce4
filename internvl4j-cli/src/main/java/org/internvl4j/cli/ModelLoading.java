package org.internvl4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import org.internvl4j.chat.ChatModel;

/** Loads a model for chat and generate, with feedback on stderr while it loads. */
final class ModelLoading {
    private ModelLoading() {}

    static ChatModel load(ModelOption model, PrintWriter err) {
        Path dir = model.resolve();
        try (Progress p = Progress.task(err, "loading " + dir)) {
            return ChatModel.load(dir);
        }
    }
}
