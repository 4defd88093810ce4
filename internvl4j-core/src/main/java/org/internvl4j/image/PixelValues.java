package org.internvl4j.image;

/**
 * The vision tower's input for one image: float32 {@code [tiles, 3, size, size]}, RGB planes normalised with the
 * ImageNet mean and std, tiles in the model card's order (row-major grid tiles, then the thumbnail if any).
 *
 * @param data     {@code tiles * 3 * size * size} floats, C order
 * @param tiles    number of tiles, thumbnail included
 * @param size     tile edge in pixels (448)
 * @param gridCols grid columns chosen by dynamic tiling
 * @param gridRows grid rows chosen by dynamic tiling
 */
public record PixelValues(float[] data, int tiles, int size, int gridCols, int gridRows) {

    public PixelValues {
        if (tiles < 1 || size < 1 || gridCols < 1 || gridRows < 1) {
            throw new ImageException("pixel values need tiles, size and grid >= 1, got tiles=" + tiles
                    + ", size=" + size + ", grid=" + gridCols + "x" + gridRows);
        }
        if (data == null || data.length != (long) tiles * 3 * size * size) {
            throw new ImageException("pixel values must hold tiles*3*size*size = " + (long) tiles * 3 * size * size
                    + " floats for shape [" + tiles + ", 3, " + size + ", " + size + "], got "
                    + (data == null ? "null" : data.length));
        }
    }

    /** True when a thumbnail follows the grid tiles. */
    public boolean hasThumbnail() {
        return tiles > gridCols * gridRows;
    }

    /** The shape {@code [tiles, 3, size, size]}. */
    public int[] shape() {
        return new int[] {tiles, 3, size, size};
    }

    /** Value at [tile, channel, y, x]. */
    public float get(int tile, int channel, int y, int x) {
        return data[((tile * 3 + channel) * size + y) * size + x];
    }
}
