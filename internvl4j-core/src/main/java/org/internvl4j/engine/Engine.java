package org.internvl4j.engine;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.internvl4j.generate.LogitsProcessors;
import org.internvl4j.generate.SamplingParams;
import org.internvl4j.generate.TokenLogprob;
import org.internvl4j.image.PixelValues;
import org.internvl4j.llm.CausalLM;
import org.internvl4j.llm.KvBlockPool;
import org.internvl4j.llm.KvCache;
import org.internvl4j.llm.KvCacheMemoryException;
import org.internvl4j.model.InternVLModel;

/**
 * Continuous batching over a {@link CausalLM}: one scheduler thread owns every running sequence. Each step it drops cancelled and
 * timed-out sequences, admits waiting requests in arrival order while the batch and the KV budget allow, encodes
 * at most one image of a newcomer, and then runs one forward over the weights for one new token of every decoding
 * sequence plus a chunk of prompt of the prefilling ones. Sequences that finish leave at once; new ones join
 * between steps.
 *
 * <p>KV memory is a {@link KvBlockPool} of blocks of {@link EngineOptions#blockTokens()} tokens, as many as the
 * budget holds: the sequences' keys and values live in those blocks (paged), a sequence is admitted when the blocks
 * of its prompt are free, takes one more block whenever it crosses a block boundary (nothing is copied), and when
 * none is left the youngest running sequence is preempted (its blocks freed, its cache recomputed later from its
 * prompt and the tokens it had generated). Finished sequences' caches stay in a {@link PrefixCache} while their
 * blocks are not needed; a prefix hit shares their full blocks (reference-counted) and copies only a partial last
 * one. Image features stay in a {@link FeatureCache}.
 *
 * <p>The budget's blocks are allocated as they are first used, so the engine checks at start that the whole budget
 * fits in the Java heap beside what is in use and a margin ({@link #kvBytesThatFit}), and refuses otherwise (as vLLM
 * refuses a KV cache that does not fit its memory): a budget larger than the heap would only fail later, under
 * load. A prompt that needs more blocks than the whole budget is refused at once; a sequence whose cache cannot
 * grow because the heap ran out ({@link KvCacheMemoryException}) ends with that error, and the others go on.
 *
 * <p>A request that brings its own {@link KvCache} ({@link EngineRequest#cache()}: the in-process API's
 * {@code ChatModel} and {@code ChatSession}) runs exactly as the one-request {@code Generator} computes it: its
 * whole prompt in one forward, no prefix cache, never preempted; its blocks come from its cache's own pool, outside
 * the budget.
 *
 * <p>A sequence's tokens do not depend on the other sequences of the batch: each has its own cache, random
 * stream and sampling state, and a forward's rows are computed independently.
 */
public final class Engine implements AutoCloseable {
    /** A submitted request; cancel() ends it at the next step and frees its blocks. */
    public interface Handle {
        void cancel();
    }

    private final InternVLModel model;
    private final CausalLM llm;
    private final EngineOptions options;
    private final long totalBlocks;
    private final long bytesPerToken;
    private final int tokensPerTile;
    private final Thread thread;
    private final ConcurrentLinkedQueue<Seq> submitted = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger(); // submitted + waiting
    private final ArrayDeque<Seq> waiting = new ArrayDeque<>();
    private final List<Seq> running = new ArrayList<>();
    private final PrefixCache prefix;
    private final FeatureCache features;
    private final KvBlockPool pool;
    private volatile boolean closed;

    // statistics, written by the engine thread
    private volatile int runningCount;
    private volatile long usedBlocksView, cachedBlocksView;
    private final AtomicLong prefixLookups = new AtomicLong(), prefixHits = new AtomicLong(), prefixHitTokens = new AtomicLong();
    private final AtomicLong featureLookups = new AtomicLong(), featureHits = new AtomicLong();
    private final AtomicLong promptTokens = new AtomicLong(), generatedTokens = new AtomicLong();
    private final AtomicLong preemptions = new AtomicLong(), steps = new AtomicLong(), finished = new AtomicLong();

