package org.internvl4j.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.internvl4j.image.ImagePreprocessor;
import org.internvl4j.image.PixelValues;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Remote images: one DNS lookup, every address checked, the connection to a checked one; no redirects; size limit. */
class ImageInputsTest {
    static final ImagePreprocessor PRE = ImagePreprocessor.builder().inputSize(448).maxNum(1).build();
    HttpServer http;
    final AtomicInteger served = new AtomicInteger();

    @BeforeEach
    void start() throws Exception {
        byte[] png = Files.readAllBytes(Http.image("img_a.png"));
        http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        http.createContext("/a.png", ex -> {
            served.incrementAndGet();
            ex.sendResponseHeaders(200, png.length);
            ex.getResponseBody().write(png);
            ex.close();
        });
        http.createContext("/moved", ex -> {
            served.incrementAndGet();
            ex.getResponseHeaders().add("Location", "http://169.254.169.254/latest");
            ex.sendResponseHeaders(302, -1);
            ex.close();
        });
        http.createContext("/big", ex -> {
            served.incrementAndGet();
            ex.sendResponseHeaders(200, 22L << 20); // a length, not chunked: the client speaks HTTP/1.0
            byte[] chunk = new byte[1 << 20];
            try {
                for (int i = 0; i < 22; i++) ex.getResponseBody().write(chunk);
            } catch (java.io.IOException e) {
                // the reader stopped at the limit
            }
            ex.close();
        });
        http.start();
    }

    @AfterEach
    void stop() {
        http.stop(0);
    }

    String url(String path) {
        return "http://images.example:" + http.getAddress().getPort() + path;
    }

    @Test
    void theHostIsResolvedOnceAndTheCheckedAddressIsTheOneConnectedTo() {
        AtomicInteger lookups = new AtomicInteger();
        // a rebinding resolver: the first answer passes the check, any later one would point elsewhere
        ImageInputs in = new ImageInputs(PRE, true, host -> {
            assertThat(host).isEqualTo("images.example");
            return lookups.getAndIncrement() == 0 ? new InetAddress[] {InetAddress.getLoopbackAddress()}
                    : new InetAddress[] {InetAddress.getByName("10.255.255.1")};
        }, a -> true);
        PixelValues p = in.load(url("/a.png"), "image_url");
        assertThat(p.tiles()).isPositive();
        assertThat(lookups.get()).isEqualTo(1);
        assertThat(served.get()).isEqualTo(1);
    }

    @Test
    void anyNonPublicAddressAmongTheAnswersRefusesBeforeAnyRequest() {
        ImageInputs in = new ImageInputs(PRE, true, host -> new InetAddress[] {
                InetAddress.getByName("93.184.215.14"), InetAddress.getByName("::ffff:127.0.0.1")}, ImageInputs::isPublic);
        assertThatThrownBy(() -> in.load(url("/a.png"), "image_url")).isInstanceOf(ApiError.class)
                .hasMessageContaining("refused").hasMessageContaining("127.0.0.1");
        assertThat(served.get()).isZero();
        ImageInputs none = new ImageInputs(PRE, true, host -> new InetAddress[0], ImageInputs::isPublic);
        assertThatThrownBy(() -> none.load(url("/a.png"), "image_url")).hasMessageContaining("does not resolve");
    }

    @Test
    void redirectsAreNotFollowedAndLargeImagesAreRefused() {
        ImageInputs in = new ImageInputs(PRE, true, host -> new InetAddress[] {InetAddress.getLoopbackAddress()}, a -> true);
        assertThatThrownBy(() -> in.load(url("/moved"), "image_url")).hasMessageContaining("redirects are not followed");
        assertThatThrownBy(() -> in.load(url("/big"), "image_url")).hasMessageContaining("larger than 20 MiB");
        assertThatThrownBy(() -> in.load(url("/nothing"), "image_url")).hasMessageContaining("HTTP 404");
        assertThatThrownBy(() -> in.load("http://user:pw@images.example/a.png", "image_url")).hasMessageContaining("credentials");
    }

    @Test
    void nonPublicAddressesOfEveryKindAreRecognised() throws Exception {
        for (String a : List.of("127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.0.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
                "224.0.0.1", "255.255.255.255", "198.18.0.1", "192.0.0.8", "::1", "::", "fe80::1", "fec0::1", "fc00::1", "fd12:3456::1",
                "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::10.0.0.1", "64:ff9b::a00:1", "2002:7f00:1::", "2001:db8::1")) {
            assertThat(ImageInputs.isPublic(InetAddress.getByName(a))).as(a).isFalse();
        }
        for (String a : List.of("8.8.8.8", "93.184.215.14", "2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::")) {
            assertThat(ImageInputs.isPublic(InetAddress.getByName(a))).as(a).isTrue();
        }
    }
}
