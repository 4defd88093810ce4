package org.internvl4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.internvl4j.chat.ChatModel;
import org.internvl4j.chat.ChatQuery;
import org.internvl4j.chat.ResponseText;
import org.internvl4j.engine.Engine;
import org.internvl4j.engine.EngineFullException;
import org.internvl4j.engine.EngineRequest;
import org.internvl4j.engine.Finish;
import org.internvl4j.engine.SequenceListener;
import org.internvl4j.generate.SamplingParams;
import org.internvl4j.generate.TokenLogprob;
import org.internvl4j.image.PixelValues;
import org.internvl4j.tokenizer.Detokenizer;
import org.internvl4j.tokenizer.Tokenizer;

/**
 * {@code POST /v1/chat/completions} and {@code POST /v1/completions}: parses and checks the request, hands one
 * sequence per choice to the engine, and answers with one JSON body or a stream of server-sent events ending with
 * {@code data: [DONE]}. A client that goes away (a failed write) cancels its sequences.
 */
final class CompletionHandler {
    static final int MAX_N = 16;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final ChatModel chat;
    private final Tokenizer tokenizer;
    private final Engine engine;
    private final ImageInputs images;
    private final Metrics metrics;
    private final ObjectMapper json;
    private final String modelName;
    private final int sessionLen;

    CompletionHandler(ChatModel chat, Engine engine, ImageInputs images, Metrics metrics, ObjectMapper json,
                      String modelName, int sessionLen) {
        this.chat = chat;
        this.tokenizer = chat.tokenizer();
        this.engine = engine;
        this.images = images;
        this.metrics = metrics;
        this.json = json;
        this.modelName = modelName;
        this.sessionLen = sessionLen;
    }

    /** A checked request, ready to run. */
    record Job(boolean chatApi, int[] promptIds, List<PixelValues> images, List<SamplingParams> choices,
               List<String> stops, boolean stream, boolean includeUsage, boolean logprobs, int topLogprobs) {}

    void chatCompletions(Context ctx, JsonNode body, long arrivalNanos) {
        checkModel(body);
        ChatPrompt.Built built = ChatPrompt.build(body.get("messages"), chat.template(), images, chat.model().imageTokensPerTile());
        int[] ids = tokenizer.encode(built.text());
        boolean logprobs = Fields.bool(body, "logprobs", false);
        int top = (int) Fields.integer(body, "top_logprobs", 0, 0, 20);
        if (top > 0 && !logprobs) throw ApiError.badRequest("'top_logprobs' needs 'logprobs': true", "top_logprobs");
        Job job = job(true, body, ids, built.images(), logprobs, top, Set.of(chat.stopTokenId()));
        run(ctx, job, arrivalNanos);
    }

    void completions(Context ctx, JsonNode body, long arrivalNanos) {
        checkModel(body);
        JsonNode p = body.get("prompt");
        String prompt;
        if (p == null || p.isNull()) throw ApiError.badRequest("'prompt' is required", "prompt");
        if (p.isTextual()) prompt = p.textValue();
        else if (p.isArray() && p.size() == 1 && p.get(0).isTextual()) prompt = p.get(0).textValue();
        else throw ApiError.badRequest("'prompt' must be a string (or an array of one string)", "prompt");
        if (ChatQuery.countPlaceholders(prompt) > 0 || prompt.contains(ChatQuery.IMG_CONTEXT_TOKEN)) {
            throw ApiError.badRequest("'prompt' must not hold image tokens: use /v1/chat/completions for images", "prompt");
        }
        if (Fields.bool(body, "echo", false)) throw ApiError.badRequest("'echo' is not supported", "echo");
        if (!Fields.absent(body, "suffix")) throw ApiError.badRequest("'suffix' is not supported", "suffix");
        int logprobs = (int) Fields.integer(body, "logprobs", -1, 0, 5);
        Set<Integer> eos = new HashSet<>(chat.model().generationEosIds());
        eos.add(tokenizer.eosId());
        Job job = job(false, body, tokenizer.encode(prompt), List.of(), logprobs >= 0, Math.max(0, logprobs), eos);
        run(ctx, job, arrivalNanos);
    }

