package org.internvl4j.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a process (bin/internvl, bash) as a user would, with a time limit. */
final class Launcher {
    private Launcher() {}

    /** The repository: the folder holding testdata/ and bin/. */
    static Path root() {
        return Run.testdata("chat").getParent().getParent();
    }

    static Path script() {
        return root().resolve("bin").resolve("internvl");
    }

    /** The JDK the tests run on: a JDK 25. */
    static String javaHome() {
        return System.getProperty("java.home");
    }

    /** Runs command with env added to this process's environment; fails after limitSeconds. */
    static Run run(Map<String, String> env, long limitSeconds, List<String> command) {
        try {
            Path out = Files.createTempFile("internvl-out", ".txt");
            Path err = Files.createTempFile("internvl-err", ".txt");
            ProcessBuilder pb = new ProcessBuilder(command).directory(root().toFile())
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            pb.environment().put("JAVA_HOME", javaHome());
            pb.environment().put("INTERNVL_AOT", "off");
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(limitSeconds, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new AssertionError(command + " ran past " + limitSeconds + " s; stderr: " + Files.readString(err));
            }
            Run r = new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
            Files.delete(out);
            Files.delete(err);
            return r;
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** bin/internvl ARGS. */
    static Run internvl(Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of(script().toString()));
        cmd.addAll(List.of(args));
        return run(env, 180, cmd);
    }

    /** bash -c SCRIPT, in the repository. */
    static Run bash(Map<String, String> env, String script) {
        return run(env, 180, List.of("bash", "-c", script));
    }
}
