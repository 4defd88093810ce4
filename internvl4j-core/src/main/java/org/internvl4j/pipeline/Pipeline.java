package org.internvl4j.pipeline;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.internvl4j.chat.ChatModel;
import org.internvl4j.chat.ChatRequest;
import org.internvl4j.chat.ChatResult;
import org.internvl4j.chat.ChatSession;
import org.internvl4j.generate.SamplingParams;
import org.internvl4j.image.ImagePreprocessor;
import org.internvl4j.image.PixelValues;

/**
 * The shortest way to use a model, in the spirit of LMDeploy's {@code pipeline}: load once, then
 * {@code run(prompt)}, {@code run(prompt, images...)}, {@code run(List<Prompt>)} (decoded together as one batch)
 * or {@link #chat()} for a multi-round session. Images are file paths, http(s) URLs or data URIs.
 *
 * <pre>{@code
 * try (Pipeline pipe = Pipeline.load(Path.of("InternVL2-8B-MPO"))) {
 *     System.out.println(pipe.run("describe this image", "tiger.jpeg").text());
 * }
 * }</pre>
 */
public final class Pipeline implements AutoCloseable {
    private final ChatModel chat;
    private final Options options;
    private final ImagePreprocessor images;

    /**
     * @param maxNum tiles per image at most (the model card's {@code max_num}); 0 takes config.json's
     *               {@code max_dynamic_patch}
     * @param params generation settings of every call (the template's stop token is always added)
     */
    public record Options(int maxNum, SamplingParams params) {
        public Options {
            if (maxNum < 0) throw new IllegalArgumentException("maxNum must be >= 0 (0: the checkpoint's max_dynamic_patch), got " + maxNum);
            if (params == null) params = SamplingParams.greedy(ChatRequest.DEFAULT_MAX_NEW_TOKENS, Set.of());
        }

        public static Options defaults() {
            return new Options(0, null);
        }

        public Options withMaxNum(int n) {
            return new Options(n, params);
        }

        public Options withParams(SamplingParams p) {
            return new Options(maxNum, p);
        }
    }

    /** A prompt and its images (paths, URLs or data URIs). */
    public record Prompt(String text, List<String> images) {
        public Prompt {
            images = images == null ? List.of() : List.copyOf(images);
        }

        public static Prompt of(String text, String... images) {
            return new Prompt(text, List.of(images));
        }
    }

    /** A response: its text and the full chat result (ids, timings, log-probabilities). */
    public record Response(String text, ChatResult result) {
        @Override
        public String toString() {
            return text;
        }
    }

    private Pipeline(ChatModel chat, Options options) {
        this.chat = chat;
        this.options = options;
        var config = chat.model().config();
        int maxNum = options.maxNum() == 0 ? config.maxDynamicPatch() : options.maxNum();
        this.images = ImagePreprocessor.builder().inputSize(chat.model().imageSize()).minNum(config.minDynamicPatch())
                .maxNum(maxNum).useThumbnail(config.useThumbnail()).build();
    }

    public static Pipeline load(Path dir) {
        return load(dir, Options.defaults());
    }

    public static Pipeline load(Path dir, Options options) {
        return new Pipeline(ChatModel.load(dir), options);
    }

    /** Wraps an already loaded model. */
    public static Pipeline of(ChatModel chat, Options options) {
        return new Pipeline(chat, options);
    }

    public ChatModel chatModel() {
        return chat;
    }

    /** The preprocessing this pipeline applies to images. */
    public ImagePreprocessor imagePreprocessor() {
        return images;
    }

    public Response run(String prompt, String... imageRefs) {
        return run(Prompt.of(prompt, imageRefs));
    }

    public Response run(Prompt prompt) {
        return run(List.of(prompt)).get(0);
    }

    /** All prompts decoded together; each response equals the prompt run alone. */
    public List<Response> run(List<Prompt> prompts) {
        List<ChatRequest> reqs = new ArrayList<>();
        for (Prompt p : prompts) reqs.add(new ChatRequest(p.text(), load(p.images()), null, null, null, options.params(), null));
        List<Response> out = new ArrayList<>();
        for (ChatResult r : chat.batchChat(reqs)) out.add(new Response(r.response(), r));
        return out;
    }

    /** A new conversation; ask it questions with {@link Session#ask}. */
    public Session chat() {
        return new Session(chat.newSession().params(options.params()));
    }

    /** LMDeploy's {@code pipe.chat(...)} session: history, KV cache and image features kept between turns. */
    public final class Session {
        private final ChatSession session;

        private Session(ChatSession session) {
            this.session = session;
        }

        public Response ask(String question, String... imageRefs) {
            ChatResult r = session.ask(question, load(List.of(imageRefs)), null);
            return new Response(r.response(), r);
        }

        /** The underlying session (history, cache size, reset). */
        public ChatSession session() {
            return session;
        }
    }

    private List<PixelValues> load(List<String> refs) {
        List<PixelValues> out = new ArrayList<>();
        for (String ref : refs) out.add(images.load(ref));
        return out;
    }

    @Override
    public void close() {
        chat.close();
    }
}
