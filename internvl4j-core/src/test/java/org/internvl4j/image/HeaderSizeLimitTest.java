package org.internvl4j.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import org.internvl4j.util.Limits;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The pixel limit is checked on the size in the file's header, before decoding (a small file can
 * declare a huge image): the header's size must be the decoded size, for every header layout: PNG,
 * BMP (info and core headers), GIF's logical screen, WebP's VP8, VP8L and VP8X chunks. Found by PIT:
 * the header readers' arithmetic could be mutated without a test failing. Pillow's rule at both of its edges: a
 * warning above the limit, a refusal above twice it.
 */
class HeaderSizeLimitTest {
    @ParameterizedTest
    @ValueSource(strings = {"png_rgb.png", "png_gray16.png", "tile_97x61.png", "bmp_rgb24.bmp", "bmp_palette8.bmp",
        "gif_palette.gif", "gif_subframe.gif", "webp_lossy.webp", "webp_lossy_alpha.webp", "webp_lossless.webp",
        "webp_lossless_alpha.webp"})
    void theLimitAppliesToTheHeaderSizeWhichIsTheDecodedSize(String name) throws IOException {
        byte[] data = Files.readAllBytes(Fixtures.source(name));
        RgbImage img = ImageDecoder.decode(data, Long.MAX_VALUE, name);
        long pixels = (long) img.width() * img.height();
        try (ImageWarnings warnings = new ImageWarnings()) {
            assertThat(ImageDecoder.decode(data, pixels, name).width()).isEqualTo(img.width());
            assertThat(warnings.messages).isEmpty();
            assertThat(ImageDecoder.decode(data, pixels - 1, name).width()).isEqualTo(img.width());
            assertThat(warnings.messages).singleElement().asString().contains(img.width() + "x" + img.height())
                    .contains("could be a decompression bomb");
            // twice the limit still decodes (with a warning), one pixel more does not
            assertThat(ImageDecoder.decode(data, (pixels + 1) / 2, name).width()).isEqualTo(img.width());
            assertThat(warnings.messages).hasSize(2);
        }
        assertThatThrownBy(() -> ImageDecoder.decode(data, (pixels - 1) / 2, name)).isInstanceOf(ImageException.class)
                .hasMessageContaining("image is " + img.width() + "x" + img.height() + " = " + Limits.count(pixels) + " pixels")
                .hasMessageContaining("above twice the limit").hasMessageContaining("decompression bomb");
    }
}
