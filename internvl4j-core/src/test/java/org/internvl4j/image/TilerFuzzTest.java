package org.internvl4j.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.internvl4j.testing.Fuzzing.expectOnly;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;

/**
 * Fuzzes the tiler (dynamic_preprocess) and the normalisation after it, on any image size and any tile
 * parameters. Input: width-1 and height-1 (u16 each, below 2048), min_num, max_num (a byte each, max_num below
 * 40), tile size (u16 below 512), thumbnail flag, then pixel bytes (repeated to fill the image). Contract:
 * invalid parameters give {@link ImageException} with a message; otherwise the grid has between min_num and
 * max_num tiles, every tile is size x size, the thumbnail comes exactly when asked for and more than one tile,
 * and the pixel values hold one 3 x size x size plane set per tile. Corpus: TilerFuzzTestInputs/tile.
 */
class TilerFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void tile(byte[] data) {
        ByteBuffer b = ByteBuffer.wrap(data);
        if (b.remaining() < 9) return;
        int w = 1 + (b.getShort() & 0x7FF);
        int h = 1 + (b.getShort() & 0x7FF);
        int minNum = b.get() & 0xFF;
        int maxNum = (b.get() & 0xFF) % 40;
        int size = (b.getShort() & 0xFFFF) % 512;
        boolean thumbnail = (b.get() & 1) == 1;
        byte[] rgb = new byte[w * h * 3];
        if (b.hasRemaining()) {
            for (int i = 0, r = b.position(); i < rgb.length; i++, r = r + 1 == data.length ? b.position() : r + 1) rgb[i] = data[r];
        }
        RgbImage img = new RgbImage(w, h, rgb);
        expectOnly(() -> {
            ImagePreprocessor pre = ImagePreprocessor.builder().inputSize(size).minNum(minNum).maxNum(maxNum)
                    .useThumbnail(thumbnail).build();
            DynamicPreprocess.Tiles tiles = DynamicPreprocess.dynamicPreprocess(img, minNum, maxNum, size, thumbnail);
            int blocks = tiles.grid().blocks();
            assertThat(blocks).isBetween(minNum, maxNum);
            assertThat(tiles.thumbnail()).isEqualTo(thumbnail && blocks != 1);
            assertThat(tiles.images()).hasSize(blocks + (tiles.thumbnail() ? 1 : 0));
            for (RgbImage t : tiles.images()) assertThat(t.width() == size && t.height() == size).isTrue();
            PixelValues pv = pre.preprocess(img);
            assertThat(pv.data()).hasSize(tiles.images().size() * 3 * size * size);
        }, ImageException.class);
    }
}
