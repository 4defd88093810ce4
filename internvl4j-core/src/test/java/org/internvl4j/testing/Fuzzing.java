package org.internvl4j.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The contract every fuzz target checks: a parser given any bytes either succeeds or throws one of its
 * documented error types with a message a person can act on. Anything else (another unchecked exception,
 * an Error such as OutOfMemoryError or StackOverflowError) escapes to Jazzer as a finding.
 */
public final class Fuzzing {
    private Fuzzing() {
    }

    @FunctionalInterface
    public interface Body {
        void run() throws Exception;
    }

    /** Runs body; an exception of one of the allowed types must carry a non-blank message, others propagate. */
    @SafeVarargs
    public static void expectOnly(Body body, Class<? extends Exception>... allowed) {
        try {
            body.run();
        } catch (Exception e) {
            if (Arrays.stream(allowed).noneMatch(c -> c.isInstance(e))) throw sneaky(e);
            String m = e.getMessage();
            if (m == null || m.isBlank()) throw new AssertionError("documented error type without a message: " + e, e);
        }
    }

    /** Between the parts of a multi-file input (a NUL byte, then "--", then NUL: not in any text file). */
    public static final byte[] SEPARATOR = {0, '-', '-', 0};

    /** Splits data at {@link #SEPARATOR} into exactly n parts (missing ones empty; the last keeps any further separators). */
    public static byte[][] split(byte[] data, int n) {
        byte[][] parts = new byte[n][];
        int from = 0;
        for (int k = 0; k < n; k++) {
            int at = k == n - 1 ? -1 : indexOf(data, SEPARATOR, from);
            int end = at < 0 ? data.length : at;
            parts[k] = Arrays.copyOfRange(data, Math.min(from, data.length), Math.max(end, Math.min(from, data.length)));
            from = at < 0 ? data.length : at + SEPARATOR.length;
        }
        return parts;
    }

    private static int indexOf(byte[] a, byte[] b, int from) {
        outer:
        for (int i = from; i <= a.length - b.length; i++) {
            for (int j = 0; j < b.length; j++) if (a[i + j] != b[j]) continue outer;
            return i;
        }
        return -1;
    }

    /**
     * Text for properties that take a string: UTF-8 (malformed bytes become U+FFFD), or, when the first byte
     * is 0xFF, the rest read as UTF-16LE so that lone surrogates and any char can occur.
     */
    public static String text(byte[] data) {
        if (data.length > 0 && (data[0] & 0xFF) == 0xFF) {
            return new String(data, 1, data.length - 1, java.nio.charset.StandardCharsets.UTF_16LE);
        }
        return new String(data, java.nio.charset.StandardCharsets.UTF_8);
    }

    /** A scratch file for the whole JVM (fuzzing runs millions of inputs; one file keeps it cheap). */
    public static Path scratch(String name, byte[] contents) {
        try {
            Path dir = SCRATCH;
            Path f = dir.resolve(name);
            Files.write(f, contents);
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A fresh scratch directory below the JVM's scratch root. */
    public static Path scratchDir(String name) {
        try {
            return Files.createDirectories(SCRATCH.resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final Path SCRATCH = createScratch();

    private static Path createScratch() {
        try {
            Path dir = Files.createTempDirectory("internvl4j-fuzz");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteTree(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort at exit
        }
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> RuntimeException sneaky(Throwable t) throws E {
        throw (E) t;
    }
}
