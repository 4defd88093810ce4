package org.internvl4j.server;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.internvl4j.chat.ChatModel;
import org.internvl4j.engine.Engine;
import org.internvl4j.engine.EngineOptions;
import org.internvl4j.image.ImagePreprocessor;
import org.internvl4j.util.Json;
import org.internvl4j.util.Limits;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OpenAI-compatible HTTP server, a drop-in for LMDeploy's {@code api_server} as the InternVL2 model card uses
 * it: {@code /v1/chat/completions}, {@code /v1/completions}, {@code /v1/models}, {@code /health}, {@code /metrics}
 * and a chat page at {@code /}. Built on Javalin 7 (Jetty 12): a thin, well-kept layer whose handlers run on virtual
 * threads, so a blocking handler per streaming request costs little, with no annotation processing or reflection
 * magic to fight. Requests go to a continuous-batching {@link Engine}.
 */
public final class OpenAiServer implements AutoCloseable {
    static final String TOKENS_ATTR = "internvl.tokens";
    private static final Logger LOG = LoggerFactory.getLogger("internvl.server");
    private static final Set<String> KNOWN_PATHS = Set.of("/", "/health", "/metrics", "/v1/models", "/v1/chat/completions",
            "/v1/completions");

    private final ServerOptions options;
    private final ChatModel chat;
    private final boolean ownsModel;
    private final Engine engine;
    private final Metrics metrics = new Metrics();
    private final ObjectMapper json;
    private final List<byte[]> keyDigests = new ArrayList<>();
    private final CompletionHandler completions;
    private final Javalin app;

