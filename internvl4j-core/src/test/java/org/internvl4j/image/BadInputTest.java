package org.internvl4j.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Corrupt, truncated, empty, oversized and unsupported inputs: a clear ImageException, never a hang. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BadInputTest {

    @Test
    void emptyInput() {
        assertThatThrownBy(() -> ImageDecoder.decode(new byte[0])).isInstanceOf(ImageException.class)
                .hasMessageContaining("empty input");
    }

    @Test
    void unsupportedFormats() {
        byte[] tiff = {'I', 'I', 42, 0, 8, 0, 0, 0, 0, 0};
        assertThatThrownBy(() -> ImageDecoder.decode(tiff)).isInstanceOf(ImageException.class)
                .hasMessageContaining("unsupported or unrecognised image format").hasMessageContaining("49 49 2A 00");
        byte[] text = "hello, world".getBytes();
        assertThatThrownBy(() -> ImageDecoder.decode(text)).hasMessageContaining("supported: JPEG, PNG, BMP, GIF, WebP");
        // arithmetic-coded JPEG (SOF9): a valid start, an unsupported process
        byte[] sof9 = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xC9, 0, 11, 8, 0, 8, 0, 8, 1, 1, 0x11, 0};
        assertThatThrownBy(() -> ImageDecoder.decode(sof9)).hasMessageContaining("unsupported JPEG process")
                .hasMessageContaining("FF C9");
    }

    /** Every format source cut at several lengths: an ImageException (truncated or corrupt), no hang, no crash. */
    @ParameterizedTest
    @ValueSource(strings = {"jpeg_420.jpg", "jpeg_420_progressive.jpg", "jpeg_gray.jpg", "png_rgb.png",
        "png_palette.png", "bmp_rgb24.bmp", "gif_palette.gif", "webp_lossy.webp", "webp_lossless.webp"})
    void truncatedInputs(String name) throws Exception {
        byte[] whole = Files.readAllBytes(Fixtures.source(name));
        for (double f : new double[] {0.02, 0.3, 0.6, 0.9}) {
            byte[] cut = Arrays.copyOf(whole, Math.max(1, (int) (whole.length * f)));
            assertThatThrownBy(() -> ImageDecoder.decode(cut, 10_000_000L, name + "[:" + cut.length + "]"))
                    .as(name + " cut to " + cut.length + " bytes").isInstanceOf(ImageException.class)
                    .hasMessageContaining(name);
        }
    }

    /** Random byte flips in the data: either decodes to the right size or fails with an ImageException. */
    @ParameterizedTest
    @ValueSource(strings = {"jpeg_420.jpg", "jpeg_444_progressive.jpg", "png_rgb.png", "webp_lossy.webp",
        "gif_palette.gif"})
    void corruptInputs(String name) throws Exception {
        byte[] whole = Files.readAllBytes(Fixtures.source(name));
        java.util.Random rnd = new java.util.Random(42);
        for (int trial = 0; trial < 30; trial++) {
            byte[] bad = whole.clone();
            for (int k = 0; k < 8; k++) {
                bad[20 + rnd.nextInt(bad.length - 20)] ^= (byte) (1 + rnd.nextInt(255));
            }
            try {
                RgbImage img = ImageDecoder.decode(bad, 10_000_000L, name);
                assertThat((long) img.width() * img.height()).isPositive();
            } catch (ImageException e) {
                assertThat(e.getMessage()).contains(name);
            }
        }
    }

    // Found by ImageFuzzTest#jpeg (crash-74e04b70...): a scan's table selector above 3 indexed past the four
    // Huffman table slots (ArrayIndexOutOfBoundsException) instead of failing as a corrupt file.
    @Test
    void scanHuffmanTableSelectorsAbove3AreRefused() throws Exception {
        byte[] j = Files.readAllBytes(Fixtures.source("jpeg_420.jpg"));
        int sos = 0;
        while (!((j[sos] & 0xFF) == 0xFF && (j[sos + 1] & 0xFF) == 0xDA)) sos++;
        int id = j[sos + 5] & 0xFF;
        j[sos + 6] = (byte) 0xA0; // first component: DC table 10, AC table 0
        assertThatThrownBy(() -> ImageDecoder.decode(j, 1 << 20, "bad.jpg")).isInstanceOf(ImageException.class)
                .hasMessage("JPEG bad.jpg: scan gives component " + id + " Huffman tables DC 10 / AC 0, expected 0 to 3");
    }

    @Test
    void tooManyScansAreRefused() throws Exception {
        // repeat the last scan of a progressive file (a valid refinement scan) past the limit
        byte[] p = Files.readAllBytes(Fixtures.source("jpeg_420_progressive.jpg"));
        int lastSos = -1;
        for (int i = 0; i + 1 < p.length; i++) {
            if ((p[i] & 0xFF) == 0xFF && (p[i + 1] & 0xFF) == 0xDA) {
                lastSos = i;
            }
        }
        byte[] scan = Arrays.copyOfRange(p, lastSos, p.length - 2);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(p, 0, lastSos);
        for (int k = 0; k <= JpegDecoder.MAX_SCANS; k++) {
            out.write(scan);
        }
        out.write(new byte[] {(byte) 0xFF, (byte) 0xD9});
        assertThatThrownBy(() -> ImageDecoder.decode(out.toByteArray())).isInstanceOf(ImageException.class)
                .hasMessageContaining("more than 1000 scans");
    }

    @Test
    void decompressionBombsAreRejectedBeforeDecoding() throws Exception {
        // headers that claim 60000 x 60000 pixels, followed by almost nothing
        byte[] png = Files.readAllBytes(Fixtures.source("png_rgb.png"));
        byte[] bigPng = Arrays.copyOf(png, 64);
        bigPng[16] = 0;
        bigPng[17] = 0;
        bigPng[18] = (byte) 0xEA;
        bigPng[19] = 0x60;
        System.arraycopy(bigPng, 16, bigPng, 20, 4);
        assertThatThrownBy(() -> ImageDecoder.decode(bigPng)).hasMessageContaining("60000x60000")
                .hasMessageContaining("decompression bomb");
        byte[] jpeg = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xC0, 0, 11, 8, (byte) 0xEA, 0x60, (byte) 0xEA,
            0x60, 1, 1, 0x11, 0};
        assertThatThrownBy(() -> ImageDecoder.decode(jpeg)).hasMessageContaining("60000x60000")
                .hasMessageContaining("limit");
        // a real image over a small configured limit
        ImagePreprocessor small = ImagePreprocessor.builder().maxPixels(1000).build();
        assertThatThrownBy(() -> small.load(Fixtures.source("jpeg_420.jpg"))).isInstanceOf(ImageException.class)
                .hasMessageContaining("157x103").hasMessageContaining("above twice the limit of 1,000");
        assertThatThrownBy(() -> small.load(Fixtures.source("webp_lossless.webp")))
                .hasMessageContaining("above twice the limit of 1,000");
    }

    @Test
    void oversizedFilesAndBadSources(@TempDir Path dir) throws Exception {
        ImagePreprocessor tiny = ImagePreprocessor.builder().maxBytes(100).build();
        assertThatThrownBy(() -> tiny.load(Fixtures.source("png_rgb.png"))).hasMessageContaining("above the limit of 100");
        assertThatThrownBy(() -> new ImagePreprocessor().load(dir.resolve("nope.png"))).hasMessageContaining("no such file");
        assertThatThrownBy(() -> new ImagePreprocessor().load("data:image/png;base64,@@@"))
                .hasMessageContaining("invalid base64");
        assertThatThrownBy(() -> new ImagePreprocessor().load("data:image/png;base64"))
                .hasMessageContaining("no ','");
        assertThatThrownBy(() -> new ImagePreprocessor().load("")).hasMessageContaining("empty");
        assertThatThrownBy(() -> ImagePreprocessor.builder().minNum(3).maxNum(2).build())
                .hasMessageContaining("minNum=3");
    }

    @Test
    void loadsFromPathDataUriAndHttp() throws Exception {
        Path file = Fixtures.source("png_rgb.png");
        byte[] bytes = Files.readAllBytes(file);
        ImagePreprocessor pre = ImagePreprocessor.builder().maxNum(6).build();
        PixelValues fromPath = pre.load(file);
        assertThat(fromPath.tiles()).isEqualTo(7); // 157x103 -> 3x2 grid + thumbnail
        assertThat(pre.load(bytes).data()).isEqualTo(fromPath.data());
        assertThat(pre.load(file.toString()).data()).isEqualTo(fromPath.data());
        String uri = "data:image/png;base64," + Base64.getEncoder().encodeToString(bytes);
        assertThat(pre.load(uri).data()).isEqualTo(fromPath.data());

        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/img.png", ex -> {
            ex.sendResponseHeaders(200, bytes.length);
            ex.getResponseBody().write(bytes);
            ex.close();
        });
        server.createContext("/missing", ex -> {
            ex.sendResponseHeaders(404, -1);
            ex.close();
        });
        server.createContext("/big", ex -> {
            ex.sendResponseHeaders(200, 0); // chunked, no length: the limit must still hold
            ByteArrayOutputStream junk = new ByteArrayOutputStream();
            junk.write(new byte[4096]);
            for (int i = 0; i < 64; i++) {
                ex.getResponseBody().write(junk.toByteArray());
            }
            ex.close();
        });
        server.createContext("/stall", ex -> {
            ex.sendResponseHeaders(200, 1000); // promises 1000 bytes, sends 10, then stalls
            ex.getResponseBody().write(new byte[10]);
            ex.getResponseBody().flush();
            try {
                Thread.sleep(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ex.close();
        });
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.start();
        try {
            String base = "http://127.0.0.1:" + server.getAddress().getPort();
            assertThat(pre.load(base + "/img.png").data()).isEqualTo(fromPath.data());
            assertThatThrownBy(() -> pre.load(base + "/missing")).hasMessageContaining("HTTP status 404");
            ImagePreprocessor limited = pre.toBuilder().maxBytes(10_000).build();
            assertThatThrownBy(() -> limited.load(base + "/big")).hasMessageContaining("above the limit");
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> ImageSource.fetch(base + "/stall", 1 << 20, java.time.Duration.ofSeconds(1)))
                    .hasMessageContaining("did not finish within 1000 ms");
            assertThat((System.nanoTime() - t0) / 1e9).isLessThan(10);
        } finally {
            server.stop(0);
        }
    }

    /**
     * Answers that java.net.http (JDK 25) never finishes: a chunk size of eight hex digits above 7fffffff overflows
     * its int and its chunked decoder spins for ever, where no timeout reaches it (the hub fuzzer's timeout-6539c98e).
     * And a body that trickles in a byte at a time, each within the read timeout. Both must end in an ImageException
     * within about the timeout, leaving no thread busy.
     */
    @Test
    void aChunkSizeThatOverflowsAnIntAndATricklingBodyEndInAnError() throws Exception {
        try (java.net.ServerSocket ss = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Thread server = Thread.ofVirtual().start(() -> {
                while (!ss.isClosed()) {
                    try {
                        java.net.Socket sock = ss.accept();
                        Thread.ofVirtual().start(() -> answer(sock));
                    } catch (java.io.IOException e) {
                        return;
                    }
                }
            });
            String base = "http://127.0.0.1:" + ss.getLocalPort();
            long busyBefore = busyThreads();
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> ImageSource.fetch(base + "/overflow", 1 << 20, java.time.Duration.ofSeconds(2)))
                    .isInstanceOf(ImageException.class).hasMessageContaining("/overflow");
            assertThatThrownBy(() -> ImageSource.fetch(base + "/trickle", 1 << 20, java.time.Duration.ofMillis(1500)))
                    .isInstanceOf(ImageException.class).hasMessageContaining("did not finish within 1500 ms");
            assertThat((System.nanoTime() - t0) / 1e9).isLessThan(8);
            Thread.sleep(300);
            assertThat(busyThreads()).as("no client thread left spinning").isLessThanOrEqualTo(busyBefore);
            ss.close();
            server.join(2000);
        }
    }

    private static void answer(java.net.Socket sock) {
        try (sock) {
            java.io.InputStream in = sock.getInputStream();
            StringBuilder req = new StringBuilder();
            while (!req.toString().endsWith("\r\n\r\n")) {
                int c = in.read();
                if (c < 0) return;
                req.append((char) c);
            }
            java.io.OutputStream out = sock.getOutputStream();
            if (req.toString().startsWith("GET /overflow")) {
                out.write(("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "4\r\nabcdXXbbbbbbbbb\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                Thread.sleep(5_000);
            } else {
                out.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                for (int i = 0; i < 100; i++) {
                    out.write(0);
                    out.flush();
                    Thread.sleep(100);
                }
            }
        } catch (java.io.IOException | InterruptedException e) {
            // the client hung up: fine
        }
    }

    /** Platform threads in the RUNNABLE state whose stack is in java.net.http (a spinning decoder), counted. */
    private static long busyThreads() {
        return Thread.getAllStackTraces().entrySet().stream()
                .filter(e -> e.getKey().getState() == Thread.State.RUNNABLE)
                .filter(e -> java.util.Arrays.stream(e.getValue()).anyMatch(f -> f.getClassName().startsWith("jdk.internal.net.http")))
                .count();
    }
}
