package org.internvl4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.internvl4j.chat.ChatModel;
import org.junit.jupiter.api.Test;

/**
 * The bounded load test (Maven profile {@code load}, not part of the default build):
 * {@code ./mvnw -B -ntp verify -Pload -pl internvl4j-core,internvl4j-server -Dtest=LoadTest -Dsurefire.failIfNoSpecifiedTests=false}.
 * 32 streaming clients on loopback for 60 s (-Dinternvl.load.seconds) against tiny-a: no errors, every stream ends
 * with [DONE], each answer equals the same request sent alone with the same seed, and clients that hang up
 * mid-stream leave no KV blocks behind (checked through /metrics).
 */
class LoadTest {
    static final int CLIENTS = 32;
    static final int PROMPTS = 8;

    static String request(int prompt, boolean stream) {
        return Http.json(Map.of("messages", List.of(Map.of("role", "user", "content", "question number " + prompt + ", tell me more")),
                "max_tokens", 16 + 8 * (prompt % 4), "temperature", 0.9, "top_p", 0.95, "seed", 100 + prompt, "stream", stream));
    }

    /** The streamed text, or null when the stream did not end with [DONE]; hangs up after hangUpAfter events (-1: never). */
    static String stream(String base, int prompt, int hangUpAfter) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions")).timeout(Duration.ofSeconds(300))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(request(prompt, true))).build();
        HttpResponse<InputStream> r = Http.CLIENT.send(req, HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() != 200) throw new AssertionError("HTTP " + r.statusCode() + ": " + new String(r.body().readAllBytes()));
        StringBuilder text = new StringBuilder();
        int events = 0;
        try (InputStream body = r.body();
             BufferedReader lines = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
            for (String line; (line = lines.readLine()) != null; ) {
                if (!line.startsWith("data: ")) continue;
                if (line.equals("data: [DONE]")) return text.toString();
                if (++events == hangUpAfter) return "";
                JsonNode j = Http.JSON.readTree(line.substring(6));
                if (j.has("error")) throw new AssertionError("error event: " + line);
                for (JsonNode c : j.get("choices")) if (c.get("delta").has("content")) text.append(c.get("delta").get("content").asText());
            }
        }
        return null;
    }

    @Test
    void thirtyTwoStreamingClients() throws Exception {
        long seconds = Long.getLong("internvl.load.seconds", 60);
        try (ChatModel chat = ChatModel.load(Http.tinyModel());
             OpenAiServer server = OpenAiServer.start(ServerOptions.defaults(Http.tinyModel()).withPort(0).withMaxBatch(CLIENTS)
                     .withSessionLen(2048), chat)) {
            String base = server.baseUrl();
            List<String> alone = new ArrayList<>();
            for (int p = 0; p < PROMPTS; p++) alone.add(stream(base, p, -1));
            ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
            AtomicInteger completed = new AtomicInteger(), hungUp = new AtomicInteger();
            long end = System.nanoTime() + seconds * 1_000_000_000L;
            List<Thread> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                clients.add(Thread.ofPlatform().start(() -> {
                    for (int n = 0; System.nanoTime() < end; n++) {
                        int prompt = (client + n) % PROMPTS;
                        boolean hangUp = (client + n) % 5 == 0;
                        try {
                            String text = stream(base, prompt, hangUp ? 3 : -1);
                            if (hangUp) hungUp.incrementAndGet();
                            else if (text == null) errors.add("client " + client + ": a stream did not end with [DONE]");
                            else if (!text.equals(alone.get(prompt))) errors.add("client " + client + ", prompt " + prompt + ": '" + text + "' != '" + alone.get(prompt) + "'");
                            else completed.incrementAndGet();
                        } catch (Exception | AssertionError e) {
                            errors.add("client " + client + ": " + e);
                        }
                    }
                }));
            }
            for (Thread t : clients) t.join();
            assertThat(errors).isEmpty();
            assertThat(completed.get()).isGreaterThan(CLIENTS);
            assertThat(hungUp.get()).isPositive();
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (ServerLimitsTest.metric(base, "internvl_running_batch_size") > 0 && System.nanoTime() < deadline) Thread.sleep(50);
            assertThat(ServerLimitsTest.metric(base, "internvl_running_batch_size")).isZero();
            assertThat(ServerLimitsTest.metric(base, "internvl_kv_blocks_running")).isZero();
            System.out.printf("load: %d streams completed, %d hung up, %d clients, %d s%n", completed.get(), hungUp.get(), CLIENTS, seconds);
        }
    }
}
