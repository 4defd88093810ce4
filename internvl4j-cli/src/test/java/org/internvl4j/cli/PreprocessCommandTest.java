package org.internvl4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.internvl4j.util.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PreprocessCommandTest {

    private static Path testdata() {
        return Run.testdata("image");
    }

    private static Run run(String... args) {
        return Run.internvl(args);
    }

    @Test
    void writesTheReferencePixelValuesAsNpy(@TempDir Path dir) throws Exception {
        Path npy = dir.resolve("pv.npy");
        Run r = run("preprocess", "--image", testdata().resolve("sources/tile_600x400.png").toString(),
                "--max-num", "6", "--out", npy.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("grid 3x2").contains("6 tiles + thumbnail").contains("[7, 3, 448, 448]");
        Npy.Array a = Npy.read(npy);
        assertThat(a.shape()).containsExactly(7, 3, 448, 448);
        JsonNode cases = new ObjectMapper().readTree(testdata().resolve("tiling.json").toFile());
        JsonNode c = null;
        for (JsonNode x : cases) {
            if (x.get("source").asText().equals("tile_600x400.png") && x.get("max_num").asInt() == 6
                    && x.get("use_thumbnail").asBoolean()) {
                c = x;
            }
        }
        assertThat(c).isNotNull();
        for (JsonNode s : c.get("samples")) {
            int idx = ((s.get(0).asInt() * 3 + s.get(1).asInt()) * 448 + s.get(2).asInt()) * 448 + s.get(3).asInt();
            assertThat(a.data()[idx]).as(s.toString()).isEqualTo((float) s.get(5).asDouble());
        }
    }

    @Test
    void noThumbnailAndVideo(@TempDir Path dir) {
        Run r = run("preprocess", "--image", testdata().resolve("sources/tile_600x400.png").toString(),
                "--max-num", "6", "--no-thumbnail");
        assertThat(r.out()).contains("grid 3x2").doesNotContain("thumbnail").contains("[6, 3, 448, 448]");
        Path npy = dir.resolve("v.npy");
        Run v = run("preprocess", "--video", testdata().resolve("video/grey_vp9.webm").toString(), "--segments", "4",
                "--bound", "0.5", "2.5", "--out", npy.toString());
        assertThat(v.code()).as(v.err()).isZero();
        assertThat(v.out()).contains("fps 10.000").contains("Frame4: <image>").contains("num_patches_list [1, 1, 1, 1]");
        assertThat(Npy.read(npy).shape()).containsExactly(4, 3, 448, 448);
    }

    @Test
    void badInputIsAnErrorMessageNotAStackTrace(@TempDir Path dir) throws Exception {
        Path junk = dir.resolve("junk.jpg");
        Files.write(junk, new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 0x00, 0x01});
        Run r = run("preprocess", "--image", junk.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("internvl preprocess: ").contains("junk.jpg").doesNotContain("\tat ");
        assertThat(run("preprocess").code()).isEqualTo(2); // --image or --video is required
    }
}
