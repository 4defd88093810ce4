package org.internvl4j.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Videos made by Debian's ffmpeg CLI (testdata/image/video): 40 frames at 10 fps, frame N a flat grey of level
 * 6*N, so a decoded frame tells which frame it is. Indices are checked against the model card's get_index run in
 * Python.
 */
class VideoLoaderTest {

    private static final JsonNode VIDEO = Fixtures.json("video/video.json");

    private static double[] bound(JsonNode b) {
        return b == null || b.isNull() ? null : new double[] {b.get(0).asDouble(), b.get(1).asDouble()};
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }

    @Test
    void getIndexMatchesTheModelCardFormula() {
        int n = 0;
        for (JsonNode c : VIDEO.get("formula")) {
            int[] got = VideoLoader.getIndex(bound(c.get("bound")), c.get("fps").asDouble(), c.get("max_frame").asInt(),
                    0, c.get("num_segments").asInt());
            assertThat(got).as(c.toString()).containsExactly(ints(c.get("indices")));
            n++;
        }
        assertThat(n).isGreaterThan(400);
    }

    @ParameterizedTest
    @ValueSource(strings = {"grey_h264.mp4", "grey_vp9.webm", "grey_mjpeg.avi"})
    void samplesAndDecodesTheRightFrames(String name) {
        Path file = Fixtures.dir().resolve("video").resolve(name);
        JsonNode v = VIDEO.get("videos").get(name);
        VideoLoader.VideoInfo info = VideoLoader.probe(file);
        assertThat(info.frames()).isEqualTo(v.get("frames").asInt());
        assertThat(info.fps()).isEqualTo(v.get("fps").asDouble());
        for (JsonNode c : v.get("cases")) {
            int[] got = VideoLoader.getIndex(bound(c.get("bound")), info.fps(), info.frames() - 1, 0,
                    c.get("num_segments").asInt());
            assertThat(got).as(name + " " + c).containsExactly(ints(c.get("indices")));
        }
        // decode every frame and check that frame i is grey 6*i (lossy codecs: within a few levels)
        int[] all = new int[info.frames()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        Map<Integer, RgbImage> frames = VideoLoader.decodeFrames(file, all, 1_000_000);
        assertThat(frames).hasSize(info.frames());
        int step = v.get("grey_step").asInt();
        for (int i = 0; i < all.length; i++) {
            RgbImage f = frames.get(i);
            assertThat(f.width()).isEqualTo(v.get("width").asInt());
            long sum = 0;
            for (byte b : f.rgb()) {
                sum += b & 0xFF;
            }
            // limited-range YUV: luma 6*i maps to about (6*i - 16) * 255 / 219 in RGB
            double expected = Math.clamp((step * i - 16) * 255.0 / 219.0, 0, 255);
            assertThat((double) sum / f.rgb().length).as(name + " frame " + i).isCloseTo(expected,
                    org.assertj.core.data.Offset.offset(4.0));
        }
    }

    @Test
    void loadPreprocessesEachSampledFrameAndBuildsThePrefix() {
        Path file = Fixtures.dir().resolve("video").resolve("grey_h264.mp4");
        ImagePreprocessor pre = ImagePreprocessor.builder().maxNum(1).build();
        VideoFrames vf = VideoLoader.load(file, 8, null, pre);
        assertThat(vf.frameIndices()).containsExactly(ints(VIDEO.get("videos").get("grey_h264.mp4").get("cases")
                .get(8).get("indices"))); // 8 segments, no bound
        assertThat(vf.fps()).isEqualTo(10.0);
        assertThat(vf.numPatchesList()).containsExactly(1, 1, 1, 1, 1, 1, 1, 1);
        assertThat(vf.frames().get(0).tiles()).isEqualTo(1);
        assertThat(vf.promptPrefix()).isEqualTo("Frame1: <image>\nFrame2: <image>\nFrame3: <image>\nFrame4: <image>\n"
                + "Frame5: <image>\nFrame6: <image>\nFrame7: <image>\nFrame8: <image>\n");
        // a flat frame stays flat through resize and normalisation: every value of a channel is equal
        PixelValues p = vf.frames().get(3);
        assertThat(p.get(0, 0, 0, 0)).isEqualTo(p.get(0, 0, 447, 447));
        VideoFrames bounded = VideoLoader.load(file, 8, new double[] {0.5, 2.5}, pre);
        assertThat(bounded.frameIndices()).containsExactly(ints(VIDEO.get("videos").get("grey_h264.mp4").get("cases")
                .get(9).get("indices")));
    }

    @Test
    void badVideosGiveClearErrors(@TempDir Path dir) throws Exception {
        Path junk = dir.resolve("junk.mp4");
        Files.write(junk, new byte[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
        assertThatThrownBy(() -> VideoLoader.probe(junk)).isInstanceOf(ImageException.class)
                .hasMessageContaining("junk.mp4");
        assertThatThrownBy(() -> VideoLoader.probe(dir.resolve("missing.mp4"))).isInstanceOf(ImageException.class)
                .hasMessageContaining("no such video file");
        Path png = dir.resolve("still.png");
        Files.copy(Fixtures.source("png_rgb.png"), png);
        assertThatThrownBy(() -> VideoLoader.load(png, 0, null, new ImagePreprocessor()))
                .isInstanceOf(ImageException.class).hasMessageContaining("numSegments");
        byte[] whole = Files.readAllBytes(Fixtures.dir().resolve("video").resolve("grey_h264.mp4"));
        Path cut = dir.resolve("cut.mp4");
        Files.write(cut, java.util.Arrays.copyOf(whole, whole.length / 3));
        assertThatThrownBy(() -> VideoLoader.load(cut, 8, null, new ImagePreprocessor()))
                .isInstanceOf(ImageException.class).hasMessageContaining("cut.mp4");
    }
}
