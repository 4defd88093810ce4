package org.internvl4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.internvl4j.chat.ChatModel;
import org.internvl4j.chat.ChatQuery;
import org.internvl4j.chat.ChatSession;
import org.internvl4j.chat.Turn;
import org.internvl4j.image.ImagePreprocessor;
import org.internvl4j.image.PixelValues;
import org.internvl4j.image.VideoLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import org.internvl4j.util.Json;

/**
 * {@code internvl chat}: an interactive conversation, streamed, with history kept in a {@link ChatSession}
 * (KV cache reused between turns). On a terminal the input has line editing and history (JLine) and Ctrl-C
 * stops an answer; from a pipe it reads plain lines. With a prompt argument it answers once and exits.
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        header = "Chats with a model, streaming the answers.",
        description = {"Chats with a model: type a question and get the answer streamed. In the chat, /help lists the "
                + "commands (/image, /video, /reset, /system, /set, /save, /load, /quit).",
            "With PROMPT, answers once and exits."})
public final class ChatCommand implements Callable<Integer> {
    static final String HELP = """
            Type a question and press Enter; for several lines, start and end them with \"\"\".
            Ctrl-C stops an answer; Ctrl-C twice at an empty prompt, Ctrl-D or /quit leaves.
            Commands:
              /image FILE|URL        attach an image to the next question
              /video FILE            attach a video's frames (Frame1: <image> ...) to the next question
              /reset                 forget the conversation and attached images
              /system TEXT           set the system message (starts a new conversation)
              /set NAME VALUE        change a setting: %s
              /set                   show the settings
              /save FILE             save the conversation (JSON: system message and [question, answer] turns)
              /load FILE             continue a saved conversation (text only)
              /help                  this text
              /quit                  leave (also /exit)""".formatted(SamplingOptions.SET_NAMES);

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOption model;

    @Mixin
    QuantizeOption quantize;

    @Mixin
    MediaOptions media;

    @Parameters(arity = "0..1", paramLabel = "PROMPT", description = "Answer this one question and exit.")
    String prompt;

    @Mixin
    SamplingOptions sampling;

    private final InputStream in;

    public ChatCommand() {
        this(System.in);
    }

    /** For tests: reads the conversation from in, as plain lines. */
    ChatCommand(InputStream in) {
        this.in = in;
    }

    private ChatModel chat;
    private ImagePreprocessor pre;
    private ChatSession session;
    private String system;
    private final List<PixelValues> pending = new ArrayList<>();
    private int pendingFrames;
    private boolean encodedOnce;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        sampling.params(spec, 0);   // a bad setting is a usage error before the model loads
        media.checkOneKind();
        system = media.system;
        quantize.apply(spec, err);
        try (ChatModel c = ModelLoading.load(model, err)) {
            chat = c;
            pre = media.images(c);
            session = c.newSession(system).params(sampling.params(0));
            for (String ref : media.images) pending.add(pre.load(ref));
            if (media.video != null) attachVideo(media.video);
            if (prompt != null) {
                ask(prompt, out, err, () -> false);
                return 0;
            }
            if (in == System.in && System.console() != null && System.console().isTerminal()) {
                return new InteractiveChat(this, c).run(err);
            }
            return plainLoop(out, err);
        } catch (RuntimeException e) {
            if (e instanceof ParameterException) throw e;
            out.flush();
            err.println("internvl chat: " + e.getMessage());
            err.flush();
            return 1;
        }
    }

    String greeting() {
        return "Chatting with " + model.model + " (" + chat.template().name() + "). /help for commands, Ctrl-D to leave.";
    }

    /** Questions and commands from a pipe or file, one per line (or a \"\"\" block). */
    private int plainLoop(PrintWriter out, PrintWriter err) {
        out.println(greeting());
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        while (true) {
            out.print(">>> ");
            out.flush();
            String line;
            try {
                line = reader.readLine();
                if (line != null && line.strip().startsWith("\"\"\"")) line = block(line, reader::readLine);
            } catch (IOException e) {
                err.println("internvl chat: reading input: " + e.getMessage());
                return 1;
            }
            if (line == null) {
                out.println();
                return 0;
            }
            if (handle(line, out, err, () -> false) == Next.QUIT) return 0;
        }
    }

    interface LineSource {
        String next() throws IOException;
    }

    /**
     * A \"\"\" block: the text after the opening quotes up to the closing ones, over as many lines as it takes.
     * Null at end of input.
     */
    static String block(String first, LineSource more) throws IOException {
        String rest = first.strip().substring(3);
        StringBuilder text = new StringBuilder();
        String line = rest;
        while (true) {
            int close = line.indexOf("\"\"\"");
            if (close >= 0) {
                text.append(line, 0, close);
                return text.toString().strip();
            }
            text.append(line).append('\n');
            line = more.next();
            if (line == null) return text.toString().isBlank() ? null : text.toString().strip();
        }
    }

    enum Next { CONTINUE, QUIT }

    /** One line of input: a command or a question. Errors are printed, and the chat goes on. */
    Next handle(String line, PrintWriter out, PrintWriter err, java.util.function.BooleanSupplier stop) {
        String cmd = line.strip();
        if (cmd.isEmpty()) return Next.CONTINUE;
        String name = cmd.split("\\s+", 2)[0];
        String arg = cmd.length() > name.length() ? cmd.substring(name.length()).strip() : "";
        try {
            switch (name) {
                case "/quit", "/exit", "/bye" -> {
                    return Next.QUIT;
                }
                case "/help", "/?" -> out.println(HELP);
                case "/reset", "/clear" -> {
                    session.reset();
                    pending.clear();
                    pendingFrames = 0;
                    out.println("(conversation cleared)");
                }
                case "/image" -> {
                    need(name, arg, "FILE|URL");
                    PixelValues p = pre.load(arg);
                    if (pendingFrames > 0) throw new IllegalArgumentException("a video is attached; an image cannot share its question");
                    pending.add(p);
                    out.println("(image attached: " + p.tiles() + " tile" + (p.tiles() == 1 ? "" : "s") + ")");
                }
                case "/video" -> {
                    need(name, arg, "FILE");
                    attachVideo(Path.of(arg));
                    out.println("(video attached: " + pendingFrames + " frames)");
                }
                case "/system" -> {
                    need(name, arg, "TEXT");
                    system = arg;
                    session = chat.newSession(system).params(sampling.params(0));
                    out.println("(system message set; conversation cleared)");
                }
                case "/set" -> {
                    if (arg.isEmpty()) {
                        out.println(sampling.describe());
                    } else {
                        String[] kv = arg.split("\\s+", 2);
                        try {
                            sampling.set(kv[0], kv.length > 1 ? kv[1] : "");
                        } catch (IllegalArgumentException e) {
                            throw new IllegalArgumentException("/set " + e.getMessage());
                        }
                        session.params(sampling.params(0));
                        out.println("(" + sampling.describe() + ")");
                    }
                }
                case "/save" -> {
                    need(name, arg, "FILE");
                    save(Path.of(arg));
                    out.println("(saved " + session.history().size() + " turns to " + arg + ")");
                }
                case "/load" -> {
                    need(name, arg, "FILE");
                    load(Path.of(arg));
                    out.println("(loaded " + session.history().size() + " turns from " + arg + ")");
                }
                default -> {
                    if (cmd.startsWith("/")) {
                        out.println("unknown command " + name + "; /help lists them");
                    } else {
                        ask(cmd.contains("\n") ? cmd : line, out, err, stop);
                    }
                }
            }
        } catch (Stopped s) {
            out.println();
            out.println("(stopped)");
        } catch (RuntimeException e) {
            out.flush();
            err.println("error: " + e.getMessage());
            err.flush();
        }
        out.flush();
        return Next.CONTINUE;
    }

    private static void need(String command, String arg, String what) {
        if (arg.isEmpty()) throw new IllegalArgumentException(command + " needs a " + what + ", e.g. " + command + " "
                + switch (what) {
                    case "FILE|URL" -> "cat.jpg";
                    case "FILE" -> command.equals("/video") ? "clip.mp4" : "chat.json";
                    default -> "You are a terse assistant.";
                });
    }

    /** Thrown out of the streaming callback when Ctrl-C asks to stop the answer. */
    static final class Stopped extends RuntimeException {
        Stopped() {
            super("stopped", null, false, false);
        }
    }

    private void attachVideo(Path file) {
        if (!pending.isEmpty()) throw new IllegalArgumentException("a video cannot share a question with other images or videos");
        pending.addAll(VideoLoader.load(file, media.segments, null, media.frames(chat)).frames());
        pendingFrames = pending.size();
    }

    private void ask(String question, PrintWriter out, PrintWriter err, java.util.function.BooleanSupplier stop) {
        if (pendingFrames > 0) question = ChatQuery.videoFrames(pendingFrames, question);
        List<PixelValues> imgs = List.copyOf(pending);
        boolean[] started = {false};
        Progress encoding = null;
        if (!imgs.isEmpty() && !encodedOnce) {
            int tiles = imgs.stream().mapToInt(PixelValues::tiles).sum();
            encoding = Progress.task(err, "encoding " + tiles + " image tile" + (tiles == 1 ? "" : "s") + " (the first time compiles the vision tower)");
        }
        Progress first = encoding;
        try {
            session.ask(question, imgs, piece -> {
                if (!started[0] && first != null) first.close();
                started[0] = true;
                if (stop.getAsBoolean()) throw new Stopped();
                out.print(piece);
                out.flush();
            });
        } finally {
            if (first != null) first.close();
        }
        if (!imgs.isEmpty()) encodedOnce = true;
        pending.clear();
        pendingFrames = 0;
        out.println();
        out.flush();
    }

    private void save(Path file) {
        ObjectNode root = Json.mapper().createObjectNode();
        if (system == null) root.putNull("system");
        else root.put("system", system);
        ArrayNode turns = root.putArray("history");
        for (Turn t : session.history()) turns.addArray().add(t.question()).add(t.answer());
        try {
            Files.writeString(file, root.toPrettyString() + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write (" + e.getMessage() + ")", e);
        }
    }

    /** A file /save wrote ({"system": ..., "history": [...]}) or a --history list of [question, answer] pairs. */
    private void load(Path file) {
        JsonNode root = InputFiles.readJson("/load", file);
        JsonNode turns = root.isObject() ? root.get("history") : root;
        String sys = system;
        if (root.isObject() && root.has("system")) sys = root.get("system").isNull() ? null : root.get("system").asText();
        if (turns == null || !turns.isArray()) {
            throw new IllegalArgumentException("/load " + file + ": expected {\"system\": ..., \"history\": [[question, answer], ...]}");
        }
        List<Turn> history = new ArrayList<>();
        for (int i = 0; i < turns.size(); i++) {
            JsonNode t = turns.get(i);
            if (!t.isArray() || t.size() != 2 || !t.get(0).isTextual() || !t.get(1).isTextual()) {
                throw new IllegalArgumentException("/load " + file + ": turn " + (i + 1) + " is not a [question, answer] pair of strings");
            }
            history.add(new Turn(t.get(0).asText(), t.get(1).asText()));
        }
        session = chat.newSession(sys, history).params(sampling.params(0));
        system = sys;
        pending.clear();
        pendingFrames = 0;
    }
}