    private void checkModel(JsonNode body) {
        if (!body.isObject()) throw ApiError.badRequest("the request body must be a JSON object", null);
        String model = Fields.string(body, "model");
        if (model != null && !model.equals(modelName)) {
            throw new ApiError(404, "The model '" + model + "' does not exist; this server serves '" + modelName + "'",
                    "invalid_request_error", "model", "model_not_found", 0);
        }
    }

    private Job job(boolean chatApi, JsonNode body, int[] ids, List<PixelValues> imgs, boolean logprobs, int top,
                    Set<Integer> stopIds) {
        int n = (int) Fields.integer(body, "n", 1, 1, MAX_N);
        boolean stream = Fields.bool(body, "stream", false);
        boolean includeUsage = false;
        if (!Fields.absent(body, "stream_options")) {
            JsonNode so = body.get("stream_options");
            if (!stream) throw ApiError.badRequest("'stream_options' is only allowed with 'stream': true", "stream_options");
            if (!so.isObject()) throw ApiError.badRequest("'stream_options' must be an object", "stream_options");
            includeUsage = Fields.bool(so, "include_usage", false);
        }
        double temperature = Fields.number(body, "temperature", 0, 0, 2);
        double topP = Fields.number(body, "top_p", 1, 0, 1);
        int topK = (int) Fields.integer(body, "top_k", 0, -1, Integer.MAX_VALUE);
        double rep = Fields.number(body, "repetition_penalty", 1, 1e-6, 100);
        for (String name : List.of("frequency_penalty", "presence_penalty")) {
            if (Fields.number(body, name, 0, -2, 2) != 0) {
                throw ApiError.badRequest("'" + name + "' is not supported; use 'repetition_penalty'", name);
            }
        }
        long seed = Fields.absent(body, "seed") ? RANDOM.nextLong() : Fields.integer(body, "seed", 0, Long.MIN_VALUE, Long.MAX_VALUE);
        String maxName = !Fields.absent(body, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        long maxTokens = Fields.integer(body, maxName, -1, 1, Integer.MAX_VALUE);
        List<String> stops = Fields.stops(body);
        if (ids.length + 1 > sessionLen) {
            throw ApiError.badRequest("the prompt has " + ids.length + " tokens but this server's context (--session-len) is "
                    + sessionLen + " tokens", "messages", "context_length_exceeded");
        }
        if (maxTokens < 0) maxTokens = sessionLen - ids.length;
        else if (ids.length + maxTokens > sessionLen) {
            throw ApiError.badRequest("the prompt's " + ids.length + " tokens plus " + maxName + " " + maxTokens
                    + " exceed this server's context (--session-len) of " + sessionLen + " tokens", maxName, "context_length_exceeded");
        }
        boolean sample = temperature > 0;
        List<SamplingParams> choices = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            choices.add(new SamplingParams((int) maxTokens, sample, sample ? (float) temperature : 1f,
                    sample ? Math.max(0, topK) : 0, sample && topP > 0 ? (float) topP : 1f, (float) rep, seed + i, stopIds, top));
            if (sample && topP == 0) choices.set(i, new SamplingParams((int) maxTokens, true, (float) temperature, 1, 1f,
                    (float) rep, seed + i, stopIds, top));
        }
        return new Job(chatApi, ids, imgs, choices, stops, stream, includeUsage, logprobs, top);
    }

    // ---------------------------------------------------------------- running

    private sealed interface Event permits TokenEvent, FinishEvent {}

    private record TokenEvent(int choice, int id, float logprob, List<TokenLogprob> top) implements Event {}

    private record FinishEvent(int choice, Finish finish, SequenceListener.Usage usage, RuntimeException error) implements Event {}

    /** One choice's text as it is generated. */
    private final class Choice {
        final int index;
        final Detokenizer detok = tokenizer.newStreamingDetokenizer(true);
        final ResponseText chatText;
        final StopText rawText;
        final ArrayNode logprobs = json.createArrayNode();
        int tokens;
        String finishReason;
        boolean done;

        Choice(int index, Job job) {
            this.index = index;
            List<String> stops = new ArrayList<>();
            if (job.chatApi()) stops.add(chat.template().stopString());
            stops.addAll(job.stops());
            this.chatText = job.chatApi() ? new ResponseText(stops) : null;
            this.rawText = job.chatApi() ? null : new StopText(stops);
        }

