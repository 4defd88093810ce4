package org.internvl4j.llm;

import java.util.ArrayDeque;
import org.internvl4j.checkpoint.LlmConfig;
import org.internvl4j.util.Faults;

/**
 * Fixed-size blocks of KV memory (paged attention's unit, as in vLLM's block manager): a block holds the keys and
 * values of {@link #blockTokens()} consecutive positions of one sequence for every layer. {@link KvCache}s take
 * blocks as they grow (no copy of what they hold) and give them back when truncated or released. A block may be
 * shared by several caches (a prefix reused by later requests): it is reference-counted, and a shared block is
 * only ever a full one, which no holder writes again, so no copy-on-write is needed on the hot path.
 *
 * <p>A pool either has a fixed number of blocks (the engine's budget; {@link #tryTake} returns null when all are
 * in use) or is unbounded (the private pool of a standalone cache). Blocks are allocated the first time they are
 * needed and reused after release, so an idle pool holds only what was ever in use at once. Thread-safe.
 *
 * <p>Making a block can run out of heap ({@link OutOfMemoryError}, e.g. an unbounded pool's cache growing past what
 * the heap holds): {@link #tryTake} then throws it with the pool unchanged, and {@link KvCache} turns it into a
 * {@link KvCacheMemoryException}.
 */
public final class KvBlockPool {
    /** One block: keys and values of blockTokens positions, per layer [blockTokens, kvHeads * headDim]. */
    public static final class Block {
        final float[][] keys;
        final float[][] values;
        int refs;

        Block(int layers, int floats) {
            keys = new float[layers][floats];
            values = new float[layers][floats];
        }
    }

    private final LlmConfig config;
    private final int layers;
    private final int kvDim;
    private final int blockTokens;
    private final long maxBlocks;
    private final ArrayDeque<Block> free = new ArrayDeque<>();
    private long allocated; // blocks ever made (free + in use)
    private long inUse;

    /**
     * @param blockTokens positions per block, >= 1
     * @param maxBlocks   blocks at most; {@link Long#MAX_VALUE} for an unbounded pool
     */
    public KvBlockPool(LlmConfig config, int blockTokens, long maxBlocks) {
        if (blockTokens < 1) throw new IllegalArgumentException("block size must be >= 1 token, got " + blockTokens);
        if (maxBlocks < 1) throw new IllegalArgumentException("a KV block pool needs at least one block, got " + maxBlocks);
        this.config = config;
        this.layers = config.numHiddenLayers();
        this.kvDim = config.numKeyValueHeads() * config.headDim();
        this.blockTokens = blockTokens;
        this.maxBlocks = maxBlocks;
        if ((long) blockTokens * kvDim > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a block of " + blockTokens + " tokens x " + kvDim + " floats exceeds a Java array");
        }
    }

    /** An unbounded pool of 16-token blocks, for one standalone cache. */
    static KvBlockPool unbounded(LlmConfig config) {
        return new KvBlockPool(config, 16, Long.MAX_VALUE);
    }

    /** A new, empty cache whose blocks come from this pool. */
    public KvCache newCache() {
        return new KvCache(this);
    }

    LlmConfig config() {
        return config;
    }

    int layers() {
        return layers;
    }

    int kvDim() {
        return kvDim;
    }

    public int blockTokens() {
        return blockTokens;
    }

    /** Blocks at most ({@link Long#MAX_VALUE} when unbounded). */
    public long capacity() {
        return maxBlocks;
    }

    /** Blocks held by caches now (a shared block counts once). */
    public synchronized long used() {
        return inUse;
    }

    /** Blocks that can still be taken. */
    public synchronized long available() {
        return maxBlocks - inUse;
    }

    /** Blocks allocated so far (in use or kept for reuse): the pool's memory is this times {@link #bytesPerBlock()}. */
    public synchronized long allocated() {
        return allocated;
    }

    /** Bytes of float32 keys and values per token, all layers. */
    public long bytesPerToken() {
        return 2L * layers * kvDim * Float.BYTES;
    }

    public long bytesPerBlock() {
        return bytesPerToken() * blockTokens;
    }

    /**
     * A block with one reference, or null when the pool is exhausted. Its contents are undefined.
     *
     * @throws OutOfMemoryError if a new block does not fit in the heap (the pool is unchanged)
     */
    synchronized Block tryTake() {
        if (inUse >= maxBlocks) return null;
        Block b = free.pollFirst();
        if (b == null) {
            Faults.checkKvBlock(allocated);
            b = new Block(layers, blockTokens * kvDim);
            allocated++;
        }
        b.refs = 1;
        inUse++;
        return b;
    }

    synchronized void retain(Block b) {
        if (b.refs <= 0) throw new IllegalStateException("retaining a free KV block");
        b.refs++;
    }

    synchronized void release(Block b) {
        if (b.refs <= 0) throw new IllegalStateException("releasing a free KV block");
        if (--b.refs == 0) {
            inUse--;
            free.addFirst(b);
        }
    }

    /** Lets the garbage collector have the blocks kept for reuse (after the heap ran out); returns how many. */
    synchronized int dropFree() {
        int n = free.size();
        free.clear();
        allocated -= n;
        return n;
    }

    /** References to b (for tests and accounting). */
    synchronized int refs(Block b) {
        return b.refs;
    }
}
