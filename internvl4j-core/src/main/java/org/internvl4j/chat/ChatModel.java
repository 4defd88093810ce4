package org.internvl4j.chat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;
import org.internvl4j.checkpoint.Quantization;
import org.internvl4j.checkpoint.WeightMemory;
import org.internvl4j.engine.Engine;
import org.internvl4j.engine.EngineOptions;
import org.internvl4j.engine.EngineRequest;
import org.internvl4j.engine.Finish;
import org.internvl4j.engine.SequenceListener;
import org.internvl4j.generate.ContextLengthExceededException;
import org.internvl4j.generate.FinishReason;
import org.internvl4j.generate.GenerationRequest;
import org.internvl4j.generate.GenerationResult;
import org.internvl4j.generate.Generator;
import org.internvl4j.generate.SamplingParams;
import org.internvl4j.generate.Timings;
import org.internvl4j.generate.TokenLogprob;
import org.internvl4j.image.PixelValues;
import org.internvl4j.llm.KvCache;
import org.internvl4j.model.InternVLModel;
import org.internvl4j.tensor.DType;
import org.internvl4j.tokenizer.Detokenizer;
import org.internvl4j.tokenizer.Tokenizer;

/**
 * {@code InternVLChatModel.chat()} and {@code batch_chat()} in Java: builds the prompt with the checkpoint's
 * conversation template, tokenizes it, runs the vision tower on the images, generates, and post-processes the
 * response. Keeps no state between calls: a {@link ChatSession} holds a conversation's KV cache. Requests run on
 * the model's shared continuous-batching {@link Engine} ({@link #engine()}), so calls from several threads are
 * decoded together, each with the tokens it gets alone.
 */
public final class ChatModel implements AutoCloseable {
    private final InternVLModel model;
    private final Tokenizer tokenizer;
    private final ConversationTemplate template;
    private final Generator generator;
    private final int imageContextId;
    private final int stopId;
    private final boolean ownsModel;
    private final Object engineLock = new Object();
    private Engine engine;

    /** Wraps a loaded model; {@link #close} leaves it open (its owner closes it). */
    public ChatModel(InternVLModel model, Tokenizer tokenizer, Generator generator) {
        this(model, tokenizer, generator, false);
    }

    private ChatModel(InternVLModel model, Tokenizer tokenizer, Generator generator, boolean ownsModel) {
        this.ownsModel = ownsModel;
        this.model = model;
        this.tokenizer = tokenizer;
        this.generator = generator;
        this.template = ConversationTemplate.forName(model.config().template());
        this.imageContextId = requireToken(ChatQuery.IMG_CONTEXT_TOKEN);
        this.stopId = requireToken(template.stopString());
    }

    /**
     * Loads the checkpoint and its tokenizer from a Hugging Face model directory ({@link Tokenizer#load} picks
     * SentencePiece or byte-level BPE from the files); {@link #close} unmaps it.
     */
    public static ChatModel load(Path dir) {
        return open(InternVLModel.load(dir), dir);
    }

    /**
     * As {@link #load(Path)}, quantizing the language model's linear weights at load to {@code quantizeTo} (Q8_0 or
     * Q4_0; null keeps them as stored) instead of reading the format from {@value Quantization#PROPERTY}, so that one
     * JVM can hold the same checkpoint in several formats (a Spark executor, a test).
     */
    public static ChatModel load(Path dir, DType quantizeTo) {
        return open(InternVLModel.load(dir, WeightMemory.Mode.fromSystemProperty(), quantizeTo), dir);
    }

