package org.internvl4j.spark;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Row;
import org.internvl4j.image.ImageDecoder;
import org.internvl4j.image.ImageException;
import org.internvl4j.image.ImagePreprocessor;
import org.internvl4j.image.ImageSource;
import org.internvl4j.image.PixelValues;
import org.internvl4j.image.RgbImage;

/** Turns the value of an image column into model input; every failure is an {@link ImageException} naming the row's image. */
final class ImageInputs {
    private ImageInputs() {}

    /** OpenCV type codes used by Spark's image data source ({@code ImageSchema.ocvTypes}). */
    private static final int CV_8UC1 = 0, CV_8UC3 = 16, CV_8UC4 = 24;

    static PixelValues load(Object value, CaptionSettings.ImageKind kind, ImagePreprocessor pre) {
        if (value == null) throw new ImageException("the image column is null");
        return switch (kind) {
            case BYTES -> pre.load((byte[]) value);
            case PATH -> {
                String ref = (String) value;
                yield pre.preprocess(ImageDecoder.decode(read(ref, pre.maxBytes()), pre.maxPixels(), ref));
            }
            case SPARK_IMAGE -> pre.preprocess(fromSparkImage((Row) value));
        };
    }

    /**
     * Reads a path column: http(s) and data URIs through the core's fetcher, other URIs with a scheme
     * ({@code file:}, {@code hdfs:}, {@code s3a:}, ...) through Hadoop's file systems, plain paths from the local disk.
     */
    static byte[] read(String ref, long maxBytes) {
        String lower = ref.toLowerCase(java.util.Locale.ROOT);
        if (lower.startsWith("http://") || lower.startsWith("https://") || lower.startsWith("data:")) {
            return ImageSource.fetch(ref, maxBytes);
        }
        URI uri = null;
        try {
            uri = new URI(ref);
        } catch (java.net.URISyntaxException e) {
            // not a URI: a local path
        }
        if (uri == null || uri.getScheme() == null || uri.getScheme().length() < 2) {   // "C:" is a drive, not a scheme
            return ImageSource.read(Path.of(ref), maxBytes);
        }
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(uri);
        try {
            FileSystem fs = p.getFileSystem(new Configuration());
            long len = fs.getFileStatus(p).getLen();
            if (len > maxBytes) {
                throw new ImageException(ref + " is " + len + " bytes, over the " + maxBytes + "-byte limit for one image");
            }
            try (InputStream in = fs.open(p)) {
                return in.readAllBytes();
            }
        } catch (IOException e) {
            throw new ImageException("cannot read " + ref + ": " + e, e);
        }
    }

    /** Spark's image struct holds OpenCV-ordered (BGR, BGRA or grey) 8-bit pixels; the model wants RGB. */
    static RgbImage fromSparkImage(Row img) {
        String origin = img.isNullAt(0) ? "?" : img.getString(0);
        int h = img.getInt(1), w = img.getInt(2), channels = img.getInt(3), mode = img.getInt(4);
        byte[] data = (byte[]) img.get(5);
        if (h < 1 || w < 1 || data == null || data.length == 0) {
            throw new ImageException("Spark's image source could not decode " + origin
                    + " (an invalid-image row; read with dropInvalid=false)");
        }
        boolean known = (mode == CV_8UC1 && channels == 1) || (mode == CV_8UC3 && channels == 3)
                || (mode == CV_8UC4 && channels == 4);
        if (!known) {
            throw new ImageException(origin + ": unsupported image mode " + mode + " with " + channels
                    + " channels (expected 8-bit grey, BGR or BGRA)");
        }
        if (data.length != (long) h * w * channels) {
            throw new ImageException(origin + ": " + data.length + " bytes of pixels for " + w + "x" + h + "x" + channels);
        }
        byte[] rgb = new byte[w * h * 3];
        for (int i = 0, n = w * h; i < n; i++) {
            int s = i * channels;
            if (channels == 1) {
                rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = data[s];
            } else {   // B, G, R(, A): Pillow's convert('RGB') drops alpha
                rgb[3 * i] = data[s + 2];
                rgb[3 * i + 1] = data[s + 1];
                rgb[3 * i + 2] = data[s];
            }
        }
        return new RgbImage(w, h, rgb);
    }
}
