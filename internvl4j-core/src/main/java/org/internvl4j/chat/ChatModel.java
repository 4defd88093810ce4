package org.internvl4j.chat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.internvl4j.generate.ContextLengthExceededException;
import org.internvl4j.generate.FinishReason;
import org.internvl4j.generate.GenerationRequest;
import org.internvl4j.generate.GenerationResult;
import org.internvl4j.generate.Generator;
import org.internvl4j.generate.SamplingParams;
import org.internvl4j.image.PixelValues;
import org.internvl4j.llm.KvCache;
import org.internvl4j.model.InternVLModel;
import org.internvl4j.tokenizer.Detokenizer;
import org.internvl4j.tokenizer.Tokenizer;

/**
 * {@code InternVLChatModel.chat()} and {@code batch_chat()} in Java: builds the prompt with the checkpoint's
 * conversation template, tokenizes it, runs the vision tower on the images, generates, and post-processes the
 * response. Keeps no state between calls: a {@link ChatSession} holds a conversation's KV cache.
 */
public final class ChatModel implements AutoCloseable {
    private final InternVLModel model;
    private final Tokenizer tokenizer;
    private final ConversationTemplate template;
    private final Generator generator;
    private final int imageContextId;
    private final int stopId;
    private final boolean ownsModel;

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
        InternVLModel m = InternVLModel.load(dir);
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
     * Generates for every job together. A session's cache may already hold the start of the prompt; only the
     * image features of the ids that are actually prefilled are passed on.
     */
    List<ChatResult> run(List<Job> jobs, TextListener onText) {
        int n = jobs.size();
        List<GenerationRequest> reqs = new ArrayList<>(n);
        for (Job j : jobs) {
            float[] embeds = j.embeds();
            if (j.cache() != null && embeds != null) embeds = tailEmbeds(j.ids(), embeds, Generator.reusablePrefix(j.cache(), j.ids()));
            reqs.add(new GenerationRequest(j.ids(), embeds, imageContextId, j.params(), j.cache()));
        }
        boolean watchText = onText != null || jobs.stream().anyMatch(j -> j.stops().size() > 1);
        boolean[] stopString = new boolean[n];   // ended by a stop string: finish reason STOP, as OpenAI, vLLM and HF
        List<Detokenizer> detokenizers = new ArrayList<>();
        ResponseText[] texts = new ResponseText[n];
        for (int i = 0; i < n; i++) {
            detokenizers.add(watchText ? tokenizer.newStreamingDetokenizer(true) : null);
            texts[i] = new ResponseText(jobs.get(i).stops());
        }
        List<GenerationResult> results = generator.generate(reqs, !watchText ? null : (i, id) -> {
            String piece = texts[i].push(detokenizers.get(i).push(id));
            boolean go = !texts[i].stopped();
            stopString[i] |= !go;
            if (!piece.isEmpty() && onText != null) go &= onText.onText(i, piece);
            return go;
        });
        if (watchText) {
            for (int i = 0; i < n; i++) {   // the detokenizer's and the response's held-back tails
                String last = texts[i].push(detokenizers.get(i).flush()) + texts[i].finish();
                if (!last.isEmpty() && onText != null) onText.onText(i, last);
            }
        }
        List<ChatResult> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Job j = jobs.get(i);
            GenerationResult g = results.get(i);
            String response = ResponseText.of(tokenizer.decode(g.tokenIds(), true), j.stops());
            List<Turn> history = new ArrayList<>(j.history() == null ? List.of() : j.history());
            history.add(new Turn(j.built().question(), response));
            out.add(new ChatResult(j.built().question(), j.built().query(), j.ids(), j.built().numPatchesList(),
                    g.tokenIds(), response, g.logprobs(),
                    stopString[i] && g.finishReason() == FinishReason.ABORTED ? FinishReason.STOP : g.finishReason(), g.timings().withVisionNanos(j.visionNanos()),
                    List.copyOf(history)));
        }
        return out;
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
        if (ownsModel) model.close();
    }
}
