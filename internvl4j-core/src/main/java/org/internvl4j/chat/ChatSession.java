package org.internvl4j.chat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.internvl4j.checkpoint.LlmConfig;
import org.internvl4j.generate.SamplingParams;
import org.internvl4j.image.PixelValues;
import org.internvl4j.llm.KvCache;

/**
 * A multi-round conversation, as {@code chat(..., history=history, return_history=True)} runs it, but keeping
 * the KV cache and the image features between turns: a new turn builds the whole prompt exactly as chat() does
 * with the history, and prefills only the tokens after the longest prefix the cache already holds. The tokens
 * are the same as the full-history chat() (the cache holds the same keys and values a fresh prefill computes).
 *
 * <p>Images: on the first turn a question without {@code <image>} gets {@code <image>\n} prepended and all of
 * that turn's images share it (chat()'s rule). On later turns, chat() fills placeholders from the images in
 * order; here each turn brings its own images, filling that turn's placeholders, and a later question with
 * images but no placeholder also gets one prepended (chat() would fail on it). Not thread-safe.
 */
public final class ChatSession {
    private final ChatModel chat;
    private final String systemMessage;
    private final List<Turn> history = new ArrayList<>();
    private final List<Integer> slotTiles = new ArrayList<>();     // tiles of each placeholder so far
    private final List<float[]> slotFeatures = new ArrayList<>();  // image features of each placeholder
    private SamplingParams params = SamplingParams.greedy(ChatRequest.DEFAULT_MAX_NEW_TOKENS, Set.of());
    private KvCache cache;
    private int highWater;   // the most tokens the cache ever held (its RoPE state depends on it)
    private ChatResult last;

    ChatSession(ChatModel chat, String systemMessage) {
        this.chat = chat;
        this.systemMessage = systemMessage;
    }

    /** Starts from saved text-only turns (see {@link ChatModel#newSession(String, List)}). */
    void continueFrom(List<Turn> turns) {
        for (int i = 0; i < turns.size(); i++) {
            if (ChatQuery.countPlaceholders(turns.get(i).question()) > 0) {
                throw new IllegalArgumentException("turn " + (i + 1) + " of the history has an <image> placeholder; a continued "
                        + "conversation is text only, as the images of its turns are not kept");
            }
        }
        history.addAll(turns);
    }

    /** Sets the generation settings of the following turns. */
    public ChatSession params(SamplingParams p) {
        this.params = p;
        return this;
    }

    public ChatResult ask(String question, PixelValues... images) {
        return ask(question, List.of(images), null);
    }

    /**
     * One turn. onText (nullable) receives the response as it is generated. On an error the session is left as
     * it was before the call.
     */
    public ChatResult ask(String question, List<PixelValues> images, Consumer<String> onText) {
        List<Integer> tiles = chat.tilesOf(images);
        int placeholders = ChatQuery.countPlaceholders(question);
        List<Integer> newSlots;
        if (!images.isEmpty() && placeholders == 0) {
            question = ChatQuery.IMAGE_PLACEHOLDER + "\n" + question;
            newSlots = List.of(tiles.stream().mapToInt(Integer::intValue).sum());
        } else if (placeholders != images.size()) {
            throw new IllegalArgumentException("the question has " + placeholders + " <image> placeholder"
                    + (placeholders == 1 ? "" : "s") + " but " + images.size() + " image" + (images.size() == 1 ? " was" : "s were")
                    + " given with it (each image of a turn fills the next placeholder of that turn's question)");
        } else {
            newSlots = tiles;
        }
        List<Integer> patches = new ArrayList<>(slotTiles);
        patches.addAll(newSlots);
        // an empty history list makes the same prompt as none, and turns off chat()'s own prepend (done above)
        ChatQuery.Built built = ChatQuery.buildWithPatches(chat.template(), systemMessage, history, question, patches,
                !patches.isEmpty(), chat.model().imageTokensPerTile());

        int[] ids = chat.encode(built.query());
        SamplingParams p = chat.withStop(params);
        chat.checkContext(ids, p);   // before the vision tower, the expensive part
        long t0 = System.nanoTime();
        List<float[]> newFeatures = new ArrayList<>();
        if (!images.isEmpty()) {
            float[] f = chat.imageFeatures(images);
            int perTile = f.length / tiles.stream().mapToInt(Integer::intValue).sum();
            int at = 0;
            for (int n : newSlots) {
                newFeatures.add(Arrays.copyOfRange(f, at, at + n * perTile));
                at += n * perTile;
            }
        }
        long visionNanos = images.isEmpty() ? 0 : System.nanoTime() - t0;

        KvCache c = cache;
        boolean fresh = c == null || !reusable(ids.length);
        if (fresh) c = chat.model().llm().newCache(ids.length + p.maxNewTokens());
        List<float[]> all = new ArrayList<>(slotFeatures);
        all.addAll(newFeatures);
        float[] embeds = concat(all);
        ChatModel.Job job = new ChatModel.Job(built, ids, embeds, p, ResponseText.stops(chat.template(), List.of()), c,
                List.copyOf(history), visionNanos);
        ChatResult r = chat.run(List.of(job), onText == null ? null : (i, s) -> {
            onText.accept(s);
            return true;
        }).get(0);

        cache = c;
        highWater = Math.max(fresh ? 0 : highWater, c.length());
        slotTiles.addAll(newSlots);
        slotFeatures.addAll(newFeatures);
        history.add(new Turn(built.question(), r.response()));
        last = r;
        return r;
    }

    /**
     * Dynamic NTK: once a sequence passes max_position_embeddings, RoPE is rescaled for the new tokens (and, as in
     * the official model, the cache's RoPE state keeps the new base), while the reference prefills every turn of a
     * fresh model with the original base when the prompt fits in max_position_embeddings. So the cache is reused
     * only while it never went past that length and the new prompt fits in it; otherwise the turn starts from a
     * fresh cache and the tokens stay the reference's.
     */
    private boolean reusable(int promptTokens) {
        LlmConfig c = chat.model().llm().config();
        boolean dynamic = c.ropeScaling() != null && "dynamic".equals(c.ropeScaling().type());
        if (c.ropeScaling() != null && c.ropeScaling().longRope()) {
            // LongRoPE (Phi-3) likewise: short factors up to original_max_position_embeddings, long ones past it
            int limit = c.ropeScaling().originalMaxPositionEmbeddings();
            return highWater <= limit && promptTokens <= limit;
        }
        return !dynamic || (highWater <= c.maxPositionEmbeddings() && promptTokens <= c.maxPositionEmbeddings());
    }

    private static float[] concat(List<float[]> parts) {
        if (parts.isEmpty()) return null;
        int n = 0;
        for (float[] p : parts) n += p.length;
        float[] out = new float[n];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    /** The finished turns, oldest first (questions as they went into the prompt). */
    public List<Turn> history() {
        return List.copyOf(history);
    }

    /** The last turn's result, or null before the first. */
    public ChatResult last() {
        return last;
    }

    /** Tokens the KV cache holds now (prompt and generated tokens but the last). */
    public int cachedTokens() {
        return cache == null ? 0 : cache.length();
    }

    /** Forgets history, images and cache. */
    public void reset() {
        history.clear();
        slotTiles.clear();
        slotFeatures.clear();
        cache = null;
        highWater = 0;
        last = null;
    }
}
