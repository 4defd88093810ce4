package org.internvl4j.model;

import java.nio.file.Path;
import java.util.Set;
import org.internvl4j.checkpoint.Checkpoint;
import org.internvl4j.checkpoint.WeightMemory;
import org.internvl4j.checkpoint.InternVLConfig;
import org.internvl4j.llm.InternLM2;
import org.internvl4j.vision.InternViT;
import org.internvl4j.vision.Projector;

/**
 * InternVL2 (modeling_internvl_chat.py InternVLChatModel without the chat glue): InternViT, the
 * pixel-shuffle + mlp1 projector and InternLM2, over one opened checkpoint whose tensors stay mapped.
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
    private final InternLM2 llm;
    private final Set<Integer> generationEosIds;

    private InternVLModel(Checkpoint checkpoint, InternViT vision, Projector projector, InternLM2 llm, Set<Integer> eos) {
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
        Checkpoint ckpt = Checkpoint.open(dir, true, mode);
        try {
            InternVLConfig c = ckpt.config();
            InternViT vision = InternViT.load(ckpt, c.forceImageSize(), c.selectLayer());
            return new InternVLModel(ckpt, vision, Projector.load(ckpt), InternLM2.load(ckpt),
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

    public InternLM2 llm() {
        return llm;
    }

    /**
     * modeling_internvl_chat.py extract_feature: pixel values [tiles, 3, size, size] (tiles of several
     * images in order, as one batch) to image embeddings [tiles * imageTokensPerTile, llm hidden].
     */
    public float[] extractFeature(float[] pixelValues, int tiles) {
        float[] vit = vision.forward(pixelValues, tiles);
        return projector.forward(vit, tiles, vision.imageSize() / vision.config().patchSize());
    }

    @Override
    public void close() {
        checkpoint.close();
    }
}
