package org.internvl4j.image;

import java.util.List;

/**
 * Frames sampled from a video by the model card's {@code load_video}, each preprocessed like an image.
 *
 * @param frames       one {@link PixelValues} per sampled frame, in time order
 * @param frameIndices the 0-based frame numbers that were sampled ({@link VideoLoader#getIndex})
 * @param fps          the stream's average frame rate
 */
public record VideoFrames(List<PixelValues> frames, int[] frameIndices, double fps) {

    public VideoFrames {
        frames = List.copyOf(frames);
        if (frames.size() != frameIndices.length) {
            throw new ImageException(frames.size() + " frames but " + frameIndices.length + " frame indices");
        }
    }

    /** {@code num_patches_list}: the tile count of every frame. */
    public int[] numPatchesList() {
        return frames.stream().mapToInt(PixelValues::tiles).toArray();
    }

    /** The model card's video prefix: {@code "Frame1: <image>\nFrame2: <image>\n..."}, one line per frame. */
    public String promptPrefix() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < frames.size(); i++) {
            sb.append("Frame").append(i + 1).append(": <image>\n");
        }
        return sb.toString();
    }
}
