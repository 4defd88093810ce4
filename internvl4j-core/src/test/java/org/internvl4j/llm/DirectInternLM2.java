package org.internvl4j.llm;

import org.internvl4j.checkpoint.Checkpoint;
import org.internvl4j.checkpoint.LlmConfig;

/**
 * InternLM2 written out as directly as possible in double precision, one position and one head at a
 * time, from the formulas of modeling_internlm2.py (RMSNorm, packed wqkv, rotate-half RoPE, causal
 * softmax attention where query head h reads key/value head h / groups, SiLU-gated MLP). No kernels,
 * no cache: the independent expectation the engine's InternLM2 is checked against.
 */
final class DirectInternLM2 {
    private final Checkpoint ckpt;
    private final LlmConfig c;
    /** Maps a query head to its key/value head; the real rule is h / groups. */
    private final java.util.function.IntUnaryOperator kvHeadOf;

    DirectInternLM2(Checkpoint ckpt, java.util.function.IntUnaryOperator kvHeadOf) {
        this.ckpt = ckpt;
        this.c = ckpt.config().llm();
        this.kvHeadOf = kvHeadOf;
    }

    DirectInternLM2(Checkpoint ckpt) {
        this(ckpt, null);
    }

    private int kvHead(int h) {
        return kvHeadOf == null ? h / c.groups() : kvHeadOf.applyAsInt(h);
    }

    /** Logits [n][vocab] of every position of one prefill, RoPE with the given base at every position. */
    double[][] logits(int[] tokens, double ropeBase) {
        return logits(tokens, null, -1, ropeBase, false);
    }

    /**
     * Logits of one prefill whose input rows at imageContextId tokens are the rows of imageEmbeds, in
     * order (null: none); only the last position's (the others null) if lastOnly.
     */
    double[][] logits(int[] tokens, float[] imageEmbeds, int imageContextId, double ropeBase, boolean lastOnly) {
        int n = tokens.length, d = c.hiddenSize(), hd = c.headDim(), h = c.numAttentionHeads(), g = c.groups();
        double[][] x = new double[n][d];
        var emb = ckpt.weight("language_model.model.tok_embeddings.weight", c.vocabSize(), d);
        for (int t = 0, img = 0; t < n; t++) {
            boolean image = imageEmbeds != null && tokens[t] == imageContextId;
            for (int i = 0; i < d; i++) x[t][i] = image ? imageEmbeds[img * d + i] : emb.get(tokens[t], i);
            if (image) img++;
        }
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "language_model.model.layers." + l + ".";
            double[][] q = new double[n][], k = new double[n][], v = new double[n][];
            for (int t = 0; t < n; t++) {
                double[] qkv = linear(p + "attention.wqkv", rms(x[t], p + "attention_norm.weight"));
                q[t] = new double[h * hd];
                k[t] = new double[c.numKeyValueHeads() * hd];
                v[t] = new double[c.numKeyValueHeads() * hd];
                for (int kv = 0; kv < c.numKeyValueHeads(); kv++) {
                    int base = kv * (g + 2) * hd; // [q_0 .. q_{g-1}, k, v] per kv head
                    System.arraycopy(qkv, base, q[t], kv * g * hd, g * hd);
                    System.arraycopy(qkv, base + g * hd, k[t], kv * hd, hd);
                    System.arraycopy(qkv, base + (g + 1) * hd, v[t], kv * hd, hd);
                }
                for (int head = 0; head < h; head++) rope(q[t], head * hd, t, ropeBase);
                for (int head = 0; head < c.numKeyValueHeads(); head++) rope(k[t], head * hd, t, ropeBase);
            }
            for (int t = 0; t < n; t++) {
                double[] attn = new double[h * hd];
                for (int head = 0; head < h; head++) {
                    int kvOff = kvHead(head) * hd;
                    double[] s = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= t; j++) {
                        for (int i = 0; i < hd; i++) s[j] += q[t][head * hd + i] * k[j][kvOff + i];
                        s[j] /= Math.sqrt(hd);
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= t; j++) sum += s[j] = Math.exp(s[j] - max);
                    for (int j = 0; j <= t; j++) {
                        for (int i = 0; i < hd; i++) attn[head * hd + i] += s[j] / sum * v[j][kvOff + i];
                    }
                }
                add(x[t], linear(p + "attention.wo", attn));
            }
            for (int t = 0; t < n; t++) {
                double[] xn = rms(x[t], p + "ffn_norm.weight");
                double[] gate = linear(p + "feed_forward.w1", xn), up = linear(p + "feed_forward.w3", xn);
                for (int i = 0; i < gate.length; i++) gate[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
                add(x[t], linear(p + "feed_forward.w2", gate));
            }
        }
        double[][] out = new double[n][];
        for (int t = lastOnly ? n - 1 : 0; t < n; t++) out[t] = linear("language_model.output", rms(x[t], "language_model.model.norm.weight"));
        return out;
    }

    private double[] rms(double[] x, String weight) {
        float[] w = ckpt.floats(weight, x.length);
        double ss = 0;
        for (double v : x) ss += v * v;
        double r = 1 / Math.sqrt(ss / x.length + c.rmsNormEps());
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = w[i] * x[i] * r;
        return y;
    }

    private final java.util.Map<String, float[][]> matrices = new java.util.HashMap<>();

    /** y = W x + b for the tensor pair name.weight [out, in] and, when present, name.bias. */
    private double[] linear(String name, double[] x) {
        float[][] w = matrices.computeIfAbsent(name, n -> {
            int out = (int) ckpt.tensors().get(n + ".weight").shape()[0];
            var weight = ckpt.weight(n + ".weight", out, x.length);
            float[][] rows = new float[out][x.length];
            for (int r = 0; r < out; r++) for (int i = 0; i < x.length; i++) rows[r][i] = weight.get(r, i);
            return rows;
        });
        float[] b = ckpt.has(name + ".bias") ? ckpt.floats(name + ".bias", w.length) : null;
        double[] y = new double[w.length];
        for (int r = 0; r < w.length; r++) {
            double s = b == null ? 0 : b[r];
            for (int i = 0; i < x.length; i++) s += w[r][i] * x[i];
            y[r] = s;
        }
        return y;
    }

    /** x' = x cos + rotate_half(x) sin, angle pos * base^(-2i/hd) for pair i. */
    private void rope(double[] x, int off, int pos, double base) {
        int half = c.headDim() / 2;
        for (int i = 0; i < half; i++) {
            double a = pos * Math.pow(base, -2.0 * i / c.headDim());
            double x1 = x[off + i], x2 = x[off + half + i];
            x[off + i] = x1 * Math.cos(a) - x2 * Math.sin(a);
            x[off + half + i] = x2 * Math.cos(a) + x1 * Math.sin(a);
        }
    }

    private static void add(double[] a, double[] b) {
        for (int i = 0; i < a.length; i++) a[i] += b[i];
    }
}
