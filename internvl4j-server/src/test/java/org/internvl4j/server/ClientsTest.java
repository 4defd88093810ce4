package org.internvl4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionContentPart;
import com.openai.models.chat.completions.ChatCompletionContentPartImage;
import com.openai.models.chat.completions.ChatCompletionContentPartText;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import dev.langchain4j.data.message.ImageContent;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import java.nio.file.Files;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.internvl4j.chat.ChatModel;
import org.internvl4j.chat.ChatRequest;
import org.internvl4j.chat.ChatResult;
import org.internvl4j.image.ImagePreprocessor;
import org.internvl4j.image.PixelValues;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Real OpenAI clients against the server on loopback: the official Java SDK and LangChain4j's OpenAI chat models,
 * streaming and not, with an image as a data URI. Their answers must equal the library's.
 */
class ClientsTest {
    static final String KEY = "sk-clients";
    static ChatModel chat;
    static OpenAiServer server;
    static String imageUri;
    static ChatResult expected;

    @BeforeAll
    static void start() throws Exception {
        chat = ChatModel.load(Http.tinyModel());
        server = OpenAiServer.start(ServerOptions.defaults(Http.tinyModel()).withPort(0).withApiKeys(List.of(KEY))
                .withServedModelName("tiny").withMaxNum(2).withSessionLen(4096), chat);
        imageUri = Http.dataUri(Http.image("img_a.png"));
        PixelValues img = ImagePreprocessor.builder().inputSize(chat.model().imageSize()).maxNum(2).build().load(Http.image("img_a.png"));
        expected = chat.chat(ChatRequest.of("describe", img).withMaxNewTokens(12));
    }

    @AfterAll
    static void stop() {
        server.close();
        chat.close();
    }

    static ChatCompletionCreateParams sdkParams() {
        return ChatCompletionCreateParams.builder().model("tiny").maxCompletionTokens(12).temperature(0)
                .addUserMessageOfArrayOfContentParts(List.of(
                        ChatCompletionContentPart.ofImageUrl(ChatCompletionContentPartImage.builder()
                                .imageUrl(ChatCompletionContentPartImage.ImageUrl.builder().url(imageUri).build()).build()),
                        ChatCompletionContentPart.ofText(ChatCompletionContentPartText.builder().text("describe").build())))
                .build();
    }

    @Test
    void openAiJavaSdk() {
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl() + "/v1").apiKey(KEY).build();
        ChatCompletion c = client.chat().completions().create(sdkParams());
        assertThat(c.choices().get(0).message().content()).contains(expected.response());
        assertThat(c.choices().get(0).finishReason().asString()).isIn("stop", "length");
        assertThat(c.usage().orElseThrow().promptTokens()).isEqualTo(expected.promptIds().length);

        StringBuilder streamed = new StringBuilder();
        long[] usage = {-1};
        ChatCompletionCreateParams streaming = sdkParams().toBuilder()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(streaming)) {
            s.stream().forEach(chunk -> {
                chunk.choices().forEach(ch -> ch.delta().content().ifPresent(streamed::append));
                chunk.usage().ifPresent(u -> usage[0] = u.completionTokens());
            });
        }
        assertThat(streamed.toString()).isEqualTo(expected.response());
        assertThat(usage[0]).isEqualTo(expected.tokenIds().length);

        assertThat(client.models().list().data()).anyMatch(m -> m.id().equals("tiny"));
        OpenAIClient wrong = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl() + "/v1").apiKey("nope").maxRetries(0).build();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> wrong.chat().completions().create(sdkParams()))
                .isInstanceOf(UnauthorizedException.class);
    }

    @Test
    void langChain4jOpenAiChatModels() throws Exception {
        String b64 = Base64.getEncoder().encodeToString(Files.readAllBytes(Http.image("img_a.png")));
        UserMessage msg = UserMessage.from(ImageContent.from(b64, "image/png"), TextContent.from("describe"));
        OpenAiChatModel model = OpenAiChatModel.builder().baseUrl(server.baseUrl() + "/v1").apiKey(KEY).modelName("tiny")
                .maxTokens(12).temperature(0.0).build();
        ChatResponse r = model.chat(msg);
        assertThat(r.aiMessage().text()).isEqualTo(expected.response());

        OpenAiStreamingChatModel streaming = OpenAiStreamingChatModel.builder().baseUrl(server.baseUrl() + "/v1").apiKey(KEY)
                .modelName("tiny").maxTokens(12).temperature(0.0).build();
        StringBuilder parts = new StringBuilder();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        streaming.chat(List.of(msg), new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String partial) {
                parts.append(partial);
            }

            @Override
            public void onCompleteResponse(ChatResponse complete) {
                done.complete(complete);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        ChatResponse complete = done.get(120, TimeUnit.SECONDS);
        assertThat(parts.toString()).isEqualTo(expected.response());
        assertThat(complete.aiMessage().text()).isEqualTo(expected.response());
    }
}