    public Engine(InternVLModel model, EngineOptions options) {
        this.model = model;
        this.llm = model.llm();
        this.options = options;
        KvCache probe = llm.newCache(1);
        this.bytesPerToken = probe.bytesPerToken();
        long blockBytes = bytesPerToken * options.blockTokens();
        this.totalBlocks = options.kvCacheBytes() / blockBytes;
        if (totalBlocks < 1) {
            throw new IllegalArgumentException("a KV cache budget of " + options.kvCacheBytes() + " bytes holds no block of "
                    + options.blockTokens() + " tokens (" + blockBytes + " bytes for this model)");
        }
        long budget = totalBlocks * blockBytes;
        long fit = kvBytesThatFit(budget);
        if (budget > fit) throw new IllegalArgumentException(doesNotFit(budget, fit));
        this.pool = new KvBlockPool(llm.config(), options.blockTokens(), totalBlocks);
        this.tokensPerTile = model.imageTokensPerTile();
        this.prefix = new PrefixCache(options.prefixCacheEntries(), probe.ropeBase());
        this.features = new FeatureCache(options.featureCacheBytes());
        this.thread = Thread.ofPlatform().name("internvl-engine").daemon().start(this::loop);
    }

    public EngineOptions options() {
        return options;
    }

    /** Heap kept beside the KV budget for everything else (activations, images, requests): an eighth of it, at least 64 MiB. */
    static long heapMargin(long maxHeap) {
        return Math.max(64L << 20, maxHeap / 8);
    }

    /**
     * Bytes of KV blocks the Java heap can still take: its maximum less what is in use and less {@link #heapMargin}.
     * When that looks smaller than wanted, it is measured again after a garbage collection (garbage is not use).
     */
    public static long kvBytesThatFit(long wanted) {
        long fit = heapLeft();
        if (fit < wanted) {
            System.gc();
            fit = heapLeft();
        }
        return Math.max(0, fit);
    }

    /**
     * A default budget: wanted, or nine tenths of what fits if that is less (the rest is slack, so that the check at
     * start, moments later, still passes while the heap moves a little).
     */
    public static long kvBudgetThatFits(long wanted) {
        return Math.min(wanted, kvBytesThatFit(wanted) / 10 * 9);
    }

    private static long heapLeft() {
        Runtime rt = Runtime.getRuntime();
        long max = rt.maxMemory();
        return max - (rt.totalMemory() - rt.freeMemory()) - heapMargin(max);
    }

    private static String doesNotFit(long budget, long fit) {
        Runtime rt = Runtime.getRuntime();
        long max = rt.maxMemory(), used = rt.totalMemory() - rt.freeMemory();
        long need = Math.max((used + budget) / 7 * 8, used + budget + (64L << 20)); // a heap whose margin leaves room
        long xmx = (need + (1L << 30) - 1) >> 30;
        return "a KV cache budget of " + size(budget) + " (--kv-cache-gib) does not fit in the Java heap: its maximum is "
                + size(max) + ", " + size(used) + " is in use and " + size(heapMargin(max)) + " is kept for the rest of the work, which leaves "
                + size(fit) + " for KV blocks; lower --kv-cache-gib to " + String.format(java.util.Locale.ROOT, "%.2f", Math.floor(fit / (double) (1L << 30) * 100) / 100)
                + " or less, or give the JVM more heap (bin/internvl: INTERNVL_HEAP=-Xmx" + xmx + "g)";
    }

