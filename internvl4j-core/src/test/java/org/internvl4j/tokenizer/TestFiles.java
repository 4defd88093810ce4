package org.internvl4j.tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Locates the repository's testdata/ folder and the optional shared/ folder beside the checkout. */
final class TestFiles {
    private TestFiles() {
    }

    /** testdata/tokenizer, found by walking up from the working directory. */
    static Path testdata() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("testdata/tokenizer"))) return p.resolve("testdata/tokenizer");
        }
        throw new IllegalStateException("testdata/tokenizer not found above " + Path.of("").toAbsolutePath());
    }

    /**
     * The real InternVL2-8B tokenizer folder (shared/tokenizers/internvl2-8b): from the system property
     * internvl.shared or the environment variable INTERNVL_SHARED, else a shared/ folder found beside
     * any folder above the working directory.
     */
    static Optional<Path> realTokenizer() {
        String explicit = System.getProperty("internvl.shared", System.getenv("INTERNVL_SHARED"));
        if (explicit != null) {
            Path p = Path.of(explicit, "tokenizers/internvl2-8b");
            return Files.isRegularFile(p.resolve("tokenizer.model")) ? Optional.of(p) : Optional.empty();
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path cand = p.resolve("shared/tokenizers/internvl2-8b");
            if (Files.isRegularFile(cand.resolve("tokenizer.model"))) return Optional.of(cand);
        }
        return Optional.empty();
    }

    static final String NO_REAL_TOKENIZER = "shared/tokenizers/internvl2-8b not found (set -Dinternvl.shared=DIR);"
            + " skipping the real-tokenizer check";
}