    private OpenAiServer(ServerOptions options, ChatModel chat, boolean ownsModel) {
        this.options = options;
        this.chat = chat;
        this.ownsModel = ownsModel;
        // request bodies: nesting bounded like every JSON of the project, length by the body limit
        this.json = Json.builder(Limits.current().jsonDepth(), options.maxBodyBytes()).build();
        for (String k : options.apiKeys()) keyDigests.add(sha256(k));
        var config = chat.model().config();
        ImagePreprocessor pre = ImagePreprocessor.builder().inputSize(chat.model().imageSize()).minNum(config.minDynamicPatch())
                .maxNum(options.maxNum()).useThumbnail(config.useThumbnail()).build();
        EngineOptions eo = EngineOptions.defaults(kvCacheBytes(options), options.sessionLen())
                .withMaxBatch(options.maxBatch()).withMaxWaiting(options.maxWaiting()).withRequestTimeout(options.requestTimeout());
        try {
            this.engine = chat.engine(eo); // the model's one engine: in-process requests on it share the loop
        } catch (IllegalStateException e) {
            throw new IllegalStateException("the model's engine already runs (it served in-process requests) with other"
                    + " options than the server's; start the server before using the model in-process", e);
        }
        this.completions = new CompletionHandler(chat, engine, new ImageInputs(pre, options.allowRemoteImages(),
                Math.min(Limits.current().tilesPerRequest(), options.sessionLen() / chat.model().imageTokensPerTile())), metrics, json,
                options.servedModelName(), options.sessionLen());
        this.app = Javalin.create(c -> {
            c.startup.showJavalinBanner = false;
            c.startup.showOldJavalinVersionWarning = false;
            c.concurrency.useVirtualThreads = true;
            c.http.compressionStrategy = CompressionStrategy.NONE;
            c.http.maxRequestSize = options.maxBodyBytes();
            c.jetty.modifyHttpConfiguration(h -> h.setRequestHeaderSize(options.maxHeaderBytes()));
            c.jetty.host = options.host();
            c.jetty.port = options.port();
            c.requestLogger.http(this::logRequest);
            c.routes.before("/v1/*", this::authorize);
            c.routes.get("/health", ctx -> writeJson(ctx, 200, json.createObjectNode().put("status", "ok"), json));
            c.routes.get("/v1/models", this::models);
            c.routes.post("/v1/chat/completions", ctx -> completions.chatCompletions(ctx, body(ctx), arrival(ctx)));
            c.routes.post("/v1/completions", ctx -> completions.completions(ctx, body(ctx), arrival(ctx)));
            c.routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.render(engine.stats())));
            c.routes.get("/", this::page);
            c.routes.before(ctx -> ctx.attribute("t0", System.nanoTime()));
            c.routes.exception(ApiError.class, (e, ctx) -> writeError(ctx, e));
            c.routes.exception(Exception.class, (e, ctx) -> {
                LOG.error("{} {} failed", ctx.method(), ctx.path(), e);
                writeError(ctx, new ApiError(500, "internal server error", "server_error", null, null, 0));
            });
            c.routes.error(404, ctx -> {
                if (ctx.attribute("internvl.error") == null) {
                    writeError(ctx, new ApiError(404, "no such endpoint: " + ctx.method() + " " + ctx.path(),
                            "invalid_request_error", null, "not_found", 0));
                }
            });
        });
    }

    /**
     * The KV budget: --kv-cache-gib as given (the engine refuses to start if the heap cannot hold it), or without the
     * flag 4 GiB, clamped with a warning to what the heap holds (as vLLM and LMDeploy size their default KV cache by
     * the memory that is free).
     */
    static long kvCacheBytes(ServerOptions options) {
        if (options.kvCacheGib() != ServerOptions.KV_CACHE_DEFAULT) return (long) (options.kvCacheGib() * (1L << 30));
        long wanted = (long) (ServerOptions.DEFAULT_KV_CACHE_GIB * (1L << 30));
        long fit = Engine.kvBudgetThatFits(wanted);
        if (fit >= wanted) return wanted;
        LOG.warn("KV cache budget {} MiB, not the default {} GiB: that is what the Java heap (at most {} MiB) holds beside"
                        + " what is in use; give the JVM more heap (INTERNVL_HEAP=-Xmx...) or set --kv-cache-gib", fit >> 20,
                (long) ServerOptions.DEFAULT_KV_CACHE_GIB, Runtime.getRuntime().maxMemory() >> 20);
        return Math.max(1, fit);
    }

    /** Loads the model and starts serving. */
    public static OpenAiServer start(ServerOptions options) {
        ChatModel chat = ChatModel.load(options.modelDir());
        try {
            return new OpenAiServer(options, chat, true).startNow();
        } catch (RuntimeException e) {
            chat.close();
            throw e;
        }
    }

    /** Serves an already loaded model (it stays open on {@link #close}). */
    public static OpenAiServer start(ServerOptions options, ChatModel chat) {
        return new OpenAiServer(options, chat, false).startNow();
    }

    private OpenAiServer startNow() {
        try {
            app.start();
        } catch (RuntimeException e) {
            engine.close();
            throw new IllegalArgumentException("cannot listen on " + options.host() + ":" + options.port() + ": "
                    + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()), e);
        }
        return this;
    }

    /** The port bound (useful with port 0). */
    public int port() {
        return app.port();
    }

    public String baseUrl() {
        String h = options.host().contains(":") ? "[" + options.host() + "]" : options.host();
        return "http://" + h + ":" + port();
    }

    public Engine engine() {
        return engine;
    }

    public ServerOptions options() {
        return options;
    }

    @Override
    public void close() {
        app.stop();
        engine.close();
        if (ownsModel) chat.close();
    }

    // ---------------------------------------------------------------- handlers

    /** Bearer keys compared in constant time: every key's SHA-256 is compared, all of them, whatever matches. */
    private void authorize(Context ctx) {
        if (keyDigests.isEmpty()) return;
        String h = ctx.header("Authorization");
        String given = h != null && h.regionMatches(true, 0, "Bearer ", 0, 7) ? h.substring(7).trim() : "";
        byte[] d = sha256(given);
        boolean ok = false;
        for (byte[] k : keyDigests) ok |= MessageDigest.isEqual(k, d);
        if (!ok || given.isEmpty()) {
            ctx.header("WWW-Authenticate", "Bearer");
            throw new ApiError(401, h == null ? "missing API key: send 'Authorization: Bearer KEY'" : "invalid API key",
                    "invalid_request_error", null, "invalid_api_key", 0);
        }
    }

    private void models(Context ctx) {
        ObjectNode out = json.createObjectNode().put("object", "list");
        ObjectNode m = out.putArray("data").addObject();
        m.put("id", options.servedModelName());
        m.put("object", "model");
        m.put("created", 0);
        m.put("owned_by", "internvl4j");
        m.put("root", options.servedModelName());
        m.put("max_model_len", options.sessionLen());
        writeJson(ctx, 200, out, json);
    }

    private void page(Context ctx) throws IOException {
        try (InputStream in = OpenAiServer.class.getResourceAsStream("index.html")) {
            if (in == null) throw new ApiError(404, "the chat page is missing from this build", "invalid_request_error", null, "not_found", 0);
            ctx.contentType("text/html; charset=utf-8").result(in.readAllBytes());
        }
    }

    /** The JSON body, read up to the size limit: 413 beyond it, 400 when it is not JSON. */
    private JsonNode body(Context ctx) {
        long limit = options.maxBodyBytes();
        long declared = ctx.req().getContentLengthLong();
        if (declared > limit) throw tooLarge(limit);
        byte[] bytes;
        try (InputStream in = ctx.req().getInputStream()) {
            bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
        } catch (IOException e) {
            throw ApiError.badRequest("could not read the request body: " + e.getMessage(), null);
        }
        if (bytes.length > limit) throw tooLarge(limit);
        if (bytes.length == 0) throw ApiError.badRequest("the request body is empty; send a JSON object", null);
        try {
            JsonNode n = json.readTree(bytes);
            if (n == null || !n.isObject()) throw ApiError.badRequest("the request body must be a JSON object", null);
            return n;
        } catch (JacksonException e) {
            throw ApiError.badRequest("the request body is not valid JSON: " + e.getOriginalMessage(), null, "invalid_json");
        } catch (IOException e) {
            throw ApiError.badRequest("the request body could not be read: " + e.getMessage(), null);
        }
    }

    private static long arrival(Context ctx) {
        Long t = ctx.attribute("t0");
        return t == null ? System.nanoTime() : t;
    }

    private static ApiError tooLarge(long limit) {
        return new ApiError(413, "the request body is larger than " + limit + " bytes", "invalid_request_error", null,
                "request_too_large", 0);
    }

    private void logRequest(Context ctx, Float ms) {
        String path = KNOWN_PATHS.contains(ctx.path()) ? ctx.path() : "other";
        int status = ctx.statusCode();
        metrics.request(path, status);
        Object tokens = ctx.attribute(TOKENS_ATTR);
        LOG.info("{} {} {} {} {} ms{}", ctx.ip(), ctx.method(), ctx.path(), status, String.format("%.1f", ms),
                tokens == null ? "" : " tokens=" + tokens);
    }

    // ---------------------------------------------------------------- writing

    static ObjectNode errorBody(ApiError e, ObjectMapper json) {
        ObjectNode root = json.createObjectNode();
        ObjectNode err = root.putObject("error");
        err.put("message", e.getMessage());
        err.put("type", e.type());
        if (e.param() == null) err.putNull("param");
        else err.put("param", e.param());
        if (e.code() == null) err.putNull("code");
        else err.put("code", e.code());
        return root;
    }

    private void writeError(Context ctx, ApiError e) {
        ctx.attribute("internvl.error", Boolean.TRUE);
        if (e.retryAfterSeconds() > 0) ctx.header("Retry-After", Integer.toString(e.retryAfterSeconds()));
        writeJson(ctx, e.status(), errorBody(e, json), json);
    }

    static void writeJson(Context ctx, int status, JsonNode body, ObjectMapper json) {
        try {
            ctx.status(status).contentType("application/json").result(json.writeValueAsBytes(body));
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise a response", e);
        }
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }
}
