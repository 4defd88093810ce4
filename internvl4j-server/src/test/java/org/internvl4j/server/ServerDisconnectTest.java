package org.internvl4j.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.internvl4j.server.ServerLimitsTest.longRequest;
import static org.internvl4j.server.ServerLimitsTest.metric;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.internvl4j.chat.ChatModel;
import org.junit.jupiter.api.Test;

/** Clients that leave before their first token, and requests that time out (finish_reason "abort"). */
class ServerDisconnectTest {

    @Test
    void aClientThatLeavesWhileItsRequestWaitsIsDroppedWithoutWaitingForAWrite() throws Exception {
        try (ChatModel chat = ChatModel.load(Http.tinyModel());
             OpenAiServer server = OpenAiServer.start(ServerOptions.defaults(Http.tinyModel()).withPort(0).withMaxBatch(1)
                     .withMaxWaiting(4).withSessionLen(32768), chat)) {
            String base = server.baseUrl();
            // a long stream takes the only slot (longer than the test: it must not end and let the others in)
            String longest = Http.json(Map.of("messages", List.of(Map.of("role", "user", "content", "count")), "max_tokens", 32000,
                    "stream", true, "temperature", 1.0, "seed", 1));
            HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions")).timeout(Duration.ofSeconds(120))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(longest)).build();
            HttpResponse<InputStream> running = Http.CLIENT.send(req, HttpResponse.BodyHandlers.ofInputStream());
            BufferedReader lines = new BufferedReader(new InputStreamReader(running.body(), StandardCharsets.UTF_8));
            for (int events = 0; events < 3; ) if (lines.readLine().startsWith("data: ")) events++;

            for (boolean stream : new boolean[] {false, true}) {
                byte[] body = longRequest(stream).getBytes(StandardCharsets.UTF_8);
                long finished = server.engine().stats().finished();
                try (Socket s = new Socket("127.0.0.1", server.port())) {
                    OutputStream out = s.getOutputStream();
                    out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                            + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.write(body);
                    out.flush();
                    waitFor(base, "internvl_queue_depth", 1);
                } // the client goes away while its request waits: nothing has been written to it
                long t0 = System.nanoTime();
                waitFor(base, "internvl_queue_depth", 0);
                System.out.printf("stream=%s: a waiting request's client left; dropped after %.0f ms%n", stream, (System.nanoTime() - t0) / 1e6);
                // dropped from the queue, not admitted: it finished (cancelled) while the first still runs
                assertThat(server.engine().stats().finished()).as("stream=" + stream).isEqualTo(finished + 1);
                assertThat(server.engine().stats().running()).isEqualTo(1);
            }
            running.body().close();
            waitFor(base, "internvl_running_batch_size", 0);
            assertThat(metric(base, "internvl_kv_blocks_running")).isZero();
        }
    }

    static void waitFor(String base, String metric, double value) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (metric(base, metric) != value && System.nanoTime() < deadline) Thread.sleep(20);
        assertThat(metric(base, metric)).as(metric).isEqualTo(value);
    }

    @Test
    void aRequestThatTimesOutEndsWithAbortNotLength() throws Exception {
        try (ChatModel chat = ChatModel.load(Http.tinyModel());
             OpenAiServer server = OpenAiServer.start(ServerOptions.defaults(Http.tinyModel()).withPort(0).withSessionLen(8192)
                     .withRequestTimeout(Duration.ofMillis(300)), chat)) {
            String request = Http.json(Map.of("messages", List.of(Map.of("role", "user", "content", "count")), "max_tokens", 8000,
                    "temperature", 1.0, "seed", 1));
            JsonNode r = Http.post(server.baseUrl() + "/v1/chat/completions", null, request).json();
            assertThat(r.at("/choices/0/finish_reason").asText()).isEqualTo("abort");
            assertThat(r.at("/usage/completion_tokens").asInt()).isLessThan(8000);

            Http.Response streamed = Http.post(server.baseUrl() + "/v1/chat/completions", null,
                    request.replace("\"max_tokens\"", "\"stream\":true,\"max_tokens\""));
            List<String> events = streamed.events();
            assertThat(events.get(events.size() - 1)).isEqualTo("[DONE]");
            assertThat(Http.JSON.readTree(events.get(events.size() - 2)).at("/choices/0/finish_reason").asText()).isEqualTo("abort");
        }
        assertThat(CompletionHandler.finishReason(org.internvl4j.engine.Finish.LENGTH)).isEqualTo("length");
        assertThat(CompletionHandler.finishReason(org.internvl4j.engine.Finish.STOP)).isEqualTo("stop");
    }
}
