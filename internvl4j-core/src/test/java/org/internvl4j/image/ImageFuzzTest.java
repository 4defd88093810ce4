package org.internvl4j.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.internvl4j.testing.Fuzzing.expectOnly;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzzes the image decoders: our JPEG decoder, WebP (lossy through FFmpeg's VP8 decoder, lossless through
 * TwelveMonkeys) and PNG/GIF/BMP (ImageIO) behind {@link ImageDecoder#decode}. Contract: a decoded image or an
 * {@link ImageException} with a message, and never more than twice the pixel limit. The pixel limit is 4 Mpx here so that each input stays quick; the
 * limit's own check is the same code at any value. Corpus: ImageFuzzTestInputs/{jpeg,webp,pngGifBmp}, from
 * testdata/image/sources.
 */
class ImageFuzzTest {
    static final long MAX_PIXELS = 1L << 22;

    @FuzzTest(maxDuration = "30s")
    void jpeg(byte[] data) {
        expectOnly(() -> check(JpegDecoder.decode(data, MAX_PIXELS, "fuzz.jpg")), ImageException.class);
    }

    @FuzzTest(maxDuration = "30s")
    void webp(byte[] data) {
        expectOnly(() -> check(ImageDecoder.decode(data, MAX_PIXELS, "fuzz.webp")), ImageException.class);
    }

    @FuzzTest(maxDuration = "30s")
    void pngGifBmp(byte[] data) {
        expectOnly(() -> check(ImageDecoder.decode(data, MAX_PIXELS, "fuzz image")), ImageException.class);
    }

    private static void check(RgbImage img) {
        // Pillow's rule: above the limit a warning, above twice it an error; in between the image decodes
        assertThat((long) img.width() * img.height()).isBetween(1L, 2 * MAX_PIXELS);
        assertThat(img.rgb()).hasSize(img.width() * img.height() * 3);
    }
}
