package org.internvl4j.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The vectorised resize (checked against Pillow through the tiling fixtures) equals Resample.c's plain loops on
 * random images of awkward sizes: row counts that are not a multiple of the vector width, 1-pixel edges, up- and
 * downscales. So the scalar fallback used on machines without a usable vector width is Pillow-exact too.
 */
class PillowResizeTest {

    @Test
    void vectorAndScalarPathsAgree() {
        Random rnd = new Random(3);
        int[][] sizes = {{1, 1, 448, 448}, {3, 17, 5, 31}, {37, 23, 448, 448}, {450, 3, 13, 1}, {17, 450, 1, 13},
            {1000, 33, 448, 448}, {129, 257, 896, 448}, {300, 200, 299, 201}};
        for (int[] s : sizes) {
            byte[] px = new byte[s[0] * s[1] * 3];
            rnd.nextBytes(px);
            RgbImage img = new RgbImage(s[0], s[1], px);
            assertThat(PillowResize.resize(img, s[2], s[3]).rgb()).as(java.util.Arrays.toString(s))
                    .isEqualTo(PillowResize.resizeScalar(img, s[2], s[3]).rgb());
        }
    }

    @Test
    void bicubicKernelIsKeysWithAMinusHalf() {
        // Keys cubic, a = -0.5: 1 at 0, 0 at integers, 0.5625 at 0.5, -0.0625 at 1.5, 0 beyond 2
        assertThat(PillowResize.bicubicFilter(0)).isEqualTo(1.0);
        assertThat(PillowResize.bicubicFilter(1)).isEqualTo(0.0);
        assertThat(PillowResize.bicubicFilter(0.5)).isEqualTo(0.5625);
        assertThat(PillowResize.bicubicFilter(-1.5)).isEqualTo(-0.0625);
        assertThat(PillowResize.bicubicFilter(2.5)).isEqualTo(0.0);
    }
}
