package org.internvl4j.vision;

import java.util.ArrayList;
import java.util.List;
import java.lang.foreign.MemorySegment;
import org.internvl4j.checkpoint.Checkpoint;
import org.internvl4j.checkpoint.CheckpointException;
import org.internvl4j.checkpoint.TensorInfo;
import org.internvl4j.checkpoint.VisionConfig;
import org.internvl4j.tensor.Activations;
import org.internvl4j.tensor.F32Weight;
import org.internvl4j.tensor.MatMul;
import org.internvl4j.tensor.Norms;
import org.internvl4j.tensor.Ops;
import org.internvl4j.tensor.Parallel;
import org.internvl4j.tensor.Softmax;
import org.internvl4j.tensor.Weight;

/**
 * InternViT (InternViT-300M-448px in InternVL2-8B), after modeling_intern_vit.py. Holds weights and
 * config only (no mutable state). Built up to select_layer: later layers are never loaded. There is no
 * final norm: the output is the hidden state after the selected layer.
 */
public final class InternViT {
    static final String P = "vision_model.";

    /** One encoder layer, named after the checkpoint keys. */
    record Layer(
            float[] norm1Weight, float[] norm1Bias, // (hidden); bias null for rms_norm
            Weight qkv, float[] qkvBias,            // (3 * hidden, hidden); bias nullable
            float[] qNorm, float[] kNorm,           // (hidden), only with qk_normalization
            Weight proj, float[] projBias,          // (hidden, hidden)
            float[] ls1,                            // (hidden)
            float[] norm2Weight, float[] norm2Bias,
            Weight fc1, float[] fc1Bias,            // (intermediate, hidden)
            Weight fc2, float[] fc2Bias,            // (hidden, intermediate)
            float[] ls2) {
    }

    private final VisionConfig config;
    private final int imageSize;        // input tile size (force_image_size)
    private final int grid;             // patches per side of the input, imageSize / patch
    private final Weight patchEmbedding; // (hidden, 3 * patch * patch), the conv kernel flattened (c, ky, kx)
    private final float[] patchBias;     // (hidden)
    private final float[] classEmbedding; // (hidden)
    private final float[] positionEmbedding; // (1 + grid * grid, hidden), already interpolated to the input grid
    private final List<Layer> layers;

    private InternViT(VisionConfig config, int imageSize, Weight patchEmbedding, float[] patchBias, float[] classEmbedding,
                      float[] positionEmbedding, List<Layer> layers) {
        this.config = config;
        this.imageSize = imageSize;
        this.grid = imageSize / config.patchSize();
        this.patchEmbedding = patchEmbedding;
        this.patchBias = patchBias;
        this.classEmbedding = classEmbedding;
        this.positionEmbedding = positionEmbedding;
        this.layers = layers;
    }

