package org.internvl4j.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.internvl4j.generate.ContextLengthExceededException;
import org.internvl4j.generate.FinishReason;
import org.internvl4j.generate.Generator;
import org.internvl4j.generate.SamplingParams;
import org.internvl4j.generate.TokenLogprob;
import org.internvl4j.image.ImagePreprocessor;
import org.internvl4j.image.PixelValues;
import org.internvl4j.image.VideoFrames;
import org.internvl4j.image.VideoLoader;
import org.internvl4j.testing.Tolerances;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The chat API against the reference chat() on tiny-a (fixtures: testdata/chat, README there). */
class ChatModelTest {
    static ChatModel chat;

    @BeforeAll
    static void load() {
        chat = ChatModel.load(ChatFixtures.tinyModel("a"));
    }

    @AfterAll
    static void close() {
        chat.close();
    }

    static List<PixelValues> images(ChatFixtures.Case c) {
        ImagePreprocessor pre = ImagePreprocessor.builder().maxNum(c.maxNum()).build();
        List<PixelValues> out = new ArrayList<>();
        for (Path p : c.imagePaths()) out.add(pre.load(p));
        return out;
    }

    /** The fixture's inputs as a request, with chat()'s rules for where the images go. */
    static ChatRequest request(ChatFixtures.Case c) {
        return new ChatRequest(c.question(), images(c), null, c.history(), c.system(),
                SamplingParams.greedy(c.maxNewTokens(), Set.of()), null);
    }

    static void assertMatches(ChatResult r, ChatFixtures.Case c) {
        assertThat(r.prompt()).as("prompt of %s", c.name()).isEqualTo(c.prompt());
        assertThat(r.promptIds()).as("prompt ids of %s", c.name()).containsExactly(c.promptIds());
        assertThat(r.numPatchesList()).as("num_patches_list of %s", c.name()).isEqualTo(c.numPatchesList());
        assertThat(r.tokenIds()).as("tokens of %s", c.name()).containsExactly(c.tokens());
        assertThat(r.response()).as("response of %s", c.name()).isEqualTo(c.response());
    }

    /** Prompt, ids, tokens, response and the top-5 log-probabilities of every step equal the reference chat(). */
    @ParameterizedTest
    @ValueSource(strings = {"text", "system", "image_tiles", "two_separate", "two_combined", "history_turn1",
        "history_turn2", "text_turn2", "video"})
    void equalsReferenceChat(String name) {
        ChatFixtures.Case c = ChatFixtures.load(name);
        ChatRequest req = request(c);
        ChatResult r = chat.chat(req.withParams(req.params().withLogprobs(5)));
        assertMatches(r, c);
        assertThat(r.finishReason()).isEqualTo(FinishReason.LENGTH);   // no case reaches <|im_end|>
        assertThat(r.history()).last().isEqualTo(new Turn(
                c.history() == null && !c.images().isEmpty() && !c.question().contains("<image>") ? "<image>\n" + c.question() : c.question(),
                c.response()));
        assertThat(r.logprobs()).hasSize(c.tokens().length);
        double worst = 0;
        for (int s = 0; s < c.tokens().length; s++) {
            List<TokenLogprob> step = r.logprobs().get(s);
            assertThat(step.stream().mapToInt(TokenLogprob::id).toArray()).as("step %d", s).containsExactly(c.topIds(s));
            for (int k = 0; k < 5; k++) {
                double d = Math.abs(step.get(k).logprob() - c.topLogprobs(s)[k]);
                worst = Math.max(worst, d);
                assertThat(d).as("%s step %d rank %d logprob", name, s, k).isLessThanOrEqualTo(Tolerances.LOGPROB_ABS);
            }
        }
        System.out.printf("%-14s chat top-5 logprobs over %d steps: max abs diff %.3g%n", name, c.tokens().length, worst);
    }

    @Test
    void separateAndVideoHelpersBuildTheModelCardQuestions() {
        assertThat(ChatRequest.separateImages("Describe the two images.", List.of()).question())
                .isEqualTo("Describe the two images.");
        ChatFixtures.Case sep = ChatFixtures.load("two_separate");
        List<PixelValues> two = images(sep);
        assertThat(ChatRequest.separateImages("Describe the two images.", two).question()).isEqualTo(sep.question());
        ChatFixtures.Case v = ChatFixtures.load("video");
        assertThat(ChatRequest.video("What happens in the video?", images(v)).question()).isEqualTo(v.question());
        // the video itself: the model card's frame sampling picks the frames the fixture was made from
        VideoFrames frames = VideoLoader.load(ChatFixtures.chatDir().resolve("video.avi"), 4, null,
                ImagePreprocessor.builder().maxNum(1).build());
        assertThat(frames.frameIndices()).containsExactly(0, 2, 4, 5);
        assertThat(ChatRequest.video("What happens in the video?", frames).question()).isEqualTo(v.question());
        List<PixelValues> fromPng = images(v);
        for (int i = 0; i < 4; i++) {   // Arrays.equals: AssertJ's containsExactly is quadratic on 600k floats
            assertThat(java.util.Arrays.equals(frames.frames().get(i).data(), fromPng.get(i).data())).as("frame %d", i).isTrue();
        }
    }

