package org.internvl4j.cli;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.internvl4j.chat.ChatModel;
import org.internvl4j.chat.ChatQuery;
import org.internvl4j.chat.ChatSession;
import org.internvl4j.image.ImagePreprocessor;
import org.internvl4j.image.PixelValues;
import org.internvl4j.image.VideoLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code internvl chat}: an interactive conversation on the terminal (or any stdin), streamed, with history kept
 * in a {@link ChatSession} (KV cache reused between turns). With a prompt argument it answers once and exits.
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = {"Chats with a model: type a question, get the answer streamed. Commands: /image FILE, "
                + "/video FILE, /reset, /help, /quit.",
            "With PROMPT, answers once and exits."})
public final class ChatCommand implements Callable<Integer> {
    static final String HELP = """
            Type a question and press Enter. Commands:
              /image FILE   attach an image (path, URL or data URI) to the next question
              /video FILE   attach a video's frames (Frame1: <image> ...) to the next question
              /reset        forget the conversation and attached images
              /help         this text
              /quit         leave (also /exit or end of input)""";

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOption model;






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

    /** For tests: reads the conversation from in. */
    ChatCommand(InputStream in) {
        this.in = in;
    }

    private ChatModel chat;
    private ImagePreprocessor pre;
    private final List<PixelValues> pending = new ArrayList<>();
    private int pendingFrames;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (ChatModel c = ChatModel.load(model.resolve())) {
            chat = c;
            pre = media.images(c);
            ChatSession session = c.newSession(media.system).params(sampling.params(0));
            media.checkOneKind();
            for (String ref : media.images) pending.add(pre.load(ref));
            if (media.video != null) attachVideo(media.video);
            if (prompt != null) {
                ask(session, prompt, out);
                return 0;
            }
            return loop(session, out, err);
        } catch (RuntimeException e) {
            err.println("internvl chat: " + e.getMessage());
            err.flush();
            return 1;
        }
    }

    private int loop(ChatSession session, PrintWriter out, PrintWriter err) {
        out.println("Chatting with " + model.model + " (" + chat.template().name() + "). /help for commands.");
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        while (true) {
            out.print(">>> ");
            out.flush();
            String line;
            try {
                line = reader.readLine();
            } catch (IOException e) {
                err.println("internvl chat: reading input: " + e.getMessage());
                return 1;
            }
            if (line == null) {
                out.println();
                return 0;
            }
            String cmd = line.strip();
            if (cmd.isEmpty()) continue;
            try {
                if (cmd.equals("/quit") || cmd.equals("/exit")) return 0;
                else if (cmd.equals("/help")) out.println(HELP);
                else if (cmd.equals("/reset")) {
                    session.reset();
                    pending.clear();
                    pendingFrames = 0;
                    out.println("(conversation cleared)");
                } else if (cmd.startsWith("/image ")) {
                    pending.add(pre.load(cmd.substring(7).strip()));
                    PixelValues p = pending.get(pending.size() - 1);
                    out.println("(image attached: " + p.tiles() + " tile" + (p.tiles() == 1 ? "" : "s") + ")");
                } else if (cmd.startsWith("/video ")) {
                    attachVideo(Path.of(cmd.substring(7).strip()));
                    out.println("(video attached: " + pendingFrames + " frames)");
                } else if (cmd.startsWith("/")) {
                    out.println("unknown command " + cmd.split("\\s+")[0] + "; /help lists them");
                } else {
                    ask(session, line, out);
                }
            } catch (RuntimeException e) {
                out.flush();
                err.println("error: " + e.getMessage());
                err.flush();
            }
        }
    }

    private void attachVideo(Path file) {
        if (!pending.isEmpty()) throw new IllegalArgumentException("a video cannot share a question with other images or videos");
        pending.addAll(VideoLoader.load(file, media.segments, null, media.frames(chat)).frames());
        pendingFrames = pending.size();
    }

    private void ask(ChatSession session, String question, PrintWriter out) {
        if (pendingFrames > 0) question = ChatQuery.videoFrames(pendingFrames, question);
        List<PixelValues> imgs = List.copyOf(pending);
        session.ask(question, imgs, piece -> {
            out.print(piece);
            out.flush();
        });
        pending.clear();
        pendingFrames = 0;
        out.println();
        out.flush();
    }
}
