package org.internvl4j.image;

import java.util.Arrays;
import java.util.stream.IntStream;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Pillow's {@code Image.resize(size, Image.BICUBIC)} on 8-bit RGB, bit for bit (Pillow 9.x,
 * {@code libImaging/Resample.c}): a separable convolution with the Keys cubic at a = -0.5, its support
 * widened by the scale when downsampling (antialias), weights normalised in double, then turned into
 * 22-bit fixed point; the horizontal pass runs first and is rounded and clipped to uint8 before the
 * vertical pass. A pass whose size does not change is skipped.
 */
public final class PillowResize {

    /** Resample.c PRECISION_BITS = 32 - 8 - 2. */
    private static final int PRECISION_BITS = 32 - 8 - 2;
    /** Resample.c bicubic support. */
    private static final double BICUBIC_SUPPORT = 2.0;

    private PillowResize() {
    }

    /** Resizes to outWidth x outHeight; returns the same pixels (a copy) when the size does not change. */
    public static RgbImage resize(RgbImage in, int outWidth, int outHeight) {
        if (outWidth < 1 || outHeight < 1) {
            throw new ImageException("resize target must be at least 1x1, got " + outWidth + "x" + outHeight);
        }
        RgbImage img = in;
        if (outWidth != img.width()) {
            img = horizontal(img, outWidth);
        }
        if (outHeight != img.height()) {
            img = vertical(img, outHeight);
        }
        return img == in ? new RgbImage(in.width(), in.height(), in.rgb().clone()) : img;
    }

    /** The same resize without the Vector API: Resample.c's loops as written (tests compare the two). */
    static RgbImage resizeScalar(RgbImage in, int outWidth, int outHeight) {
        RgbImage img = in;
        if (outWidth != img.width()) {
            Coeffs c = precomputeCoeffs(img.width(), outWidth);
            byte[] out = new byte[outWidth * img.height() * 3];
            for (int y = 0; y < img.height(); y++) {
                horizontalRow(img.rgb(), y * img.width() * 3, c, out, y * outWidth * 3, outWidth);
            }
            img = new RgbImage(outWidth, img.height(), out);
        }
        if (outHeight != img.height()) {
            Coeffs c = precomputeCoeffs(img.height(), outHeight);
            int w3 = img.width() * 3;
            byte[] out = new byte[w3 * outHeight];
            for (int yy = 0; yy < outHeight; yy++) {
                for (int i = 0; i < w3; i++) {
                    int ss = 1 << (PRECISION_BITS - 1);
                    for (int y = 0; y < c.bounds()[yy * 2 + 1]; y++) {
                        ss += (img.rgb()[(c.bounds()[yy * 2] + y) * w3 + i] & 0xFF) * c.kk()[yy * c.ksize() + y];
                    }
                    out[yy * w3 + i] = clip8(ss);
                }
            }
            img = new RgbImage(img.width(), outHeight, out);
        }
        return img;
    }

    /** Resample.c bicubic_filter, with {@code #define a -0.5}. */
    static double bicubicFilter(double x) {
        final double a = -0.5;
        if (x < 0.0) {
            x = -x;
        }
        if (x < 1.0) {
            return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        }
        if (x < 2.0) {
            return (((x - 5) * x + 8) * x - 4) * a;
        }
        return 0.0;
    }

    /** Fixed-point weights for every output position: bounds[2*i] = first input index, bounds[2*i+1] = count. */
    record Coeffs(int ksize, int[] bounds, int[] kk) {
    }

