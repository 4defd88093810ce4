package org.internvl4j.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A small tmpfs mounted for a test, to fill a disk for real. Needs root and permission to mount (a developer machine
 * or a privileged container); elsewhere, as in most CI, the test is skipped with the reason. Unmounted on close.
 */
public final class Tmpfs implements AutoCloseable {
    private final Path dir;

    private Tmpfs(Path dir) {
        this.dir = dir;
    }

    /** Mounts a tmpfs of this many KiB on dir (created), or aborts the test (skipped) when mounting is not allowed. */
    public static Tmpfs mount(Path dir, int kib) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        String why = run("mount", "-t", "tmpfs", "-o", "size=" + kib + "k", "tmpfs", dir.toString());
        Assumptions.assumeTrue(why == null, () -> "cannot mount a tmpfs to fill (needs root and CAP_SYS_ADMIN): " + why);
        return new Tmpfs(dir);
    }

    public Path dir() {
        return dir;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        String why = run("umount", dir.toString());
        if (why != null) throw new IOException("umount " + dir + ": " + why);
    }

    /** null on success, else what went wrong. */
    private static String run(String... cmd) throws IOException, InterruptedException {
        if (!System.getProperty("os.name", "").startsWith("Linux")) return "not Linux";
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            return e.getMessage();
        }
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return "timed out";
        }
        String out = new String(p.getInputStream().readAllBytes()).trim();
        return p.exitValue() == 0 ? null : "exit " + p.exitValue() + ": " + out;
    }
}