        String push(int id) {
            String piece = detok.push(id);
            return chatText != null ? chatText.push(piece) : rawText.push(piece);
        }

        String flush() {
            String piece = detok.flush();
            return chatText != null ? chatText.push(piece) + chatText.finish() : rawText.push(piece) + rawText.finish();
        }

        boolean stopped() {
            return chatText != null ? chatText.stopped() : rawText.stopped();
        }

        String text() {
            return chatText != null ? chatText.text() : rawText.text();
        }
    }

    private void run(Context ctx, Job job, long arrivalNanos) {
        ClientWatch watch = new ClientWatch(ctx);
        LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
        List<Engine.Handle> handles = new ArrayList<>();
        for (int i = 0; i < job.choices().size(); i++) {
            int choice = i;
            EngineRequest req = new EngineRequest(job.promptIds(), job.images(), chat.imageContextTokenId(), job.choices().get(i), job.logprobs());
            try {
                engine.validate(req);
                handles.add(engine.submit(req, new SequenceListener() {
                    @Override
                    public boolean onToken(int tokenId, float logprob, List<TokenLogprob> top) {
                        events.add(new TokenEvent(choice, tokenId, logprob, top));
                        return true;
                    }

                    @Override
                    public void onFinish(Finish finish, Usage usage, RuntimeException error) {
                        events.add(new FinishEvent(choice, finish, usage, error));
                    }
                }));
            } catch (IllegalArgumentException e) {
                handles.forEach(Engine.Handle::cancel);
                throw ApiError.badRequest(e.getMessage(), job.chatApi() ? "messages" : "prompt");
            } catch (EngineFullException e) {
                handles.forEach(Engine.Handle::cancel);
                throw e.shutdown() ? new ApiError(503, e.getMessage(), "server_error", null, "service_unavailable", e.retryAfterSeconds())
                        : new ApiError(429, e.getMessage(), "rate_limit_error", null, "rate_limit_exceeded", e.retryAfterSeconds());
            }
        }
        String id = (job.chatApi() ? "chatcmpl-" : "cmpl-") + HexFormat.of().formatHex(RANDOM.generateSeed(12));
        long created = System.currentTimeMillis() / 1000;
        try {
            if (job.stream()) stream(ctx, job, events, handles, id, created, arrivalNanos, watch);
            else whole(ctx, job, events, handles, id, created, arrivalNanos, watch);
        } finally {
            handles.forEach(Engine.Handle::cancel); // no-op for finished sequences; frees blocks of abandoned ones
        }
    }

    /** Takes events until every choice is done; feeds each to onEvent. */
    private interface Sink {
        void token(Choice c, TokenEvent t, String visible) throws IOException;

        void finish(Choice c, String visible) throws IOException;

        /** Called when no event came for WATCH_MILLIS; throws ClientGone if the client went away. */
        void idle() throws IOException;
    }

    /** How often a request with nothing to send checks its client. */
    static final long WATCH_MILLIS = 100;
    /** A response with nothing to send writes this often (an SSE comment, or a space before the JSON): a write fails once the client is gone. */
    static final long PING_NANOS = 500_000_000L;

    /** The client closed its connection. */
    static final class ClientGone extends IOException {
        ClientGone() {
            super("the client closed the connection");
        }
    }

    /**
     * Notices a client that goes away while its request waits or prefills, not only at the next write: Jetty fails
     * the request (its failure listener) or closes the endpoint when it sees the connection close.
     */
    static final class ClientWatch {
        private volatile boolean failed;
        private final org.eclipse.jetty.io.EndPoint endPoint;

        ClientWatch(Context ctx) {
            org.eclipse.jetty.io.EndPoint ep = null;
            try {
                org.eclipse.jetty.server.Request r = org.eclipse.jetty.ee10.servlet.ServletContextRequest.getServletContextRequest(ctx.req());
                if (r != null) {
                    r.addFailureListener(t -> failed = true);
                    ep = r.getConnectionMetaData().getConnection().getEndPoint();
                }
            } catch (RuntimeException e) {
                // not on Jetty's servlet request (a test double): only writes tell
            }
            this.endPoint = ep;
        }

