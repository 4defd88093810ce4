package org.internvl4j.util;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The defaults, their properties, and the JSON bounds every ObjectMapper of the project gets. */
class LimitsTest {
    @Test
    void defaultsAndOverrides() {
        Limits d = Limits.current();
        assertThat(d).isEqualTo(Limits.DEFAULTS);
        assertThat(d.imagePixels()).isEqualTo(89_478_485L); // PIL.Image.MAX_IMAGE_PIXELS
        assertThat(d.imagePixelsRefused()).isEqualTo(178_956_970L);
        assertThat(d.headerBytes()).isEqualTo(100_000_000L); // safetensors' MAX_HEADER_SIZE
        assertThat(d.decodeTime()).isZero();
        System.setProperty(Limits.PREFIX + "videoSeconds", "12.5");
        System.setProperty(Limits.PREFIX + "jsonDepth", "7");
        try {
            assertThat(Limits.current().videoSeconds()).isEqualTo(12.5);
            assertThat(Limits.current().jsonDepth()).isEqualTo(7);
            System.setProperty(Limits.PREFIX + "jsonDepth", "0");
            assertThatThrownBy(Limits::current).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("-Dinternvl.limit.jsonDepth must be a positive whole number, got '0'");
        } finally {
            System.clearProperty(Limits.PREFIX + "videoSeconds");
            System.clearProperty(Limits.PREFIX + "jsonDepth");
        }
        assertThatThrownBy(() -> new Limits(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, Duration.ofSeconds(-1)))
                .hasMessageContaining("decodeSeconds");
    }

    @Test
    void jsonDepthAndLengthAreBounded() throws Exception {
        var mapper = Json.builder(5, 100).build();
        assertThat(mapper.readTree("[[[[[1]]]]]").toString()).isEqualTo("[[[[[1]]]]]");
        assertThatThrownBy(() -> mapper.readTree("[[[[[[1]]]]]]")).isInstanceOf(StreamConstraintsException.class)
                .hasMessageContaining("nesting depth (6) exceeds the maximum allowed (5");
        assertThatThrownBy(() -> mapper.readTree("[" + "1,".repeat(60) + "1]")).isInstanceOf(StreamConstraintsException.class)
                .hasMessageContaining("Document length (123) exceeds the maximum allowed (100");
        // the project's default mappers stop at 200 levels, before Jackson's own 1000
        assertThatThrownBy(() -> Json.mapper().readTree("[".repeat(201) + "]".repeat(201)))
                .isInstanceOf(StreamConstraintsException.class);
        assertThat(Json.mapper().readTree("[".repeat(200) + "]".repeat(200))).isNotNull();
    }
}
