package org.internvl4j.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.internvl4j.chat.ChatModel;
import org.junit.jupiter.api.Test;

/**
 * 429 when full, blocks freed when a client goes away, 503 when shut down, remote images refused for private hosts; a
 * KV budget the heap cannot hold refused at start, a prompt larger than the budget refused with 400.
 */
class ServerLimitsTest {

    static double metric(String base, String name) throws Exception {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " (\\S+)$").matcher(Http.get(base + "/metrics", null).body());
        if (!m.find()) throw new AssertionError("no metric " + name);
        return Double.parseDouble(m.group(1));
    }

    static String longRequest(boolean stream) {
        return Http.json(Map.of("messages", List.of(Map.of("role", "user", "content", "count")), "max_tokens", 3500,
                "stream", stream, "temperature", 1.0, "seed", 1));
    }

    @Test
    void busyDisconnectedAndShutDown() throws Exception {
        try (ChatModel chat = ChatModel.load(Http.tinyModel());
             OpenAiServer server = OpenAiServer.start(ServerOptions.defaults(Http.tinyModel()).withPort(0).withMaxBatch(1)
                     .withMaxWaiting(0).withSessionLen(4096), chat)) {
            String base = server.baseUrl();
            HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions")).timeout(Duration.ofSeconds(120))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(longRequest(true))).build();
            HttpResponse<InputStream> r = Http.CLIENT.send(req, HttpResponse.BodyHandlers.ofInputStream());
            assertThat(r.statusCode()).isEqualTo(200);
            InputStream body = r.body();
            BufferedReader lines = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
            for (int events = 0; events < 5; ) if (lines.readLine().startsWith("data: ")) events++;
            assertThat(metric(base, "internvl_running_batch_size")).isEqualTo(1);
            assertThat(metric(base, "internvl_kv_blocks_running")).isPositive();

            // the only slot is taken and nothing may wait: 429 with Retry-After
            Http.Response busy = Http.post(base + "/v1/chat/completions", null, longRequest(false));
            ServerTest.assertError(busy, 429, null, "rate_limit_exceeded", "busy");
            assertThat(busy.headers().firstValue("Retry-After")).isPresent();

            // the streaming client goes away: its sequence ends and its blocks return within a step or so
            body.close();
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (metric(base, "internvl_running_batch_size") > 0 && System.nanoTime() < deadline) Thread.sleep(50);
            assertThat(metric(base, "internvl_running_batch_size")).isZero();
            assertThat(metric(base, "internvl_kv_blocks_running")).isZero();
            assertThat(Http.post(base + "/v1/chat/completions", null, Http.json(Map.of("messages",
                    List.of(Map.of("role", "user", "content", "hi")), "max_tokens", 2))).status()).isEqualTo(200);

            server.engine().close();
            ServerTest.assertError(Http.post(base + "/v1/chat/completions", null, longRequest(false)), 503, null,
                    "service_unavailable", "shut down");
        }
    }

    @Test
    void remoteImagesToPrivateAddressesAreRefusedBeforeAnyRequest() throws Exception {
        try (ChatModel chat = ChatModel.load(Http.tinyModel());
             OpenAiServer server = OpenAiServer.start(ServerOptions.defaults(Http.tinyModel()).withPort(0)
                     .withAllowRemoteImages(true), chat)) {
            for (String url : List.of("http://127.0.0.1:9/a.png", "http://localhost:9/a.png", "http://10.0.0.1/a.png",
                    "http://169.254.169.254/latest", "http://[::1]:9/a.png", "http://192.168.1.1/a.png", "ftp://example.com/a.png")) {
                Http.Response r = Http.post(server.baseUrl() + "/v1/chat/completions", null, Http.json(Map.of("messages",
                        List.of(Map.of("role", "user", "content", List.of(Map.of("type", "image_url", "image_url", Map.of("url", url))))))));
                ServerTest.assertError(r, 400, "messages[0].content[0].image_url", "invalid_image_url",
                        url.startsWith("ftp") ? "data: URI or an http(s) URL" : "refused");
            }
        }
    }

    @Test
    void aKvBudgetTheHeapCannotHoldIsRefusedAtStartAndTheDefaultIsClampedToTheHeap() {
        long max = Runtime.getRuntime().maxMemory();
        double huge = 2.0 * max / (1L << 30);
        try (ChatModel chat = ChatModel.load(Http.tinyModel())) {
            assertThatThrownBy(() -> OpenAiServer.start(ServerOptions.defaults(Http.tinyModel()).withPort(0).withKvCacheGib(huge), chat))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("does not fit in the Java heap")
                    .hasMessageContaining("--kv-cache-gib")
                    .hasMessageContaining("INTERNVL_HEAP=-Xmx");
        }
        // without the flag: 4 GiB, or less when this JVM's heap holds less
        long auto = OpenAiServer.kvCacheBytes(ServerOptions.defaults(Http.tinyModel()));
        assertThat(auto).isPositive().isLessThanOrEqualTo(Math.min(4L << 30, max - (64L << 20)));
    }

    @Test
    void aPromptLargerThanTheWholeKvBudgetGets400WhileAnotherRequestCompletes() throws Exception {
        try (ChatModel chat = ChatModel.load(Http.tinyModel())) {
            double gib = chat.model().llm().newCache().bytesPerToken() * 16.0 * 64 / (1L << 30); // 64 blocks: 1,024 tokens
            try (OpenAiServer server = OpenAiServer.start(ServerOptions.defaults(Http.tinyModel()).withPort(0).withSessionLen(8192)
                    .withKvCacheGib(gib), chat)) {
                String base = server.baseUrl();
                String running = Http.json(Map.of("messages", List.of(Map.of("role", "user", "content", "count")), "max_tokens", 300,
                        "stream", true, "temperature", 1.0, "seed", 1));
                HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions")).timeout(Duration.ofSeconds(120))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(running)).build();
                HttpResponse<InputStream> r = Http.CLIENT.send(req, HttpResponse.BodyHandlers.ofInputStream());
                assertThat(r.statusCode()).isEqualTo(200);
                BufferedReader lines = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
                for (int events = 0; events < 3; ) if (lines.readLine().startsWith("data: ")) events++;

                Http.Response tooLong = Http.post(base + "/v1/chat/completions", null, Http.json(Map.of("messages",
                        List.of(Map.of("role", "user", "content", "word ".repeat(2000))), "max_tokens", 4)));
                ServerTest.assertError(tooLong, 400, "messages", null, "KV blocks but the whole KV cache has 64 (raise --kv-cache-gib)");

                // the running request ends normally, and the server goes on answering
                String line, last = null;
                while ((line = lines.readLine()) != null) if (line.startsWith("data: ")) last = line;
                assertThat(last).isEqualTo("data: [DONE]");
                assertThat(Http.post(base + "/v1/chat/completions", null, Http.json(Map.of("messages",
                        List.of(Map.of("role", "user", "content", "hi")), "max_tokens", 2))).status()).isEqualTo(200);
                assertThat(metric(base, "internvl_kv_blocks_running")).isZero();
            }
        }
    }
}