    /** Resample.c precompute_coeffs + normalize_coeffs_8bpc for the box (0, inSize). */
    static Coeffs precomputeCoeffs(int inSize, int outSize) {
        double scale = (double) inSize / outSize;
        double filterscale = scale < 1.0 ? 1.0 : scale;
        double support = BICUBIC_SUPPORT * filterscale;
        int ksize = (int) Math.ceil(support) * 2 + 1;
        int[] bounds = new int[outSize * 2];
        int[] kk = new int[outSize * ksize];
        double[] k = new double[ksize];
        for (int xx = 0; xx < outSize; xx++) {
            double center = (xx + 0.5) * scale;
            double ww = 0.0;
            double ss = 1.0 / filterscale;
            int xmin = (int) (center - support + 0.5);
            if (xmin < 0) {
                xmin = 0;
            }
            int xmax = (int) (center + support + 0.5);
            if (xmax > inSize) {
                xmax = inSize;
            }
            xmax -= xmin;
            for (int x = 0; x < xmax; x++) {
                double w = bicubicFilter((x + xmin - center + 0.5) * ss);
                k[x] = w;
                ww += w;
            }
            for (int x = 0; x < xmax; x++) {
                if (ww != 0.0) {
                    k[x] /= ww;
                }
                // normalize_coeffs_8bpc: round half away from zero
                double v = k[x] * (1 << PRECISION_BITS);
                kk[xx * ksize + x] = k[x] < 0 ? (int) (-0.5 + v) : (int) (0.5 + v);
            }
            bounds[xx * 2] = xmin;
            bounds[xx * 2 + 1] = xmax;
        }
        return new Coeffs(ksize, bounds, kk);
    }

    /** Resample.c clip8. */
    private static byte clip8(int in) {
        if (in >= (1 << PRECISION_BITS << 8)) {
            return (byte) 255;
        }
        if (in <= 0) {
            return 0;
        }
        return (byte) (in >> PRECISION_BITS);
    }

    /** Rows per parallel task: large enough to amortise scheduling, small enough to balance. */
    private static final int ROWS_PER_TASK = 32;

    private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_PREFERRED;
    private static final int LANES = INTS.length();
    private static final VectorSpecies<Byte> BYTES = VectorSpecies.of(byte.class,
            VectorShape.forBitSize(Math.max(64, LANES * 8)));

    private static RgbImage horizontal(RgbImage in, int outWidth) {
        Coeffs c = precomputeCoeffs(in.width(), outWidth);
        int h = in.height();
        byte[] out = new byte[outWidth * h * 3];
        // rows are independent: the result does not depend on how they are split
        if (LANES >= 4 && BYTES.length() == LANES) {
            IntStream.range(0, (h + LANES - 1) / LANES).parallel().forEach(block ->
                    horizontalBlock(in, block * LANES, Math.min(LANES, h - block * LANES), c, out, outWidth));
            return new RgbImage(outWidth, h, out);
        }
        IntStream.range(0, (h + ROWS_PER_TASK - 1) / ROWS_PER_TASK).parallel().forEach(task -> {
            int y1 = Math.min(h, (task + 1) * ROWS_PER_TASK);
            for (int y = task * ROWS_PER_TASK; y < y1; y++) {
                horizontalRow(in.rgb(), y * in.width() * 3, c, out, y * outWidth * 3, outWidth);
            }
        });
        return new RgbImage(outWidth, h, out);
    }

    /**
     * The horizontal pass for LANES rows at once: the rows are transposed into [channel][x][row] ints so that one
     * vector holds the same pixel of every row, and each tap is one vector multiply-add. Integer sums are
     * exact, so this gives Pillow's bytes.
     */
    private static void horizontalBlock(RgbImage in, int y0, int rows, Coeffs c, byte[] out, int outWidth) {
        int inW = in.width();
        byte[] src = in.rgb();
        int[] col = new int[3 * inW * LANES];
        for (int r = 0; r < rows; r++) {
            int p = (y0 + r) * inW * 3;
            for (int x = 0; x < inW; x++, p += 3) {
                col[x * LANES + r] = src[p] & 0xFF;
                col[(inW + x) * LANES + r] = src[p + 1] & 0xFF;
                col[(2 * inW + x) * LANES + r] = src[p + 2] & 0xFF;
            }
        }
        int[] kk = c.kk();
        int[] bounds = c.bounds();
        int ksize = c.ksize();
        IntVector half = IntVector.broadcast(INTS, 1 << (PRECISION_BITS - 1));
        int[] lane = new int[LANES];
        int outStride = outWidth * 3;
        for (int xx = 0; xx < outWidth; xx++) {
            int xmin = bounds[xx * 2];
            int xmax = bounds[xx * 2 + 1];
            int k0 = xx * ksize;
            for (int ch = 0; ch < 3; ch++) {
                IntVector acc = half;
                int base = (ch * inW + xmin) * LANES;
                for (int x = 0; x < xmax; x++) {
                    acc = IntVector.fromArray(INTS, col, base + x * LANES).mul(kk[k0 + x]).add(acc);
                }
                // clip8: in >> 22, clamped to 0..255 (the same as Resample.c's two comparisons)
                acc.lanewise(VectorOperators.ASHR, PRECISION_BITS).max(0).min(255).intoArray(lane, 0);
                int o = y0 * outStride + xx * 3 + ch;
                for (int r = 0; r < rows; r++, o += outStride) {
                    out[o] = (byte) lane[r];
                }
            }
        }
    }

