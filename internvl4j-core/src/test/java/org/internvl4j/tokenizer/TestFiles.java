package org.internvl4j.tokenizer;

import org.internvl4j.testing.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Locates the repository's testdata/ folder and the optional shared/ folder beside the checkout. */
final class TestFiles {
    private TestFiles() {
    }

    /** testdata/tokenizer, found by walking up from the working directory. */
    static Path testdata() {
        return TestData.dir("tokenizer");
    }

    /**
     * The real InternVL2-8B tokenizer folder (shared/tokenizers/internvl2-8b): from the system property
     * internvl.shared or the environment variable INTERNVL_SHARED, else a shared/ folder found beside
     * any folder above the working directory.
     */
    static Optional<Path> realTokenizer() {
        return TestData.shared().map(s -> s.resolve("tokenizers/internvl2-8b"))
                .filter(p -> Files.isRegularFile(p.resolve("tokenizer.model")));
    }

    static final String NO_REAL_TOKENIZER = "shared/tokenizers/internvl2-8b/tokenizer.model not found";

    /** Skips the calling test where the real tokenizer is missing, or fails it in CI (TestData.assumeShared). */
    static Path requireRealTokenizer() {
        Optional<Path> d = realTokenizer();
        TestData.assumeShared(d.isPresent(), NO_REAL_TOKENIZER);
        return d.get();
    }
}
