package org.internvl4j.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.opentest4j.AssertionFailedError;

/** Where the committed fixtures (testdata/) and the read-only shared/ folder are, seen from a test. */
public final class TestData {
    private TestData() {
    }

    /** testdata/SUB of the repository, found by walking up from the working directory (a module). */
    public static Path dir(String sub) {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path d = p.resolve("testdata").resolve(sub);
            if (Files.isDirectory(d)) return d;
        }
        throw new IllegalStateException("testdata/" + sub + " not found above " + Path.of("").toAbsolutePath());
    }

    /**
     * The shared/ folder beside the repository: from the system property internvl.shared or the
     * environment variable INTERNVL_SHARED, else a shared/tokenizers folder found above the working
     * directory. Empty where there is none (tests that need it then skip, or fail under
     * {@link #REQUIRE_SHARED}).
     */
    public static Optional<Path> shared() {
        String explicit = System.getProperty("internvl.shared", System.getenv("INTERNVL_SHARED"));
        if (explicit != null) return Optional.of(Path.of(explicit));
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("shared/tokenizers"))) return Optional.of(p.resolve("shared"));
        }
        return Optional.empty();
    }

    /** Set (to true) by .ci/run: tests that need shared/ then fail where it is missing instead of skipping. */
    public static final String REQUIRE_SHARED = "internvl.requireShared";

    /**
     * Lets a test that needs something from shared/ go on only where it is there: where it is not, the
     * test is skipped with the reason, or fails if {@link #REQUIRE_SHARED} is set, so CI cannot stay green
     * while the real tokenizer goes untested.
     */
    public static void assumeShared(boolean present, String what) {
        if (present) return;
        if (Boolean.getBoolean(REQUIRE_SHARED)) {
            throw new AssertionFailedError(what + ", and -D" + REQUIRE_SHARED + "=true says it must be there"
                    + " (shared/ beside the checkout, or -Dinternvl.shared=DIR)");
        }
        Assumptions.abort(what + "; skipped (shared/ beside the checkout, or -Dinternvl.shared=DIR, runs it)");
    }
}
