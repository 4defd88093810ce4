package org.internvl4j.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.EOFException;
import java.io.InputStream;
import javax.imageio.IIOException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Image inputs that ImageFuzzTest found (docs/RELIABILITY.md#fuzzing), each now a quick ImageException. */
class ImageFindingsTest {
    private static byte[] input(String path) throws Exception {
        try (InputStream in = ImageFindingsTest.class.getResourceAsStream("ImageFuzzTestInputs/" + path)) {
            return in.readAllBytes();
        }
    }

    // A 46-byte lossless WebP that claims 2048x2048 and ends after its Huffman codes: TwelveMonkeys' bit reader
    // swallows each read past the end and decoded every pixel from stale bits, which took about three minutes
    // (scripts/fixtures/truncated_vp8l.py makes it; the fuzzer's own input hung its run past 17 minutes).
    @Test
    @Timeout(60) // a guard against the hang coming back, not a speed test
    void truncatedLosslessWebpIsRefusedInsteadOfDecodedFromNothing() throws Exception {
        byte[] webp = input("webp/hang-truncated-vp8l-2048x2048.webp");
        assertThatThrownBy(() -> ImageDecoder.decode(webp, 1L << 22, "t.webp")).isInstanceOf(ImageException.class)
                .hasMessage("WEBP t.webp: corrupt or truncated data (the decoder read past the end of the " + webp.length
                        + "-byte input 1000 times: the image data is truncated)");
        byte[] found = input("webp/crash-30b7a5e90e4a51532f67aa075870e27904505c8b"); // the input the fuzzer hung on
        assertThatThrownBy(() -> ImageDecoder.decode(found, 1L << 22, "t.webp")).isInstanceOf(ImageException.class)
                .hasMessageContaining("read past the end");
    }

    @Test
    void readsPastTheEndFailAfterTheLimit() throws Exception {
        try (BoundedImageInput in = new BoundedImageInput(new byte[] {1, 2})) {
            assertThat(in.read()).isEqualTo(1);
            assertThat(in.read(new byte[4], 0, 4)).isEqualTo(1);
            for (int i = 0; i < BoundedImageInput.MAX_READS_PAST_END; i++) {
                assertThatThrownBy(in::readByte).isInstanceOf(EOFException.class);
            }
            assertThatThrownBy(in::read).isInstanceOf(IIOException.class).hasMessageContaining("read past the end");
        }
    }

    // crash-118c9854...: a GIF whose logical screen is small but whose first frame is not; ImageIO allocated the
    // frame's raster (OutOfMemoryError) because only the screen size had been checked.
    @Test
    void aGifFrameLargerThanThePixelLimitIsRefusedBeforeDecoding() throws Exception {
        byte[] gif = input("pngGifBmp/crash-118c9854a454001a45686931f704923bff546fea");
        assertThatThrownBy(() -> ImageDecoder.decode(gif, 1L << 22, "t.gif")).isInstanceOf(ImageException.class)
                .hasMessageStartingWith("GIF t.gif: image is 64020x21423 = 1,371,500,460 pixels")
                .hasMessageContaining("above twice the limit of 4,194,304 (decompression bomb protection");
    }

    // crash-12bf17eb... of ImageFuzzTest#webp: a RIFF/WEBP header cut before its first chunk's name; the String read of the
    // name threw StringIndexOutOfBoundsException, which the truncated-header check did not catch
    @Test
    void aWebpCutBeforeItsChunkNameIsATruncatedHeader() {
        byte[] d = "RIFF\0\0\0\0WEBPVP8".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        assertThatThrownBy(() -> ImageDecoder.decode(d, 1L << 22, "t.webp")).isInstanceOf(ImageException.class)
                .hasMessage("WEBP t.webp: truncated header (15 bytes)");
    }
}
