package org.internvl4j.image;

import java.nio.file.Path;
import java.util.List;
import org.internvl4j.util.Limits;

/**
 * The model card's {@code load_image}: decode to RGB as Pillow's {@code convert('RGB')} does, tile with
 * {@link DynamicPreprocess#dynamicPreprocess}, then {@code ToTensor} (x / 255) and {@code Normalize} with the
 * ImageNet mean and std, giving float32 {@code [tiles, 3, inputSize, inputSize]}.
 *
 * <pre>{@code
 * PixelValues pv = ImagePreprocessor.builder().maxNum(12).build().load(Path.of("photo.jpg"));
 * }</pre>
 *
 * @param inputSize    tile edge (448 for InternVL2)
 * @param minNum       fewest grid tiles
 * @param maxNum       most grid tiles (the thumbnail comes on top)
 * @param useThumbnail append the whole image as a last tile when the grid has more than one tile
 * @param maxPixels    Pillow's MAX_IMAGE_PIXELS: an image above it is decoded with a warning, above twice it refused;
 *                     checked from the header before any pixel buffer is allocated
 * @param maxBytes     largest encoded input accepted, for files, URLs and data URIs
 */
public record ImagePreprocessor(int inputSize, int minNum, int maxNum, boolean useThumbnail, long maxPixels,
                                long maxBytes) {

    /** ToTensor + Normalize constants of the model card (IMAGENET_MEAN / IMAGENET_STD), as float32. */
    static final float[] MEAN = {0.485f, 0.456f, 0.406f};
    static final float[] STD = {0.229f, 0.224f, 0.225f};

    public static final int DEFAULT_INPUT_SIZE = 448;
    /** Pillow's Image.MAX_IMAGE_PIXELS, 89,478,485: warned above, refused above twice it (as Pillow does). */
    public static final long DEFAULT_MAX_PIXELS = Limits.PILLOW_MAX_IMAGE_PIXELS;
    public static final long DEFAULT_MAX_BYTES = Limits.DEFAULTS.imageBytes();

    public ImagePreprocessor {
        if (inputSize < 1) {
            throw new ImageException("inputSize must be >= 1, got " + inputSize);
        }
        if (minNum < 1 || maxNum < minNum) {
            throw new ImageException("tile counts must satisfy 1 <= minNum <= maxNum, got minNum=" + minNum
                    + ", maxNum=" + maxNum);
        }
        int tileLimit = Limits.current().tilesPerRequest();
        if (maxNum >= tileLimit) {
            // the grid's tiles plus the thumbnail must fit in one request's tiles
            throw new ImageException("maxNum (max_num) " + maxNum + " would allow more than " + tileLimit
                    + " tiles per image with the thumbnail; the limit is -D" + Limits.PREFIX + "tilesPerRequest=" + tileLimit);
        }
        if (maxPixels < 1 || maxBytes < 1) {
            throw new ImageException("maxPixels and maxBytes must be >= 1, got " + maxPixels + ", " + maxBytes);
        }
    }

    /** The model card's defaults: 448 px tiles, 1..12 tiles, thumbnail on; pixel and byte limits from {@link Limits}. */
    public ImagePreprocessor() {
        this(DEFAULT_INPUT_SIZE, 1, 12, true, Limits.current().imagePixels(), Limits.current().imageBytes());
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().inputSize(inputSize).minNum(minNum).maxNum(maxNum).useThumbnail(useThumbnail)
                .maxPixels(maxPixels).maxBytes(maxBytes);
    }

    /** Reads, decodes and preprocesses an image file. */
    public PixelValues load(Path file) {
        return preprocess(ImageDecoder.decode(ImageSource.read(file, maxBytes), maxPixels, file.toString()));
    }

    /** Decodes and preprocesses an encoded image (JPEG, PNG, BMP, GIF or WebP bytes). */
    public PixelValues load(byte[] data) {
        return preprocess(ImageDecoder.decode(data, maxPixels, "image bytes"));
    }

    /** Loads from an http(s) URL, a {@code data:} URI (base64) or a plain file path. */
    public PixelValues load(String urlOrDataUriOrPath) {
        byte[] bytes = ImageSource.fetch(urlOrDataUriOrPath, maxBytes);
        return preprocess(ImageDecoder.decode(bytes, maxPixels, ImageSource.describe(urlOrDataUriOrPath)));
    }

    /** Tiles and normalises an already decoded image. */
    public PixelValues preprocess(RgbImage img) {
        DynamicPreprocess.Tiles tiles = DynamicPreprocess.dynamicPreprocess(img, minNum, maxNum, inputSize,
                useThumbnail);
        return toPixelValues(tiles.images(), inputSize, tiles.grid().cols(), tiles.grid().rows());
    }

    /**
     * ToTensor then Normalize: {@code (x / 255 - mean) / std}, three correctly rounded float32 operations in
     * torchvision's order (folding them into one multiply-add would change the last bit).
     */
    static PixelValues toPixelValues(List<RgbImage> tiles, int size, int gridCols, int gridRows) {
        int plane = size * size;
        float[] data = new float[tiles.size() * 3 * plane];
        float[][] lut = new float[3][256];
        for (int c = 0; c < 3; c++) {
            for (int v = 0; v < 256; v++) {
                float x = (float) v / 255f;
                lut[c][v] = (x - MEAN[c]) / STD[c];
            }
        }
        java.util.stream.IntStream.range(0, tiles.size()).parallel().forEach(t -> {
            RgbImage tile = tiles.get(t);
            if (tile.width() != size || tile.height() != size) {
                throw new ImageException("tile " + t + " is " + tile.width() + "x" + tile.height() + ", expected "
                        + size + "x" + size);
            }
            byte[] rgb = tile.rgb();
            int base = t * 3 * plane;
            for (int p = 0; p < plane; p++) {
                data[base + p] = lut[0][rgb[p * 3] & 0xFF];
                data[base + plane + p] = lut[1][rgb[p * 3 + 1] & 0xFF];
                data[base + 2 * plane + p] = lut[2][rgb[p * 3 + 2] & 0xFF];
            }
        });
        return new PixelValues(data, tiles.size(), size, gridCols, gridRows);
    }

    /** Builder with the model card's defaults. */
    public static final class Builder {
        private int inputSize = DEFAULT_INPUT_SIZE;
        private int minNum = 1;
        private int maxNum = 12;
        private boolean useThumbnail = true;
        private long maxPixels = Limits.current().imagePixels();
        private long maxBytes = Limits.current().imageBytes();

        public Builder inputSize(int v) {
            inputSize = v;
            return this;
        }

        public Builder minNum(int v) {
            minNum = v;
            return this;
        }

        public Builder maxNum(int v) {
            maxNum = v;
            return this;
        }

        public Builder useThumbnail(boolean v) {
            useThumbnail = v;
            return this;
        }

        public Builder maxPixels(long v) {
            maxPixels = v;
            return this;
        }

        public Builder maxBytes(long v) {
            maxBytes = v;
            return this;
        }

        public ImagePreprocessor build() {
            return new ImagePreprocessor(inputSize, minNum, maxNum, useThumbnail, maxPixels, maxBytes);
        }
    }
}
