package org.internvl4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.internvl4j.chat.ChatModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The server's limits on headers, JSON nesting and tiles per request, each with the answer it earns. */
class ServerHardeningTest {
    static ChatModel chat;
    static OpenAiServer server;

    @BeforeAll
    static void start() {
        chat = ChatModel.load(Http.tinyModel());
        // 1024 tokens of context: 4 tiles of 256 tokens at most
        server = OpenAiServer.start(ServerOptions.defaults(Http.tinyModel()).withPort(0).withMaxHeaderBytes(2048)
                .withMaxBodyBytes(256 << 10).withSessionLen(1024).withMaxNum(3), chat);
    }

    @AfterAll
    static void stop() {
        server.close();
        chat.close();
    }

    static int getWithHeader(int bytes) throws Exception {
        HttpRequest r = HttpRequest.newBuilder(URI.create(server.baseUrl() + "/health")).timeout(Duration.ofSeconds(30))
                .header("X-Padding", "p".repeat(bytes)).GET().build();
        return Http.CLIENT.send(r, HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    @Test
    void headersAboveTheLimitGet431() throws Exception {
        assertThat(getWithHeader(1000)).isEqualTo(200);
        assertThat(getWithHeader(3000)).isEqualTo(431);
    }

    @Test
    void deeplyNestedJsonGets400BeforeAnyWork() throws Exception {
        String body = "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"x\": " + "[".repeat(300) + "]".repeat(300) + "}";
        Http.Response r = Http.post(server.baseUrl() + "/v1/chat/completions", null, body);
        ServerTest.assertError(r, 400, null, "invalid_json", "nesting depth");
        // 150 levels are within the limit: the request is refused only for its unknown field's type, or served
        String ok = "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 2, \"user\": "
                + "[".repeat(150) + "]".repeat(150) + "}";
        assertThat(Http.post(server.baseUrl() + "/v1/chat/completions", null, ok).body()).doesNotContain("nesting depth");
    }

    @Test
    void tooManyTilesInOneRequestGet400() throws Exception {
        String image = Http.dataUri(Http.image("img_b.png"));
        List<Object> parts = new ArrayList<>();
        for (int i = 0; i < 5; i++) parts.add(Map.of("type", "image_url", "image_url", Map.of("url", image)));
        parts.add(Map.of("type", "text", "text", "compare"));
        Http.Response r = Http.post(server.baseUrl() + "/v1/chat/completions", null,
                Http.json(Map.of("messages", List.of(Map.of("role", "user", "content", parts)), "max_tokens", 2)));
        ServerTest.assertError(r, 400, null, "too_many_tiles", "tiles, more than the 4 one request may have");
        // one image fits
        Http.Response one = Http.post(server.baseUrl() + "/v1/chat/completions", null, Http.json(Map.of("messages",
                List.of(Map.of("role", "user", "content", List.of(parts.get(0), parts.get(5)))), "max_tokens", 2)));
        assertThat(one.status()).as(one.body()).isEqualTo(200);
    }
}
