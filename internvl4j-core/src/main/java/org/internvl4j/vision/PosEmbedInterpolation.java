package org.internvl4j.vision;

/**
 * PyTorch's F.interpolate(mode='bicubic', align_corners=False) of the position-embedding grid, with
 * channels as planes (aten/src/ATen/native/UpSample.h: cubic convolution with A = -0.75, source
 * coordinate (dst + 0.5) * in / out - 0.5, taps clamped to the border, no antialiasing).
 */
final class PosEmbedInterpolation {
    private static final float A = -0.75f;

    private PosEmbedInterpolation() {
    }

    /**
     * src holds [.., in*in, d] patch rows starting at srcOff (row-major grid); returns [out*out, d].
     * When in == out this is the identity, as in PyTorch.
     */
    static float[] bicubic(float[] src, int srcOff, int d, int in, int out) {
        float[] dst = new float[out * out * d];
        if (in == out) {
            System.arraycopy(src, srcOff, dst, 0, dst.length);
            return dst;
        }
        float scale = (float) in / out;
        for (int oy = 0; oy < out; oy++) {
            float sy = scale * (oy + 0.5f) - 0.5f;
            int iy = (int) Math.floor(sy);
            float[] wy = coefficients(sy - iy);
            for (int ox = 0; ox < out; ox++) {
                float sx = scale * (ox + 0.5f) - 0.5f;
                int ix = (int) Math.floor(sx);
                float[] wx = coefficients(sx - ix);
                for (int c = 0; c < d; c++) {
                    float acc = 0;
                    for (int a = 0; a < 4; a++) {
                        int y = clamp(iy - 1 + a, in);
                        float row = 0;
                        for (int b = 0; b < 4; b++) row += src[srcOff + (y * in + clamp(ix - 1 + b, in)) * d + c] * wx[b];
                        acc += row * wy[a];
                    }
                    dst[(oy * out + ox) * d + c] = acc;
                }
            }
        }
        return dst;
    }

    private static int clamp(int i, int n) {
        return Math.max(0, Math.min(n - 1, i));
    }

    // get_cubic_upsample_coefficients
    private static float[] coefficients(float t) {
        return new float[] {conv2(t + 1), conv1(t), conv1(1 - t), conv2(2 - t)};
    }

    private static float conv1(float x) {
        return ((A + 2) * x - (A + 3)) * x * x + 1;
    }

    private static float conv2(float x) {
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
    }
}
