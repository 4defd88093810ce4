package org.internvl4j.image;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Dynamic tiling against the Python reference's load_image (Pillow 9.4 resize, model card tiling, ToTensor and
 * Normalize): same grid, bit-exact uint8 tiles (SHA-256 per tile) and exactly the same sampled float32 values.
 */
class TilingTest {

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (JsonNode c : Fixtures.json("tiling.json")) {
            out.add(Arguments.of(c.get("source").asText() + " max_num=" + c.get("max_num").asInt() + " min_num="
                    + c.get("min_num").asInt() + " size=" + c.get("input_size").asInt() + " thumb="
                    + c.get("use_thumbnail").asBoolean(), c));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesReference(String label, JsonNode c) {
        ImagePreprocessor pre = ImagePreprocessor.builder().maxNum(c.get("max_num").asInt())
                .minNum(c.get("min_num").asInt()).inputSize(c.get("input_size").asInt())
                .useThumbnail(c.get("use_thumbnail").asBoolean()).build();
        RgbImage img = ImageDecoder.decode(Fixtures.bytes(Fixtures.source(c.get("source").asText())));
        DynamicPreprocess.Tiles tiles = DynamicPreprocess.dynamicPreprocess(img, pre.minNum(), pre.maxNum(),
                pre.inputSize(), pre.useThumbnail());
        assertThat(new int[] {tiles.grid().cols(), tiles.grid().rows()}).as("grid")
                .containsExactly(c.get("grid").get(0).asInt(), c.get("grid").get(1).asInt());
        assertThat(tiles.images()).as("tiles").hasSize(c.get("tiles").asInt());
        for (int t = 0; t < tiles.images().size(); t++) {
            assertThat(Fixtures.sha256(tiles.images().get(t).rgb())).as("uint8 tile " + t)
                    .isEqualTo(c.get("tile_sha256").get(t).asText());
        }
        PixelValues pv = ImagePreprocessor.toPixelValues(tiles.images(), pre.inputSize(), tiles.grid().cols(),
                tiles.grid().rows());
        assertThat(pv.tiles()).isEqualTo(c.get("tiles").asInt());
        assertThat(pv.gridCols()).isEqualTo(c.get("grid").get(0).asInt());
        assertThat(pv.gridRows()).isEqualTo(c.get("grid").get(1).asInt());
        for (JsonNode s : c.get("samples")) {
            int t = s.get(0).asInt();
            int ch = s.get(1).asInt();
            int y = s.get(2).asInt();
            int x = s.get(3).asInt();
            assertThat(tiles.images().get(t).get(x, y, ch)).as("u8 " + s).isEqualTo(s.get(4).asInt());
            float expected = (float) s.get(5).asDouble();
            assertThat(Float.floatToIntBits(pv.get(t, ch, y, x))).as("float " + s)
                    .isEqualTo(Float.floatToIntBits(expected));
        }
    }

    @Test
    void targetRatiosFollowCPythonSetOrder() {
        JsonNode ratios = Fixtures.json("ratios.json");
        ratios.fieldNames().forEachRemaining(key -> {
            String[] mm = key.split(",");
            List<DynamicPreprocess.Grid> got = DynamicPreprocess.targetRatios(Integer.parseInt(mm[0]),
                    Integer.parseInt(mm[1]));
            List<DynamicPreprocess.Grid> want = new ArrayList<>();
            for (JsonNode g : ratios.get(key)) {
                want.add(new DynamicPreprocess.Grid(g.get(0).asInt(), g.get(1).asInt()));
            }
            assertThat(got).as("target ratios for min,max = " + key).isEqualTo(want);
        });
    }

    @Test
    void gridChoiceMatchesReferenceForManySizes() {
        int n = 0;
        for (JsonNode g : Fixtures.json("grids.json")) {
            DynamicPreprocess.Grid got = DynamicPreprocess.chooseGrid(g.get(0).asInt(), g.get(1).asInt(),
                    g.get(2).asInt(), g.get(3).asInt(), 448);
            assertThat(got).as("grid for " + g).isEqualTo(new DynamicPreprocess.Grid(g.get(4).asInt(), g.get(5).asInt()));
            n++;
        }
        assertThat(n).isGreaterThan(10_000);
    }
}
