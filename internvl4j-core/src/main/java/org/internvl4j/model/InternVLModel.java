package org.internvl4j.model;

import java.nio.file.Path;
import java.util.Set;
import org.internvl4j.checkpoint.Checkpoint;
import org.internvl4j.checkpoint.WeightMemory;
import org.internvl4j.checkpoint.InternVLConfig;
import org.internvl4j.llm.CausalLM;
import org.internvl4j.llm.DecoderLM;
import org.internvl4j.vision.InternViT;
import org.internvl4j.vision.Projector;

/**
 * InternVL2 (modeling_internvl_chat.py InternVLChatModel without the chat glue): InternViT, the
 * pixel-shuffle + mlp1 projector and the language model its config names ({@link CausalLM}, built from the
 * architecture's table), over one opened checkpoint whose tensors stay mapped. The splice of image features
 * into the token embeddings is InternVL's and lives here ({@link #inputEmbeddings}).
 * Immutable and thread-safe; sequence state lives in {@link org.internvl4j.llm.KvCache}. Close it to
 * unmap the checkpoint (no use afterwards).
 *
 * <p>The model does not know token ids such as {@code <IMG_CONTEXT>}; the tokenizer does, and callers
 * pass them in.
 */
public final class InternVLModel implements AutoCloseable {
    private final Checkpoint checkpoint;
    private final InternViT vision;
    private final Projector projector;
    private final CausalLM llm;
    private final Set<Integer> generationEosIds;

    private InternVLModel(Checkpoint checkpoint, InternViT vision, Projector projector, CausalLM llm, Set<Integer> eos) {
        this.checkpoint = checkpoint;
        this.vision = vision;
        this.projector = projector;
        this.llm = llm;
        this.generationEosIds = eos;
    }

    /** Opens the checkpoint directory and builds the three parts (maps, does not read, the weights). */
    public static InternVLModel load(Path dir) {
        return load(dir, WeightMemory.Mode.fromSystemProperty());
    }

    /** As {@link #load(Path)}, with the weights held as mode says (copied into anonymous memory or mapped). */
    public static InternVLModel load(Path dir, WeightMemory.Mode mode) {
        return load(dir, mode, org.internvl4j.checkpoint.Quantization.fromSystemProperty());
    }

    /**
     * As {@link #load(Path, WeightMemory.Mode)}, quantizing the language model's linear weights at load to
     * {@code quantizeTo} (Q8_0 or Q4_0; null keeps them as stored; see {@link Checkpoint#open(Path, boolean, WeightMemory.Mode, org.internvl4j.tensor.DType)}).
     */
    public static InternVLModel load(Path dir, WeightMemory.Mode mode, org.internvl4j.tensor.DType quantizeTo) {
        Checkpoint ckpt = Checkpoint.open(dir, true, mode, quantizeTo);
        try {
            InternVLConfig c = ckpt.config();
            InternViT vision = InternViT.load(ckpt, c.forceImageSize(), c.selectLayer());
            return new InternVLModel(ckpt, vision, Projector.load(ckpt), DecoderLM.load(ckpt),
                    Set.copyOf(ckpt.generationConfig().eosTokenIds()));
        } catch (RuntimeException e) {
            ckpt.close();
            throw e;
        }
    }

    public InternVLConfig config() {
        return checkpoint.config();
    }

    public Path dir() {
        return checkpoint.dir();
    }

    /** Image tokens per tile (256 for 448 px tiles). */
    public int imageTokensPerTile() {
        return checkpoint.config().numImageTokens();
    }

    /** Tile edge in pixels the vision tower takes (force_image_size, 448). */
    public int imageSize() {
        return vision.imageSize();
    }

    /** The eos ids of generation_config.json (the chat layer adds {@code <|im_end|>} itself). */
    public Set<Integer> generationEosIds() {
        return generationEosIds;
    }

    /** The opened checkpoint (its files, and where its weights live). */
    public Checkpoint checkpoint() {
        return checkpoint;
    }

    public InternViT vision() {
        return vision;
    }

    public Projector projector() {
        return projector;
    }

    public CausalLM llm() {
        return llm;
    }

    /** {@link #inputEmbeddings(CausalLM, int[], float[], int)} with this model's language model. */
    public float[] inputEmbeddings(int[] tokens, float[] imageEmbeds, int imageContextTokenId) {
        return inputEmbeddings(llm, tokens, imageEmbeds, imageContextTokenId);
    }

    /**
     * Input embeddings [tokens, hidden]: the token embeddings, with the rows at imageContextTokenId positions
     * replaced in order by imageEmbeds ([count * hidden]), as InternVLChatModel splices vit_embeds. Without
     * images pass null and -1 (a known context id with null embeddings is an error if the id occurs).
     */
    public static float[] inputEmbeddings(CausalLM llm, int[] tokens, float[] imageEmbeds, int imageContextTokenId) {
        int d = llm.hiddenSize();
        int slots = 0;
        for (int t : tokens) if (t == imageContextTokenId) slots++;
        if (imageEmbeds == null && slots > 0 && imageContextTokenId >= 0) {
            throw new IllegalArgumentException("the prompt has " + slots + " <IMG_CONTEXT> tokens (id " + imageContextTokenId
                    + ") but no image embeddings were given");
        }
        if (imageEmbeds != null && imageEmbeds.length != slots * d) {
            throw new IllegalArgumentException("image embeddings hold " + imageEmbeds.length / (double) d + " rows of "
                    + d + " but the prompt has " + slots + " <IMG_CONTEXT> tokens (id " + imageContextTokenId + ")");
        }
        float[] x = llm.embedTokens(tokens);
        if (imageEmbeds != null) {
            for (int i = 0, img = 0; i < tokens.length; i++) {
                if (tokens[i] == imageContextTokenId) System.arraycopy(imageEmbeds, img++ * d, x, i * d, d);
            }
        }
        return x;
    }

    /**
     * modeling_internvl_chat.py extract_feature: pixel values [tiles, 3, size, size] (tiles of several
     * images in order, as one batch) to image embeddings [tiles * imageTokensPerTile, llm hidden].
     */
    public float[] extractFeature(float[] pixelValues, int tiles) {
        try {
            float[] vit = vision.forward(pixelValues, tiles);
            return projector.forward(vit, tiles, vision.imageSize() / vision.config().patchSize());
        } catch (InternalError e) {
            throw checkpoint.mappedFault(e); // a mapped shard shrank under the running model (see DecoderLM)
        }
    }

    @Override
    public void close() {
        checkpoint.close();
    }
}
