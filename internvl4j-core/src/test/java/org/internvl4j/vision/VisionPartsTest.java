package org.internvl4j.vision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Pixel shuffle and position-embedding interpolation against independent expectations. */
class VisionPartsTest {
    @Test
    void pixelShuffleV2AndV1FollowTheExplicitIndexFormula() {
        int tiles = 2, grid = 4, c = 3, tokens = 1 + grid * grid;
        float[] vit = new float[tiles * tokens * c];
        for (int i = 0; i < vit.length; i++) vit[i] = i;
        float[] v2 = Projector.pixelShuffle(vit, tiles, grid, c, "v2");
        float[] v1 = Projector.pixelShuffle(vit, tiles, grid, c, "v1");
        int half = grid / 2;
        for (int n = 0; n < tiles; n++) {
            for (int i = 0; i < half; i++) {
                for (int j = 0; j < half; j++) {
                    for (int dy = 0; dy < 2; dy++) {
                        for (int dx = 0; dx < 2; dx++) {
                            for (int ch = 0; ch < c; ch++) {
                                // x[n, y, x, ch] is patch token 1 + y*grid + x (token 0 is the class token)
                                float x = vit[(n * tokens + 1 + (2 * i + dy) * grid + 2 * j + dx) * c + ch];
                                int feature = (dy * 2 + dx) * c + ch;
                                // v2: out[n, i, j, f]; v1 leaves the grid transposed: out[n, j, i, f]
                                assertThat(v2[((n * half * half) + i * half + j) * 4 * c + feature]).isEqualTo(x);
                                assertThat(v1[((n * half * half) + j * half + i) * 4 * c + feature]).isEqualTo(x);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void bicubicMatchesTorchInterpolateAndIsTheIdentityOnTheTrainedGrid() {
        // float32 summation order differs from torch by ~1e-6 here; a wrong kernel or grid mapping is off by ~0.1
        // torch 1.13: F.interpolate(x, size=(5, 5), mode='bicubic', align_corners=False) of this 3x3 plane
        float[] in = {0.0f, -0.5f, 4.0f, 3.0f, -2.0f, 10.0f, 6.0f, -3.5f, 16.0f};
        float[] torch = {-0.281471878f, -0.586543262f, -0.355999947f, 1.95246458f, 3.78688145f, 1.13251352f,
            -0.29237473f, -0.974000275f, 3.0920577f, 6.5555234f, 3.4800005f, 0.196001112f, -1.99999964f, 4.98400164f,
            11.1520014f, 5.82748842f, 0.684377074f, -3.02599931f, 6.87594604f, 15.7484827f, 7.2414732f, 0.978545427f,
            -3.64399958f, 8.01553917f, 18.5171242f};
        // two channels: the plane and its negation, interleaved as [position, channel]
        float[] src = new float[2 + 9 * 2]; // offset 2 stands for the class token row
        for (int p = 0; p < 9; p++) {
            src[2 + p * 2] = in[p];
            src[2 + p * 2 + 1] = -in[p];
        }
        float[] out = PosEmbedInterpolation.bicubic(src, 2, 2, 3, 5);
        for (int p = 0; p < 25; p++) {
            assertThat(out[p * 2]).isCloseTo(torch[p], within(1e-5f));
            assertThat(out[p * 2 + 1]).isCloseTo(-torch[p], within(1e-5f));
        }
        assertThat(PosEmbedInterpolation.bicubic(src, 2, 2, 3, 3)).containsExactly(java.util.Arrays.copyOfRange(src, 2, 20));
    }
}
