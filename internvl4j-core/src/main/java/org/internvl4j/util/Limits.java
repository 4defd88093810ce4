package org.internvl4j.util;

import java.time.Duration;
import java.util.Locale;

/**
 * The limits on what the engine reads from strangers (images, videos, checkpoints, JSON), in one place. Each has a
 * default, and a system property {@code -Dinternvl.limit.NAME=VALUE} that overrides it (through
 * {@code INTERNVL_JAVA_OPTS} for {@code bin/internvl}); the server's own limits (body, headers, tiles, context,
 * time) are {@code internvl serve} flags. docs/RELIABILITY.md lists them all with their tests.
 *
 * @param imagePixels     Pillow's {@code Image.MAX_IMAGE_PIXELS}: an image above it is decoded with a warning, one
 *                        above twice it is refused; both decided from the header, before any pixel is decoded
 * @param imageBytes      largest encoded image (file, URL or data URI)
 * @param videoFrames     most frames in a video stream (counted from packets, before decoding)
 * @param videoSeconds    longest video, by its container's duration or frames / fps
 * @param tilesPerRequest most 448 px tiles of one request, all images and frames together (and so the largest
 *                        {@code max_num})
 * @param headerBytes     largest safetensors JSON header (the reference implementation's own cap is 100 MB)
 * @param shards          most safetensors files of one checkpoint
 * @param tensors         most tensors of one checkpoint
 * @param jsonDepth       deepest nesting of any JSON the project parses (configs, tokenizer files, hub answers,
 *                        request bodies)
 * @param jsonBytes       largest JSON document read from a file or the hub (request bodies have the server's
 *                        body limit)
 * @param decodeTime      longest one {@code Generator.generate} call may run before its sequences end with
 *                        {@code FinishReason.TIME_LIMIT}; zero: no limit (the server has {@code --request-timeout})
 */
public record Limits(long imagePixels, long imageBytes, long videoFrames, double videoSeconds, int tilesPerRequest,
                     long headerBytes, int shards, int tensors, int jsonDepth, long jsonBytes, Duration decodeTime) {

    public static final String PREFIX = "internvl.limit.";
    /** Pillow's {@code Image.MAX_IMAGE_PIXELS} (PIL/Image.py): 1024 * 1024 * 1024 // 4 // 3. */
    public static final long PILLOW_MAX_IMAGE_PIXELS = 1024L * 1024 * 1024 / 4 / 3;
    public static final Limits DEFAULTS = new Limits(PILLOW_MAX_IMAGE_PIXELS, 64L << 20, 108_000, 3600, 64,
            100_000_000L, 1024, 100_000, 200, 64L << 20, Duration.ZERO);

    public Limits {
        positive("imagePixels", imagePixels);
        positive("imageBytes", imageBytes);
        positive("videoFrames", videoFrames);
        if (!(videoSeconds > 0)) throw new IllegalArgumentException(PREFIX + "videoSeconds must be > 0, got " + videoSeconds);
        positive("tilesPerRequest", tilesPerRequest);
        positive("headerBytes", headerBytes);
        positive("shards", shards);
        positive("tensors", tensors);
        positive("jsonDepth", jsonDepth);
        positive("jsonBytes", jsonBytes);
        if (decodeTime == null || decodeTime.isNegative()) throw new IllegalArgumentException(PREFIX + "decodeSeconds must be >= 0");
    }

    private static void positive(String name, long v) {
        if (v < 1) throw new IllegalArgumentException(PREFIX + name + " must be >= 1, got " + v);
    }

    /** The defaults, each overridden by its {@code internvl.limit.*} system property when set (read on every call). */
    public static Limits current() {
        Limits d = DEFAULTS;
        return new Limits(
                longProp("imagePixels", d.imagePixels), longProp("imageBytes", d.imageBytes),
                longProp("videoFrames", d.videoFrames), doubleProp("videoSeconds", d.videoSeconds),
                (int) longProp("tilesPerRequest", d.tilesPerRequest), longProp("headerBytes", d.headerBytes),
                (int) longProp("shards", d.shards), (int) longProp("tensors", d.tensors),
                (int) longProp("jsonDepth", d.jsonDepth), longProp("jsonBytes", d.jsonBytes),
                Duration.ofMillis(Math.round(doubleProp("decodeSeconds", d.decodeTime.toMillis() / 1000.0) * 1000)));
    }

    /** The pixel count Pillow refuses above: twice {@link #imagePixels} (Image._decompression_bomb_check). */
    public long imagePixelsRefused() {
        return imagePixels > Long.MAX_VALUE / 2 ? Long.MAX_VALUE : imagePixels * 2;
    }

    private static long longProp(String name, long dflt) {
        String v = System.getProperty(PREFIX + name);
        if (v == null || v.isBlank()) return dflt;
        try {
            long n = Long.parseLong(v.trim().replace("_", ""));
            if (n < 1 || n > Integer.MAX_VALUE && !name.equals("imagePixels") && !name.endsWith("Bytes") && !name.equals("videoFrames")) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + PREFIX + name + " must be a positive whole number, got '" + v + "'");
        }
    }

    private static double doubleProp(String name, double dflt) {
        String v = System.getProperty(PREFIX + name);
        if (v == null || v.isBlank()) return dflt;
        try {
            double d = Double.parseDouble(v.trim());
            if (!(d >= 0) || Double.isInfinite(d)) throw new NumberFormatException();
            return d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + PREFIX + name + " must be a number >= 0, got '" + v + "'");
        }
    }

    /** "89,478,485" style numbers for messages. */
    public static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }
}
