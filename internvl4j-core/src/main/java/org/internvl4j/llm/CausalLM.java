package org.internvl4j.llm;

import java.util.List;
import org.internvl4j.checkpoint.LlmConfig;

/**
 * A decoder-only language model as the generator, the chat layer, the server and the bench use it. It holds
 * weights and config only; all per-sequence state lives in the {@link KvCache} it makes, so one instance serves
 * many sequences from many threads (one forward at a time per cache).
 *
 * <p>The contract, for an engine that batches:
 * <ul>
 *   <li>{@link #newCache(int)} makes an empty sequence;</li>
 *   <li>{@link #embedTokens(int[])} turns ids into input rows (a caller may replace rows, as InternVL splices
 *       image features: see {@code InternVLModel.inputEmbeddings});</li>
 *   <li>{@link #forward(List, List, List, boolean)} appends to any number of distinct caches at once, each with
 *       its own slice of new tokens (a prefill is many rows, a decode step one), and returns the logits of each
 *       sequence's last new position, or of every new position.</li>
 * </ul>
 */
public interface CausalLM {
    LlmConfig config();

    default int hiddenSize() {
        return config().hiddenSize();
    }

    default int vocabSize() {
        return config().vocabSize();
    }

    /** A new, empty sequence with room for this many tokens before it grows. */
    KvCache newCache(int capacity);

    /** A new, empty sequence. */
    default KvCache newCache() {
        return newCache(64);
    }

    /**
     * The input embeddings of tokens, [tokens.length, hidden].
     *
     * @throws IllegalArgumentException naming the position of an id outside the vocabulary
     */
    float[] embedTokens(int[] tokens);

    /**
     * Runs several sequences at once. Sequence i appends tokens.get(i) (input rows embeds.get(i), [n_i, hidden])
     * to caches.get(i); the caches must be distinct and made by this model. Returns logits [sequences, vocab] of
     * each sequence's last new position if lastLogitsOnly, else [sum n_i, vocab] in row order.
     */
    float[] forward(List<KvCache> caches, List<int[]> tokens, List<float[]> embeds, boolean lastLogitsOnly);

    /**
     * One sequence: embeds tokens, with the rows at imageContextTokenId positions replaced in order by imageEmbeds
     * (null and -1 without images), appends them to the cache and returns logits ([vocab] of the last position if
     * lastLogitsOnly, else [tokens, vocab]). A convenience over {@link #forward(List, List, List, boolean)}; the
     * splice is InternVL's, not the language model's, and lives in {@code InternVLModel}.
     */
    default float[] forward(KvCache cache, int[] tokens, float[] imageEmbeds, int imageContextTokenId, boolean lastLogitsOnly) {
        return forward(List.of(cache), List.of(tokens), List.of(org.internvl4j.model.InternVLModel.inputEmbeddings(this, tokens, imageEmbeds, imageContextTokenId)),
                lastLogitsOnly);
    }
}
