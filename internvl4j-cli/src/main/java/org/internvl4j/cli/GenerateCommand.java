package org.internvl4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.internvl4j.chat.ChatModel;
import org.internvl4j.chat.ChatQuery;
import org.internvl4j.chat.ChatRequest;
import org.internvl4j.chat.ChatResult;
import org.internvl4j.chat.Turn;
import org.internvl4j.generate.SamplingParams;
import org.internvl4j.generate.TokenLogprob;
import org.internvl4j.image.ImagePreprocessor;
import org.internvl4j.image.PixelValues;
import org.internvl4j.image.VideoFrames;
import org.internvl4j.image.VideoLoader;
import org.internvl4j.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import org.internvl4j.util.Json;

/** {@code internvl generate}: one chat() call for scripts, with an optional JSON report. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        header = "Answers one prompt and exits, as text or JSON.",
        description = {"Answers one prompt, as the model card's chat() does, and exits.",
            "The prompt is the PROMPT argument (or --prompt TEXT). <image> placeholders in the prompt take the --image files in order (one patch count per image). With no "
                + "placeholder and no history, <image>\\n is prepended and the tiles of all images go into it; "
                + "--separate-images numbers them instead (Image-1: <image>\\n...). History questions keep their own "
                + "placeholders, filled first."})
public final class GenerateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOption model;

    @Mixin
    QuantizeOption quantize;

    @Parameters(arity = "0..1", paramLabel = "PROMPT", description = "The question.")
    String positionalPrompt;

    @Option(names = "--prompt", paramLabel = "TEXT", description = "The question, as an option (instead of PROMPT).")
    String optionPrompt;

    @Mixin
    MediaOptions media;

    @Option(names = "--separate-images", description = "Without placeholders: one numbered <image> per image instead of one shared.")
    boolean separateImages;





    @Option(names = "--history", paramLabel = "FILE", description = "JSON list of [question, answer] pairs.")
    Path history;

    @Option(names = "--logprobs", paramLabel = "K",
            description = "Report the top K log-probabilities of every step: in the JSON with --json, else as a table after the answer.")
    int logprobs;

    @Option(names = "--stop", paramLabel = "TEXT", description = "Stop when the response contains TEXT (repeatable).")
    List<String> stop = new ArrayList<>();

    @Option(names = "--json", description = "Print {prompt_token_ids, token_ids, text, logprobs, finish_reason, timings} instead of the text.")
    boolean json;

    @Mixin
    SamplingOptions sampling;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String prompt = prompt();
        if (logprobs < 0) throw new ParameterException(spec.commandLine(), "--logprobs must be at least 0, got " + logprobs);
        SamplingParams params = sampling.params(spec, logprobs);
        quantize.apply(spec, err);
        try (ChatModel chat = ModelLoading.load(model, err)) {
            ChatRequest req = request(chat, prompt, params);
            ChatResult r = json ? chat.chat(req) : chat.chat(req, piece -> {
                out.print(piece);
                out.flush();
            });
            if (json) {
                out.println(toJson(r, chat.tokenizer()));
            } else {
                out.println();
                if (logprobs > 0) printLogprobs(out, r, chat.tokenizer());
            }
            out.flush();
            return 0;
        } catch (RuntimeException e) {
            if (e instanceof ParameterException) throw e;
            out.flush();
            err.println("internvl generate: " + e.getMessage());
            err.flush();
            return 1;
        }
    }

    /** The prompt, given once: as PROMPT or with --prompt. */
    private String prompt() {
        if (positionalPrompt != null && optionPrompt != null) {
            throw new ParameterException(spec.commandLine(), "the prompt is given twice: as PROMPT and with --prompt; give one");
        }
        String p = positionalPrompt != null ? positionalPrompt : optionPrompt;
        if (p == null) throw new ParameterException(spec.commandLine(), "missing the prompt: give it as PROMPT or with --prompt TEXT");
        return p;
    }

    ChatRequest request(ChatModel chat, String prompt, SamplingParams params) {
        media.checkOneKind();
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
        return new ChatRequest(question, pixels, null, readHistory(), media.system, params, stop);
    }

    private List<Turn> readHistory() {
        if (history == null) return null;
        JsonNode root = InputFiles.readJson("--history", history);
        if (!root.isArray()) throw new IllegalArgumentException("--history " + history + ": expected a JSON list of [question, answer] pairs");
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

    /** The --logprobs table: each step's chosen token, then the top K with their log-probabilities. */
    static void printLogprobs(PrintWriter out, ChatResult r, Tokenizer tok) {
        out.println();
        out.printf("%4s  %-16s %9s  %s%n", "step", "token", "logprob", "top alternatives (logprob)");
        int[] ids = r.tokenIds();
        for (int s = 0; s < r.logprobs().size() && s < ids.length; s++) {
            List<TokenLogprob> top = r.logprobs().get(s);
            float chosen = Float.NaN;
            StringBuilder alts = new StringBuilder();
            for (TokenLogprob lp : top) {
                if (lp.id() == ids[s]) chosen = lp.logprob();
                if (!alts.isEmpty()) alts.append("  ");
                alts.append(quoted(TokenText.of(tok, lp.id()).token())).append(String.format(Locale.ROOT, " %.3f", lp.logprob()));
            }
            out.printf(Locale.ROOT, "%4d  %-16s %9s  %s%n", s + 1, quoted(TokenText.of(tok, ids[s]).token()),
                    Float.isNaN(chosen) ? "(not in top)" : String.format(Locale.ROOT, "%.3f", chosen), alts);
        }
    }

    private static String quoted(String token) {
        return '"' + token.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\"", "\\\"") + '"';
    }

    static String toJson(ChatResult r, Tokenizer tok) {
        ObjectMapper m = Json.mapper();
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
                for (TokenLogprob lp : step) {
                    TokenText text = TokenText.of(tok, lp.id());
                    ObjectNode e = s.addObject().put("id", lp.id()).put("token", text.token());
                    ArrayNode bytes = e.putArray("bytes");
                    for (byte b : text.bytes()) bytes.add(b & 0xff);
                    e.put("logprob", lp.logprob());
                }
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
