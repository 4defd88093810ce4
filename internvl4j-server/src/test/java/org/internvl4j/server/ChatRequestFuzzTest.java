package org.internvl4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.internvl4j.chat.ChatModel;

/**
 * Fuzzes the chat request end to end: any bytes POSTed to /v1/chat/completions of a server on loopback that
 * serves the tiny-a checkpoint (JSON body, messages, parts, image_url data: URIs, sampling fields, stop,
 * stream). Contract: a 200 answer or a 4xx with an OpenAI error object that has a message; never a 5xx,
 * a dropped connection or a hang (each request must answer within 60 s). The context is 256 tokens so that
 * any request that generates stays short. Corpus: ChatRequestFuzzTestInputs/chatCompletions.
 */
class ChatRequestFuzzTest {
    private static final ChatModel CHAT = ChatModel.load(Http.tinyModel());
    private static final OpenAiServer SERVER = OpenAiServer.start(ServerOptions.defaults(Http.tinyModel()).withPort(0)
            .withServedModelName("tiny").withMaxNum(2).withSessionLen(256).withMaxBodyBytes(1 << 20), CHAT);

    @FuzzTest(maxDuration = "30s")
    void chatCompletions(byte[] data) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(SERVER.baseUrl() + "/v1/chat/completions"))
                .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(data)).build();
        HttpResponse<String> r = Http.CLIENT.send(req, HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isIn(200, 400, 404, 413, 422);
        if (r.statusCode() != 200) {
            JsonNode error = Http.JSON.readTree(r.body()).path("error");
            assertThat(error.path("message").asText("")).as(r.body()).isNotBlank();
        }
    }
}
