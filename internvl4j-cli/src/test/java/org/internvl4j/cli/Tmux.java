package org.internvl4j.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A command in a pseudo-terminal, driven through tmux on a private server: keys go in with send-keys,
 * the screen comes back with capture-pane. Every wait is bounded; close() kills the server.
 */
final class Tmux implements AutoCloseable {
    private static int sessions;
    private final String socket;

    /** Starts `bash -c command` in a 150x50 terminal; the command's exit status shows as EXIT=N. */
    Tmux(String command) {
        socket = "internvl-it-" + ProcessHandle.current().pid() + "-" + (++sessions);
        tmux("new-session", "-d", "-x", "150", "-y", "50", "-c", Launcher.root().toString(),
                "bash -c '" + command.replace("'", "'\\''") + "; echo EXIT=$?; sleep 300'");
    }

    /** Text typed, then Enter. */
    void line(String text) {
        tmux("send-keys", "-t", "0", "-l", text);
        keys("Enter");
    }

    /** tmux key names: C-c, C-d, Up, Enter. */
    void keys(String... names) {
        List<String> args = new ArrayList<>(List.of("send-keys", "-t", "0"));
        args.addAll(List.of(names));
        tmux(args.toArray(String[]::new));
    }

    /** The screen and the scrollback, as text. */
    String screen() {
        return tmux("capture-pane", "-p", "-J", "-t", "0", "-S", "-2000");
    }

    /** Waits until the screen satisfies done; fails with the screen after the limit. */
    String await(String what, Duration limit, Predicate<String> done) {
        long end = System.nanoTime() + limit.toNanos();
        String s = screen();
        while (!done.test(s)) {
            if (System.nanoTime() > end) throw new AssertionError("waited " + limit.toSeconds() + " s for " + what + "; the screen:\n" + s);
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
            s = screen();
        }
        return s;
    }

    /** Waits for the prompt to come back for the n-th time. */
    String awaitPrompts(int n, Duration limit) {
        return await(n + " prompts", limit, s -> prompts(s) >= n);
    }

    static int prompts(String screen) {
        return (int) screen.lines().filter(l -> l.startsWith(InteractiveChat.PROMPT.strip())).count();
    }

    private String tmux(String... args) {
        List<String> cmd = new ArrayList<>(List.of("tmux", "-L", socket));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("tmux did not answer: " + cmd);
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.exitValue() != 0) throw new AssertionError(cmd + " failed: " + out);
            return out;
        } catch (IOException e) {
            throw new AssertionError("cannot run tmux (the interactive tests need it; .ci/run installs it): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Override
    public void close() {
        try {
            new ProcessBuilder("tmux", "-L", socket, "kill-server").redirectErrorStream(true).start().waitFor(20, TimeUnit.SECONDS);
        } catch (IOException e) {
            // no server left to kill
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
