package org.internvl4j.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;
import org.internvl4j.hub.DownloadListener;
import org.internvl4j.hub.RemoteFile;
import org.internvl4j.hub.RepoListing;
import org.internvl4j.hub.Sizes;

/**
 * Download progress on stderr. On a terminal: one bar per file being fetched and one for the total,
 * redrawn in place at most five times a second. Elsewhere (a log file, CI): one line per event.
 * Any command that resolves {@code --model} can pass one to {@code ModelLocator.resolve}.
 */
public final class TerminalProgress implements DownloadListener {

    private static final long REDRAW_NANOS = 200_000_000L;
    private static final int BAR = 24;

    private final PrintWriter out;
    private final boolean ansi;
    private final LongSupplier clock;

    private final Map<String, long[]> active = new LinkedHashMap<>(); // path -> {done, size}
    private long total;
    private long present;
    private long startDone;
    private long doneFinished;
    private long startNanos;
    private long lastDraw;
    private int drawnLines;

    public TerminalProgress(PrintStream out, boolean ansi) {
        this(new PrintWriter(out, true), ansi, System::nanoTime);
    }

    public TerminalProgress(PrintWriter out, boolean ansi) {
        this(out, ansi, System::nanoTime);
    }

    TerminalProgress(PrintWriter out, boolean ansi, LongSupplier clock) {
        this.out = out;
        this.ansi = ansi;
        this.clock = clock;
    }

    /** Bars on stderr when it is a terminal, plain lines otherwise. */
    public static TerminalProgress forStderr() {
        return new TerminalProgress(System.err, stderrIsTerminal());
    }

    /**
     * Whether to draw bars. The JDK can tell only whether the process has a console (stdin and
     * stdout on a terminal); stderr redirected alone is not seen, so TERM=dumb or an unset TERM also
     * turn bars off.
     */
    public static boolean stderrIsTerminal() {
        var console = System.console();
        String term = System.getenv("TERM");
        return console != null && console.isTerminal() && term != null && !term.equals("dumb");
    }

    @Override
    public synchronized void planned(RepoListing listing, List<RemoteFile> files, long totalBytes, long presentBytes) {
        total = totalBytes;
        present = presentBytes;
        startDone = presentBytes;
        startNanos = clock.getAsLong();
        String rev = listing.revision().equals(listing.commit()) ? listing.commit()
                : listing.revision() + " (" + listing.commit().substring(0, Math.min(12, listing.commit().length())) + ")";
        out.println(listing.repo().repo() + "@" + rev + ": " + files.size() + " files, " + Sizes.human(totalBytes)
                + (presentBytes >= totalBytes ? ", all in the cache"
                        : presentBytes > 0 ? ", " + Sizes.human(totalBytes - presentBytes) + " to fetch" : ""));
        out.flush();
    }

    @Override
    public synchronized void started(RemoteFile file, long offset) {
        active.put(file.path(), new long[] {offset, file.size()});
        if (!ansi) {
            out.println((offset > 0 ? "resuming " + file.path() + " at " + Sizes.human(offset) : "fetching " + file.path())
                    + " (" + Sizes.human(file.size()) + ")");
            out.flush();
        }
        draw(true);
    }

    @Override
    public synchronized void progress(RemoteFile file, long bytesOnDisk) {
        long[] s = active.get(file.path());
        if (s != null) {
            s[0] = bytesOnDisk;
        }
        draw(false);
    }

    @Override
    public synchronized void finished(RemoteFile file) {
        long[] s = active.remove(file.path());
        if (s != null) {
            doneFinished += file.size();
            if (!ansi) {
                out.println("done " + file.path());
                out.flush();
            }
        }
        draw(true);
    }

    @Override
    public synchronized void retrying(RemoteFile file, String reason) {
        long[] s = active.get(file.path());
        if (s != null) {
            s[0] = 0; // the next attempt reports where it resumes
        }
        message("retrying " + file.path() + ": " + reason);
    }

    @Override
    public synchronized void usingCache(Path snapshot, String reason) {
        message("using the cached copy in " + snapshot + " (" + reason + ")");
    }

    /** Clears the bars so the next line printed starts on a clean line. */
    public synchronized void close() {
        if (ansi) {
            erase();
        }
    }

    private void message(String line) {
        if (ansi) {
            erase();
        }
        out.println(line);
        out.flush();
        if (ansi) {
            draw(true);
        }
    }

    private long doneBytes() {
        long d = present + doneFinished;
        for (long[] s : active.values()) {
            d += s[0];
        }
        return Math.min(d, total);
    }

    private void draw(boolean force) {
        if (!ansi) {
            return;
        }
        long now = clock.getAsLong();
        if (!force && now - lastDraw < REDRAW_NANOS) {
            return;
        }
        lastDraw = now;
        erase();
        int lines = 0;
        for (var e : active.entrySet()) {
            out.println(line(shorten(e.getKey(), 36), e.getValue()[0], e.getValue()[1], -1));
            lines++;
        }
        long done = doneBytes();
        double seconds = Math.max(1e-3, (now - startNanos) / 1e9);
        double rate = (done - startDone) / seconds;
        out.println(line("total", done, total, rate));
        lines++;
        drawnLines = lines;
        out.flush();
    }

    private void erase() {
        if (drawnLines > 0) {
            out.print("\033[" + drawnLines + "A");
            for (int i = 0; i < drawnLines; i++) {
                out.print("\033[2K\n");
            }
            out.print("\033[" + drawnLines + "A");
            drawnLines = 0;
        }
    }

    static String line(String name, long done, long size, double bytesPerSecond) {
        double f = size <= 0 ? 1 : Math.min(1, (double) done / size);
        int filled = (int) Math.round(f * BAR);
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-36s [", name));
        sb.append("#".repeat(filled)).append("-".repeat(BAR - filled)).append(']');
        sb.append(String.format(Locale.ROOT, " %3d%% %s/%s", (int) Math.floor(f * 100), Sizes.human(done), Sizes.human(size)));
        if (bytesPerSecond > 0) {
            sb.append("  ").append(Sizes.human((long) bytesPerSecond)).append("/s");
            long left = (long) ((size - done) / bytesPerSecond);
            if (left > 0) {
                sb.append(String.format(Locale.ROOT, "  %d:%02d:%02d left", left / 3600, left / 60 % 60, left % 60));
            }
        }
        return sb.toString();
    }

    private static String shorten(String s, int max) {
        return s.length() <= max ? s : "…" + s.substring(s.length() - max + 1);
    }
}
