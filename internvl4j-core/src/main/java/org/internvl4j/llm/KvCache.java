package org.internvl4j.llm;

import java.util.Arrays;
import org.internvl4j.checkpoint.LlmConfig;

/**
 * The state of one sequence: its tokens so far, the rotated keys and the values of every layer, and its
 * own {@link RopeState}. Made by {@link CausalLM#newCache()} (blocks from a private, unbounded pool) or
 * {@link KvBlockPool#newCache()} (blocks from a shared pool with a budget); mutated only by
 * {@link CausalLM#forward} (which appends) and {@link #truncate}. Not thread-safe: one forward at a time per
 * cache. Kept across turns, it lets a session prefill only its new tokens.
 *
 * <p>Keys and values live in fixed-size blocks ({@link KvBlockPool.Block}): position p is row p % B of block
 * p / B. Growing takes more blocks and never copies what is held. A {@link #fork} shares the full blocks of
 * the prefix it keeps (they are never written again: positions are only appended) and copies the last,
 * partial one, which both caches go on writing.
 *
 * <p>When the heap cannot hold a new block, the growing call throws {@link KvCacheMemoryException} and leaves the
 * cache as it was (what it held stays, blocks taken ahead are given back, the pool drops its spare blocks).
 */
public final class KvCache {
    private final KvBlockPool pool;
    private final int layers;
    private final int kvDim;
    private final int blockTokens;
    private final RopeState rope;
    private KvBlockPool.Block[] blocks = new KvBlockPool.Block[4];
    private int blockCount;
    private int[] tokens = new int[16]; // ids only (4 bytes a token): grown by doubling
    private int length;

    /** A cache with its own unbounded pool; initialCapacity is a hint only (blocks are taken as needed). */
    KvCache(LlmConfig c, int initialCapacity) {
        this(KvBlockPool.unbounded(c));
    }

    KvCache(KvBlockPool pool) {
        this.pool = pool;
        this.layers = pool.layers();
        this.kvDim = pool.kvDim();
        this.blockTokens = pool.blockTokens();
        this.rope = new RopeState(pool.config());
    }

    private KvCache(KvCache o, int keep, KvBlockPool.Block partialCopy) {
        this.pool = o.pool;
        this.layers = o.layers;
        this.kvDim = o.kvDim;
        this.blockTokens = o.blockTokens;
        this.rope = o.rope.copy();
        this.length = keep;
        this.tokens = Arrays.copyOf(o.tokens, Math.max(16, keep));
        int full = keep / blockTokens;
        this.blocks = new KvBlockPool.Block[Math.max(4, full + 1)];
        for (int i = 0; i < full; i++) {
            pool.retain(o.blocks[i]);
            blocks[i] = o.blocks[i];
        }
        blockCount = full;
        if (partialCopy != null) {
            int rows = (keep - full * blockTokens) * kvDim;
            KvBlockPool.Block src = o.blocks[full];
            for (int l = 0; l < layers; l++) {
                System.arraycopy(src.keys[l], 0, partialCopy.keys[l], 0, rows);
                System.arraycopy(src.values[l], 0, partialCopy.values[l], 0, rows);
            }
            blocks[blockCount++] = partialCopy;
        }
    }

    /** A copy to continue independently (e.g. to fork a conversation); its blocks come from the same pool. */
    public KvCache copy() {
        KvCache c = tryFork(length);
        if (c == null) throw exhausted(1);
        return c;
    }

    /**
     * A cache holding the first keep positions of this one (and this one's RoPE state), sharing its full blocks;
     * null if the block for a partial last one cannot be taken from the pool.
     */
    public KvCache tryFork(int keep) {
        if (keep < 0 || keep > length) throw new IllegalArgumentException("fork(" + keep + ") of a cache of " + length + " tokens");
        KvBlockPool.Block partial = null;
        if (keep % blockTokens != 0) {
            partial = take(keep);
            if (partial == null) return null;
        }
        return new KvCache(this, keep, partial);
    }

    /** Tokens held (positions 0 .. length-1). */
    public int length() {
        return length;
    }

    /** The token ids held, in order (an embedding override is recorded under its token id). */
    public int[] tokens() {
        return Arrays.copyOf(tokens, length);
    }

    /**
     * Drops everything from position n on (the RoPE state stays as it was, like the official model's) and gives
     * back the blocks past it. A shared block that the next append would write is copied first.
     */
    public void truncate(int n) {
        if (n < 0 || n > length) throw new IllegalArgumentException("truncate(" + n + ") on a cache of " + length + " tokens");
        int last = n / blockTokens;
        KvBlockPool.Block own = null;
        if (n % blockTokens != 0 && pool.refs(blocks[last]) > 1) { // taken first: a failure leaves the cache as it was
            own = take(n);
            if (own == null) throw exhausted(1);
        }
        length = n;
        trim();
        if (own != null) {
            KvBlockPool.Block shared = blocks[last];
            for (int l = 0; l < layers; l++) {
                System.arraycopy(shared.keys[l], 0, own.keys[l], 0, (n % blockTokens) * kvDim);
                System.arraycopy(shared.values[l], 0, own.values[l], 0, (n % blockTokens) * kvDim);
            }
            pool.release(shared);
            blocks[last] = own;
        }
    }