    @Test
    void batchOfThreeEqualsEachRunAlone() {
        List<ChatFixtures.Case> cases = List.of(ChatFixtures.load("batch_0"), ChatFixtures.load("batch_1"), ChatFixtures.load("batch_2"));
        List<ChatResult> rs = chat.batchChat(cases.stream().map(ChatModelTest::request).toList());
        for (int i = 0; i < 3; i++) assertMatches(rs.get(i), cases.get(i));
    }

    @Test
    void streamingYieldsTheResponse() {
        ChatFixtures.Case c = ChatFixtures.load("history_turn1");
        StringBuilder pieces = new StringBuilder();
        List<String> parts = new ArrayList<>();
        ChatResult r = chat.chat(request(c), s -> {
            parts.add(s);
            pieces.append(s);
        });
        assertMatches(r, c);
        assertThat(pieces.toString()).isEqualTo(c.response());
        assertThat(parts.size()).isGreaterThan(1);

        StringBuilder iterated = new StringBuilder();
        try (ChatStream stream = chat.stream(request(ChatFixtures.load("text")))) {
            stream.forEachRemaining(iterated::append);
            assertThat(stream.result().response()).isEqualTo(ChatFixtures.load("text").response());
        }
        assertThat(iterated.toString()).isEqualTo(ChatFixtures.load("text").response());
    }

    @Test
    void batchStreamingSeparatesRequests() {
        List<ChatFixtures.Case> cases = List.of(ChatFixtures.load("batch_0"), ChatFixtures.load("batch_2"));
        StringBuilder[] texts = {new StringBuilder(), new StringBuilder()};
        chat.batchChat(cases.stream().map(ChatModelTest::request).toList(), (i, s) -> {
            texts[i].append(s);
            return true;
        });
        assertThat(texts[0].toString()).isEqualTo(cases.get(0).response());
        assertThat(texts[1].toString()).isEqualTo(cases.get(1).response());
    }

    @Test
    void stopStringEndsGenerationAndCutsTheResponse() {
        ChatFixtures.Case c = ChatFixtures.load("text");
        String full = c.response();
        String stop = full.substring(full.length() / 2, full.length() / 2 + 3);
        ChatResult r = chat.chat(request(c).withStopStrings(List.of(stop)));
        assertThat(r.response()).isEqualTo(PyStrings.strip(full.substring(0, full.indexOf(stop))));
        assertThat(r.finishReason()).isEqualTo(FinishReason.STOP);   // as OpenAI, vLLM and HF report a stop string
        assertThat(r.tokenIds().length).isLessThan(c.tokens().length);
        assertThat(r.tokenIds()).containsExactly(java.util.Arrays.copyOf(c.tokens(), r.tokenIds().length));
    }

    @Test
    void samplingWithASeedRepeats() {
        ChatRequest req = ChatRequest.of("Tell me a story.").withParams(SamplingParams.sample(16, 0.9f, 40, 0.95f, 1234L, Set.of()));
        ChatResult a = chat.chat(req);
        ChatResult b = chat.chat(req);
        assertThat(a.tokenIds()).containsExactly(b.tokenIds());
        assertThat(a.response()).isEqualTo(b.response());
        ChatResult greedy = chat.chat(req.withParams(SamplingParams.greedy(16, Set.of())));
        ChatResult other = chat.chat(req.withParams(SamplingParams.sample(16, 0.9f, 40, 0.95f, 99L, Set.of())));
        // with random weights the distribution is flat: some draw differs from argmax and from another seed
        assertThat(a.tokenIds()).isNotEqualTo(greedy.tokenIds());
        assertThat(a.tokenIds()).isNotEqualTo(other.tokenIds());
    }

