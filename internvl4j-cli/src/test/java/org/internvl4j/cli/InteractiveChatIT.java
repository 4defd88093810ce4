package org.internvl4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `bin/internvl chat` on a terminal (a tmux pseudo-terminal), as a user types: errors before the next
 * prompt, \"\"\" blocks, Ctrl-C during an answer and at the prompt, Ctrl-D, and the history file.
 */
class InteractiveChatIT {
    static final Duration START = Duration.ofSeconds(180);   // JVM start, load and warm-up on a busy machine
    static final Duration STEP = Duration.ofSeconds(60);

    static String chatCommand(Path home) {
        return "JAVA_HOME=" + Launcher.javaHome() + " INTERNVL_HOME=" + home + " INTERNVL_AOT=off bin/internvl chat -m "
                + Run.testdata("tiny-models/tiny-a") + " --max-new-tokens 8";
    }

    @Test
    void aSessionAsAUserTypesIt(@TempDir Path home) throws Exception {
        Path saved = home.resolve("saved.json");
        try (Tmux t = new Tmux(chatCommand(home))) {
            String s = t.awaitPrompts(1, START);
            assertThat(s).contains("Chatting with").doesNotContain("incubator");

            // an error appears in order: after the command, before the next prompt
            t.line("/image " + home.resolve("nope.png"));
            s = t.awaitPrompts(2, STEP);
            List<String> lines = s.lines().filter(l -> !l.isBlank()).toList();
            int error = indexOf(lines, "error: " + home.resolve("nope.png") + ": no such file");
            assertThat(error).as(s).isPositive();
            assertThat(lines.get(error - 1)).as(s).startsWith(">>> /image");
            assertThat(lines.get(error + 1).strip()).as(s).isEqualTo(">>>");

            // a """ block is one question over several lines, with a continuation prompt
            t.line("\"\"\"Say");
            t.await("the continuation prompt", STEP, x -> x.contains("... "));
            t.line("hi twice.\"\"\"");
            t.awaitPrompts(3, STEP);
            t.line("/save " + saved);
            t.await("the save", STEP, x -> x.contains("(saved 1 turns"));
            JsonNode file = new ObjectMapper().readTree(Files.readString(saved));
            assertThat(file.get("history").get(0).get(0).asText()).isEqualTo("Say\nhi twice.");

            // Ctrl-C stops a long answer and the prompt comes back
            t.line("/set max-new-tokens 20000");
            int before = Tmux.prompts(t.awaitPrompts(5, STEP));
            t.line("Tell me a very long story.");
            t.await("the answer to start", STEP, x -> x.lines().anyMatch(l -> l.startsWith(">>> Tell me")) && lastLine(x).length() > 20);
            t.keys("C-c");
            s = t.await("the answer to stop", STEP, x -> x.contains("(stopped)") && Tmux.prompts(x) > before);
            assertThat(s).doesNotContain("EXIT=");

            // the conversation goes on after the stop
            t.line("/set max-new-tokens 4");
            t.line("And then?");
            t.awaitPrompts(before + 3, STEP);

            // Ctrl-C at an empty prompt once warns, twice leaves
            t.keys("C-c");
            t.await("the warning", STEP, x -> x.contains("(Ctrl-C again or Ctrl-D to leave)"));
            t.keys("C-c");
            t.await("the exit", STEP, x -> x.contains("EXIT=0"));
        }
        // the history file under the user's home keeps the lines, for the next session
        List<String> history = Files.readAllLines(home.resolve("chat_history"));
        assertThat(String.join("\n", history)).contains("Tell me a very long story.").contains("/set max-new-tokens 4");

        try (Tmux t = new Tmux(chatCommand(home))) {
            t.awaitPrompts(1, START);
            t.keys("Up");
            t.await("the last line of the last session", STEP, x -> lastLine(x).equals(">>> And then?"));
            t.keys("Up");
            t.await("the line before it", STEP, x -> lastLine(x).equals(">>> /set max-new-tokens 4"));
            t.keys("C-u", "C-d");   // clear the line, then Ctrl-D at an empty prompt leaves
            t.await("the exit", STEP, x -> x.contains("EXIT=0"));
        }
    }

    private static int indexOf(List<String> lines, String text) {
        for (int i = 0; i < lines.size(); i++) if (lines.get(i).contains(text)) return i;
        return -1;
    }

    private static String lastLine(String screen) {
        List<String> lines = screen.lines().filter(l -> !l.isBlank()).toList();
        return lines.isEmpty() ? "" : lines.get(lines.size() - 1).stripTrailing();
    }
}
