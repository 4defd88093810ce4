package org.internvl4j.vision;

import org.internvl4j.checkpoint.Checkpoint;
import org.internvl4j.tensor.Activations;
import org.internvl4j.tensor.MatMul;
import org.internvl4j.tensor.Norms;
import org.internvl4j.tensor.Ops;
import org.internvl4j.tensor.Weight;

/**
 * What modeling_internvl_chat.py extract_feature does after the vision tower: drop the class token,
 * pixel shuffle (downsample 0.5) and mlp1 = LayerNorm(4D, eps 1e-5) -> Linear -> GELU -> Linear.
 * Weights and config only.
 */
public final class Projector {
    private static final float MLP1_LN_EPS = 1e-5f; // nn.LayerNorm's default, not the config's eps

    private final int visionHidden;
    private final int llmHidden;
    private final String psVersion;
    private final float[] lnWeight, lnBias; // mlp1.0 (4 * visionHidden)
    private final Weight fc1;               // mlp1.1 (llmHidden, 4 * visionHidden)
    private final float[] fc1Bias;
    private final Weight fc2;               // mlp1.3 (llmHidden, llmHidden)
    private final float[] fc2Bias;

    private Projector(int visionHidden, int llmHidden, String psVersion, float[] lnWeight, float[] lnBias,
                      Weight fc1, float[] fc1Bias, Weight fc2, float[] fc2Bias) {
        this.visionHidden = visionHidden;
        this.llmHidden = llmHidden;
        this.psVersion = psVersion;
        this.lnWeight = lnWeight;
        this.lnBias = lnBias;
        this.fc1 = fc1;
        this.fc1Bias = fc1Bias;
        this.fc2 = fc2;
        this.fc2Bias = fc2Bias;
    }

    public static Projector load(Checkpoint ckpt) {
        int dv = ckpt.config().vision().hiddenSize(), dl = ckpt.config().llm().hiddenSize(), w = 4 * dv;
        return new Projector(dv, dl, ckpt.config().psVersion(),
                ckpt.floats("mlp1.0.weight", w), ckpt.floats("mlp1.0.bias", w),
                ckpt.weight("mlp1.1.weight", dl, w), ckpt.floats("mlp1.1.bias", dl),
                ckpt.weight("mlp1.3.weight", dl, dl), ckpt.floats("mlp1.3.bias", dl));
    }

    /**
     * vit: [tiles, 1 + g*g, visionHidden] (class token first); returns [tiles, (g/2)^2, llmHidden].
     */
    public float[] forward(float[] vit, int tiles, int grid) {
        int rows = tiles * (grid / 2) * (grid / 2), w = 4 * visionHidden;
        float[] x = pixelShuffle(vit, tiles, grid, visionHidden, psVersion);
        for (int r = 0; r < rows; r++) Norms.layerNorm(x, r * w, lnWeight, lnBias, MLP1_LN_EPS, x, r * w, w);
        float[] h = new float[rows * llmHidden];
        MatMul.matMul(fc1, x, rows, h);
        for (int r = 0; r < rows; r++) Ops.add(h, r * llmHidden, fc1Bias, 0, llmHidden);
        Activations.gelu(h, 0, h.length);
        float[] out = new float[rows * llmHidden];
        MatMul.matMul(fc2, h, rows, out);
        for (int r = 0; r < rows; r++) Ops.add(out, r * llmHidden, fc2Bias, 0, llmHidden);
        return out;
    }

    /**
     * Drops the class token and shuffles 2x2 neighbourhoods into channels (modeling_internvl_chat.py
     * pixel_shuffle with scale 0.5). The patches are a grid x[n, y, x, c] (row y, column x); r = 2:
     * <pre>
     * v2: out[n, i, j, (dy*2 + dx)*C + c] = x[n, 2i + dy, 2j + dx, c]   token i*(g/2) + j
     * v1: the same without the final transpose: out[n, j, i, ...]
     * </pre>
     */
    static float[] pixelShuffle(float[] vit, int tiles, int grid, int c, String psVersion) {
        int half = grid / 2, tokens = 1 + grid * grid;
        float[] out = new float[tiles * half * half * 4 * c];
        boolean v1 = psVersion.equals("v1");
        for (int n = 0; n < tiles; n++) {
            for (int i = 0; i < half; i++) {
                for (int j = 0; j < half; j++) {
                    int token = v1 ? j * half + i : i * half + j;
                    int o = ((n * half * half) + token) * 4 * c;
                    for (int dy = 0; dy < 2; dy++) {
                        for (int dx = 0; dx < 2; dx++) {
                            int src = (n * tokens + 1 + (2 * i + dy) * grid + 2 * j + dx) * c; // +1 skips CLS
                            System.arraycopy(vit, src, out, o + (dy * 2 + dx) * c, c);
                        }
                    }
                }
            }
        }
        return out;
    }
}