        boolean gone() {
            return failed || (endPoint != null && !endPoint.isOpen());
        }
    }

    private SequenceListener.Usage drain(Job job, LinkedBlockingQueue<Event> events, List<Engine.Handle> handles,
                                         List<Choice> choices, long arrivalNanos, Sink sink) throws IOException {
        int open = choices.size();
        boolean first = true;
        int completion = 0, cached = 0;
        while (open > 0) {
            Event e;
            try {
                e = events.poll(WATCH_MILLIS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", ie);
            }
            if (e == null) { // nothing yet (waiting, prefilling, a slow step): is the client still there?
                sink.idle();
                continue;
            }
            switch (e) {
                case TokenEvent t -> {
                    Choice c = choices.get(t.choice());
                    if (c.done || c.stopped()) continue;
                    if (first) {
                        first = false;
                        metrics.timeToFirstToken((System.nanoTime() - arrivalNanos) / 1e9);
                    }
                    c.tokens++;
                    String visible = c.push(t.id());
                    if (job.logprobs()) c.logprobs.add(logprobEntry(job, t));
                    sink.token(c, t, visible);
                    if (c.stopped()) {
                        c.finishReason = "stop"; // a stop string
                        handles.get(c.index).cancel();
                    }
                }
                case FinishEvent f -> {
                    Choice c = choices.get(f.choice());
                    if (f.error() instanceof IllegalArgumentException bad && !c.stopped()) { // refused by the engine (KV budget)
                        throw ApiError.badRequest(bad.getMessage(), job.chatApi() ? "messages" : "prompt");
                    }
                    if (f.error() != null && !c.stopped()) {
                        throw new ApiError(500, "generation failed: " + f.error().getMessage(), "server_error", null, null, 0);
                    }
                    String last = c.flush();
                    if (c.finishReason == null) c.finishReason = finishReason(f.finish());
                    c.done = true;
                    open--;
                    completion += c.tokens;
                    cached = f.usage().cachedTokens();
                    sink.finish(c, last);
                }
            }
        }
        return new SequenceListener.Usage(job.promptIds().length, completion, cached, 0);
    }

    /**
     * OpenAI's finish_reason strings, plus "abort" (vLLM's word for a request the server ended) when the server's
     * request timeout ended it: neither "stop" nor "length" would tell the client why its answer is cut.
     */
    static String finishReason(Finish f) {
        return switch (f) {
            case STOP, CANCELLED -> "stop"; // CANCELLED: a stop string ended it (a client that went away gets nothing)
            case LENGTH -> "length";
            case TIMEOUT -> "abort";
        };
    }

    private ObjectNode logprobEntry(Job job, TokenEvent t) {
        ObjectNode o = json.createObjectNode();
        String tok = tokenizer.decode(new int[] {t.id()}, false);
        o.put("token", tok);
        o.put("logprob", t.logprob());
        o.set("bytes", bytes(tok));
        ArrayNode top = o.putArray("top_logprobs");
        for (TokenLogprob lp : t.top()) {
            String s = tokenizer.decode(new int[] {lp.id()}, false);
            top.addObject().put("token", s).put("logprob", lp.logprob()).set("bytes", bytes(s));
        }
        return o;
    }

    private ArrayNode bytes(String s) {
        ArrayNode a = json.createArrayNode();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) a.add(b & 0xff);
        return a;
    }

    /** The legacy completions logprobs object: tokens, token_logprobs, top_logprobs, text_offset. */
    private ObjectNode legacyLogprobs(ArrayNode entries) {
        ObjectNode o = json.createObjectNode();
        ArrayNode tokens = o.putArray("tokens"), lps = o.putArray("token_logprobs"), tops = o.putArray("top_logprobs");
        ArrayNode offsets = o.putArray("text_offset");
        int offset = 0;
        for (JsonNode e : entries) {
            tokens.add(e.get("token").textValue());
            lps.add(e.get("logprob").floatValue());
            ObjectNode top = tops.addObject();
            for (JsonNode t : e.get("top_logprobs")) top.put(t.get("token").textValue(), t.get("logprob").floatValue());
            offsets.add(offset);
            offset += e.get("token").textValue().length();
        }
        return o;
    }

