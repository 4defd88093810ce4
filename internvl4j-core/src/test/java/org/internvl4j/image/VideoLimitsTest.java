package org.internvl4j.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import org.internvl4j.util.Limits;
import org.junit.jupiter.api.Test;

/** A video's frames and duration are bounded before any frame is decoded; so are the segments of one request. */
class VideoLimitsTest {
    static Limits with(long frames, double seconds) {
        Limits d = Limits.DEFAULTS;
        return new Limits(d.imagePixels(), d.imageBytes(), frames, seconds, d.tilesPerRequest(), d.headerBytes(), d.shards(),
                d.tensors(), d.jsonDepth(), d.jsonBytes(), Duration.ZERO);
    }

    @Test
    void framesAndDurationAtTheirEdges() {
        Path file = Fixtures.dir().resolve("video").resolve("grey_mjpeg.avi");
        VideoLoader.VideoInfo info = VideoLoader.probe(file);
        double seconds = info.frames() / info.fps();
        assertThat(VideoLoader.probe(file, with(info.frames(), seconds + 0.01)).frames()).isEqualTo(info.frames());
        assertThatThrownBy(() -> VideoLoader.probe(file, with(info.frames() - 1, 3600))).isInstanceOf(ImageException.class)
                .hasMessageContaining("more than " + (info.frames() - 1) + " frames").hasMessageContaining("-Dinternvl.limit.videoFrames");
        assertThatThrownBy(() -> VideoLoader.probe(file, with(100_000, seconds / 2))).isInstanceOf(ImageException.class)
                .hasMessageContaining("above the limit of " + seconds / 2 + " s").hasMessageContaining("-Dinternvl.limit.videoSeconds");
    }

    @Test
    void segmentsBeyondTheTilesOfARequestAreRefused() {
        Path file = Fixtures.dir().resolve("video").resolve("grey_mjpeg.avi");
        assertThatThrownBy(() -> VideoLoader.load(file, 65, null, ImagePreprocessor.builder().maxNum(1).build()))
                .isInstanceOf(ImageException.class).hasMessageContaining("65 segments would make more than 64 tiles");
    }
}