    /** Gives back the blocks past the last position held (those taken ahead for tokens not yet appended). */
    public void trim() {
        int keep = (length + blockTokens - 1) / blockTokens;
        while (blockCount > keep) {
            pool.release(blocks[--blockCount]);
            blocks[blockCount] = null;
        }
    }

    /** Gives back every block and forgets the tokens (the RoPE state stays). */
    public void release() {
        length = 0;
        trim();
    }

    /** Blocks held now. */
    public int blockCount() {
        return blockCount;
    }

    /** Block i (for accounting: shared blocks are the same object in every cache that holds them). */
    public Object block(int i) {
        if (i < 0 || i >= blockCount) throw new IndexOutOfBoundsException("block " + i + " of " + blockCount);
        return blocks[i];
    }

    /** The pool the blocks come from. */
    public KvBlockPool pool() {
        return pool;
    }

    /**
     * Takes blocks until positions [0, tokens) have room; false (keeping the blocks taken) if the pool runs out.
     *
     * @throws KvCacheMemoryException if the heap cannot hold another block (the blocks taken ahead are given back)
     */
    public boolean tryReserve(long tokens) {
        checkSize(tokens);
        while ((long) blockCount * blockTokens < tokens) {
            KvBlockPool.Block b = take(tokens);
            if (b == null) return false;
            if (blockCount == blocks.length) {
                try {
                    blocks = Arrays.copyOf(blocks, blocks.length * 2);
                } catch (OutOfMemoryError e) {
                    pool.release(b);
                    throw outOfMemory(tokens, e);
                }
            }
            blocks[blockCount++] = b;
        }
        return true;
    }

    /** A block from the pool (null if it is exhausted); the heap running out is a KvCacheMemoryException. */
    private KvBlockPool.Block take(long growingTo) {
        try {
            return pool.tryTake();
        } catch (OutOfMemoryError e) {
            throw outOfMemory(growingTo, e);
        }
    }

    private KvCacheMemoryException outOfMemory(long growingTo, OutOfMemoryError e) {
        trim();          // blocks taken ahead for tokens that will not come
        pool.dropFree(); // and the pool's spares: the heap needs them more
        return new KvCacheMemoryException(length, growingTo, bytesPerToken(), e);
    }

    /** The RoPE base this sequence uses now (it changes past max_position_embeddings with dynamic NTK). */
    public double ropeBase() {
        return rope.base();
    }

    RopeState rope() {
        return rope;
    }

    int layers() {
        return layers;
    }

    int kvDim() {
        return kvDim;
    }

    int blockTokens() {
        return blockTokens;
    }

    /** Keys of layer at block b: [blockTokens, kvDim]. */
    float[] keyBlock(int layer, int b) {
        return blocks[b].keys[layer];
    }

    float[] valueBlock(int layer, int b) {
        return blocks[b].values[layer];
    }

    /**
     * Makes room for n more tokens (more blocks; nothing held moves).
     *
     * @throws KvCacheMemoryException if the heap cannot hold them (the cache is left as it was)
     */
    void ensureCapacity(int n) {
        long need = (long) length + n;
        if (!tryReserve(need)) throw exhausted(need - (long) blockCount * blockTokens);
        if (need > tokens.length) {
            try {
                tokens = Arrays.copyOf(tokens, (int) Math.max(need, Math.min(Integer.MAX_VALUE - 8, 2L * tokens.length)));
            } catch (OutOfMemoryError e) {
                throw outOfMemory(need, e);
            }
        }
    }

    private void checkSize(long need) {
        // attention gathers a head's keys of the whole sequence into one array
        if (need * kvDim > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("KV cache of " + need + " tokens x " + kvDim + " floats exceeds a Java array");
        }
    }

    private IllegalStateException exhausted(long tokensShort) {
        return new IllegalStateException("the KV block pool is exhausted: " + pool.used() + " of " + pool.capacity()
                + " blocks of " + blockTokens + " tokens are in use, " + tokensShort + " more tokens do not fit");
    }

    /** Records n appended tokens (after their keys and values were written at length..length+n-1). */
    void commit(int[] ids, int n) {
        if ((long) length + n > tokens.length) tokens = Arrays.copyOf(tokens, Math.max(length + n, 2 * tokens.length));
        System.arraycopy(ids, 0, tokens, length, n);
        length += n;
    }

    /** Bytes of float32 keys and values per token, all layers. */
    public long bytesPerToken() {
        return pool.bytesPerToken();
    }
}
