package org.internvl4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.internvl4j.chat.ChatModel;
import org.internvl4j.chat.ChatRequest;
import org.internvl4j.chat.ChatResult;
import org.internvl4j.image.ImagePreprocessor;
import org.internvl4j.image.PixelValues;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The HTTP protocol on loopback against the tiny-a checkpoint: answers equal the library's, every bad request its error. */
class ServerTest {
    static final String KEY = "sk-test-key";
    static ChatModel chat;
    static OpenAiServer server;
    static String base;
    static String imageUri;
    static ChatResult expected; // the library's greedy answer about img_a

    @BeforeAll
    static void start() throws Exception {
        chat = ChatModel.load(Http.tinyModel());
        server = OpenAiServer.start(ServerOptions.defaults(Http.tinyModel()).withPort(0).withApiKeys(List.of(KEY, "second-key"))
                .withServedModelName("tiny").withMaxNum(2).withSessionLen(4096).withMaxBodyBytes(1 << 20), chat);
        base = server.baseUrl();
        imageUri = Http.dataUri(Http.image("img_a.png"));
        PixelValues img = ImagePreprocessor.builder().inputSize(chat.model().imageSize()).maxNum(2).build().load(Http.image("img_a.png"));
        expected = chat.chat(ChatRequest.of("describe", img).withMaxNewTokens(12));
    }

    @AfterAll
    static void stop() {
        server.close();
        chat.close();
    }

    static Map<String, Object> imageMessage(String text) {
        return Map.of("role", "user", "content", List.of(
                Map.of("type", "image_url", "image_url", Map.of("url", imageUri)),
                Map.of("type", "text", "text", text)));
    }

    static Http.Response chatPost(Object body) throws Exception {
        return Http.post(base + "/v1/chat/completions", KEY, body instanceof String s ? s : Http.json(body));
    }

    static void assertError(Http.Response r, int status, String param, String code, String messagePart) {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        JsonNode e = r.json().get("error");
        assertThat(e).as(r.body()).isNotNull();
        assertThat(e.get("message").asText()).contains(messagePart);
        assertThat(e.has("type") && e.has("param") && e.has("code")).isTrue();
        if (param != null) assertThat(e.get("param").asText()).isEqualTo(param);
        if (code != null) assertThat(e.get("code").asText()).isEqualTo(code);
    }