    /** Resample.c ImagingResampleHorizontal_8bpc for one row of 3 channels. */
    private static void horizontalRow(byte[] src, int row, Coeffs c, byte[] out, int o, int outWidth) {
        int[] kk = c.kk();
        int[] bounds = c.bounds();
        int ksize = c.ksize();
        int half = 1 << (PRECISION_BITS - 1);
        for (int xx = 0; xx < outWidth; xx++) {
            int xmin = bounds[xx * 2];
            int xmax = bounds[xx * 2 + 1];
            int k0 = xx * ksize;
            int ss0 = half;
            int ss1 = half;
            int ss2 = half;
            int p = row + xmin * 3;
            for (int x = 0; x < xmax; x++, p += 3) {
                int w = kk[k0 + x];
                ss0 += (src[p] & 0xFF) * w;
                ss1 += (src[p + 1] & 0xFF) * w;
                ss2 += (src[p + 2] & 0xFF) * w;
            }
            out[o++] = clip8(ss0);
            out[o++] = clip8(ss1);
            out[o++] = clip8(ss2);
        }
    }

    private static RgbImage vertical(RgbImage in, int outHeight) {
        Coeffs c = precomputeCoeffs(in.height(), outHeight);
        int w3 = in.width() * 3;
        byte[] src = in.rgb();
        byte[] out = new byte[w3 * outHeight];
        int[] kk = c.kk();
        int[] bounds = c.bounds();
        int ksize = c.ksize();
        int half = 1 << (PRECISION_BITS - 1);
        IntStream.range(0, (outHeight + ROWS_PER_TASK - 1) / ROWS_PER_TASK).parallel().forEach(task -> {
            int[] acc = new int[w3];
            int y1 = Math.min(outHeight, (task + 1) * ROWS_PER_TASK);
            for (int yy = task * ROWS_PER_TASK; yy < y1; yy++) {
                int ymin = bounds[yy * 2];
                int ymax = bounds[yy * 2 + 1];
                int k0 = yy * ksize;
                Arrays.fill(acc, half);
                // row by row over the taps: the same integer sums as Pillow's per-pixel loop (integer addition
                // is associative), but the inner loop runs over contiguous bytes and vectorises
                for (int y = 0; y < ymax; y++) {
                    int w = kk[k0 + y];
                    int row = (ymin + y) * w3;
                    int i = 0;
                    if (BYTES.length() == LANES) {
                        for (; i <= w3 - LANES; i += LANES) {
                            IntVector px = (IntVector) ByteVector.fromArray(BYTES, src, row + i)
                                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, INTS, 0);
                            px.mul(w).add(IntVector.fromArray(INTS, acc, i)).intoArray(acc, i);
                        }
                    }
                    for (; i < w3; i++) {
                        acc[i] += (src[row + i] & 0xFF) * w;
                    }
                }
                int o = yy * w3;
                for (int i = 0; i < w3; i++) {
                    out[o + i] = clip8(acc[i]);
                }
            }
        });
        return new RgbImage(in.width(), outHeight, out);
    }
}
