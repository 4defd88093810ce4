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
    private final float[] shortInvFreq; // LongRoPE only, else null
    private final float[] longInvFreq;
    private final int originalMax;
    private final float mscale;         // LongRoPE's cos/sin scale, else 1
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
        LlmConfig.RopeScaling s = c.ropeScaling();
        if (s != null && s.longRope()) {
            this.shortInvFreq = longRopeInvFreq(baseTheta, headDim, s.shortFactor());
            this.longInvFreq = longRopeInvFreq(baseTheta, headDim, s.longFactor());
            this.originalMax = s.originalMaxPositionEmbeddings();
            double scale = (double) maxPositionEmbeddings / originalMax;
            this.mscale = scale <= 1.0 ? 1f : (float) Math.sqrt(1 + Math.log(scale) / Math.log(originalMax));
            this.invFreq = shortInvFreq;
        } else {
            this.shortInvFreq = null;
            this.longInvFreq = null;
            this.originalMax = 0;
            this.mscale = 1f;
        }
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
        this.shortInvFreq = o.shortInvFreq;
        this.longInvFreq = o.longInvFreq;
        this.originalMax = o.originalMax;
        this.mscale = o.mscale;
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

    /**
     * Phi3SuScaledRotaryEmbedding: inv_freq = 1 / (ext_factors * base^(arange(0, hd, 2) / hd)), all float32
     * (base ** float32 tensor, then a float32 product and division).
     */
    static float[] longRopeInvFreq(double base, int headDim, java.util.List<Double> factors) {
        float[] f = new float[headDim / 2];
        float fb = (float) base;
        for (int i = 0; i < f.length; i++) {
            float exponent = (float) (2 * i) / (float) headDim;
            f[i] = 1f / (factors.get(i).floatValue() * (float) Math.pow(fb, exponent));
        }
        return f;
    }

    /** Called once per forward with the total length after it (cached + new tokens). */
    void advance(int kvLen) {
        if (longInvFreq != null) {
            // LongRoPE chooses per forward, from max(position_ids) + 1 = kvLen; keys already cached keep their rotation
            invFreq = kvLen > originalMax ? longInvFreq : shortInvFreq;
            return;
        }
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
            cos[off + i] = (float) Math.cos(f) * mscale;
            sin[off + i] = (float) Math.sin(f) * mscale;
        }
    }

    /** The RoPE base in use now (changes past max_position_embeddings with dynamic scaling). */
    public double base() {
        return base;
    }
}
