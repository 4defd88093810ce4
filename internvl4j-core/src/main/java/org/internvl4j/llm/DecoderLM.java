package org.internvl4j.llm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.internvl4j.checkpoint.Checkpoint;
import org.internvl4j.checkpoint.CheckpointException;
import org.internvl4j.checkpoint.LlmArchitecture;
import org.internvl4j.checkpoint.LlmConfig;
import java.lang.foreign.MemorySegment;
import org.internvl4j.tensor.Activations;
import org.internvl4j.tensor.F32Weight;
import org.internvl4j.tensor.MatMul;
import org.internvl4j.tensor.Norms;
import org.internvl4j.tensor.Ops;
import org.internvl4j.tensor.Parallel;
import org.internvl4j.tensor.Rope;
import org.internvl4j.tensor.Softmax;
import org.internvl4j.tensor.Weight;

/**
 * The Llama-family decoder every InternVL language model is (InternLM2, Qwen2, ...): RMSNorm, rotate-half RoPE,
 * grouped KV heads, a SiLU-gated MLP; the forward follows modeling_internlm2.py. What differs between
 * architectures (tensor names, packed or split q/k/v, biases, tied head, RoPE variant) comes from the
 * checkpoint's {@link LlmArchitecture} table at load. Holds weights (views over the mapped checkpoint) and config
 * only; all state lives in the {@link KvCache} of each sequence, so one instance serves many sequences from many
 * threads.
 *
 * <p>One {@link #forward(List, List, List, boolean)} runs any mix of sequences: prefill (many new rows) and decode
 * (one new row each) differ only in row counts. The linear layers see all rows of all sequences at once,
 * so every weight is streamed once per call, and attention runs per sequence over its own cache.
 */
public final class DecoderLM implements CausalLM {
    /** Rows per pass through the layer stack: enough to keep the blocked matmul compute-bound. */
    static final int PREFILL_CHUNK = 512;

    /** One decoder layer's weights, named after InternLM2's checkpoint keys. */
    record Layer(
            float[] attentionNorm, // (hidden)
            Weight wqkv,           // (qDim + 2 * kvDim, hidden), laid out as the architecture's QkvLayout, see splitWqkv
            float[] wqkvBias,      // nullable
            Weight wo,             // (hidden, heads * headDim)
            float[] woBias,        // nullable
            float[] ffnNorm,       // (hidden)
            Weight w1,             // (intermediate, hidden) gate
            Weight w3,             // (intermediate, hidden) up
            Weight w2) {           // (hidden, intermediate) down
    }

    private final LlmConfig config;
    private final LlmArchitecture arch;
    private final Weight tokEmbeddings; // (vocab, hidden)
    private final List<Layer> layers;
    private final float[] norm;         // (hidden)
    private final Weight output;        // (vocab, hidden); the embeddings when tied

    /** The checkpoint whose mapped files the weights may be read from (null when built otherwise). */
    private Checkpoint source;

    private DecoderLM(LlmConfig config, Weight tokEmbeddings, List<Layer> layers, float[] norm, Weight output) {
        this.config = config;
        this.arch = config.arch();
        this.tokEmbeddings = tokEmbeddings;
        this.layers = layers;
        this.norm = norm;
        this.output = output;
    }