    private static String size(long bytes) {
        return bytes >= 1L << 30 ? String.format(java.util.Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30))
                : String.format(java.util.Locale.ROOT, "%.0f MiB", bytes / (double) (1L << 20));
    }

    public InternVLModel model() {
        return model;
    }

    /** The block pool of the budget (its used() and allocated() are the KV memory in use and held). */
    public KvBlockPool pool() {
        return pool;
    }

    /** Bytes of KV cache one token takes (all layers, keys and values). */
    public long kvBytesPerToken() {
        return bytesPerToken;
    }

    /**
     * Queues a request. The listener is called on the engine thread.
     *
     * @throws EngineFullException      if the queue is full or the engine is closed
     * @throws IllegalArgumentException if the request cannot run here: images that do not match the
     *                                  {@code <IMG_CONTEXT>} ids, a prompt beyond the context window or the KV budget
     */
    public Handle submit(EngineRequest request, SequenceListener listener) {
        Seq s = new Seq(request, listener);
        if (closed) throw new EngineFullException("the engine is shut down", 1, true);
        if (queued.incrementAndGet() > options.maxWaiting() + Math.max(0, options.maxBatch() - runningCount)) {
            queued.decrementAndGet();
            throw new EngineFullException("the server is busy: " + options.maxWaiting() + " requests are already waiting", 1, false);
        }
        submitted.add(s);
        LockSupport.unpark(thread);
        return s::cancel;
    }

    /** Checks a request against the model and the limits; throws IllegalArgumentException naming the problem. */
    public void validate(EngineRequest r) {
        int p = r.promptIds().length;
        if (p + 1 > options.contextWindow()) {
            throw new IllegalArgumentException("the prompt has " + p + " tokens but the context window is " + options.contextWindow()
                    + " tokens (prompt and at least one generated token must fit)");
        }
        if (r.cache() == null && blocksFor(p + 1) > totalBlocks) {
            throw new IllegalArgumentException("the prompt of " + p + " tokens needs " + blocksFor(p + 1) + " KV blocks but the whole KV cache has "
                    + totalBlocks + " (raise --kv-cache-gib)");
        }
        if (r.cache() != null && r.cache().pool() == pool) {
            throw new IllegalArgumentException("a request's own KV cache must not come from the engine's pool");
        }
        int ctx = 0;
        if (r.hasImages()) for (int id : r.promptIds()) if (id == r.imageContextTokenId()) ctx++;
        long rows = r.imageEmbeds() == null ? 0 : r.imageEmbeds().length / llm.hiddenSize();
        if (r.imageEmbeds() != null && (long) rows * llm.hiddenSize() != r.imageEmbeds().length) {
            throw new IllegalArgumentException("image embeddings of " + r.imageEmbeds().length + " floats are not rows of "
                    + llm.hiddenSize());
        }
        for (PixelValues img : r.images()) {
            if (img.size() != model.imageSize()) {
                throw new IllegalArgumentException("an image was preprocessed to " + img.size() + " px tiles but the model takes "
                        + model.imageSize() + " px");
            }
            rows += (long) img.tiles() * tokensPerTile;
        }
        if (rows != ctx) {
            throw new IllegalArgumentException("the images give " + rows + " feature rows but the prompt has " + ctx + " <IMG_CONTEXT> tokens");
        }
        for (int id : r.promptIds()) {
            if (id < 0 || id >= llm.vocabSize()) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary");
        }
    }

    public EngineStats stats() {
        return new EngineStats(queued.get(), runningCount, totalBlocks, usedBlocksView, cachedBlocksView,
                prefixLookups.get(), prefixHits.get(), prefixHitTokens.get(), featureLookups.get(), featureHits.get(),
                promptTokens.get(), generatedTokens.get(), preemptions.get(), steps.get(), finished.get());
    }

    /** True once closed (or failed): submit() refuses. */
    public boolean isClosed() {
        return closed;
    }

    /** Stops the scheduler; running and waiting requests end with an error. */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------- the scheduler thread

    private void loop() {
        try {
            while (!closed) {
                for (Seq s; (s = submitted.poll()) != null; ) waiting.addLast(s);
                reap();
                admit();
                publish(); // admissions show in stats() before their first token reaches a listener
                if (running.isEmpty()) {
                    if (submitted.isEmpty()) LockSupport.parkNanos(waiting.isEmpty() ? 100_000_000L : 5_000_000L);
                    continue;
                }
                step();
                publish();
            }
        } catch (RuntimeException | Error e) {
            failAll(e instanceof RuntimeException re ? re : new IllegalStateException("engine failed: " + e, e));
            if (e instanceof Error err) throw err;
            return;
        }
        failAll(new EngineFullException("the engine is shut down", 1, true));
    }

    private void failAll(RuntimeException e) {
        closed = true;
        for (Seq s; (s = submitted.poll()) != null; ) waiting.addLast(s);
        for (Seq s : new ArrayList<>(running)) finish(s, Finish.CANCELLED, e);
        for (Seq s; (s = waiting.poll()) != null; ) {
            queued.decrementAndGet();
            s.listener.onFinish(Finish.CANCELLED, s.usage(), e);
        }
        publish();
    }

    private void publish() {
        runningCount = running.size();
        IdentityHashMap<Object, Boolean> held = new IdentityHashMap<>(); // a shared block counts once
        for (Seq s : running) {
            if (s.external || s.cache == null) continue;
            for (int i = 0; i < s.cache.blockCount(); i++) held.put(s.cache.block(i), Boolean.TRUE);
        }
        long used = pool.used();
        usedBlocksView = used;
        cachedBlocksView = used - held.size();
    }

    /** Ends cancelled and timed-out sequences, running or waiting. */
    private void reap() {
        long now = System.nanoTime();
        for (Seq s : new ArrayList<>(running)) {
            if (s.cancelled) finish(s, Finish.CANCELLED, null);
            else if (s.timedOut(now)) finish(s, Finish.TIMEOUT, null);
        }
        for (var it = waiting.iterator(); it.hasNext(); ) {
            Seq s = it.next();
            Finish f = s.cancelled ? Finish.CANCELLED : s.timedOut(now) ? Finish.TIMEOUT : null;
            if (f != null) {
                it.remove();
                queued.decrementAndGet();
                finished.incrementAndGet();
                s.listener.onFinish(f, s.usage(), null);
            }
        }
    }

    private long blocksFor(long tokens) {
        return (tokens + options.blockTokens() - 1) / options.blockTokens();
    }

    /** Makes n blocks available, dropping prefix-cache entries (other than keep) if needed; false if it cannot. */
    private boolean makeRoom(long n, PrefixCache.Entry keep) {
        while (pool.available() < n) {
            if (!prefix.evictOneExcept(keep)) return false;
        }
        return true;
    }

    /** Admits waiting requests in arrival order (the first that does not fit blocks the rest: no starvation). */
    private void admit() {
        while (!waiting.isEmpty() && running.size() < options.maxBatch()) {
            Seq s = waiting.peekFirst();
            if (s.external) {
                waiting.pollFirst();
                queued.decrementAndGet();
                KvCache c = s.request.cache();
                try {
                    c.truncate(reusablePrefix(c, s.tokens, s.total));
                } catch (KvCacheMemoryException e) {
                    refuse(s, e);
                    continue;
                }
                s.cache = c;
                s.planImages();
                running.add(s);
                continue;
            }
            int total = s.total;
            if (blocksFor(total + 1L) > totalBlocks) { // more than the whole budget: refused now, not after the running ones
                waiting.pollFirst();
                queued.decrementAndGet();
                refuse(s, s.count > 0 ? null : new IllegalArgumentException("the prompt of " + total + " tokens needs "
                        + blocksFor(total + 1L) + " KV blocks but the whole KV cache has " + totalBlocks + " (raise --kv-cache-gib)"));
                continue;
            }
            prefixLookups.incrementAndGet();
            PrefixCache.Match m = prefix.lookup(s.tokens, total, options.blockTokens());
            long need = blocksFor(total + 1L) - (m == null ? 0 : m.length() / options.blockTokens());
            if (!makeRoom(need, m == null ? null : m.entry())) {
                if (running.stream().noneMatch(r -> !r.external)) { // even an empty pool cannot hold it
                    waiting.pollFirst();
                    queued.decrementAndGet();
                    finished.incrementAndGet();
                    s.listener.onFinish(Finish.LENGTH, s.usage(), new IllegalArgumentException("the sequence of " + total
                            + " tokens needs " + blocksFor(total + 1L) + " KV blocks but only " + totalBlocks + " exist"));
                    continue;
                }
                return;
            }
            waiting.pollFirst();
            queued.decrementAndGet();
            KvCache c = null;
            try {
                c = m == null ? pool.newCache() : m.entry().cache().tryFork(m.length());
                if (c == null || !c.tryReserve(total + 1L)) throw new IllegalStateException("KV blocks counted free were not there");
            } catch (KvCacheMemoryException e) { // the heap holds less than the budget now
                if (c != null) c.release();
                refuse(s, e);
                continue;
            }
            if (m != null) {
                prefixHits.incrementAndGet();
                prefixHitTokens.addAndGet(m.length());
                if (s.preemptions == 0) s.cachedTokens = Math.min(m.length(), s.request.promptIds().length);
            }
            s.cache = c;
            s.planImages();
            running.add(s);
        }
    }

    /** Ends a request taken off the queue before it ran: LENGTH, with the error if there is one. */
    private void refuse(Seq s, RuntimeException error) {
        finished.incrementAndGet();
        s.listener.onFinish(Finish.LENGTH, s.usage(), error);
    }

    /** The common prefix of a caller's cache and tokens[0, total), at most total - 1 (the last id must run). */
    private static int reusablePrefix(KvCache cache, int[] tokens, int total) {
        int[] held = cache.tokens();
        int n = 0, max = Math.min(held.length, total - 1);
        while (n < max && held[n] == tokens[n]) n++;
        return n;
    }

    /** One forward: a token for every decoding sequence and a prompt chunk for prefilling ones. */
    private void step() {
        steps.incrementAndGet();
        // vision: one image per step, oldest sequence first
        for (Seq s : running) {
            if (s.imagesLeft()) {
                s.encodeNextImage();
                break;
            }
        }
        List<Seq> batch = new ArrayList<>();
        List<int[]> ids = new ArrayList<>();
        List<float[]> embeds = new ArrayList<>();
        List<KvCache> caches = new ArrayList<>();
        int budget = options.prefillChunkTokens();
        for (Seq s : new ArrayList<>(running)) {
            if (!running.contains(s) || s.imagesLeft()) continue;
            int pending = s.total - s.cache.length();
            int n = pending == 1 || s.external ? pending : Math.min(pending, budget);
            if (n <= 0) continue;
            if (!grow(s, s.cache.length() + n)) continue; // s itself was preempted or ended
            if (pending > 1) budget -= n;
            batch.add(s);
            int from = s.cache.length();
            int[] chunk = Arrays.copyOfRange(s.tokens, from, from + n);
            ids.add(chunk);
            embeds.add(s.embed(from, chunk));
            caches.add(s.cache);
            if (pending > 1 || s.count == 0) promptTokens.addAndGet(n);
        }
        // sequences preempted by a later one's growth in this same loop leave the batch
        for (int i = batch.size() - 1; i >= 0; i--) {
            if (batch.get(i).cache != caches.get(i)) {
                batch.remove(i);
                ids.remove(i);
                embeds.remove(i);
                caches.remove(i);
            }
        }
        if (batch.isEmpty()) return;
        long t0 = System.nanoTime();
        float[] logits = llm.forward(caches, ids, embeds, true);
        long dt = System.nanoTime() - t0;
        int vocab = llm.vocabSize();
        for (int i = 0; i < batch.size(); i++) {
            Seq s = batch.get(i);
            if (s.count == 0) { // the prompt (in one or more steps), as the Generator's prefill
                s.prefillNanos += dt;
                s.prefillTokens += ids.get(i).length;
            } else {
                s.decodeNanos += dt;
                s.decodeSteps++;
            }
            if (s.cache.length() < s.total) continue; // more prompt to prefill
            s.sample(Arrays.copyOfRange(logits, i * vocab, (i + 1) * vocab));
        }
    }

    /**
     * Makes s hold the blocks for length tokens: takes free ones, drops prefix-cache entries, then preempts the
     * youngest other pooled sequence. False if s was preempted itself (it was the youngest) or ended (it is the
     * only pooled one and the pool cannot hold it, or the heap cannot: {@link KvCacheMemoryException}). A request
     * with its own cache grows in its own pool, here too, before the forward: a cache that cannot grow ends its
     * own request, not the batch.
     */
    private boolean grow(Seq s, long length) {
        try {
            if (s.external) {
                if (s.cache.tryReserve(length)) return true;
                finish(s, Finish.LENGTH, new IllegalStateException("the request's own KV block pool is exhausted: " + s.cache.pool().used()
                        + " of " + s.cache.pool().capacity() + " blocks are in use"));
                return false;
            }
            while (!s.cache.tryReserve(length)) {
                if (prefix.evictOneExcept(null)) continue;
                Seq victim = null;
                for (Seq r : running) if (!r.external) victim = r;
                if (victim == s && running.stream().filter(r -> !r.external).count() == 1) {
                    finish(s, Finish.LENGTH, null);
                    return false;
                }
                preempt(victim);
                if (victim == s) return false;
            }
            return true;
        } catch (KvCacheMemoryException e) {
            finish(s, Finish.LENGTH, e);
            return false;
        }
    }

    private void preempt(Seq s) {
        running.remove(s);
        s.cache.release();
        s.cache = null;
        s.preemptions++;
        preemptions.incrementAndGet();
        waiting.addFirst(s);
        queued.incrementAndGet();
    }

    private void finish(Seq s, Finish f, RuntimeException error) {
        running.remove(s);
        finished.incrementAndGet();
        if (!s.external && s.cache != null) {
            s.cache.trim(); // blocks taken ahead for a token that will not come
            if (error != null || !prefix.add(s.cache)) s.cache.release();
        }
        s.cache = null;
        publish(); // before the listener hears of it, so that the freed blocks show in stats()
        s.listener.onFinish(f, s.usage(), error);
    }

    /** One request's state. Touched only by the engine thread, except cancelled. */
    private final class Seq {
        final EngineRequest request;
        final SequenceListener listener;
        final SamplingParams params;
        final SplittableRandom rng;
        final long deadline;
        final int promptLength;
        int[] tokens;   // prompt, then generated tokens
        int total;      // valid length of tokens
        int count;      // generated tokens
        final boolean external; // brings its own cache
        KvCache cache;  // null while waiting
        int preemptions;
        long prefillNanos, decodeNanos;
        int prefillTokens, decodeSteps;
        int cachedTokens;
        volatile boolean cancelled;
        // image features of the prompt's <IMG_CONTEXT> ids from featFromRow on (rows of the whole prompt's images)
        int[] imageRowStart; // first feature row of each image
        int featFromRow;     // first row still needed (the cache holds the ones before)
        int nextImage;       // next image to encode
        float[] featureRows; // rows featFromRow .. end, filled image by image
        int featureFill;     // rows filled

        Seq(EngineRequest r, SequenceListener l) {
            this.request = r;
            this.listener = l;
            this.params = r.params();
            this.external = r.cache() != null;
            this.rng = new SplittableRandom(params.seed());
            long t = options.requestTimeout().toNanos();
            this.deadline = t == 0 ? Long.MAX_VALUE : System.nanoTime() + t;
            this.promptLength = r.promptIds().length;
            int cap = (int) Math.min(options.contextWindow(), (long) promptLength + params.maxNewTokens());
            this.tokens = Arrays.copyOf(r.promptIds(), Math.max(cap, promptLength + 1));
            this.total = promptLength;
            int[] starts = new int[r.images().size() + 1];
            for (int i = 0; i < r.images().size(); i++) starts[i + 1] = starts[i] + r.images().get(i).tiles() * tokensPerTile;
            this.imageRowStart = starts;
        }

        void cancel() {
            cancelled = true;
            LockSupport.unpark(thread);
        }

        boolean timedOut(long now) {
            return now - deadline > 0;
        }

        SequenceListener.Usage usage() {
            return new SequenceListener.Usage(promptLength, count, cachedTokens, preemptions, prefillNanos, prefillTokens,
                    decodeNanos, decodeSteps);
        }

        /** After admission: which image features the prompt beyond the cached prefix still needs. */
        void planImages() {
            featFromRow = 0;
            if (!request.hasImages()) {
                nextImage = 0;
                featureRows = null;
                return;
            }
            int ctx = request.imageContextTokenId();
            for (int i = 0; i < cache.length() && i < promptLength; i++) if (tokens[i] == ctx) featFromRow++;
            if (request.imageEmbeds() != null) { // features given: nothing to encode
                int d = llm.hiddenSize();
                float[] all = request.imageEmbeds();
                featureRows = featFromRow * d == all.length ? null : Arrays.copyOfRange(all, featFromRow * d, all.length);
                nextImage = request.images().size();
                return;
            }
            int rows = imageRowStart[imageRowStart.length - 1] - featFromRow;
            featureRows = rows == 0 ? null : new float[rows * llm.hiddenSize()];
            featureFill = 0;
            nextImage = 0;
            while (nextImage < request.images().size() && imageRowStart[nextImage + 1] <= featFromRow) nextImage++;
        }

        boolean imagesLeft() {
            return featureRows != null && nextImage < request.images().size();
        }

        /** Runs the vision tower on the next needed image (or takes its cached features). */
        void encodeNextImage() {
            PixelValues img = request.images().get(nextImage);
            String key = options.featureCacheBytes() > 0 ? FeatureCache.key(img) : null;
            featureLookups.incrementAndGet();
            float[] f = key == null ? null : features.get(key);
            if (f != null) featureHits.incrementAndGet();
            else {
                f = model.extractFeature(img.data(), img.tiles());
                if (key != null) features.put(key, f);
            }
            int d = llm.hiddenSize();
            int skip = Math.max(0, featFromRow - imageRowStart[nextImage]); // rows of a partly cached image
            int rows = imageRowStart[nextImage + 1] - imageRowStart[nextImage] - skip;
            System.arraycopy(f, skip * d, featureRows, featureFill * d, rows * d);
            featureFill += rows;
            nextImage++;
        }

        /** Input embeddings of tokens[from, from + chunk.length): prompt ids with image features, then generated ids. */
        float[] embed(int from, int[] chunk) {
            int inPrompt = Math.max(0, Math.min(chunk.length, promptLength - from));
            int d = llm.hiddenSize();
            float[] out = new float[chunk.length * d];
            if (inPrompt > 0) {
                int[] part = inPrompt == chunk.length ? chunk : Arrays.copyOf(chunk, inPrompt);
                int ctx = request.hasImages() ? request.imageContextTokenId() : -1;
                float[] rows = null;
                if (ctx >= 0) {
                    int before = 0, here = 0; // context ids before this chunk (beyond the cached prefix) and in it
                    for (int i = 0; i < from; i++) if (tokens[i] == ctx) before++;
                    for (int id : part) if (id == ctx) here++;
                    before -= featFromRow;
                    if (here > 0) rows = Arrays.copyOfRange(featureRows, before * d, (before + here) * d);
                }
                float[] e = InternVLModel.inputEmbeddings(llm, part, rows, rows == null ? -1 : ctx);
                System.arraycopy(e, 0, out, 0, e.length);
            }
            if (inPrompt < chunk.length) {
                float[] e = llm.embedTokens(Arrays.copyOfRange(chunk, inPrompt, chunk.length));
                System.arraycopy(e, 0, out, inPrompt * d, e.length);
            }
            return out;
        }

        /** Picks the next token from the last position's logits, as the Generator does, and hands it on. */
        void sample(float[] row) {
            List<TokenLogprob> top = params.logprobs() > 0 ? LogitsProcessors.topLogprobs(row, params.logprobs()) : List.of();
            double lse = request.tokenLogprobs() ? logSumExp(row) : Double.NaN;
            int[] generated = Arrays.copyOfRange(tokens, promptLength, total);
            float[] raw = request.tokenLogprobs() ? row.clone() : null;
            int token = LogitsProcessors.next(row, generated, count, params, rng);
            float lp = raw == null ? Float.NaN : (float) (raw[token] - lse); // as LogitsProcessors.topLogprobs rounds
            if (total == tokens.length) tokens = Arrays.copyOf(tokens, Math.min(options.contextWindow(), tokens.length * 2 + 16));
            tokens[total++] = token;
            count++;
            generatedTokens.incrementAndGet();
            boolean go;
            try {
                go = listener.onToken(token, lp, top);
            } catch (RuntimeException e) {
                go = false;
            }
            if (params.stopTokenIds().contains(token)) finish(this, Finish.STOP, null);
            else if (!go || cancelled) finish(this, Finish.CANCELLED, null);
            else if (count >= params.maxNewTokens() || total >= options.contextWindow()) finish(this, Finish.LENGTH, null);
        }
    }

    private static double logSumExp(float[] x) {
        float max = Float.NEGATIVE_INFINITY;
        for (float v : x) max = Math.max(max, v);
        double sum = 0;
        for (float v : x) sum += Math.exp((double) v - max);
        return max + Math.log(sum);
    }
}
