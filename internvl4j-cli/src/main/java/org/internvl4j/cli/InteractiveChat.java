package org.internvl4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.internvl4j.chat.ChatModel;
import org.internvl4j.chat.ChatRequest;
import org.internvl4j.generate.SamplingParams;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.reader.impl.DefaultParser;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/**
 * The chat on a terminal, through JLine: line editing, a history file under the user's home
 * (~/.internvl/chat_history, or $INTERNVL_HOME/chat_history), \"\"\" blocks for several lines, and
 * Ctrl-C: during an answer it stops the answer; at the prompt it clears the line, and a second one
 * at an empty prompt leaves (as Ctrl-D does).
 */
final class InteractiveChat {
    static final String PROMPT = ">>> ";
    static final String MORE = "... ";

    private final ChatCommand chat;
    private final ChatModel model;
    private volatile boolean stopRequested;

    InteractiveChat(ChatCommand chat, ChatModel model) {
        this.chat = chat;
        this.model = model;
    }

    /**
     * One short answer before the first prompt: reads the weights in from disk (a cold 8B model is 16 GB)
     * and compiles the hot loops, while the user sees that it is happening rather than a slow first answer.
     */
    private void warmUp(PrintWriter err) {
        try (Progress p = Progress.task(err, "warming up (reads the weights, compiles the kernels)")) {
            model.chat(new ChatRequest("Hi", List.of(), null, null, null,
                    SamplingParams.greedy(1, java.util.Set.of()), List.of()));
        }
    }

    static Path historyFile() {
        String home = System.getenv("INTERNVL_HOME");
        Path dir = home != null && !home.isBlank() ? Path.of(home) : Path.of(System.getProperty("user.home"), ".internvl");
        return dir.resolve("chat_history");
    }

    int run(PrintWriter err) {
        try (Terminal terminal = TerminalBuilder.builder().system(true).build()) {
            Path history = historyFile();
            try {
                Files.createDirectories(history.getParent());
            } catch (IOException e) {
                err.println("internvl chat: cannot keep the history in " + history + " (" + e.getMessage() + ")");
            }
            // the text is a question, not shell words: no quotes, escapes or !-expansion
            DefaultParser parser = new DefaultParser();
            parser.setEscapeChars(new char[0]);
            parser.setQuoteChars(new char[0]);
            LineReader reader = LineReaderBuilder.builder().terminal(terminal).appName("internvl").parser(parser)
                    .variable(LineReader.HISTORY_FILE, history)
                    .variable(LineReader.HISTORY_FILE_SIZE, 2000)
                    .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true)
                    .option(LineReader.Option.HISTORY_IGNORE_DUPS, true)
                    .build();
            PrintWriter out = terminal.writer();
            // outside readLine (which handles it itself), Ctrl-C asks the answer being streamed to stop
            terminal.handle(Terminal.Signal.INT, signal -> stopRequested = true);
            warmUp(err);
            out.println(chat.greeting());
            out.flush();
            boolean interruptedAtEmpty = false;
            while (true) {
                String line;
                try {
                    line = reader.readLine(PROMPT);
                    if (line.strip().startsWith("\"\"\"")) {
                        line = ChatCommand.block(line, () -> reader.readLine(MORE));
                        if (line == null) continue;
                    }
                } catch (UserInterruptException e) {
                    if (e.getPartialLine().isEmpty()) {
                        if (interruptedAtEmpty) return 0;
                        interruptedAtEmpty = true;
                        out.println("(Ctrl-C again or Ctrl-D to leave)");
                        out.flush();
                    }
                    continue;
                } catch (EndOfFileException e) {
                    return 0;
                } catch (IOException e) {
                    err.println("internvl chat: reading input: " + e.getMessage());
                    return 1;
                }
                interruptedAtEmpty = false;
                stopRequested = false;
                if (chat.handle(line, out, err, () -> stopRequested) == ChatCommand.Next.QUIT) return 0;
            }
        } catch (IOException e) {
            err.println("internvl chat: cannot open the terminal: " + e.getMessage());
            return 1;
        }
    }
}
