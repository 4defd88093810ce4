package org.internvl4j.image;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every format source decodes to exactly Pillow 9.4's {@code Image.open(f).convert('RGB')} (SHA-256 of the RGB
 * bytes from testdata/image/decoded.json, made by scripts/fixtures/make_image_fixtures.py).
 */
class DecodeFormatsTest {

    static Stream<Arguments> sources() {
        JsonNode decoded = Fixtures.json("decoded.json");
        List<Arguments> out = new ArrayList<>();
        decoded.fieldNames().forEachRemaining(name -> out.add(Arguments.of(name, decoded.get(name))));
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sources")
    void decodesLikePillow(String name, JsonNode expected) throws Exception {
        RgbImage img = ImageDecoder.decode(Fixtures.bytes(Fixtures.source(name)), 20_000_000L, name);
        assertThat(img.width()).as("width").isEqualTo(expected.get("width").asInt());
        assertThat(img.height()).as("height").isEqualTo(expected.get("height").asInt());
        String sha = Fixtures.sha256(img.rgb());
        if (sha.equals(expected.get("rgb_sha256").asText())) {
            return;
        }
        Path png = Fixtures.dir().resolve("decoded").resolve(name.replaceAll("\\.[a-z]+$", "") + ".png");
        String detail = "";
        if (Files.exists(png)) {
            RgbImage ref = ImageDecoder.decode(Files.readAllBytes(png), 20_000_000L, png.toString());
            int equal = 0;
            int maxDiff = 0;
            for (int i = 0; i < ref.rgb().length; i++) {
                int d = Math.abs((ref.rgb()[i] & 0xFF) - (img.rgb()[i] & 0xFF));
                equal += d == 0 ? 1 : 0;
                maxDiff = Math.max(maxDiff, d);
            }
            double share = 100.0 * equal / ref.rgb().length;
            detail = String.format("%.4f%% of samples equal, max |diff| %d", share, maxDiff);
        }
        assertThat(sha).as(name + " decoded RGB differs from Pillow's: " + detail)
                .isEqualTo(expected.get("rgb_sha256").asText());
    }
}
