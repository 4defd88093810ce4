package org.internvl4j.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.LongSupplier;
import org.internvl4j.hub.Sizes;

/**
 * Feedback on stderr while something long runs: on a terminal one line redrawn in place five times a
 * second (a bar when the amount of work is known, else the elapsed time) and erased at the end;
 * elsewhere (a log, CI) a line when the work starts and one when it ends, with its duration.
 * <pre>
 * try (Progress p = Progress.task(err, "loading " + dir)) { ... }
 * try (Progress p = Progress.bytes(err, "writing " + dir, total, () -> written())) { ... }
 * </pre>
 */
final class Progress implements AutoCloseable {
    private static final long REDRAW_MILLIS = 200;

    private final PrintWriter out;
    private final boolean ansi;
    private final String label;
    private final long total;            // bytes of work, or -1 when unknown
    private final LongSupplier done;
    private final long start = System.nanoTime();
    private final Thread drawer;
    private volatile boolean closed;
    private boolean drawn;

    private Progress(PrintWriter out, boolean ansi, String label, long total, LongSupplier done) {
        this.out = out;
        this.ansi = ansi;
        this.label = label;
        this.total = total;
        this.done = done;
        if (ansi) {
            drawer = Thread.ofPlatform().daemon().name("progress").start(this::drawLoop);
        } else {
            drawer = null;
            out.println(label + (total > 0 ? " (" + Sizes.human(total) + ")" : "") + " ...");
            out.flush();
        }
    }

    /** Work of unknown length: the elapsed time. */
    static Progress task(PrintWriter out, String label) {
        return new Progress(out, TerminalProgress.stderrIsTerminal(), label, -1, () -> 0);
    }

    /** Work measured in bytes, done() of total so far: a bar. */
    static Progress bytes(PrintWriter out, String label, long total, LongSupplier done) {
        return new Progress(out, TerminalProgress.stderrIsTerminal(), label, total, done);
    }

    /** For tests: without a terminal, whatever stderr is. */
    static Progress task(PrintWriter out, boolean ansi, String label) {
        return new Progress(out, ansi, label, -1, () -> 0);
    }

    private void drawLoop() {
        while (!closed) {
            synchronized (this) {
                if (closed) return;
                draw();
            }
            try {
                Thread.sleep(REDRAW_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void draw() {
        double seconds = (System.nanoTime() - start) / 1e9;
        String line;
        if (total > 0) {
            long d = Math.min(done.getAsLong(), total);
            line = TerminalProgress.line(shorten(label), d, total, seconds > 0.5 ? d / seconds : 0);
        } else {
            line = String.format(Locale.ROOT, "%s ... %.1f s", label, seconds);
        }
        out.print("\r\033[2K" + line);
        out.flush();
        drawn = true;
    }

    private static String shorten(String s) {
        return s.length() <= 36 ? s : s.substring(0, 35) + "…";
    }

    /** Seconds since the start. */
    double seconds() {
        return (System.nanoTime() - start) / 1e9;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
            if (ansi) {
                if (drawn) out.print("\r\033[2K");
            } else {
                out.printf(Locale.ROOT, "%s: done in %.1f s%n", label, seconds());
            }
            out.flush();
        }
        if (drawer != null) drawer.interrupt();
    }
}