    /**
     * @param imageSize the tile size the model sees (force_image_size, or the vision image_size)
     * @param selectLayer the config's select_layer (negative, -1 = last layer)
     */
    public static InternViT load(Checkpoint ckpt, int imageSize, int selectLayer) {
        VisionConfig c = ckpt.config().vision();
        int d = c.hiddenSize(), p = c.patchSize(), inter = c.intermediateSize();
        TensorInfo conv = ckpt.tensor(P + "embeddings.patch_embedding.weight", d, 3, p, p);
        Weight patch = Weight.of(conv.dtype(), conv.data(), d, 3 * p * p);
        int trained = c.imageSize() / p;
        float[] pos = ckpt.floats(P + "embeddings.position_embedding", 1, 1 + (long) trained * trained, d);
        int g = imageSize / p;
        float[] interpolated = new float[(1 + g * g) * d];
        System.arraycopy(pos, 0, interpolated, 0, d); // the CLS position is never interpolated
        float[] grid = PosEmbedInterpolation.bicubic(pos, d, d, trained, g);
        System.arraycopy(grid, 0, interpolated, d, grid.length);
        boolean ln = c.normType().equals("layer_norm");
        int used = c.numHiddenLayers() + selectLayer + 1;
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < used; i++) {
            String pre = P + "encoder.layers." + i + ".";
            layers.add(new Layer(
                    ckpt.floats(pre + "norm1.weight", d), ln ? ckpt.floats(pre + "norm1.bias", d) : null,
                    ckpt.weight(pre + "attn.qkv.weight", 3 * d, d), optional(ckpt, c.qkvBias(), pre + "attn.qkv.bias", "qkv_bias", 3 * d),
                    optional(ckpt, c.qkNormalization(), pre + "attn.q_norm.weight", "qk_normalization", d),
                    optional(ckpt, c.qkNormalization(), pre + "attn.k_norm.weight", "qk_normalization", d),
                    ckpt.weight(pre + "attn.proj.weight", d, d), ckpt.floats(pre + "attn.proj.bias", d),
                    ckpt.floats(pre + "ls1", d),
                    ckpt.floats(pre + "norm2.weight", d), ln ? ckpt.floats(pre + "norm2.bias", d) : null,
                    ckpt.weight(pre + "mlp.fc1.weight", inter, d), ckpt.floats(pre + "mlp.fc1.bias", inter),
                    ckpt.weight(pre + "mlp.fc2.weight", d, inter), ckpt.floats(pre + "mlp.fc2.bias", d),
                    ckpt.floats(pre + "ls2", d)));
        }
        return new InternViT(c, imageSize, patch, ckpt.floats(P + "embeddings.patch_embedding.bias", d),
                ckpt.floats(P + "embeddings.class_embedding", 1, 1, d), interpolated, List.copyOf(layers));
    }

    private static float[] optional(Checkpoint ckpt, boolean wanted, String name, String flag, int n) {
        if (!wanted) {
            if (ckpt.has(name)) throw new CheckpointException(ckpt.dir() + ": tensor " + name + " is present but vision_config." + flag + " is false");
            return null;
        }
        return ckpt.floats(name, n);
    }

    public VisionConfig config() {
        return config;
    }

    /** Tokens per tile: the class token and the patches. */
    public int tokensPerTile() {
        return 1 + grid * grid;
    }

    public int imageSize() {
        return imageSize;
    }

    /**
     * The hidden state after the selected layer, [tiles, 1 + grid^2, hidden] (class token first).
     * pixelValues: [tiles, 3, imageSize, imageSize], normalised. All tiles run as one batch.
     */
    public float[] forward(float[] pixelValues, int tiles) {
        long need = (long) tiles * 3 * imageSize * imageSize;
        if (tiles < 1 || pixelValues.length != need) {
            throw new IllegalArgumentException("pixel values hold " + pixelValues.length + " floats, expected [" + tiles
                    + ", 3, " + imageSize + ", " + imageSize + "] = " + need);
        }
        float[] x = embeddings(pixelValues, tiles);
        for (Layer layer : layers) encoderLayer(layer, x, tiles);
        return x;
    }

    /** modeling_intern_vit.py InternVisionEmbeddings: conv patches, prepend CLS, add positions. */
    private float[] embeddings(float[] pv, int tiles) {
        int d = config.hiddenSize(), p = config.patchSize(), n = tokensPerTile(), k = 3 * p * p;
        int patches = grid * grid;
        // im2col: patch index = row * grid + col, features (c, ky, kx) like the conv weight
        float[] cols = new float[tiles * patches * k];
        for (int t = 0; t < tiles; t++) {
            for (int py = 0; py < grid; py++) {
                for (int px = 0; px < grid; px++) {
                    int o = ((t * patches) + py * grid + px) * k;
                    for (int c = 0; c < 3; c++) {
                        for (int ky = 0; ky < p; ky++) {
                            int src = ((t * 3 + c) * imageSize + py * p + ky) * imageSize + px * p;
                            System.arraycopy(pv, src, cols, o + (c * p + ky) * p, p);
                        }
                    }
                }
            }
        }
        float[] emb = new float[tiles * patches * d];
        MatMul.matMul(patchEmbedding, cols, tiles * patches, emb);
        float[] x = new float[tiles * n * d];
        for (int t = 0; t < tiles; t++) {
            System.arraycopy(classEmbedding, 0, x, t * n * d, d);
            for (int i = 0; i < patches; i++) {
                System.arraycopy(emb, (t * patches + i) * d, x, (t * n + 1 + i) * d, d);
                Ops.add(x, (t * n + 1 + i) * d, patchBias, 0, d);
            }
            Ops.add(x, t * n * d, positionEmbedding, 0, n * d);
        }
        return x;
    }

    /** modeling_intern_vit.py InternVisionEncoderLayer.forward; x: [tiles * tokens, hidden], in place. */
    private void encoderLayer(Layer w, float[] x, int tiles) {
        int d = config.hiddenSize(), rows = tiles * tokensPerTile(), inter = config.intermediateSize();
        float[] xn = new float[rows * d];
        norm(x, w.norm1Weight(), w.norm1Bias(), xn, rows);
        float[] a = attention(w, xn, tiles);
        addScaledRows(x, a, w.ls1(), rows); // x + attn(norm1(x)) * ls1
        norm(x, w.norm2Weight(), w.norm2Bias(), xn, rows);
        float[] h = new float[rows * inter];
        MatMul.matMul(w.fc1(), w.fc1Bias(), xn, rows, h);
        // GELU row by row: each row's own vector loop and tail, whatever the thread count
        Parallel.forRange(rows, 8, (r0, r1) -> {
            for (int r = r0; r < r1; r++) Activations.gelu(h, r * inter, inter);
        });
        MatMul.matMul(w.fc2(), w.fc2Bias(), h, rows, a);
        addScaledRows(x, a, w.ls2(), rows); // x + mlp(norm2(x)) * ls2
    }

    /** x[r] += a[r] * scale for every row r of [rows, hidden]. */
    private void addScaledRows(float[] x, float[] a, float[] scale, int rows) {
        int d = config.hiddenSize();
        Parallel.forRange(rows, 32, (r0, r1) -> {
            for (int r = r0; r < r1; r++) Ops.addScaled(x, r * d, a, r * d, scale, d);
        });
    }

    private void norm(float[] x, float[] weight, float[] bias, float[] out, int rows) {
        int d = config.hiddenSize();
        float eps = (float) config.layerNormEps();
        Parallel.forRange(rows, 32, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                if (bias != null) Norms.layerNorm(x, r * d, weight, bias, eps, out, r * d, d);
                else Norms.rmsNorm(x, r * d, weight, eps, out, r * d, d);
            }
        });
    }

    /** modeling_intern_vit.py InternAttention._naive_attn; returns proj(attn) [rows, hidden]. */
    private float[] attention(Layer w, float[] xn, int tiles) {
        int d = config.hiddenSize(), n = tokensPerTile(), rows = tiles * n, heads = config.numAttentionHeads();
        float eps = (float) config.layerNormEps();
        float[] qkv = new float[rows * 3 * d]; // per row: q (heads * hd), k, v
        if (w.qkvBias() != null) MatMul.matMul(w.qkv(), w.qkvBias(), xn, rows, qkv);
        else MatMul.matMul(w.qkv(), xn, rows, qkv);
        if (w.qNorm() != null) {
            // qk-normalisation: RMSNorm over the full width (all heads together), before the head split
            Parallel.forRange(rows, 32, (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    Norms.rmsNorm(qkv, r * 3 * d, w.qNorm(), eps, qkv, r * 3 * d, d);
                    Norms.rmsNorm(qkv, r * 3 * d + d, w.kNorm(), eps, qkv, r * 3 * d + d, d);
                }
            });
        }
        float[] out = new float[rows * d];
        // the (tile, head) pairs are independent: run them side by side, each with its own buffers
        Parallel.forRange(tiles * heads, 1, (p0, p1) -> {
            for (int p = p0; p < p1; p++) attendHead(qkv, p / heads, p % heads, out);
        });
        float[] o = new float[rows * d];
        MatMul.matMul(w.proj(), w.projBias(), out, rows, o);
        return o;
    }

    /**
     * One head of one tile, as two matrix products with transposed outputs: scores [query, key] =
     * (q * scale) k^T, then softmax(scores) v = [query, dim], each straight from the register tiles.
     */
    private void attendHead(float[] qkv, int t, int h, float[] out) {
        int d = config.hiddenSize(), n = tokensPerTile(), hd = config.headDim();
        float scale = (float) Math.pow(hd, -0.5);
        float[] q = new float[n * hd], k = new float[n * hd], vt = new float[hd * n], scores = new float[n * n], head = new float[n * hd];
        for (int i = 0; i < n; i++) {
            int off = (t * n + i) * 3 * d + h * hd;
            for (int e = 0; e < hd; e++) {
                q[i * hd + e] = qkv[off + e] * scale;
                k[i * hd + e] = qkv[off + d + e];
                vt[e * n + i] = qkv[off + 2 * d + e];
            }
        }
        MatMul.matMulTransposed(new F32Weight(MemorySegment.ofArray(q), n, hd), k, n, scores); // [n queries, n keys]
        for (int i = 0; i < n; i++) Softmax.softmax(scores, i * n, n);
        MatMul.matMulTransposed(new F32Weight(MemorySegment.ofArray(scores), n, n), vt, hd, head); // [n queries, hd]
        for (int i = 0; i < n; i++) System.arraycopy(head, i * hd, out, (t * n + i) * d + h * hd, hd);
    }
}