    private ObjectNode usageJson(SequenceListener.Usage u) {
        ObjectNode o = json.createObjectNode();
        o.put("prompt_tokens", u.promptTokens());
        o.put("completion_tokens", u.completionTokens());
        o.put("total_tokens", u.promptTokens() + u.completionTokens());
        o.putObject("prompt_tokens_details").put("cached_tokens", u.cachedTokens());
        return o;
    }

    private void whole(Context ctx, Job job, LinkedBlockingQueue<Event> events, List<Engine.Handle> handles, String id,
                       long created, long arrivalNanos, ClientWatch watch) {
        List<Choice> choices = new ArrayList<>();
        for (int i = 0; i < job.choices().size(); i++) choices.add(new Choice(i, job));
        SequenceListener.Usage usage;
        OutputStream[] committed = {null}; // the body's stream once a ping went out
        try {
            usage = drain(job, events, handles, choices, arrivalNanos, new Sink() {
                long since = System.nanoTime();

                @Override
                public void token(Choice c, TokenEvent t, String visible) {
                }

                @Override
                public void finish(Choice c, String visible) {
                }

                @Override
                public void idle() throws IOException {
                    if (watch.gone()) throw new ClientGone();
                    if (System.nanoTime() - since > PING_NANOS) {
                        // Jetty does not see a client's FIN while nothing is written, so a JSON body that is still
                        // being computed starts with spaces (JSON allows them): once the client is gone, the next
                        // write fails. This commits the 200; a later failure still sends an error object.
                        if (committed[0] == null) {
                            ctx.status(200).contentType("application/json");
                            committed[0] = ctx.res().getOutputStream();
                        }
                        committed[0].write(' ');
                        committed[0].flush();
                        since = System.nanoTime();
                    }
                }
            });
        } catch (IOException e) {
            ctx.attribute(OpenAiServer.TOKENS_ATTR, "client gone"); // run()'s finally cancels its sequences
            return;
        } catch (ApiError e) {
            if (committed[0] == null) throw e;
            writeCommitted(ctx, committed[0], OpenAiServer.errorBody(e, json));
            return;
        }
        ObjectNode out = json.createObjectNode();
        out.put("id", id);
        out.put("object", job.chatApi() ? "chat.completion" : "text_completion");
        out.put("created", created);
        out.put("model", modelName);
        ArrayNode arr = out.putArray("choices");
        for (Choice c : choices) {
            ObjectNode o = arr.addObject();
            o.put("index", c.index);
            if (job.chatApi()) {
                o.putObject("message").put("role", "assistant").put("content", c.text());
                if (job.logprobs()) o.putObject("logprobs").set("content", c.logprobs);
                else o.putNull("logprobs");
            } else {
                o.put("text", c.text());
                if (job.logprobs()) o.set("logprobs", legacyLogprobs(c.logprobs));
                else o.putNull("logprobs");
            }
            o.put("finish_reason", c.finishReason);
        }
        out.set("usage", usageJson(usage));
        ctx.attribute(OpenAiServer.TOKENS_ATTR, usage.promptTokens() + "+" + usage.completionTokens());
        if (committed[0] != null) writeCommitted(ctx, committed[0], out);
        else OpenAiServer.writeJson(ctx, 200, out, json);
    }

    private void writeCommitted(Context ctx, OutputStream out, JsonNode body) {
        try {
            out.write(json.writeValueAsBytes(body));
            out.flush();
        } catch (IOException e) {
            ctx.attribute(OpenAiServer.TOKENS_ATTR, "client gone");
        }
    }

