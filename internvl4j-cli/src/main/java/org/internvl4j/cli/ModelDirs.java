package org.internvl4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where --model points. */
final class ModelDirs {
    private ModelDirs() {}

    /** A checkpoint directory. Hub ids (org/name) are the hub helper's to add: resolve them here. */
    static Path resolve(String model) {
        Path dir = Path.of(model);
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--model " + model + ": not a directory (give a Hugging Face checkpoint directory with config.json)");
        }
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            throw new IllegalArgumentException("--model " + model + ": no config.json in it (is it a Hugging Face checkpoint directory?)");
        }
        return dir;
    }
}
