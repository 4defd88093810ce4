package org.internvl4j.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import org.internvl4j.util.Limits;
import org.junit.jupiter.api.Test;

/**
 * Pillow's decompression-bomb rule from the header, for the layouts BadInputTest and HeaderSizeLimitTest leave out:
 * GIF's screen and a GIF frame larger than its screen, BMP, WebP's VP8X canvas and a VP8 frame larger than its canvas.
 * Each input is a header and almost nothing else, so only a check made before decoding can give the bomb message
 * (decoding would fail on truncated data instead).
 */
class ImageLimitsTest {

    static void le16(ByteArrayOutputStream o, int v) {
        o.write(v & 0xFF);
        o.write((v >> 8) & 0xFF);
    }

    static void le24(ByteArrayOutputStream o, int v) {
        le16(o, v);
        o.write((v >> 16) & 0xFF);
    }

    static void le32(ByteArrayOutputStream o, long v) {
        le16(o, (int) v);
        le16(o, (int) (v >> 16));
    }

    static void ascii(ByteArrayOutputStream o, String s) {
        o.writeBytes(s.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

    static byte[] gif(int screenW, int screenH, int frameW, int frameH) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ascii(o, "GIF89a");
        le16(o, screenW);
        le16(o, screenH);
        o.write(0x80); // a global colour table of 2 entries
        o.write(0);
        o.write(0);
        o.writeBytes(new byte[6]);
        o.write(0x2C); // image descriptor
        le16(o, 0);
        le16(o, 0);
        le16(o, frameW);
        le16(o, frameH);
        o.write(0);
        o.write(2); // LZW minimum code size, then one short data block and the trailer
        o.writeBytes(new byte[] {2, 0x44, 0x01, 0, 0x3B});
        return o.toByteArray();
    }

    static byte[] bmp(int w, int h) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ascii(o, "BM");
        le32(o, 54 + 16);
        le32(o, 0);
        le32(o, 54);
        le32(o, 40); // BITMAPINFOHEADER
        le32(o, w);
        le32(o, h);
        le16(o, 1);
        le16(o, 24);
        o.writeBytes(new byte[24 + 16]);
        return o.toByteArray();
    }

    /** A VP8X canvas, optionally followed by a VP8 key frame header of its own size. */
    static byte[] webp(int canvasW, int canvasH, int frameW, int frameH) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ascii(o, "RIFF");
        le32(o, 4 + 18 + 18);
        ascii(o, "WEBP");
        ascii(o, "VP8X");
        le32(o, 10);
        le32(o, 0);
        le24(o, canvasW - 1);
        le24(o, canvasH - 1);
        if (frameW > 0) {
            ascii(o, "VP8 ");
            le32(o, 10);
            o.writeBytes(new byte[] {0x10, 0x02, 0x00, (byte) 0x9D, 0x01, 0x2A}); // key frame tag, start code
            le16(o, frameW);
            le16(o, frameH);
        }
        return o.toByteArray();
    }

    @Test
    void headersAboveTwiceTheLimitAreRefusedBeforeDecoding() {
        assertBomb(gif(20000, 20000, 1, 1), "GIF", "20000x20000");
        assertBomb(bmp(20000, 20000), "BMP", "20000x20000");
        assertBomb(bmp(20000, -20000), "BMP", "20000x20000"); // top-down rows
        assertBomb(webp(16000, 16000, 0, 0), "WEBP", "16000x16000");
    }

    @Test
    void partsLargerThanTheirCanvasAreCheckedToo() {
        // a 10x10 GIF screen whose first frame claims 30000 x 30000: ImageIO would allocate the frame's size
        assertBomb(gif(10, 10, 30000, 30000), "GIF", "30000x30000");
        // a 10x10 VP8X canvas holding a 16000 x 16000 VP8 frame: FFmpeg would allocate the frame's size
        assertBomb(webp(10, 10, 16000, 16000), "WEBP", "16000x16000");
    }

    static void assertBomb(byte[] data, String format, String size) {
        assertThatThrownBy(() -> ImageDecoder.decode(data)).isInstanceOf(ImageException.class)
                .hasMessageStartingWith(format).hasMessageContaining(size)
                .hasMessageContaining("above twice the limit of 89,478,485").hasMessageContaining("decompression bomb");
    }

    @Test
    void jpegWarnsAboveTheLimitAndIsRefusedAboveTwice() throws Exception {
        byte[] jpeg = Files.readAllBytes(Fixtures.source("jpeg_420.jpg")); // 157 x 103 = 16,171 pixels
        try (ImageWarnings warnings = new ImageWarnings()) {
            assertThat(ImageDecoder.decode(jpeg, 16171, "j").width()).isEqualTo(157);
            assertThat(warnings.messages).isEmpty();
            assertThat(ImageDecoder.decode(jpeg, 8086, "j").width()).isEqualTo(157);
            assertThat(warnings.messages).singleElement().asString().startsWith("JPEG j: image is 157x103 = 16,171 pixels");
        }
        assertThatThrownBy(() -> ImageDecoder.decode(jpeg, 8085, "j")).hasMessageContaining("above twice the limit of 8,085");
    }

    @Test
    void theDefaultsArePillowsAndASystemPropertyMovesThem() throws Exception {
        assertThat(Limits.PILLOW_MAX_IMAGE_PIXELS).isEqualTo(89_478_485L); // PIL.Image.MAX_IMAGE_PIXELS
        assertThat(new ImagePreprocessor().maxPixels()).isEqualTo(89_478_485L);
        assertThat(new ImagePreprocessor().maxBytes()).isEqualTo(64L << 20);
        String key = Limits.PREFIX + "imagePixels";
        System.setProperty(key, "5000");
        System.setProperty(Limits.PREFIX + "imageBytes", "100");
        try {
            ImagePreprocessor pre = new ImagePreprocessor();
            assertThat(pre.maxPixels()).isEqualTo(5000);
            assertThatThrownBy(() -> pre.load(Fixtures.source("jpeg_420.jpg"))).hasMessageContaining("above the limit of 100");
            assertThatThrownBy(() -> ImagePreprocessor.builder().maxBytes(1 << 20).build().load(Fixtures.source("jpeg_420.jpg")))
                    .hasMessageContaining("above twice the limit of 5,000");
            System.setProperty(key, "lots");
            assertThatThrownBy(ImagePreprocessor::new).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("-Dinternvl.limit.imagePixels must be a positive whole number, got 'lots'");
        } finally {
            System.clearProperty(key);
            System.clearProperty(Limits.PREFIX + "imageBytes");
        }
    }

    @Test
    void maxNumIsBoundedByTheTilesOfARequest() {
        assertThat(ImagePreprocessor.builder().maxNum(63).build().maxNum()).isEqualTo(63);
        assertThatThrownBy(() -> ImagePreprocessor.builder().maxNum(64).build()).isInstanceOf(ImageException.class)
                .hasMessageContaining("maxNum (max_num) 64").hasMessageContaining("-Dinternvl.limit.tilesPerRequest=64");
    }
}