    @Test
    void clearErrors() {
        ChatFixtures.Case c = ChatFixtures.load("image_tiles");
        List<PixelValues> one = images(c);
        assertThatThrownBy(() -> chat.chat(ChatRequest.of("Image-1: <image>\nImage-2: <image>\nCompare.", one.get(0))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("2 <image> placeholders but 1 image was given");
        assertThatThrownBy(() -> chat.chat(ChatRequest.of("  ")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("prompt is empty");
        try (ChatModel small = new ChatModel(chat.model(), chat.tokenizer(), new Generator(chat.model().llm(), 512))) {
            assertThatThrownBy(() -> small.chat(request(c)))
                    .isInstanceOf(ContextLengthExceededException.class)
                    .hasMessageContaining("1825").hasMessageContaining("context window of 512");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        assertThatThrownBy(() -> chat.chat(ChatRequest.of("x", one.get(0)).withNumPatchesList(List.of(3))))
                .hasMessageContaining("sums to 3 tiles but the images have 7");
    }

    @Test
    void sessionReusesItsCacheAndMatchesTheFullHistoryChat() {
        ChatFixtures.Case t1 = ChatFixtures.load("history_turn1");
        ChatFixtures.Case t2 = ChatFixtures.load("history_turn2");
        ChatSession s = chat.newSession().params(SamplingParams.greedy(t1.maxNewTokens(), Set.of()));
        ChatResult r1 = s.ask(t1.question(), images(t1).toArray(PixelValues[]::new));
        assertMatches(r1, t1);
        assertThat(r1.timings().prefillTokens()).isEqualTo(t1.promptIds().length);
        assertThat(s.cachedTokens()).isEqualTo(t1.promptIds().length + t1.tokens().length - 1);

        ChatResult r2 = s.ask(t2.question());
        assertMatches(r2, t2);
        // the cache holds turn 1's prompt and its generated tokens but the last: only the rest is prefilled
        int[] held = concat(t1.promptIds(), java.util.Arrays.copyOf(t1.tokens(), t1.tokens().length - 1));
        int common = 0;
        while (common < held.length && common < t2.promptIds().length - 1 && held[common] == t2.promptIds()[common]) common++;
        assertThat(common).isGreaterThanOrEqualTo(t1.promptIds().length);
        assertThat(r2.timings().prefillTokens()).isEqualTo(t2.promptIds().length - common);
        assertThat(r2.timings().prefillTokens()).isLessThan(t2.promptIds().length - t1.promptIds().length + 1);
        assertThat(s.history()).hasSize(2);
        assertThat(s.history().get(0).question()).isEqualTo("<image>\n" + t1.question());
    }

    @Test
    void textSessionMatchesTextHistory() {
        ChatFixtures.Case t1 = ChatFixtures.load("text");
        ChatFixtures.Case t2 = ChatFixtures.load("text_turn2");
        ChatSession s = chat.newSession().params(SamplingParams.greedy(t1.maxNewTokens(), Set.of()));
        assertMatches(s.ask(t1.question()), t1);
        s.params(SamplingParams.greedy(t2.maxNewTokens(), Set.of()));
        ChatResult r2 = s.ask(t2.question());
        assertMatches(r2, t2);
        assertThat(r2.timings().prefillTokens()).isLessThan(t2.promptIds().length - t1.promptIds().length + 1);
        s.reset();
        assertThat(s.cachedTokens()).isZero();
        assertMatches(s.params(SamplingParams.greedy(t1.maxNewTokens(), Set.of())).ask(t1.question()), t1);
    }

    @Test
    void sessionErrorsLeaveItUnchanged() {
        ChatFixtures.Case t1 = ChatFixtures.load("text");
        ChatSession s = chat.newSession().params(SamplingParams.greedy(t1.maxNewTokens(), Set.of()));
        s.ask(t1.question());
        assertThatThrownBy(() -> s.ask("compare <image> and <image>", images(ChatFixtures.load("history_turn1")).get(0)))
                .hasMessageContaining("2 <image> placeholders but 1 image was given");
        assertThat(s.history()).hasSize(1);
        s.params(SamplingParams.greedy(12, Set.of()));
        assertMatches(s.ask(ChatFixtures.load("text_turn2").question()), ChatFixtures.load("text_turn2"));
    }

    /**
     * tiny-b has dynamic NTK with max_position_embeddings 64: turn 2's prompt (59) fits and the cache never went
     * past 64, so it is reused (and decoding past 64 rescales RoPE as the reference does); turn 3's prompt (82)
     * does not fit, so it is prefilled from scratch like the reference's fresh model.
     */
    @Test
    void sessionOnDynamicNtkPastMaxPositionsMatchesTheReference() {
        ChatFixtures.Case t1 = ChatFixtures.load("b_text");
        ChatFixtures.Case t2 = ChatFixtures.load("b_text_turn2");
        ChatFixtures.Case t3 = ChatFixtures.load("b_text_turn3");
        try (ChatModel b = ChatModel.load(ChatFixtures.tinyModel("b"))) {
            ChatSession s = b.newSession().params(SamplingParams.greedy(8, Set.of()));
            assertMatches(s.ask(t1.question()), t1);
            ChatResult r2 = s.ask(t2.question());
            assertMatches(r2, t2);
            assertThat(r2.timings().prefillTokens()).isLessThan(t2.promptIds().length - t1.promptIds().length + 1);
            assertThat(t2.promptIds().length + t2.tokens().length - 1).isGreaterThan(64);   // decoding went past 64
            ChatResult r3 = s.ask(t3.question());
            assertMatches(r3, t3);
            assertThat(r3.timings().prefillTokens()).isEqualTo(t3.promptIds().length);
        }
    }

    static int[] concat(int[] a, int[] b) {
        int[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