    private void stream(Context ctx, Job job, LinkedBlockingQueue<Event> events, List<Engine.Handle> handles, String id,
                        long created, long arrivalNanos, ClientWatch watch) {
        ctx.status(200);
        ctx.contentType("text/event-stream; charset=utf-8");
        ctx.header("Cache-Control", "no-cache");
        ctx.header("X-Accel-Buffering", "no");
        List<Choice> choices = new ArrayList<>();
        for (int i = 0; i < job.choices().size(); i++) choices.add(new Choice(i, job));
        try {
            OutputStream out = ctx.res().getOutputStream();
            if (job.chatApi()) {
                for (Choice c : choices) { // the role first, as OpenAI sends it
                    ObjectNode delta = json.createObjectNode().put("role", "assistant").put("content", "");
                    send(out, chunk(job, id, created, c.index, delta, null, null));
                }
                out.flush();
            }
            SequenceListener.Usage usage = drain(job, events, handles, choices, arrivalNanos, new Sink() {
                long lastWrite = System.nanoTime();

                @Override
                public void token(Choice c, TokenEvent t, String visible) throws IOException {
                    if (visible.isEmpty() && !job.logprobs()) return;
                    send(out, chunk(job, id, created, c.index, delta(job, visible), job.logprobs() ? last(c.logprobs) : null, null));
                    out.flush();
                    lastWrite = System.nanoTime();
                }

                @Override
                public void idle() throws IOException {
                    if (watch.gone()) throw new ClientGone();
                    if (System.nanoTime() - lastWrite > PING_NANOS) {
                        // an SSE comment: clients skip it (the SSE spec), and writing it finds a closed connection
                        out.write(": ping\n\n".getBytes(StandardCharsets.UTF_8));
                        out.flush();
                        lastWrite = System.nanoTime();
                    }
                }

                @Override
                public void finish(Choice c, String visible) throws IOException {
                    if (!visible.isEmpty()) send(out, chunk(job, id, created, c.index, delta(job, visible), null, null));
                    send(out, chunk(job, id, created, c.index, job.chatApi() ? json.createObjectNode() : null, null, c.finishReason));
                    out.flush();
                }
            });
            if (job.includeUsage()) {
                ObjectNode u = base(job, id, created);
                u.putArray("choices");
                u.set("usage", usageJson(usage));
                send(out, u);
            }
            out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            ctx.attribute(OpenAiServer.TOKENS_ATTR, usage.promptTokens() + "+" + usage.completionTokens());
        } catch (IOException e) {
            // the client went away: the finally of run() cancels its sequences
            ctx.attribute(OpenAiServer.TOKENS_ATTR, "client gone");
        } catch (ApiError e) {
            try {
                OutputStream out = ctx.res().getOutputStream();
                send(out, OpenAiServer.errorBody(e, json));
                out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
                out.flush();
            } catch (IOException ignored) {
                // nobody to tell
            }
        }
    }

    private ObjectNode delta(Job job, String visible) {
        return job.chatApi() ? json.createObjectNode().put("content", visible) : json.createObjectNode().put("text", visible);
    }

    private static JsonNode last(ArrayNode a) {
        return a.get(a.size() - 1);
    }

    private ObjectNode base(Job job, String id, long created) {
        ObjectNode o = json.createObjectNode();
        o.put("id", id);
        o.put("object", job.chatApi() ? "chat.completion.chunk" : "text_completion");
        o.put("created", created);
        o.put("model", modelName);
        return o;
    }

    /** One chunk of one choice; for completions delta holds "text" (or is null at the end). */
    private ObjectNode chunk(Job job, String id, long created, int index, ObjectNode delta, JsonNode logprob, String finish) {
        ObjectNode o = base(job, id, created);
        ObjectNode c = o.putArray("choices").addObject();
        c.put("index", index);
        if (job.chatApi()) {
            c.set("delta", delta);
            if (logprob != null) c.putObject("logprobs").putArray("content").add(logprob);
            else c.putNull("logprobs");
        } else {
            c.put("text", delta == null ? "" : delta.get("text").textValue());
            if (logprob != null) {
                ArrayNode one = json.createArrayNode();
                one.add(logprob);
                c.set("logprobs", legacyLogprobs(one));
            } else c.putNull("logprobs");
        }
        if (finish == null) c.putNull("finish_reason");
        else c.put("finish_reason", finish);
        if (job.includeUsage()) o.putNull("usage");
        return o;
    }

    private void send(OutputStream out, JsonNode node) throws IOException {
        out.write(("data: " + json.writeValueAsString(node) + "\n\n").getBytes(StandardCharsets.UTF_8));
    }
}
