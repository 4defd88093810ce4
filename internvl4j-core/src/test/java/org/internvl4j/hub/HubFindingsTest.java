package org.internvl4j.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Hub answers that HubResponsesFuzzTest found (docs/RELIABILITY.md#fuzzing): each must be a HubException. */
class HubFindingsTest {
    private static final HubResponsesFuzzTest.RawServer SERVER = new HubResponsesFuzzTest.RawServer();
    private static final HubClient HF = HubClient.create(HubOptions.forSource(Source.HUGGING_FACE, Map.of())
            .withEndpoint(SERVER.uri()).withTimeout(Duration.ofSeconds(5)).withRetries(0));
    private static final String LISTING = "{\"sha\":\"0123456789abcdef0123456789abcdef01234567\",\"siblings\":"
            + "[{\"rfilename\":\"config.json\",\"blobId\":\"aaaaaaaaaaaaaaaaaaaa\",\"size\":2}]}";

    @AfterAll
    static void close() throws Exception {
        HF.close();
    }

    private static void serve(String redirectHead) {
        String[] parts = {"hf", "HTTP/1.1 200 OK", LISTING, redirectHead, ""};
        byte[][] bytes = new byte[parts.length][];
        for (int i = 0; i < parts.length; i++) bytes[i] = parts[i].getBytes(StandardCharsets.ISO_8859_1);
        SERVER.answer(bytes);
    }

    private static void open() throws Exception {
        RepoListing listing = HF.list(RepoId.parse("o/n"));
        HF.open(listing, listing.files().get(0), 0).body().close();
    }

    // crash-8bd6494d... (Location /cdn/ÀÂÎ): a Location with a character a URI may not hold made URI.resolve throw IllegalArgumentException
    @Test
    void aLocationThatIsNotAUriIsABadResponse() {
        serve("HTTP/1.1 302 Found\r\nLocation: /cdn/a|b");
        assertThatThrownBy(HubFindingsTest::open).isInstanceOf(HubException.class)
                .hasMessageContaining("answered 302 with an invalid Location header '/cdn/a|b'");
    }

    // the same family: HttpRequest refuses a URI that is not http(s) with IllegalArgumentException
    @Test
    void aRedirectToAnotherSchemeIsABadResponse() {
        serve("HTTP/1.1 307 Temporary Redirect\r\nLocation: file:/etc/passwd");
        assertThatThrownBy(HubFindingsTest::open).isInstanceOf(HubException.class)
                .hasMessageContaining("redirected to 'file:/etc/passwd', which is not an http(s) URL");
    }

    // timeout-2f89a6bb... : a chunked listing whose chunk is longer than the bytes sent, then a closed
    // connection, left the client reading for ever; since the hub reads through HttpURLConnection the broken
    // framing is an error at once (a body that stops arriving: aListingThatStopsIsAnErrorAfterTheTimeout)
    @Test
    @org.junit.jupiter.api.Timeout(60)
    void aChunkedListingCutShortIsABrokenResponse() throws Exception {
        byte[] input;
        try (var in = HubFindingsTest.class.getResourceAsStream(
                "HubResponsesFuzzTestInputs/listAndOpen/timeout-2f89a6bb9dbd621ffc7d75b562e13fdf7294b05d")) {
            input = in.readAllBytes();
        }
        SERVER.answer(org.internvl4j.testing.Fuzzing.split(input, 9));
        long start = System.nanoTime();
        assertThatThrownBy(() -> HF.list(RepoId.parse("o/n"))).isInstanceOf(HubException.class)
                .hasMessageContaining("/api/models/o/n/revision/main?blobs=true sent a broken response");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
    }

    // timeout-6539c98e... : a chunked listing whose data runs past its declared size (0x133); java.net.http skips
    // the two bytes where the CRLF should be without looking at them and reads the next "chunk size" from the data,
    // a run of 37 'b's, into an int that overflows to a negative size; then it looped for ever on the bytes it held,
    // inside HttpClient.send, on a thread nothing could stop. The hub now reads through HttpURLConnection, which
    // checks the CRLF and refuses such a size
    @Test
    @org.junit.jupiter.api.Timeout(60)
    void aChunkSizeThatOverflowsAnIntIsAnErrorNotASpin() throws Exception {
        byte[] input;
        try (var in = HubFindingsTest.class.getResourceAsStream(
                "HubResponsesFuzzTestInputs/listAndOpen/timeout-6539c98e542b3f45ba79af238686915ef058a754")) {
            input = in.readAllBytes();
        }
        SERVER.answer(org.internvl4j.testing.Fuzzing.split(input, 9));
        long start = System.nanoTime();
        assertThatThrownBy(() -> HF.list(RepoId.parse("o/n"))).isInstanceOf(HubException.class)
                .hasMessageContaining("sent a broken response");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
    }

    // the same bug at its smallest: a chunk size of 8 hex digits above 0x7fffffff, then any byte after it
    @Test
    @org.junit.jupiter.api.Timeout(60)
    void aNegativeChunkSizeIsAnError() {
        String[] parts = {"hf", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked", "bbbbbbbb\r\n{}\r\n0\r\n\r\n"};
        byte[][] bytes = new byte[parts.length][];
        for (int i = 0; i < parts.length; i++) bytes[i] = parts[i].getBytes(StandardCharsets.ISO_8859_1);
        SERVER.answer(bytes);
        assertThatThrownBy(() -> HF.list(RepoId.parse("o/n"))).isInstanceOf(HubException.class)
                .hasMessageContaining("sent a broken response").hasMessageContaining("chunk");
    }

    // a listing that trickles in, a byte just within each read timeout, would never end: maxTime bounds the whole answer
    @Test
    @org.junit.jupiter.api.Timeout(60)
    void aListingThatTricklesInEndsAtMaxTime() throws Exception {
        assertSlowListingFails(100_000, 300, "took more than 3 s to send its response");
    }

    // a listing that sends a few bytes and then nothing, the connection held open
    @Test
    @org.junit.jupiter.api.Timeout(60)
    void aListingThatStopsIsAnErrorAfterTheTimeout() throws Exception {
        assertSlowListingFails(10, 0, "stopped sending its response for 1 s");
    }

    /** A server that sends {@code bytes} spaces of a 100000-byte listing, {@code pauseMs} apart, then holds the connection. */
    private static void assertSlowListingFails(int bytes, long pauseMs, String message) throws Exception {
        try (var server = new java.net.ServerSocket(0, 5, java.net.InetAddress.getLoopbackAddress())) {
            Thread t = Thread.ofPlatform().daemon().start(() -> {
                try (var s = server.accept()) {
                    var out = s.getOutputStream();
                    out.write(("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n")
                            .getBytes(StandardCharsets.ISO_8859_1));
                    for (int i = 0; i < bytes; i++) {
                        out.write(' ');
                        out.flush();
                        Thread.sleep(pauseMs);
                    }
                    Thread.sleep(30_000);
                } catch (Exception e) {
                    // the client hung up, or the test ended: done
                }
            });
            HubOptions o = HubOptions.forSource(Source.HUGGING_FACE, Map.of())
                    .withEndpoint(java.net.URI.create("http://127.0.0.1:" + server.getLocalPort()))
                    .withTimeout(Duration.ofSeconds(1)).withMaxTime(Duration.ofSeconds(3)).withRetries(0);
            long start = System.nanoTime();
            try (HubClient client = HubClient.create(o)) {
                assertThatThrownBy(() -> client.list(RepoId.parse("o/n"))).isInstanceOf(HubException.class)
                        .hasMessageContaining(message);
            }
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
            t.interrupt();
        }
    }
}