    private static ChatModel open(InternVLModel m, Path dir) {
        try {
            return new ChatModel(m, Tokenizer.load(dir), new Generator(m), true);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    private int requireToken(String token) {
        try {
            return tokenizer.tokenId(token);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(model.dir() + ": the tokenizer has no token '" + token + "' (needed by the "
                    + template.name() + " template and the image placeholders)", e);
        }
    }

    public InternVLModel model() {
        return model;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public ConversationTemplate template() {
        return template;
    }

    public Generator generator() {
        return generator;
    }

    /** The id generation stops at: the template separator's token ({@code <|im_end|>}), chat()'s eos override. */
    public int stopTokenId() {
        return stopId;
    }

    public int imageContextTokenId() {
        return imageContextId;
    }

    /** Answers one request. */
    public ChatResult chat(ChatRequest request) {
        return batchChat(List.of(request), null).get(0);
    }

    /** Answers one request, handing each final piece of the response text to onText as it is generated. */
    public ChatResult chat(ChatRequest request, Consumer<String> onText) {
        return batchChat(List.of(request), onText == null ? null : (i, s) -> {
            onText.accept(s);
            return true;
        }).get(0);
    }

    /** Streams one request as an iterator of text pieces (generation runs on another thread); close it to stop early. */
    public ChatStream stream(ChatRequest request) {
        return new ChatStream(this, request);
    }

    /** Several independent requests decoded together; each result equals its request run alone. */
    public List<ChatResult> batchChat(List<ChatRequest> requests) {
        return batchChat(requests, null);
    }

    /**
     * Batch with streaming: onText (nullable) gets (request index, piece) and returns false to end that request.
     */
    public List<ChatResult> batchChat(List<ChatRequest> requests, TextListener onText) {
        List<Job> jobs = new ArrayList<>();
        for (ChatRequest r : requests) jobs.add(prepare(r, null));
        return run(jobs, onText);
    }

    /** A new conversation that keeps its KV cache and image features between turns. */
    public ChatSession newSession() {
        return new ChatSession(this, null);
    }

    /** A new conversation with its own system message. */
    public ChatSession newSession(String systemMessage) {
        return new ChatSession(this, systemMessage);
    }

    /**
     * A conversation that continues a saved one: its turns go into the next prompt as chat()'s history
     * does (the first turn prefills them all). The turns must be text only (no {@code <image>}), as their
     * images are not kept.
     */
    public ChatSession newSession(String systemMessage, List<Turn> history) {
        ChatSession s = new ChatSession(this, systemMessage);
        s.continueFrom(history);
        return s;
    }

    /** Receives streamed text: {@code false} ends that request. */
    @FunctionalInterface
    public interface TextListener {
        boolean onText(int requestIndex, String piece);
    }

    // ---------------------------------------------------------------- shared by chat, batch and sessions

    /**
     * A request ready to generate.
     *
     * @param embeds image features of every {@code <IMG_CONTEXT>} of ids, in order (null without images)
     * @param cache  a session's cache, or null
     */
    record Job(ChatQuery.Built built, int[] ids, float[] embeds, SamplingParams params, List<String> stops,
               KvCache cache, List<Turn> history, long visionNanos) {}

    Job prepare(ChatRequest r, KvCache cache) {
        List<Integer> tiles = tilesOf(r.images());
        ChatQuery.Built built = r.numPatchesList() == null
                ? ChatQuery.build(template, r.systemMessage(), r.history(), r.question(), tiles, model.imageTokensPerTile())
                : buildWithPatches(r, tiles);
        int[] ids = encode(built.query());
        SamplingParams params = withStop(r.params());
        checkContext(ids, params);   // before the vision tower, the expensive part
        long t0 = System.nanoTime();
        float[] embeds = r.images().isEmpty() ? null : imageFeatures(r.images());
        return new Job(built, ids, embeds, params, ResponseText.stops(template, r.stopStrings()),
                cache, r.history(), r.images().isEmpty() ? 0 : System.nanoTime() - t0);
    }

    void checkContext(int[] ids, SamplingParams params) {
        if ((long) ids.length + params.maxNewTokens() > generator.contextWindow()) {
            throw new ContextLengthExceededException(0, ids.length, params.maxNewTokens(), generator.contextWindow());
        }
    }

    private ChatQuery.Built buildWithPatches(ChatRequest r, List<Integer> tiles) {
        int given = r.numPatchesList().stream().mapToInt(Integer::intValue).sum();
        int have = tiles.stream().mapToInt(Integer::intValue).sum();
        if (given != have) {
            throw new IllegalArgumentException("num_patches_list " + r.numPatchesList() + " sums to " + given
                    + " tiles but the images have " + have);
        }
        return ChatQuery.buildWithPatches(template, r.systemMessage(), r.history(), r.question(), r.numPatchesList(),
                !r.images().isEmpty(), model.imageTokensPerTile());
    }

    int[] encode(String query) {
        return tokenizer.encode(query);
    }

    List<Integer> tilesOf(List<PixelValues> images) {
        List<Integer> tiles = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            PixelValues p = images.get(i);
            if (p.size() != model.imageSize()) {
                throw new IllegalArgumentException("image " + (i + 1) + " was preprocessed to " + p.size() + " px tiles but "
                        + model.dir() + " takes " + model.imageSize() + " px (use an ImagePreprocessor with inputSize "
                        + model.imageSize() + ")");
            }
            tiles.add(p.tiles());
        }
        return tiles;
    }

    /** extract_feature over the tiles of all images in order: [tiles * 256 * hidden]. */
    public float[] imageFeatures(List<PixelValues> images) {
        tilesOf(images);
        int tiles = images.stream().mapToInt(PixelValues::tiles).sum();
        float[] all = new float[images.stream().mapToInt(p -> p.data().length).sum()];
        int at = 0;
        for (PixelValues p : images) {
            System.arraycopy(p.data(), 0, all, at, p.data().length);
            at += p.data().length;
        }
        return model.extractFeature(all, tiles);
    }

    SamplingParams withStop(SamplingParams p) {
        Set<Integer> stops = new HashSet<>(p.stopTokenIds());
        stops.add(stopId);
        return new SamplingParams(p.maxNewTokens(), p.doSample(), p.temperature(), p.topK(), p.topP(),
                p.repetitionPenalty(), p.seed(), stops, p.logprobs());
    }

    /**
     * Generates for every job on the shared engine. Each job brings its own KV cache (a session's, which may
     * already hold the start of the prompt, or a fresh one), so the engine computes it exactly as the one-request
     * Generator does; onText runs on this thread.
     */
    List<ChatResult> run(List<Job> jobs, TextListener onText) {
        Run r = start(jobs, onText);
        try {
            while (!r.done()) r.pump();
            return r.results();
        } finally {
            r.cancel();
        }
    }

    /** Submits the jobs; the caller then pumps the returned run until done(). */
    Run start(List<Job> jobs, TextListener onText) {
        Engine e = engine();
        Run r = new Run(jobs, onText);
        try {
            for (int i = 0; i < jobs.size(); i++) {
                Job j = jobs.get(i);
                KvCache cache = j.cache() != null ? j.cache() : model.llm().newCache(j.ids().length + j.params().maxNewTokens());
                EngineRequest req = new EngineRequest(j.ids(), List.of(), imageContextId, j.params(), false, j.embeds(), cache);
                try {
                    e.validate(req);
                } catch (IllegalArgumentException ex) {
                    throw new IllegalArgumentException("request " + i + ": " + ex.getMessage(), ex);
                }
                r.handles[i] = e.submit(req, r.listener(i));
            }
        } catch (RuntimeException ex) {
            r.cancel();
            throw ex;
        }
        return r;
    }

    /**
     * Jobs running on the engine. The engine thread only queues their tokens; the thread that pumps detokenizes,
     * watches stop strings and calls onText, and cuts a request's tokens where that ended it (the engine may have
     * run a step further by the time it hears: those tokens are dropped, so the result is the one-request
     * Generator's, whose listener stopped it at that very token).
     */
    final class Run {
        private record Token(int job, int id, List<TokenLogprob> top) {}

        private record Done(int job, Finish finish, SequenceListener.Usage usage, RuntimeException error) {}

        final List<Job> jobs;
        final TextListener onText;
        final boolean watchText;
        final Engine.Handle[] handles;
        private final LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        private final List<List<Integer>> tokens = new ArrayList<>();
        private final List<List<List<TokenLogprob>>> logprobs = new ArrayList<>();
        private final List<Detokenizer> detokenizers = new ArrayList<>();
        private final ResponseText[] texts;
        private final boolean[] stopString, cut, done;
        private final FinishReason[] finish;
        private final SequenceListener.Usage[] usage;
        private int open;

        Run(List<Job> jobs, TextListener onText) {
            int n = jobs.size();
            this.jobs = jobs;
            this.onText = onText;
            this.watchText = onText != null || jobs.stream().anyMatch(j -> j.stops().size() > 1);
            this.handles = new Engine.Handle[n];
            this.texts = new ResponseText[n];
            this.stopString = new boolean[n];
            this.cut = new boolean[n];
            this.done = new boolean[n];
            this.finish = new FinishReason[n];
            this.usage = new SequenceListener.Usage[n];
            this.open = n;
            for (int i = 0; i < n; i++) {
                tokens.add(new ArrayList<>());
                logprobs.add(new ArrayList<>());
                detokenizers.add(watchText ? tokenizer.newStreamingDetokenizer(true) : null);
                texts[i] = new ResponseText(jobs.get(i).stops());
            }
        }

        SequenceListener listener(int i) {
            return new SequenceListener() {
                @Override
                public boolean onToken(int tokenId, float logprob, List<TokenLogprob> top) {
                    events.add(new Token(i, tokenId, top));
                    return true;
                }

                @Override
                public void onFinish(Finish f, Usage u, RuntimeException error) {
                    events.add(new Done(i, f, u, error));
                }
            };
        }

        boolean done() {
            return open == 0;
        }

        /** Handles the next event (waiting for it); at the end, hands on the held-back tails of the texts. */
        void pump() {
            Object ev;
            try {
                ev = events.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                cancel();
                throw new IllegalStateException("interrupted while generating", e);
            }
            if (ev instanceof Token t) {
                int i = t.job();
                if (cut[i]) return;
                tokens.get(i).add(t.id());
                if (jobs.get(i).params().logprobs() > 0) logprobs.get(i).add(t.top());
                if (!watchText) return;
                String piece = texts[i].push(detokenizers.get(i).push(t.id()));
                boolean go = !texts[i].stopped();
                stopString[i] |= !go;
                if (!piece.isEmpty() && onText != null) go &= onText.onText(i, piece);
                if (!go && !jobs.get(i).params().stopTokenIds().contains(t.id())) {
                    cut[i] = true;
                    finish[i] = FinishReason.ABORTED;
                    handles[i].cancel();
                }
            } else if (ev instanceof Done d) {
                int i = d.job();
                if (d.error() != null) {
                    cancel();
                    throw d.error();
                }
                if (!cut[i]) {
                    finish[i] = switch (d.finish()) {
                        case STOP -> FinishReason.STOP;
                        case LENGTH -> FinishReason.LENGTH;
                        case CANCELLED, TIMEOUT -> FinishReason.ABORTED;
                    };
                }
                usage[i] = d.usage();
                done[i] = true;
                if (--open == 0 && watchText) {
                    for (int k = 0; k < jobs.size(); k++) {   // the detokenizer's and the response's held-back tails
                        String last = texts[k].push(detokenizers.get(k).flush()) + texts[k].finish();
                        if (!last.isEmpty() && onText != null) onText.onText(k, last);
                    }
                }
            }
        }

        void cancel() {
            for (Engine.Handle h : handles) if (h != null) h.cancel();
        }

        List<ChatResult> results() {
            List<ChatResult> out = new ArrayList<>(jobs.size());
            for (int i = 0; i < jobs.size(); i++) {
                Job j = jobs.get(i);
                int[] ids = tokens.get(i).stream().mapToInt(Integer::intValue).toArray();
                SequenceListener.Usage u = usage[i];
                Timings timings = new Timings(u.prefillNanos(), u.prefillTokens(), u.decodeNanos(), u.decodeSteps(), j.visionNanos());
                String response = ResponseText.of(tokenizer.decode(ids, true), j.stops());
                List<Turn> history = new ArrayList<>(j.history() == null ? List.of() : j.history());
                history.add(new Turn(j.built().question(), response));
                out.add(new ChatResult(j.built().question(), j.built().query(), j.ids(), j.built().numPatchesList(),
                        ids, response, List.copyOf(logprobs.get(i)),
                        stopString[i] && finish[i] == FinishReason.ABORTED ? FinishReason.STOP : finish[i], timings,
                        List.copyOf(history)));
            }
            return out;
        }
    }

    /**
     * The engine this model's requests run on, started on first use (again after it was closed): in-process calls
     * from any thread share its one scheduler loop, and a server started on this model does too.
     */
    public Engine engine() {
        synchronized (engineLock) {
            if (engine == null || engine.isClosed()) engine = new Engine(model, defaultEngineOptions());
            return engine;
        }
    }

    /**
     * The engine, started with these options if it is not running yet.
     *
     * @throws IllegalStateException if it already runs with other options
     */
    public Engine engine(EngineOptions options) {
        synchronized (engineLock) {
            if (engine == null || engine.isClosed()) engine = new Engine(model, options);
            else if (!engine.options().equals(options)) {
                throw new IllegalStateException("this model's engine already runs with " + engine.options()
                        + "; give the options before its first request");
            }
            return engine;
        }
    }

    /**
     * In-process requests bring their own KV caches, so the budget only serves requests without one (a server's);
     * a quarter of the heap, at most 4 GiB and at most what the heap still holds ({@link Engine#kvBudgetThatFits}),
     * allocated as it is used. The queue is unbounded: a batch waits for room.
     */
    EngineOptions defaultEngineOptions() {
        long budget = Math.min(4L << 30, Math.max(64L << 20, Runtime.getRuntime().maxMemory() / 4));
        budget = Engine.kvBudgetThatFits(budget);
        budget = Math.max(budget, model.llm().newCache(1).bytesPerToken() * 16);
        return EngineOptions.defaults(budget, generator.contextWindow()).withMaxWaiting(Integer.MAX_VALUE / 2);
    }

    /** The image features of the {@code <IMG_CONTEXT>} ids at positions >= from (null if there are none). */
    float[] tailEmbeds(int[] ids, float[] embeds, int from) {
        int skipped = 0;
        for (int i = 0; i < from; i++) if (ids[i] == imageContextId) skipped++;
        int d = model.llm().hiddenSize();
        if (skipped * d == embeds.length) return null;
        return java.util.Arrays.copyOfRange(embeds, skipped * d, embeds.length);
    }

    @Override
    public void close() {
        synchronized (engineLock) {
            if (engine != null) engine.close();
            engine = null;
        }
        if (ownsModel) model.close();
    }
}
