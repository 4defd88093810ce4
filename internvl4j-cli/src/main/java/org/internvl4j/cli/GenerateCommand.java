package org.internvl4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.internvl4j.chat.ChatModel;
import org.internvl4j.chat.ChatQuery;
import org.internvl4j.chat.ChatRequest;
import org.internvl4j.chat.ChatResult;
import org.internvl4j.chat.Turn;
import org.internvl4j.generate.TokenLogprob;
import org.internvl4j.image.ImagePreprocessor;
import org.internvl4j.image.PixelValues;
import org.internvl4j.image.VideoFrames;
import org.internvl4j.image.VideoLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code internvl generate}: one chat() call for scripts, with an optional JSON report. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Answers one prompt, as the model card's chat() does, and exits.",
            "<image> placeholders in the prompt take the --image files in order (one patch count per image). With no "
                + "placeholder and no history, <image>\\n is prepended and the tiles of all images go into it; "
                + "--separate-images numbers them instead (Image-1: <image>\\n...). History questions keep their own "
                + "placeholders, filled first."})
public final class GenerateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOption model;

    @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "The question.")
    String prompt;


    @Mixin
    MediaOptions media;

    @Option(names = "--separate-images", description = "Without placeholders: one numbered <image> per image instead of one shared.")
    boolean separateImages;





    @Option(names = "--history", paramLabel = "FILE", description = "JSON list of [question, answer] pairs.")
    Path history;

    @Option(names = "--logprobs", paramLabel = "K", description = "Report the top K log-probabilities of every step (with --json).")
    int logprobs;

    @Option(names = "--stop", paramLabel = "TEXT", description = "Stop when the response contains TEXT (repeatable).")
    List<String> stop = new ArrayList<>();

    @Option(names = "--json", description = "Print {prompt_token_ids, token_ids, text, logprobs, timings} instead of the text.")
    boolean json;

    @Mixin
    SamplingOptions sampling;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (ChatModel chat = ChatModel.load(model.resolve())) {
            ChatRequest req = request(chat);
            ChatResult r = json ? chat.chat(req) : chat.chat(req, piece -> {
                out.print(piece);
                out.flush();
            });
            if (json) out.println(toJson(r));
            else out.println();
            out.flush();
            return 0;
        } catch (RuntimeException e) {
            err.println("internvl generate: " + e.getMessage());
            err.flush();
            return 1;
        }
    }

    ChatRequest request(ChatModel chat) {
        media.checkOneKind();
        if (logprobs < 0) throw new IllegalArgumentException("--logprobs must be >= 0, got " + logprobs);
        String question = prompt;
        List<PixelValues> pixels = new ArrayList<>();
        if (media.video != null) {
            VideoFrames v = VideoLoader.load(media.video, media.segments, null, media.frames(chat));
            pixels.addAll(v.frames());
            question = ChatQuery.videoFrames(pixels.size(), question);
        } else {
            ImagePreprocessor pre = media.images(chat);
            for (String ref : media.images) pixels.add(pre.load(ref));
            if (separateImages && !pixels.isEmpty() && !question.contains(ChatQuery.IMAGE_PLACEHOLDER)) {
                question = ChatQuery.numberedImages(pixels.size(), question);
            }
        }
        return new ChatRequest(question, pixels, null, readHistory(), media.system, sampling.params(logprobs), stop);
    }

    private List<Turn> readHistory() {
        if (history == null) return null;
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readString(history));
        } catch (IOException e) {
            throw new IllegalArgumentException("--history " + history + ": " + e.getMessage(), e);
        }
        if (root == null || !root.isArray()) throw new IllegalArgumentException("--history " + history + ": expected a JSON list of [question, answer] pairs");
        List<Turn> turns = new ArrayList<>();
        for (int i = 0; i < root.size(); i++) {
            JsonNode t = root.get(i);
            if (!t.isArray() || t.size() != 2 || !t.get(0).isTextual() || !t.get(1).isTextual()) {
                throw new IllegalArgumentException("--history " + history + ": entry " + i + " is not a [question, answer] pair of strings");
            }
            turns.add(new Turn(t.get(0).asText(), t.get(1).asText()));
        }
        return turns;
    }

    static String toJson(ChatResult r) {
        ObjectMapper m = new ObjectMapper();
        ObjectNode o = m.createObjectNode();
        ArrayNode p = o.putArray("prompt_token_ids");
        for (int id : r.promptIds()) p.add(id);
        ArrayNode t = o.putArray("token_ids");
        for (int id : r.tokenIds()) t.add(id);
        o.put("text", r.response());
        boolean any = r.logprobs().stream().anyMatch(l -> !l.isEmpty());
        if (any) {
            ArrayNode lps = o.putArray("logprobs");
            for (List<TokenLogprob> step : r.logprobs()) {
                ArrayNode s = lps.addArray();
                for (TokenLogprob lp : step) s.addObject().put("id", lp.id()).put("logprob", lp.logprob());
            }
        } else {
            o.putNull("logprobs");
        }
        o.put("finish_reason", r.finishReason().name().toLowerCase());
        ObjectNode tm = o.putObject("timings");
        var ti = r.timings();
        tm.put("vision_ms", ti.visionNanos() / 1e6);
        tm.put("prefill_ms", ti.prefillNanos() / 1e6);
        tm.put("prefill_tokens", ti.prefillTokens());
        tm.put("decode_ms", ti.decodeNanos() / 1e6);
        tm.put("decode_tokens", ti.decodeTokens());
        tm.put("prefill_tokens_per_s", ti.prefillTokensPerSecond());
        tm.put("decode_tokens_per_s", ti.decodeTokensPerSecond());
        return o.toString();
    }
}
