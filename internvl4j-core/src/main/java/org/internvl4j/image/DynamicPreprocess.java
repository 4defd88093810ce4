package org.internvl4j.image;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The model card's {@code dynamic_preprocess} (InternVL2-8B-MPO README, "Inference with Transformers"):
 * pick the tile grid whose aspect ratio is nearest the image's, resize the image to it, cut it into
 * row-major tiles and, when there is more than one tile, append a thumbnail of the whole image.
 */
public final class DynamicPreprocess {

    private DynamicPreprocess() {
    }

    /** A tile grid: {@code cols} tiles across, {@code rows} down. */
    public record Grid(int cols, int rows) {
        public int blocks() {
            return cols * rows;
        }

        @Override
        public String toString() {
            return cols + "x" + rows;
        }
    }

    /** The tiles of one image, in the order the model sees them, and the grid that produced them. */
    public record Tiles(List<RgbImage> images, Grid grid, boolean thumbnail) {
    }

    /**
     * {@code sorted(set((i, j) for n in range(min_num, max_num + 1) for i in range(1, n + 1)
     * for j in range(1, n + 1) if min_num <= i * j <= max_num), key=lambda x: x[0] * x[1])}.
     * The order among equal products is CPython's set iteration order, which decides exact ties in
     * {@link #findClosestAspectRatio}; {@link CPythonTupleSet} reproduces it.
     */
    public static List<Grid> targetRatios(int minNum, int maxNum) {
        if (minNum < 1 || maxNum < minNum) {
            throw new ImageException("tile counts must satisfy 1 <= min_num <= max_num, got min_num=" + minNum
                    + ", max_num=" + maxNum);
        }
        CPythonTupleSet set = new CPythonTupleSet();
        for (int n = minNum; n <= maxNum; n++) {
            for (int i = 1; i <= n; i++) {
                for (int j = 1; j <= n; j++) {
                    if (i * j <= maxNum && i * j >= minNum) {
                        set.add(i, j);
                    }
                }
            }
        }
        List<Grid> grids = new ArrayList<>();
        for (long[] t : set.iterationOrder()) {
            grids.add(new Grid((int) t[0], (int) t[1]));
        }
        grids.sort(Comparator.comparingInt(Grid::blocks)); // stable, like Python's sorted
        return grids;
    }

    /** The model card's {@code find_closest_aspect_ratio}, including its tie-break on area. */
    public static Grid findClosestAspectRatio(double aspectRatio, List<Grid> targetRatios, int width, int height,
                                              int imageSize) {
        double bestRatioDiff = Double.POSITIVE_INFINITY;
        Grid bestRatio = new Grid(1, 1);
        long area = (long) width * height;
        for (Grid ratio : targetRatios) {
            double targetAspectRatio = (double) ratio.cols() / ratio.rows();
            double ratioDiff = Math.abs(aspectRatio - targetAspectRatio);
            if (ratioDiff < bestRatioDiff) {
                bestRatioDiff = ratioDiff;
                bestRatio = ratio;
            } else if (ratioDiff == bestRatioDiff) {
                // Python: area > 0.5 * image_size * image_size * ratio[0] * ratio[1], evaluated left to right in double
                if (area > 0.5 * imageSize * imageSize * ratio.cols() * ratio.rows()) {
                    bestRatio = ratio;
                }
            }
        }
        return bestRatio;
    }

    /** The grid {@code dynamic_preprocess} picks for a width x height image. */
    public static Grid chooseGrid(int width, int height, int minNum, int maxNum, int imageSize) {
        double aspectRatio = (double) width / height;
        return findClosestAspectRatio(aspectRatio, targetRatios(minNum, maxNum), width, height, imageSize);
    }

    /** The model card's {@code dynamic_preprocess(image, min_num, max_num, image_size, use_thumbnail)}. */
    public static Tiles dynamicPreprocess(RgbImage image, int minNum, int maxNum, int imageSize,
                                          boolean useThumbnail) {
        Grid grid = chooseGrid(image.width(), image.height(), minNum, maxNum, imageSize);
        int targetWidth = imageSize * grid.cols();
        int targetHeight = imageSize * grid.rows();
        RgbImage resized = PillowResize.resize(image, targetWidth, targetHeight);
        List<RgbImage> tiles = new ArrayList<>();
        for (int i = 0; i < grid.blocks(); i++) {
            int col = i % grid.cols();
            int row = i / grid.cols();
            tiles.add(resized.crop(col * imageSize, row * imageSize, imageSize, imageSize));
        }
        boolean thumbnail = useThumbnail && tiles.size() != 1;
        if (thumbnail) {
            tiles.add(PillowResize.resize(image, imageSize, imageSize));
        }
        return new Tiles(List.copyOf(tiles), grid, thumbnail);
    }

