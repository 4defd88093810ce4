package org.internvl4j.llm;

import org.internvl4j.checkpoint.LlmConfig;

/**
 * The rotary-embedding state of one sequence, as InternLM2RotaryEmbedding and its Linear / DynamicNTK
 * subclasses keep it (modeling_internlm2.py): a table length ("max_seq_len_cached", initially
 * max_position_embeddings) and the inv_freq in use. On every forward with kv_len beyond the table the
 * table is rebuilt for kv_len positions and, with dynamic scaling past max_position_embeddings, the
 * base is recomputed from kv_len. Keys already cached keep their rotation. Owned and mutated by one
 * {@link KvCache}; never shared between sequences.
 */
public final class RopeState {
    private final int headDim;
    private final int maxPositionEmbeddings;
    private final double baseTheta;
    private final String scalingType;
    private final double factor;
    private int cachedLength;
    private double base;
    private float[] invFreq;

    RopeState(LlmConfig c) {
        this.headDim = c.headDim();
        this.maxPositionEmbeddings = c.maxPositionEmbeddings();
        this.baseTheta = c.ropeTheta();
        this.scalingType = c.ropeScaling() == null ? null : c.ropeScaling().type();
        this.factor = c.ropeScaling() == null ? 1.0 : c.ropeScaling().factor();
        this.cachedLength = maxPositionEmbeddings;
        this.base = baseTheta;
        this.invFreq = invFreq(baseTheta, headDim);
    }

    private RopeState(RopeState o) {
        this.headDim = o.headDim;
        this.maxPositionEmbeddings = o.maxPositionEmbeddings;
        this.baseTheta = o.baseTheta;
        this.scalingType = o.scalingType;
        this.factor = o.factor;
        this.cachedLength = o.cachedLength;
        this.base = o.base;
        this.invFreq = o.invFreq.clone();
    }

    RopeState copy() {
        return new RopeState(this);
    }

    /** inv_freq = 1 / base^(arange(0, hd, 2) / hd), in float32 like the reference. */
    static float[] invFreq(double base, int headDim) {
        float[] f = new float[headDim / 2];
        float fb = (float) base; // torch.pow(python float, float32 tensor) computes in float32
        for (int i = 0; i < f.length; i++) {
            float exponent = (float) (2 * i) / (float) headDim;
            f[i] = (float) (1.0 / (float) Math.pow(fb, exponent));
        }
        return f;
    }

    /** Called once per forward with the total length after it (cached + new tokens). */
    void advance(int kvLen) {
        if (kvLen <= cachedLength) return;
        cachedLength = kvLen;
        if ("dynamic".equals(scalingType) && kvLen > maxPositionEmbeddings) {
            // InternLM2DynamicNTKScalingRotaryEmbedding._set_cos_sin_cache: a Python double
            base = baseTheta * Math.pow(factor * kvLen / maxPositionEmbeddings - (factor - 1),
                    (double) headDim / (headDim - 2));
            invFreq = invFreq(base, headDim);
        }
    }

    /**
     * cos and sin of position pos, headDim/2 values each (cos(cat(f, f)) repeats them), written at off:
     * freqs = t * inv_freq in float32 (t / factor with linear scaling), then cos and sin in float32.
     */
    void cosSin(int pos, float[] cos, float[] sin, int off) {
        float t = pos;
        if ("linear".equals(scalingType)) t = t / (float) factor;
        for (int i = 0; i < invFreq.length; i++) {
            float f = t * invFreq[i];
            cos[off + i] = (float) Math.cos(f);
            sin[off + i] = (float) Math.sin(f);
        }
    }

    /** The RoPE base in use now (changes past max_position_embeddings with dynamic scaling). */
    public double base() {
        return base;
    }
}