    /** Builds the model over the checkpoint's mapped tensors, named by its architecture's table; shapes are checked against the config. */
    public static DecoderLM load(Checkpoint ckpt) {
        LlmConfig c = ckpt.config().llm();
        LlmArchitecture a = c.arch();
        int d = c.hiddenSize(), hd = c.headDim(), h = c.numAttentionHeads(), inter = c.intermediateSize();
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            Weight[] gateUp = gateUp(ckpt, a, i, inter, d);
            layers.add(new Layer(
                    ckpt.floats(LlmArchitecture.weight(LlmArchitecture.layer(i, a.attentionNorm())), d),
                    qkvWeight(ckpt, c, a, i),
                    qkvBias(ckpt, c, a, i),
                    ckpt.weight(LlmArchitecture.weight(LlmArchitecture.layer(i, a.oName())), d, h * hd),
                    bias(ckpt, a.hasOBias(c), LlmArchitecture.bias(LlmArchitecture.layer(i, a.oName())), d),
                    ckpt.floats(LlmArchitecture.weight(LlmArchitecture.layer(i, a.mlpNorm())), d),
                    gateUp[0], gateUp[1],
                    ckpt.weight(LlmArchitecture.weight(LlmArchitecture.layer(i, a.downName())), d, inter)));
        }
        Weight embed = ckpt.weight(LlmArchitecture.weight(a.embed()), c.vocabSize(), d);
        DecoderLM lm = new DecoderLM(c, embed, List.copyOf(layers),
                ckpt.floats(LlmArchitecture.weight(a.finalNorm()), d),
                a.tiedHead(c) ? embed : ckpt.weight(LlmArchitecture.weight(a.head()), c.vocabSize(), d));
        lm.source = ckpt;
        return lm;
    }

    /**
     * Guards a computation that reads the weights. When they are read from mapped files, each call first checks
     * (one stat per shard) that no shard shrank or was rewritten in place since it was mapped: a read past a mapped
     * file's new end is SIGBUS, which HotSpot turns into an InternalError in scalar reads but which kills the JVM in
     * C2-compiled Vector API loads (seen on JDK 25), so the change must be found before the kernels run. A shard
     * replaced by rename (as downloaders do) is harmless: the mapping keeps the old file. An InternalError that still
     * comes (a change during this very call, read by scalar code) becomes a CheckpointException naming the shard.
     */
    private <T> T guarded(java.util.function.Supplier<T> body) {
        if (source != null && !source.memory().copies()) source.checkUnchanged();
        try {
            return body.get();
        } catch (InternalError e) {
            if (source == null) throw e;
            throw source.mappedFault(e);
        }
    }

    /** The packed q/k/v matrix of layer i; split tensors are copied into one [q; k; v] matrix so one matmul serves. */
    private static Weight qkvWeight(Checkpoint ckpt, LlmConfig c, LlmArchitecture a, int i) {
        int d = c.hiddenSize();
        int[] rows = LlmArchitecture.qkvRows(c);
        if (a.qkv() != LlmArchitecture.QkvLayout.SPLIT) {
            return ckpt.weight(LlmArchitecture.weight(LlmArchitecture.layer(i, a.qkvNames().get(0))), rows[0] + rows[1] + rows[2], d);
        }
        Weight[] parts = new Weight[3];
        long bytes = 0;
        for (int k = 0; k < 3; k++) {
            parts[k] = ckpt.weight(LlmArchitecture.weight(LlmArchitecture.layer(i, a.qkvNames().get(k))), rows[k], d);
            bytes += parts[k].segment().byteSize();
            if (parts[k].dtype() != parts[0].dtype()) {
                throw new CheckpointException(ckpt.dir() + ": layer " + i + " stores q/k/v in different dtypes");
            }
        }
        MemorySegment fused = Arena.ofAuto().allocate(bytes, 64);
        long at = 0;
        for (Weight w : parts) {
            MemorySegment.copy(w.segment(), 0, fused, at, w.segment().byteSize());
            at += w.segment().byteSize();
        }
        return Weight.of(parts[0].dtype(), fused, rows[0] + rows[1] + rows[2], d);
    }

    private static float[] qkvBias(Checkpoint ckpt, LlmConfig c, LlmArchitecture a, int i) {
        int[] rows = LlmArchitecture.qkvRows(c);
        boolean has = a.hasQkvBias(c);
        if (a.qkv() != LlmArchitecture.QkvLayout.SPLIT) {
            return bias(ckpt, has, LlmArchitecture.bias(LlmArchitecture.layer(i, a.qkvNames().get(0))), rows[0] + rows[1] + rows[2]);
        }
        if (!has) {
            for (String n : a.qkvNames()) bias(ckpt, false, LlmArchitecture.bias(LlmArchitecture.layer(i, n)), 0);
            return null;
        }
        float[] out = new float[rows[0] + rows[1] + rows[2]];
        for (int k = 0, at = 0; k < 3; at += rows[k], k++) {
            float[] b = ckpt.floats(LlmArchitecture.bias(LlmArchitecture.layer(i, a.qkvNames().get(k))), rows[k]);
            System.arraycopy(b, 0, out, at, rows[k]);
        }
        return out;
    }

    /** gate and up of layer i: two tensors, or two row views of one packed [gate; up] tensor. */
    private static Weight[] gateUp(Checkpoint ckpt, LlmArchitecture a, int i, int inter, int d) {
        List<String> n = a.gateUpNames();
        if (n.size() == 2) {
            return new Weight[] {
                    ckpt.weight(LlmArchitecture.weight(LlmArchitecture.layer(i, n.get(0))), inter, d),
                    ckpt.weight(LlmArchitecture.weight(LlmArchitecture.layer(i, n.get(1))), inter, d)};
        }
        Weight packed = ckpt.weight(LlmArchitecture.weight(LlmArchitecture.layer(i, n.get(0))), 2 * inter, d);
        long half = packed.segment().byteSize() / 2;
        return new Weight[] {
                Weight.of(packed.dtype(), packed.segment().asSlice(0, half), inter, d),
                Weight.of(packed.dtype(), packed.segment().asSlice(half, half), inter, d)};
    }

    private static float[] bias(Checkpoint ckpt, boolean expected, String name, int n) {
        if (!expected) {
            if (ckpt.has(name)) throw new CheckpointException(ckpt.dir() + ": tensor " + name + " is present but the model has no such bias"
                    + " (llm_config.bias is false or the architecture has none)");
            return null;
        }
        return ckpt.floats(name, n);
    }

    @Override
    public LlmConfig config() {
        return config;
    }

    /** A new, empty sequence state; its KV blocks come from a private pool as it grows (capacity is a hint only). */
    @Override
    public KvCache newCache(int capacity) {
        return new KvCache(config, capacity);
    }

    @Override
    public float[] embedTokens(int[] tokens) {
        return guarded(() -> embedTokensMapped(tokens));
    }

    private float[] embedTokensMapped(int[] tokens) {
        int d = config.hiddenSize();
        float[] x = new float[tokens.length * d];
        for (int i = 0; i < tokens.length; i++) {
            int t = tokens[i];
            if (t < 0 || t >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + t + " at position " + i + " is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
            for (int c = 0; c < d; c++) x[i * d + c] = tokEmbeddings.get(t, c);
        }
        return x;
    }

    /**
     * Several sequences at once. Sequence i appends tokens.get(i) (whose input embeddings are
     * embeds.get(i), [n_i, hidden], from {@link #embedTokens}, image rows spliced in) to caches.get(i); caches
     * must be distinct. Returns logits [sequences, vocab] of each sequence's last new position if lastLogitsOnly,
     * else [sum n_i, vocab] in row order. Mutates the caches (keys, values, tokens, RoPE state).
     */
    @Override
    public float[] forward(List<KvCache> caches, List<int[]> tokens, List<float[]> embeds, boolean lastLogitsOnly) {
        return guarded(() -> forwardMapped(caches, tokens, embeds, lastLogitsOnly));
    }

    private float[] forwardMapped(List<KvCache> caches, List<int[]> tokens, List<float[]> embeds, boolean lastLogitsOnly) {
        int seqs = caches.size();
        if (tokens.size() != seqs || embeds.size() != seqs) throw new IllegalArgumentException("caches, tokens and embeds differ in count");
        int d = config.hiddenSize(), hd = config.headDim(), half = hd / 2;
        int[] start = new int[seqs + 1]; // row offsets of each sequence
        for (int s = 0; s < seqs; s++) {
            int n = tokens.get(s).length;
            if (n == 0) throw new IllegalArgumentException("sequence " + s + " has no new tokens");
            if (embeds.get(s).length != n * d) throw new IllegalArgumentException("sequence " + s + ": embeddings are not [" + n + ", " + d + "]");
            KvCache c = caches.get(s);
            if (c.kvDim() != config.numKeyValueHeads() * hd || c.layers() != layers.size()) {
                throw new IllegalArgumentException("sequence " + s + ": its KV cache was made by a model of other shapes");
            }
            for (int t = 0; t < s; t++) if (caches.get(t) == c) throw new IllegalArgumentException("sequences " + t + " and " + s + " share one KV cache");
            start[s + 1] = start[s] + n;
        }
        int rows = start[seqs];
        float[] x = new float[rows * d];
        for (int s = 0; s < seqs; s++) System.arraycopy(embeds.get(s), 0, x, start[s] * d, embeds.get(s).length);

        // RoPE per sequence: the state advances once per forward (layer 0 in the reference), before any rotation
        float[] cos = new float[rows * half], sin = new float[rows * half];
        // every cache's room first: one that cannot grow (KvCacheMemoryException) fails the call before any state moved
        for (int s = 0; s < seqs; s++) caches.get(s).ensureCapacity(start[s + 1] - start[s]);
        for (int s = 0; s < seqs; s++) {
            KvCache cache = caches.get(s);
            int past = cache.length(), n = start[s + 1] - start[s];
            cache.rope().advance(past + n);
            for (int r = 0; r < n; r++) cache.rope().cosSin(past + r, cos, sin, (start[s] + r) * half);
        }

        // Long prefills run in chunks through the whole stack: a later chunk attends to the keys an earlier one
        // cached, which is exactly causal attention, and bounds the activation memory. The chunks are cut at
        // multiples of PREFILL_CHUNK of each sequence's own rows, so a sequence is computed the same way
        // whatever else is in the batch; pieces of several sequences share a pass up to PREFILL_CHUNK rows.
        int longest = 0;
        for (int s = 0; s < seqs; s++) longest = Math.max(longest, start[s + 1] - start[s]);
        if (longest <= PREFILL_CHUNK && rows <= PREFILL_CHUNK) {
            stack(x, start, caches, tokens, cos, sin);
        } else {
            for (int c0 = 0; c0 < longest; c0 += PREFILL_CHUNK) {
                List<Integer> pass = new ArrayList<>();
                int passRows = 0;
                for (int s = 0; s <= seqs; s++) {
                    int n = s < seqs ? Math.max(0, Math.min(PREFILL_CHUNK, start[s + 1] - start[s] - c0)) : 0;
                    if (!pass.isEmpty() && (s == seqs || passRows + n > PREFILL_CHUNK)) {
                        runPass(pass, c0, x, start, caches, tokens, cos, sin);
                        pass.clear();
                        passRows = 0;
                    }
                    if (n > 0) {
                        pass.add(s);
                        passRows += n;
                    }
                }
            }
        }

        // final norm and head, only on the rows that need logits
        int[] picked = lastLogitsOnly ? IntStream.range(0, seqs).map(s -> start[s + 1] - 1).toArray() : IntStream.range(0, rows).toArray();
        float[] h = new float[picked.length * d];
        for (int i = 0; i < picked.length; i++) Norms.rmsNorm(x, picked[i] * d, norm, (float) config.rmsNormEps(), h, i * d, d);
        float[] logits = new float[picked.length * config.vocabSize()];
        MatMul.matMul(output, h, picked.length, logits);
        return logits;
    }

    /** Rows [c0, c0 + PREFILL_CHUNK) of each sequence in pass (indices into caches) through the stack, x updated in place. */
    private void runPass(List<Integer> pass, int c0, float[] x, int[] start, List<KvCache> caches, List<int[]> tokens,
                         float[] cos, float[] sin) {
        int d = config.hiddenSize(), half = config.headDim() / 2;
        int[] chunkStart = new int[pass.size() + 1];
        List<KvCache> chunkCaches = new ArrayList<>();
        List<int[]> chunkIds = new ArrayList<>();
        for (int i = 0; i < pass.size(); i++) {
            int s = pass.get(i), n = Math.min(PREFILL_CHUNK, start[s + 1] - start[s] - c0);
            chunkStart[i + 1] = chunkStart[i] + n;
            chunkCaches.add(caches.get(s));
            chunkIds.add(Arrays.copyOfRange(tokens.get(s), c0, c0 + n));
        }
        int rows = chunkStart[pass.size()];
        float[] xc = new float[rows * d], cc = new float[rows * half], sc = new float[rows * half];
        for (int i = 0; i < pass.size(); i++) {
            int from = start[pass.get(i)] + c0, n = chunkStart[i + 1] - chunkStart[i];
            System.arraycopy(x, from * d, xc, chunkStart[i] * d, n * d);
            System.arraycopy(cos, from * half, cc, chunkStart[i] * half, n * half);
            System.arraycopy(sin, from * half, sc, chunkStart[i] * half, n * half);
        }
        stack(xc, chunkStart, chunkCaches, chunkIds, cc, sc);
        for (int i = 0; i < pass.size(); i++) {
            int from = start[pass.get(i)] + c0, n = chunkStart[i + 1] - chunkStart[i];
            System.arraycopy(xc, chunkStart[i] * d, x, from * d, n * d);
        }
    }

    /**
     * The activations of one pass through the stack, allocated once per pass and reused by every layer
     * (per-layer arrays of a 512-row prefill were ~150 MB of garbage per layer).
     */
    private record Scratch(float[] xn, float[] o, float[] qkv, float[] q, float[] attn, float[] gate, float[] up) {
        static Scratch of(LlmConfig c, int rows) {
            int d = c.hiddenSize(), hd = c.headDim(), h = c.numAttentionHeads(), kv = c.numKeyValueHeads(), inter = c.intermediateSize();
            return new Scratch(new float[rows * d], new float[rows * d], new float[rows * (h + 2 * kv) * hd], new float[rows * h * hd],
                    new float[rows * h * hd], new float[rows * inter], new float[rows * inter]);
        }
    }

    /** All decoder layers over x [rows, hidden] (in place), then the new tokens are committed to their caches. */
    private void stack(float[] x, int[] start, List<KvCache> caches, List<int[]> tokens, float[] cos, float[] sin) {
        int rows = start[caches.size()];
        Scratch scratch = Scratch.of(config, rows);
        for (int l = 0; l < layers.size(); l++) layer(l, layers.get(l), x, rows, start, caches, cos, sin, scratch);
        for (int s = 0; s < caches.size(); s++) caches.get(s).commit(tokens.get(s), tokens.get(s).length);
    }

    /** modeling_internlm2.py InternLM2DecoderLayer.forward; x: [rows, hidden], updated in place. */
    private void layer(int index, Layer w, float[] x, int rows, int[] start, List<KvCache> caches, float[] cos, float[] sin, Scratch sc) {
        int d = config.hiddenSize(), inter = config.intermediateSize();
        float[] xn = sc.xn(), o = sc.o();
        // h = x + wo(attention(attention_norm(x)))
        rmsNormRows(x, w.attentionNorm(), xn, rows);
        float[] attn = attention(index, w, xn, rows, start, caches, cos, sin, sc);
        if (w.woBias() != null) MatMul.matMul(w.wo(), w.woBias(), attn, rows, o);
        else MatMul.matMul(w.wo(), attn, 0, rows, o, 0);
        addRows(x, o, rows, d);
        // out = h + w2(silu(w1(n)) * w3(n)), n = ffn_norm(h)
        rmsNormRows(x, w.ffnNorm(), xn, rows);
        float[] gate = sc.gate(), up = sc.up();
        MatMul.matMul(w.w1(), xn, 0, rows, gate, 0);
        MatMul.matMul(w.w3(), xn, 0, rows, up, 0);
        Parallel.forRange(rows, 8, (r0, r1) -> {
            for (int r = r0; r < r1; r++) Activations.siluMul(gate, r * inter, up, r * inter, inter);
        });
        MatMul.matMul(w.w2(), gate, 0, rows, o, 0);
        addRows(x, o, rows, d);
    }

    /** Each row of x [rows, hidden] normalised into out, rows side by side. */
    private void rmsNormRows(float[] x, float[] weight, float[] out, int rows) {
        int d = config.hiddenSize();
        float eps = (float) config.rmsNormEps();
        Parallel.forRange(rows, 16, (r0, r1) -> {
            for (int r = r0; r < r1; r++) Norms.rmsNorm(x, r * d, weight, eps, out, r * d, d);
        });
    }

    /** a += b over [rows, width], row by row. */
    private static void addRows(float[] a, float[] b, int rows, int width) {
        Parallel.forRange(rows, 16, (r0, r1) -> Ops.add(a, r0 * width, b, r0 * width, (r1 - r0) * width));
    }

    /**
     * modeling_internlm2.py InternLM2Attention.forward for all rows; returns [rows, heads * headDim].
     * New keys and values are written into each sequence's cache at positions past .. past + n - 1.
     */
    private float[] attention(int index, Layer w, float[] xn, int rows, int[] start, List<KvCache> caches, float[] cos, float[] sin, Scratch sc) {
        int h = config.numAttentionHeads(), kv = config.numKeyValueHeads(), g = config.groups(), hd = config.headDim();
        int qkvDim = (h + 2 * kv) * hd, qDim = h * hd, kvDim = kv * hd, half = hd / 2;
        float[] qkv = sc.qkv();
        if (w.wqkvBias() != null) MatMul.matMul(w.wqkv(), w.wqkvBias(), xn, rows, qkv);
        else MatMul.matMul(w.wqkv(), xn, 0, rows, qkv, 0);

        float[] q = sc.q();
        for (int s = 0; s < caches.size(); s++) {
            KvCache cache = caches.get(s);
            int past = cache.length(), bt = cache.blockTokens();
            for (int r = start[s]; r < start[s + 1]; r++) {
                int pos = past + r - start[s], at = pos % bt * kvDim;
                float[] keys = cache.keyBlock(index, pos / bt), values = cache.valueBlock(index, pos / bt);
                splitWqkv(qkv, r * qkvDim, q, r * qDim, keys, at, values, at);
                for (int head = 0; head < h; head++) Rope.rotateHalf(q, r * qDim + head * hd, hd, cos, sin, r * half);
                for (int head = 0; head < kv; head++) Rope.rotateHalf(keys, at + head * hd, hd, cos, sin, r * half);
            }
        }

        // scores = q k^T / sqrt(hd), causal, fp32 softmax, @ v. Sequences with many new rows (prefill) run
        // as matrix products per kv head; the others (decode) one dot per key, parallel over (sequence, head).
        float[] out = sc.attn();
        Arrays.fill(out, 0, rows * qDim, 0f); // the per-key path accumulates into it
        List<Integer> few = new ArrayList<>();
        for (int s = 0; s < caches.size(); s++) {
            if (start[s + 1] - start[s] >= BLOCKED_ATTENTION_ROWS) attendBlocked(caches.get(s), index, q, start[s], start[s + 1], out);
            else few.add(s);
        }
        Parallel.forRange(few.size() * h, 1, (t0, t1) -> {
            for (int task = t0; task < t1; task++) {
                int seq = few.get(task / h);
                attendHead(caches.get(seq), index, task % h, q, start[seq], start[seq + 1], out);
            }
        });
        return out;
    }

    /** From this many new rows of one sequence on, attention runs as blocked matrix products. */
    static final int BLOCKED_ATTENTION_ROWS = 16;

    /**
     * Attention of rows [r0, r1) of one sequence as matrix products, per kv head for its G query heads
     * together: scores [G*n, keys] = Q K^T, a causal softmax per row (masked keys get weight 0), then
     * out = scores V. Both come straight from the tiles, untransposed ({@link MatMul#matMulTransposed}),
     * as in the vision tower's attention.
     */
    private void attendBlocked(KvCache cache, int layer, float[] q, int r0, int r1, float[] out) {
        int hd = config.headDim(), g = config.groups(), qDim = config.numAttentionHeads() * hd, kvDim = cache.kvDim();
        int n = r1 - r0, past = cache.length(), total = past + n, m = g * n;
        int bt = cache.blockTokens();
        float scale = (float) Math.sqrt(hd);
        float[] kh = new float[total * hd], vt = new float[hd * total], qg = new float[m * hd], scores = new float[m * total], og = new float[m * hd];
        F32Weight qw = new F32Weight(MemorySegment.ofArray(qg), m, hd), sw = new F32Weight(MemorySegment.ofArray(scores), m, total);
        for (int kvHead = 0; kvHead < config.numKeyValueHeads(); kvHead++) {
            int kvOff = kvHead * hd;
            for (int b = 0, k0 = 0; k0 < total; b++, k0 += bt) { // gather this head's keys and values block by block
                float[] keys = cache.keyBlock(layer, b), values = cache.valueBlock(layer, b);
                for (int k = k0, end = Math.min(total, k0 + bt); k < end; k++) {
                    int at = (k - k0) * kvDim + kvOff;
                    System.arraycopy(keys, at, kh, k * hd, hd);
                    for (int e = 0; e < hd; e++) vt[e * total + k] = values[at + e];
                }
            }
            for (int j = 0; j < g; j++) {
                int head = kvHead * g + j;
                for (int r = 0; r < n; r++) System.arraycopy(q, (r0 + r) * qDim + head * hd, qg, (j * n + r) * hd, hd);
            }
            MatMul.matMulTransposed(qw, kh, total, scores);
            Parallel.forRange(m, 8, (i0, i1) -> {
                for (int i = i0; i < i1; i++) {
                    int len = past + i % n + 1; // causal: keys 0 .. pos
                    int off = i * total;
                    for (int k = 0; k < len; k++) scores[off + k] /= scale;
                    Softmax.softmax(scores, off, len); // fp32 softmax, as the reference upcasts
                    Arrays.fill(scores, off + len, off + total, 0f);
                }
            });
            MatMul.matMulTransposed(sw, vt, hd, og);
            for (int j = 0; j < g; j++) {
                int head = kvHead * g + j;
                for (int r = 0; r < n; r++) System.arraycopy(og, (j * n + r) * hd, out, (r0 + r) * qDim + head * hd, hd);
            }
        }
    }

    /** One query head over rows [r0, r1) of one sequence, whose new keys are already in its cache. */
    private void attendHead(KvCache cache, int layer, int head, float[] q, int r0, int r1, float[] out) {
        int hd = config.headDim(), qDim = config.numAttentionHeads() * hd, kvDim = cache.kvDim();
        int kvOff = head / config.groups() * hd; // query head h reads kv head h / G
        int bt = cache.blockTokens();
        float scale = (float) Math.sqrt(hd);
        int past = cache.length();
        float[] scores = new float[past + r1 - r0];
        for (int r = r0; r < r1; r++) {
            int len = past + r - r0 + 1; // causal: keys 0 .. pos
            int off = r * qDim + head * hd;
            for (int b = 0, k0 = 0; k0 < len; b++, k0 += bt) {
                float[] keys = cache.keyBlock(layer, b);
                for (int k = k0, end = Math.min(len, k0 + bt); k < end; k++) scores[k] = Ops.dot(q, off, keys, (k - k0) * kvDim + kvOff, hd) / scale;
            }
            Softmax.softmax(scores, 0, len); // fp32 softmax, as the reference upcasts
            for (int b = 0, k0 = 0; k0 < len; b++, k0 += bt) {
                float[] values = cache.valueBlock(layer, b);
                for (int k = k0, end = Math.min(len, k0 + bt); k < end; k++) Ops.axpy(scores[k], values, (k - k0) * kvDim + kvOff, out, off, hd);
            }
        }
    }

    /**
     * The packed wqkv output of one row into q, k and v. CONCAT (and fused SPLIT) rows are [q; k; v]. InternLM2's,
     * modeling_internlm2.py:
     * {@code rearrange(qkv, 'b q (h gs d) -> b q h gs d', gs=2 + num_key_value_groups)}: for kv head g,
     * slots 0..G-1 are query heads g*G .. g*G+G-1, slot G its key, slot G+1 its value.
     */
    private void splitWqkv(float[] qkv, int off, float[] q, int qOff, float[] k, int kOff, float[] v, int vOff) {
        int g = config.groups(), hd = config.headDim();
        if (arch.qkv() != LlmArchitecture.QkvLayout.INTERLEAVED_GROUPS) {
            int qDim = config.numAttentionHeads() * hd, kvDim = config.numKeyValueHeads() * hd;
            System.arraycopy(qkv, off, q, qOff, qDim);
            System.arraycopy(qkv, off + qDim, k, kOff, kvDim);
            System.arraycopy(qkv, off + qDim + kvDim, v, vOff, kvDim);
            return;
        }
        for (int kvHead = 0; kvHead < config.numKeyValueHeads(); kvHead++) {
            int base = off + kvHead * (g + 2) * hd;
            System.arraycopy(qkv, base, q, qOff + kvHead * g * hd, g * hd);
            System.arraycopy(qkv, base + g * hd, k, kOff + kvHead * hd, hd);
            System.arraycopy(qkv, base + (g + 1) * hd, v, vOff + kvHead * hd, hd);
        }
    }
}
