package org.internvl4j.hub;

import static org.internvl4j.testing.Fuzzing.expectOnly;

import com.code_intelligence.jazzer.api.BugDetectors;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.internvl4j.testing.Fuzzing;

/**
 * Fuzzes what the hub clients read from a server: status lines and headers, redirects (Location), error
 * headers and bodies, and the JSON listings of Hugging Face and ModelScope. A raw socket server on 127.0.0.1
 * answers the client's requests in order with the responses in the input: parts split at
 * {@link Fuzzing#SEPARATOR}, the first naming the source ("ms" for ModelScope, else Hugging Face), then
 * (head, body) pairs, where the head is the status line and headers and Content-Length is added when absent.
 * The server is also the clients' HTTP proxy, so that a redirect to any host comes back to it.
 * The client lists a repository, then opens its first file and reads it. Contract: listing throws only
 * {@link HubException}, opening only HubException or IOException, each with a message.
 * Corpus: HubResponsesFuzzTestInputs/listAndOpen.
 */
class HubResponsesFuzzTest {
    private static final RawServer SERVER = new RawServer();
    private static final HubClient HF = client(Source.HUGGING_FACE);
    private static final HubClient MS = client(Source.MODELSCOPE);
    private static final RepoId REPO = RepoId.parse("OpenGVLab/InternVL2-1B");

    private static HubClient client(Source source) {
        // every connection goes to our server, also after a redirect to another host (a CDN, or whatever the
        // input's Location names): through it as the HTTP proxy, so nothing leaves the loopback (Jazzer's SSRF
        // detector reported a redirect to //Xdcnlob, crash-4c0abbc0...)
        return HubClient.create(HubOptions.forSource(source, Map.of()).withEndpoint(SERVER.uri())
                .withProxy(java.net.ProxySelector.of(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), SERVER.port())))
                .withTimeout(Duration.ofSeconds(2)).withRetries(0));
    }

    @FuzzTest(maxDuration = "30s")
    void listAndOpen(byte[] data) {
        // the client talks to our own server only; Jazzer's SSRF detector would report any connection otherwise
        BugDetectors.allowNetworkConnections((host, port) -> port == SERVER.port());
        byte[][] parts = Fuzzing.split(data, 9);
        HubClient client = new String(parts[0], StandardCharsets.ISO_8859_1).equals("ms") ? MS : HF;
        SERVER.answer(parts);
        RepoListing[] listing = new RepoListing[1];
        expectOnly(() -> listing[0] = client.list(REPO), HubException.class);
        if (listing[0] == null || listing[0].files().isEmpty()) return;
        expectOnly(() -> {
            HttpResponse<InputStream> r = client.open(listing[0], listing[0].files().get(0), 0);
            try (InputStream in = r.body()) {
                in.readNBytes(1 << 20);
            }
        }, HubException.class, IOException.class);
    }

    /** Answers each connection's one request with the next (head, body) pair, then closes it. */
    static final class RawServer {
        private final ServerSocket socket;
        private volatile byte[][] responses = new byte[0][];
        private final AtomicInteger next = new AtomicInteger();

        RawServer() {
            try {
                socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Thread t = new Thread(this::serve, "fuzz-hub");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        URI uri() {
            return URI.create("http://127.0.0.1:" + socket.getLocalPort());
        }

        void answer(byte[][] parts) {
            responses = parts;
            next.set(0);
        }

        private void serve() {
            while (true) {
                try (Socket s = socket.accept()) {
                    s.setSoTimeout(2000);
                    readRequest(s.getInputStream());
                    OutputStream out = s.getOutputStream();
                    out.write(response(next.getAndIncrement()));
                    out.flush();
                } catch (IOException e) {
                    // the client went away: next connection
                }
            }
        }

        private static void readRequest(InputStream in) throws IOException {
            int matched = 0;
            for (int n = 0; n < 1 << 16 && matched < 4; n++) {
                int b = in.read();
                if (b < 0) return;
                matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
            }
        }

        private byte[] response(int k) {
            byte[][] r = responses;
            int head = 1 + 2 * k;
            if (head >= r.length || r[head].length == 0) {
                return "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
            }
            byte[] body = head + 1 < r.length ? r[head + 1] : new byte[0];
            String h = new String(r[head], StandardCharsets.ISO_8859_1);
            String lower = h.toLowerCase(Locale.ROOT);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes(r[head]);
            if (!lower.contains("content-length") && !lower.contains("transfer-encoding")) {
                out.writeBytes(("\r\nContent-Length: " + body.length).getBytes(StandardCharsets.ISO_8859_1));
            }
            out.writeBytes("\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.writeBytes(body);
            return out.toByteArray();
        }
    }
}
