package org.internvl4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class MainTest {
    @Test
    void versionNamesTheProjectAndTheJvm() {
        StringWriter out = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out));
        assertThat(cl.execute("--version")).isZero();
        assertThat(out.toString()).contains("internvl4j").contains("Java 25");
    }

    @Test
    void unknownOptionIsAnErrorNotACrash() {
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setErr(new PrintWriter(err));
        assertThat(cl.execute("--no-such-option")).isEqualTo(2);
        assertThat(err.toString()).contains("--no-such-option");
    }

    /** A bare '%' in a description makes picocli print a warning and the raw text instead of the help. */
    @Test
    void everyCommandsHelpRendersWithoutAFormatWarning() {
        PrintStream saved = System.err;
        ByteArrayOutputStream warnings = new ByteArrayOutputStream();
        int commands = 0;
        try {
            System.setErr(new PrintStream(warnings, true));
            java.util.ArrayDeque<CommandLine> todo = new java.util.ArrayDeque<>(java.util.List.of(Main.commandLine()));
            while (!todo.isEmpty()) {
                CommandLine cl = todo.pop();
                todo.addAll(cl.getSubcommands().values());
                assertThat(cl.getUsageMessage()).isNotBlank();
                commands++;
            }
        } finally {
            System.setErr(saved);
        }
        assertThat(commands).isGreaterThan(10);
        assertThat(warnings.toString()).doesNotContain("picocli WARN");
    }
}
