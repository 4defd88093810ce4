package org.internvl4j.hub;

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
}
