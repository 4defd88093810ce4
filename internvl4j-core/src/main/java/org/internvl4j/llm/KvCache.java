package org.internvl4j.llm;

import java.util.Arrays;
import org.internvl4j.checkpoint.LlmConfig;

/**
 * The state of one sequence: its tokens so far, the rotated keys and the values of every layer, and its
 * own {@link RopeState}. Made by {@link CausalLM#newCache()}; mutated only by {@link CausalLM#forward}
 * (which appends) and {@link #truncate}. Not thread-safe: one forward at a time per cache. Kept across
 * turns, it lets a session prefill only its new tokens.
 */
public final class KvCache {
    private final int layers;
    private final int kvDim;
    private final RopeState rope;
    private float[][] keys;   // (layer) [capacity, kvHeads * headDim]
    private float[][] values; // (layer) [capacity, kvHeads * headDim]
    private int[] tokens;
    private int length;

    KvCache(LlmConfig c, int initialCapacity) {
        this.layers = c.numHiddenLayers();
        this.kvDim = c.numKeyValueHeads() * c.headDim();
        this.rope = new RopeState(c);
        int cap = Math.max(16, initialCapacity);
        long maxHeap = Runtime.getRuntime().maxMemory();
        if (cap * bytesPerToken() > maxHeap) throw new KvCacheMemoryException(cap, cap, cap * bytesPerToken(), maxHeap);
        if ((long) cap * kvDim > Integer.MAX_VALUE - 8) cap = Math.max(16, (Integer.MAX_VALUE - 8) / kvDim);
        this.keys = new float[layers][];
        this.values = new float[layers][];
        allocate(keys, values, cap, cap);
        this.tokens = new int[cap];
    }

    private KvCache(KvCache o) {
        this.layers = o.layers;
        this.kvDim = o.kvDim;
        this.rope = o.rope.copy();
        this.length = o.length;
        this.keys = new float[layers][];
        this.values = new float[layers][];
        for (int l = 0; l < layers; l++) {
            keys[l] = o.keys[l].clone();
            values[l] = o.values[l].clone();
        }
        this.tokens = o.tokens.clone();
    }

    /** A deep copy (e.g. to fork a conversation). */
    public KvCache copy() {
        return new KvCache(this);
    }

    /** Tokens held (positions 0 .. length-1). */
    public int length() {
        return length;
    }

    /** The token ids held, in order (an embedding override is recorded under its token id). */
    public int[] tokens() {
        return Arrays.copyOf(tokens, length);
    }

    /** Drops everything from position n on (the RoPE state stays as it was, like the official model's). */
    public void truncate(int n) {
        if (n < 0 || n > length) throw new IllegalArgumentException("truncate(" + n + ") on a cache of " + length + " tokens");
        length = n;
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

    float[] keys(int layer) {
        return keys[layer];
    }

    float[] values(int layer) {
        return values[layer];
    }

    /**
     * Makes room for n more tokens now, so that a forward that appends them allocates nothing.
     *
     * @throws KvCacheMemoryException when the heap cannot hold them (the cache is left as it was)
     */
    public void reserve(int n) {
        ensureCapacity(n);
    }

    /** Makes room for n more tokens. */
    void ensureCapacity(int n) {
        long need = (long) length + n;
        if (need * kvDim <= keys[0].length && need <= tokens.length) return;
        long cap = Math.max(need, 2L * tokens.length);
        if (cap * kvDim > Integer.MAX_VALUE - 8) cap = Math.max(need, (Integer.MAX_VALUE - 8) / kvDim);
        if (need * kvDim > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("KV cache of " + need + " tokens x " + kvDim + " floats exceeds a Java array");
        }
        long bytes = cap * bytesPerToken(), maxHeap = Runtime.getRuntime().maxMemory();
        if (bytes > maxHeap) throw new KvCacheMemoryException(need, cap, bytes, maxHeap);
        // one layer at a time, so the old arrays go as the new ones come (the peak is the cache and one layer, not
        // two caches), last layer first: layer 0's length is the capacity the check above reads, so a failure on
        // the way leaves a cache that still says its old capacity, and the next call grows the rest again
        try {
            int len = (int) (cap * kvDim);
            for (int l = layers - 1; l >= 0; l--) {
                if (keys[l].length < len) keys[l] = Arrays.copyOf(keys[l], len);
                if (values[l].length < len) values[l] = Arrays.copyOf(values[l], len);
            }
            if (tokens.length < cap) tokens = Arrays.copyOf(tokens, (int) cap);
        } catch (OutOfMemoryError e) {
            throw new KvCacheMemoryException(need, cap, bytes, maxHeap);
        }
    }

    /**
     * Fills k and v with arrays of cap tokens, or fails with a {@link KvCacheMemoryException} that says how much the
     * context needs: at once when it exceeds the whole heap, else when the JVM runs out on the way (the arrays made
     * so far are garbage then, so an OutOfMemoryError here leaves the heap as it was and is safe to turn into an error).
     */
    private void allocate(float[][] k, float[][] v, int cap, long tokensNeeded) {
        long bytes = (long) cap * bytesPerToken();
        long maxHeap = Runtime.getRuntime().maxMemory();
        if (bytes > maxHeap) throw new KvCacheMemoryException(tokensNeeded, cap, bytes, maxHeap);
        try {
            for (int l = 0; l < layers; l++) {
                k[l] = new float[cap * kvDim];
                v[l] = new float[cap * kvDim];
            }
        } catch (OutOfMemoryError e) {
            Arrays.fill(k, null);
            Arrays.fill(v, null);
            throw new KvCacheMemoryException(tokensNeeded, cap, bytes, maxHeap);
        }
    }

    /** Records n appended tokens (after their keys and values were written at length..length+n-1). */
    void commit(int[] ids, int n) {
        System.arraycopy(ids, 0, tokens, length, n);
        length += n;
    }

    /** Bytes of float32 keys and values per token, all layers. */
    public long bytesPerToken() {
        return 2L * layers * kvDim * Float.BYTES;
    }
}
