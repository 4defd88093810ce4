package org.internvl4j.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

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
     * directory. Empty where there is none (tests that need it then skip).
     */
    public static Optional<Path> shared() {
        String explicit = System.getProperty("internvl.shared", System.getenv("INTERNVL_SHARED"));
        if (explicit != null) return Optional.of(Path.of(explicit));
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("shared/tokenizers"))) return Optional.of(p.resolve("shared"));
        }
        return Optional.empty();
    }
}
