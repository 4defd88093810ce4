package org.internvl4j.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;

/** One run of a command line in a test: its exit code and what it printed. */
record Run(int code, String out, String err) {

    static Run of(CommandLine cl, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    /** `internvl ARGS...` through Main. */
    static Run internvl(String... args) {
        return of(Main.commandLine(), args);
    }

    /** testdata/SUB of the repository, found by walking up from the working directory. */
    static Path testdata(String sub) {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("testdata").resolve(sub))) return p.resolve("testdata").resolve(sub);
        }
        throw new IllegalStateException("testdata/" + sub + " not found above " + Path.of("").toAbsolutePath());
    }
}