    @Test
    void healthModelsAndMetrics() throws Exception {
        Http.Response h = Http.get(base + "/health", null);
        assertThat(h.status()).isEqualTo(200);
        Http.Response m = Http.get(base + "/v1/models", KEY);
        assertThat(m.status()).isEqualTo(200);
        assertThat(m.json().get("object").asText()).isEqualTo("list");
        assertThat(m.json().get("data").get(0).get("id").asText()).isEqualTo("tiny");
        assertThat(Http.get(base + "/v1/models", "second-key").status()).isEqualTo(200);
        Http.Response metrics = Http.get(base + "/metrics", null);
        assertThat(metrics.status()).isEqualTo(200);
        assertThat(metrics.body()).contains("internvl_kv_blocks_free ", "internvl_queue_depth ", "internvl_running_batch_size ",
                "internvl_prefix_cache_hits_total ", "internvl_time_to_first_token_seconds_bucket{le=\"+Inf\"}",
                "internvl_requests_total{path=\"/v1/models\",status=\"200\"}", "internvl_generation_tokens_per_second ");
        Http.Response page = Http.get(base + "/", null);
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.body()).contains("<html", "/v1/chat/completions", "getReader");
    }

    @Test
    void aChatCompletionWithADataUriImageEqualsTheLibrarysAnswer() throws Exception {
        Http.Response r = chatPost(Map.of("model", "tiny", "messages", List.of(imageMessage("describe")), "max_tokens", 12));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode j = r.json();
        assertThat(j.get("object").asText()).isEqualTo("chat.completion");
        assertThat(j.get("id").asText()).startsWith("chatcmpl-");
        JsonNode c = j.get("choices").get(0);
        assertThat(c.get("message").get("role").asText()).isEqualTo("assistant");
        assertThat(c.get("message").get("content").asText()).isEqualTo(expected.response());
        assertThat(c.get("finish_reason").asText()).isEqualTo(expected.finishReason().name().equals("STOP") ? "stop" : "length");
        assertThat(j.get("usage").get("prompt_tokens").asInt()).isEqualTo(expected.promptIds().length);
        assertThat(j.get("usage").get("completion_tokens").asInt()).isEqualTo(expected.tokenIds().length);
    }

    @Test
    void streamingSendsTheSameTextEndsWithDoneAndIncludesUsage() throws Exception {
        Http.Response r = chatPost(Map.of("messages", List.of(imageMessage("describe")), "max_tokens", 12, "stream", true,
                "stream_options", Map.of("include_usage", true)));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("text/event-stream");
        List<String> events = r.events();
        assertThat(events.get(events.size() - 1)).isEqualTo("[DONE]");
        StringBuilder text = new StringBuilder();
        String finish = null;
        JsonNode usage = null;
        for (String e : events.subList(0, events.size() - 1)) {
            JsonNode j = Http.JSON.readTree(e);
            assertThat(j.get("object").asText()).isEqualTo("chat.completion.chunk");
            if (j.get("choices").isEmpty()) {
                usage = j.get("usage");
                continue;
            }
            assertThat(j.get("usage").isNull()).isTrue();
            JsonNode c = j.get("choices").get(0);
            if (c.get("delta").has("content")) text.append(c.get("delta").get("content").asText());
            if (!c.get("finish_reason").isNull()) finish = c.get("finish_reason").asText();
        }
        assertThat(text.toString()).isEqualTo(expected.response());
        assertThat(finish).isIn("stop", "length");
        assertThat(usage.get("completion_tokens").asInt()).isEqualTo(expected.tokenIds().length);
        assertThat(Http.JSON.readTree(events.get(0)).get("choices").get(0).get("delta").get("role").asText()).isEqualTo("assistant");
    }

    @Test
    void severalImagesAndEarlierTurnsArePlacedAsTheLibraryPlacesThem() throws Exception {
        ImagePreprocessor pre = ImagePreprocessor.builder().inputSize(chat.model().imageSize()).maxNum(2).build();
        PixelValues a = pre.load(Http.image("img_a.png")), b = pre.load(Http.image("img_b.png"));
        String uriB = Http.dataUri(Http.image("img_b.png"));
        Map<String, Object> partA = Map.of("type", "image_url", "image_url", Map.of("url", imageUri));
        Map<String, Object> partB = Map.of("type", "image_url", "image_url", Map.of("url", uriB));
        // no placeholders: all images in one <img> block before the text (LMDeploy's layout, chat()'s combined form)
        String combined = chat.chat(ChatRequest.of("compare", a, b).withMaxNewTokens(8)).response();
        JsonNode r = chatPost(Map.of("messages", List.of(Map.of("role", "user", "content",
                List.of(partA, partB, Map.of("type", "text", "text", "compare")))), "max_tokens", 8)).json();
        assertThat(r.get("choices").get(0).get("message").get("content").asText()).isEqualTo(combined);
        // placeholders: one image each, in order
        String q = "first <image> then <image> which?";
        String separate = chat.chat(new ChatRequest(q, List.of(a, b), null, null, null, null, null).withMaxNewTokens(8)).response();
        r = chatPost(Map.of("messages", List.of(Map.of("role", "user", "content",
                List.of(partA, partB, Map.of("type", "text", "text", q)))), "max_tokens", 8)).json();
        assertThat(r.get("choices").get(0).get("message").get("content").asText()).isEqualTo(separate);
        // a system message and an earlier turn: the library's history
        String withHistory = chat.chat(ChatRequest.of("and now?").withSystemMessage("Be brief.")
                .withHistory(List.of(new org.internvl4j.chat.Turn("hello", "hi there"))).withMaxNewTokens(8)).response();
        r = chatPost(Map.of("messages", List.of(Map.of("role", "system", "content", "Be brief."),
                Map.of("role", "user", "content", "hello"), Map.of("role", "assistant", "content", "hi there"),
                Map.of("role", "user", "content", "and now?")), "max_tokens", 8)).json();
        assertThat(r.get("choices").get(0).get("message").get("content").asText()).isEqualTo(withHistory);
        // more placeholders than images is an error naming the message
        assertError(chatPost(Map.of("messages", List.of(Map.of("role", "user", "content",
                List.of(partA, Map.of("type", "text", "text", q)))))), 400, "messages[0].content", null, "2 <image> placeholders but 1 images");
    }

    @Test
    void samplingParametersSeedsStopsLogprobsAndN() throws Exception {
        Map<String, Object> sampled = Map.of("messages", List.of(Map.of("role", "user", "content", "hello there")),
                "max_completion_tokens", 10, "temperature", 0.8, "top_p", 0.9, "top_k", 40, "seed", 7, "n", 2,
                "repetition_penalty", 1.1);
        JsonNode a = chatPost(sampled).json(), b = chatPost(sampled).json();
        assertThat(a.get("choices")).hasSize(2);
        assertThat(a.get("choices").get(0).get("message").get("content").asText())
                .isEqualTo(b.get("choices").get(0).get("message").get("content").asText());
        assertThat(a.get("choices").get(1).get("index").asInt()).isEqualTo(1);
        assertThat(a.get("usage").get("completion_tokens").asInt()).isEqualTo(20);
        assertThat(a.get("choices").get(0).get("finish_reason").asText()).isEqualTo("length");

        String full = expected.response();
        String stop = full.substring(Math.min(3, full.length() - 1), Math.min(6, full.length()));
        JsonNode s = chatPost(Map.of("messages", List.of(imageMessage("describe")), "max_tokens", 12, "stop", stop)).json();
        String cut = s.get("choices").get(0).get("message").get("content").asText();
        assertThat(full).startsWith(cut);
        assertThat(cut).doesNotContain(stop);
        assertThat(s.get("choices").get(0).get("finish_reason").asText()).isEqualTo("stop");

        JsonNode lp = chatPost(Map.of("messages", List.of(Map.of("role", "user", "content", "hi")), "max_tokens", 3,
                "logprobs", true, "top_logprobs", 2)).json();
        JsonNode content = lp.get("choices").get(0).get("logprobs").get("content");
        assertThat(content).hasSize(3);
        for (JsonNode t : content) {
            assertThat(t.get("logprob").asDouble()).isLessThanOrEqualTo(0);
            assertThat(t.get("top_logprobs")).hasSize(2);
            assertThat(t.get("logprob").asDouble()).isEqualTo(t.get("top_logprobs").get(0).get("logprob").asDouble()); // greedy
        }
    }

    @Test
    void legacyCompletions() throws Exception {
        Http.Response r = Http.post(base + "/v1/completions", KEY, Http.json(Map.of("model", "tiny", "prompt", "The cat",
                "max_tokens", 5, "logprobs", 1)));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode c = r.json().get("choices").get(0);
        assertThat(r.json().get("object").asText()).isEqualTo("text_completion");
        assertThat(c.get("text").isTextual()).isTrue();
        assertThat(c.get("logprobs").get("tokens")).hasSize(5);
        assertThat(c.get("finish_reason").asText()).isEqualTo("length");
        Http.Response s = Http.post(base + "/v1/completions", KEY, Http.json(Map.of("prompt", "The cat", "max_tokens", 5, "stream", true)));
        assertThat(s.events().get(s.events().size() - 1)).isEqualTo("[DONE]");
        StringBuilder text = new StringBuilder();
        for (String e : s.events().subList(0, s.events().size() - 1)) text.append(Http.JSON.readTree(e).get("choices").get(0).get("text").asText());
        assertThat(text.toString()).isEqualTo(c.get("text").asText());
    }

    @Test
    void badRequestsGetOpenAiShapedErrors() throws Exception {
        assertError(chatPost("{\"messages\": ["), 400, null, "invalid_json", "not valid JSON");
        assertError(chatPost("[1, 2]"), 400, null, null, "must be a JSON object");
        assertError(chatPost(""), 400, null, null, "empty");
        assertError(chatPost(Map.of("model", "tiny")), 400, "messages", null, "'messages' is required");
        assertError(chatPost(Map.of("messages", "hi")), 400, "messages", null, "must be an array");
        assertError(chatPost(Map.of("messages", List.of())), 400, "messages", null, "must not be empty");
        List<Map<String, Object>> hi = List.of(Map.of("role", "user", "content", "hi"));
        assertError(chatPost(Map.of("messages", hi, "temperature", "hot")), 400, "temperature", null, "must be a number");
        assertError(chatPost(Map.of("messages", hi, "temperature", 3)), 400, "temperature", null, "must be in [0.0, 2.0]");
        assertError(chatPost(Map.of("messages", hi, "top_p", 1.5)), 400, "top_p", null, "must be in");
        assertError(chatPost(Map.of("messages", hi, "top_k", 2.5)), 400, "top_k", null, "must be an integer");
        assertError(chatPost(Map.of("messages", hi, "max_tokens", 0)), 400, "max_tokens", null, "must be in [1,");
        assertError(chatPost(Map.of("messages", hi, "n", 0)), 400, "n", null, "must be in [1, 16]");
        assertError(chatPost(Map.of("messages", hi, "stream", "yes")), 400, "stream", null, "must be a boolean");
        assertError(chatPost(Map.of("messages", hi, "stream_options", Map.of("include_usage", true))), 400, "stream_options", null, "only allowed");
        assertError(chatPost(Map.of("messages", hi, "stop", List.of(1))), 400, "stop", null, "array of strings");
        assertError(chatPost(Map.of("messages", hi, "stop", List.of("a", "b", "c", "d", "e"))), 400, "stop", null, "at most 4");
        assertError(chatPost(Map.of("messages", hi, "seed", "x")), 400, "seed", null, "must be an integer");
        assertError(chatPost(Map.of("messages", hi, "top_logprobs", 3)), 400, "top_logprobs", null, "needs 'logprobs'");
        assertError(chatPost(Map.of("messages", hi, "top_logprobs", 30, "logprobs", true)), 400, "top_logprobs", null, "[0, 20]");
        assertError(chatPost(Map.of("messages", hi, "repetition_penalty", 0)), 400, "repetition_penalty", null, "must be in");
        assertError(chatPost(Map.of("messages", hi, "presence_penalty", 1)), 400, "presence_penalty", null, "not supported");
        assertError(chatPost(Map.of("messages", List.of(Map.of("role", "robot", "content", "x")))), 400, "messages[0].role", null, "not supported");
        assertError(chatPost(Map.of("messages", List.of(Map.of("content", "x")))), 400, "messages[0].role", null, "no 'role'");
        assertError(chatPost(Map.of("messages", List.of(Map.of("role", "assistant", "content", "x")))), 400, "messages", null, "last message");
        assertError(chatPost(Map.of("messages", List.of(Map.of("role", "user", "content", 5)))), 400, "messages[0].content", null, "string or an array");
        assertError(chatPost(Map.of("messages", List.of(Map.of("role", "user", "content", List.of(Map.of("type", "audio")))))),
                400, "messages[0].content[0].type", null, "not supported");
        assertError(chatPost(Map.of("messages", List.of(Map.of("role", "user", "content", "<image> what?")))), 400,
                "messages[0].content", null, "no images");
        assertError(chatPost(Map.of("messages", List.of(Map.of("role", "user", "content", List.of(
                Map.of("type", "image_url", "image_url", Map.of("url", "data:image/png;base64,AAAAAAAA"))))))),
                400, "messages[0].content[0].image_url", "invalid_image", "could not be decoded");
        assertError(chatPost(Map.of("messages", List.of(Map.of("role", "user", "content", List.of(
                Map.of("type", "image_url", "image_url", Map.of("url", "data:image/png;base64,@@@"))))))),
                400, "messages[0].content[0].image_url", "invalid_image_url", "base64");
        assertError(chatPost(Map.of("messages", List.of(Map.of("role", "user", "content", List.of(
                Map.of("type", "image_url", "image_url", Map.of("url", "http://127.0.0.1:9/cat.png"))))))),
                400, "messages[0].content[0].image_url", "remote_images_disabled", "--allow-remote-images");
        assertError(chatPost(Map.of("messages", List.of(Map.of("role", "user", "content", "word ".repeat(5000))))), 400,
                "messages", "context_length_exceeded", "--session-len");
        assertError(chatPost(Map.of("messages", hi, "max_tokens", 5000)), 400, "max_tokens", "context_length_exceeded", "exceed");
        assertError(chatPost(Map.of("model", "gpt-4o", "messages", hi)), 404, "model", "model_not_found", "gpt-4o");
        assertError(Http.post(base + "/v1/completions", KEY, Http.json(Map.of("prompt", 5))), 400, "prompt", null, "must be a string");
        assertError(Http.post(base + "/v1/completions", KEY, Http.json(Map.of("prompt", "x", "logprobs", 9))), 400, "logprobs", null, "[0, 5]");
        assertError(Http.get(base + "/v1/nothing", KEY), 404, null, "not_found", "no such endpoint");
        assertError(Http.get(base + "/nothing", null), 404, null, "not_found", "no such endpoint");
        String big = "{\"messages\": [{\"role\": \"user\", \"content\": \"" + "x".repeat(1 << 20) + "\"}]}";
        assertError(chatPost(big), 413, null, "request_too_large", "larger than");
        // a bad request leaves the server serving
        assertThat(chatPost(Map.of("messages", hi, "max_tokens", 2)).status()).isEqualTo(200);
    }

    @Test
    void aMissingOrWrongKeyIs401() throws Exception {
        String body = Http.json(Map.of("messages", List.of(Map.of("role", "user", "content", "hi"))));
        assertError(Http.post(base + "/v1/chat/completions", null, body), 401, null, "invalid_api_key", "missing API key");
        assertError(Http.post(base + "/v1/chat/completions", "sk-test-kez", body), 401, null, "invalid_api_key", "invalid API key");
        assertError(Http.get(base + "/v1/models", "sk-test-key-longer"), 401, null, "invalid_api_key", "invalid API key");
        assertError(Http.get(base + "/v1/models", ""), 401, null, "invalid_api_key", "invalid API key");
    }
}