    /**
     * Insertion into a CPython 3.11 {@code set} of 2-tuples of small ints, to reproduce its iteration
     * order (Objects/setobject.c set_add_entry / set_insert_clean / set_table_resize, and
     * Objects/tupleobject.c tuplehash, the 64-bit xxHash-style variant; hash(int) = int).
     */
    static final class CPythonTupleSet {
        private static final int LINEAR_PROBES = 9;
        private static final int PERTURB_SHIFT = 5;
        private static final int MIN_SIZE = 8;
        private static final long XXPRIME_1 = 0x9E3779B185EBCA87L; // 11400714785074694791
        private static final long XXPRIME_2 = 0xC2B2AE3D27D4EB4FL; // 14029467366897019727
        private static final long XXPRIME_5 = 0x27D4EB2F165667C5L; // 2870177450012600261

        private long[][] keys = new long[MIN_SIZE][];
        private long[] hashes = new long[MIN_SIZE];
        private int fill;
        private int used;

        static long tupleHash(long a, long b) {
            long acc = XXPRIME_5;
            for (long lane : new long[] {a, b}) {
                acc += lane * XXPRIME_2;
                acc = Long.rotateLeft(acc, 31);
                acc *= XXPRIME_1;
            }
            acc += 2 ^ (XXPRIME_5 ^ 3527539L);
            return acc == -1L ? 1546275796L : acc;
        }

        void add(long a, long b) {
            long hash = tupleHash(a, b);
            long mask = keys.length - 1;
            long i = hash & mask;
            long perturb = hash;
            while (true) {
                int probes = (i + LINEAR_PROBES <= mask) ? LINEAR_PROBES : 0;
                long e = i;
                do {
                    long[] key = keys[(int) e];
                    if (key == null) {
                        keys[(int) e] = new long[] {a, b};
                        hashes[(int) e] = hash;
                        fill++;
                        used++;
                        if ((long) fill * 5 >= mask * 3) {
                            resize(used > 50000 ? used * 2 : used * 4);
                        }
                        return;
                    }
                    if (hashes[(int) e] == hash && key[0] == a && key[1] == b) {
                        return;
                    }
                    e++;
                } while (probes-- > 0);
                perturb >>>= PERTURB_SHIFT;
                i = (i * 5 + 1 + perturb) & mask;
            }
        }

        private void resize(int minUsed) {
            int newSize = MIN_SIZE;
            while (newSize <= minUsed) {
                newSize <<= 1;
            }
            long[][] oldKeys = keys;
            long[] oldHashes = hashes;
            keys = new long[newSize][];
            hashes = new long[newSize];
            for (int k = 0; k < oldKeys.length; k++) {
                if (oldKeys[k] != null) {
                    insertClean(oldKeys[k], oldHashes[k]);
                }
            }
        }

        private void insertClean(long[] key, long hash) {
            long mask = keys.length - 1;
            long perturb = hash;
            long i = hash & mask;
            while (true) {
                if (keys[(int) i] == null) {
                    keys[(int) i] = key;
                    hashes[(int) i] = hash;
                    return;
                }
                if (i + LINEAR_PROBES <= mask) {
                    for (int j = 1; j <= LINEAR_PROBES; j++) {
                        if (keys[(int) (i + j)] == null) {
                            keys[(int) (i + j)] = key;
                            hashes[(int) (i + j)] = hash;
                            return;
                        }
                    }
                }
                perturb >>>= PERTURB_SHIFT;
                i = (i * 5 + 1 + perturb) & mask;
            }
        }

        List<long[]> iterationOrder() {
            List<long[]> out = new ArrayList<>();
            for (long[] k : keys) {
                if (k != null) {
                    out.add(k);
                }
            }
            return out;
        }
    }
}
