package org.internvl4j.image;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Decodes JPEG, PNG, BMP, GIF (first frame) and WebP to the RGB that Pillow 9.4's
 * {@code Image.open(f).convert('RGB')} gives.
 *
 * <ul>
 *   <li>JPEG: our own decoder, {@link JpegDecoder}, which matches libjpeg-turbo's default output exactly.</li>
 *   <li>PNG, BMP, GIF: the JDK's ImageIO readers, whose raw samples are then converted with Pillow's rules:
 *       alpha dropped (not composited), palette colours used as is (tRNS ignored), 16-bit grey clamped to
 *       255 (Pillow 9 opens it as mode I), other 16-bit samples truncated to their high byte, 1/2/4-bit grey
 *       scaled to 0..255. No gamma, ICC or EXIF orientation is applied.</li>
 *   <li>WebP: lossless through TwelveMonkeys' ImageIO plugin; lossy through {@link WebpLossyDecoder} (FFmpeg's
 *       VP8 decoder + libwebp's fancy upsampling and YUV->RGB).</li>
 * </ul>
 * The pixel count is checked from the header before any pixel buffer is allocated.
 */
public final class ImageDecoder {

    /** Encoded image formats we recognise from their first bytes. */
    public enum Format { JPEG, PNG, BMP, GIF, WEBP }

    private ImageDecoder() {
    }

    private static final System.Logger LOG = System.getLogger("org.internvl4j.image");

    /** Decodes with the default pixel limit ({@link ImagePreprocessor#DEFAULT_MAX_PIXELS}). */
    public static RgbImage decode(byte[] data) {
        return decode(data, ImagePreprocessor.DEFAULT_MAX_PIXELS, "image bytes");
    }

    /**
     * Decodes an encoded image.
     *
     * @param maxPixels Pillow's {@code MAX_IMAGE_PIXELS}: above it a warning is logged, above twice it the image is
     *                  refused; both decided from the header (and, for GIF, the first frame's descriptor)
     * @param name      what to call the input in error messages (a file name, URL, ...)
     */
    public static RgbImage decode(byte[] data, long maxPixels, String name) {
        if (data == null || data.length == 0) {
            throw new ImageException(name + ": empty input, expected an encoded image (JPEG, PNG, BMP, GIF or WebP)");
        }
        Format format = sniff(data);
        if (format == null) {
            throw new ImageException(name + ": unsupported or unrecognised image format (first bytes "
                    + hexPrefix(data) + "); supported: JPEG, PNG, BMP, GIF, WebP");
        }
        if (format == Format.JPEG) {
            return JpegDecoder.decode(data, maxPixels, name);
        }
        long[] size = headerSize(format, data, name);
        if (size[0] < 1 || size[1] < 1) {
            throw new ImageException(format + " " + name + ": invalid image size " + size[0] + "x" + size[1]
                    + " in the header");
        }
        checkPixels(format.name(), size[0], size[1], maxPixels, name);
        if (format == Format.WEBP && WebpLossyDecoder.isLossy(data)) {
            return WebpLossyDecoder.decode(data, maxPixels, name);
        }
        Decoded d = readWithImageIo(format, data, maxPixels, name);
        BufferedImage img = d.image();
        if (format == Format.GIF) {
            img = gifOnScreen(d, (int) size[0], (int) size[1], name);
        }
        return toPillowRgb(img, format, name);
    }

    /**
     * Pillow's decompression-bomb rule (PIL/Image.py {@code _decompression_bomb_check}), applied to the size a header
     * declares before anything of that size is allocated: a warning above {@code maxPixels}, an error above twice it.
     *
     * @return true when the warning was given
     */
    static boolean checkPixels(String format, long width, long height, long maxPixels, String name) {
        long pixels = width * height; // both < 2^32 (from 32-bit header fields): no overflow
        long refused = maxPixels > Long.MAX_VALUE / 2 ? Long.MAX_VALUE : 2 * maxPixels;
        if (pixels > refused) {
            throw new ImageException(format + " " + name + ": image is " + width + "x" + height + " = "
                    + org.internvl4j.util.Limits.count(pixels) + " pixels, above twice the limit of "
                    + org.internvl4j.util.Limits.count(maxPixels) + " (decompression bomb protection, as Pillow's; "
                    + "-Dinternvl.limit.imagePixels)");
        }
        if (pixels > maxPixels) {
            LOG.log(System.Logger.Level.WARNING, format + " " + name + ": image is " + width + "x" + height + " = "
                    + org.internvl4j.util.Limits.count(pixels) + " pixels, above the limit of "
                    + org.internvl4j.util.Limits.count(maxPixels) + "; it could be a decompression bomb (decoding it anyway, "
                    + "as Pillow does up to twice the limit)");
            return true;
        }
        return false;
    }

    /** The format from the first bytes (magic numbers), or null. */
    public static Format sniff(byte[] d) {
        if (d.length >= 3 && (d[0] & 0xFF) == 0xFF && (d[1] & 0xFF) == 0xD8 && (d[2] & 0xFF) == 0xFF) {
            return Format.JPEG;
        }
        if (d.length >= 8 && (d[0] & 0xFF) == 0x89 && d[1] == 'P' && d[2] == 'N' && d[3] == 'G') {
            return Format.PNG;
        }
        if (d.length >= 2 && d[0] == 'B' && d[1] == 'M') {
            return Format.BMP;
        }
        if (d.length >= 6 && d[0] == 'G' && d[1] == 'I' && d[2] == 'F' && d[3] == '8') {
            return Format.GIF;
        }
        if (d.length >= 12 && d[0] == 'R' && d[1] == 'I' && d[2] == 'F' && d[3] == 'F' && d[8] == 'W'
                && d[9] == 'E' && d[10] == 'B' && d[11] == 'P') {
            return Format.WEBP;
        }
        return null;
    }

    private static String hexPrefix(byte[] d) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(8, d.length); i++) {
            sb.append(String.format("%02X ", d[i] & 0xFF));
        }
        return sb.toString().trim();
    }

    private static long[] headerSize(Format f, byte[] d, String name) {
        try {
            return switch (f) {
                case PNG -> new long[] {be32(d, 16), be32(d, 20)};
                case BMP -> {
                    long w = le32(d, 18);
                    long h = Math.abs((long) (int) le32(d, 22)); // negative height: top-down rows
                    yield le32(d, 14) == 12 ? new long[] {le16(d, 18), le16(d, 20)} : new long[] {w, h};
                }
                case GIF -> new long[] {le16(d, 6), le16(d, 8)};
                case WEBP -> webpSize(d, name);
                case JPEG -> throw new IllegalStateException();
            };
        } catch (IndexOutOfBoundsException e) { // arrays, and the WebP chunk name's String (found by ImageFuzzTest#webp)
            throw new ImageException(f + " " + name + ": truncated header (" + d.length + " bytes)");
        }
    }

    private static long[] webpSize(byte[] d, String name) {
        String chunk = new String(d, 12, 4, java.nio.charset.StandardCharsets.US_ASCII);
        return switch (chunk) {
            case "VP8X" -> new long[] {1 + le24(d, 24), 1 + le24(d, 27)};
            case "VP8L" -> {
                long bits = le32(d, 21);
                yield new long[] {1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)};
            }
            case "VP8 " -> new long[] {le16(d, 26) & 0x3FFF, le16(d, 28) & 0x3FFF};
            default -> throw new ImageException("WEBP " + name + ": unknown first chunk '" + chunk
                    + "', expected VP8, VP8L or VP8X");
        };
    }

    private static long be32(byte[] d, int o) {
        return ((long) (d[o] & 0xFF) << 24) | ((d[o + 1] & 0xFF) << 16) | ((d[o + 2] & 0xFF) << 8) | (d[o + 3] & 0xFF);
    }

    private static long le32(byte[] d, int o) {
        return ((long) (d[o + 3] & 0xFF) << 24) | ((d[o + 2] & 0xFF) << 16) | ((d[o + 1] & 0xFF) << 8) | (d[o] & 0xFF);
    }

    private static long le24(byte[] d, int o) {
        return ((d[o + 2] & 0xFF) << 16) | ((d[o + 1] & 0xFF) << 8) | (d[o] & 0xFF);
    }

    private static long le16(byte[] d, int o) {
        return ((d[o + 1] & 0xFF) << 8) | (d[o] & 0xFF);
    }

    /** An ImageIO result with its per-image metadata (GIF needs the frame position and transparency). */
    private record Decoded(BufferedImage image, javax.imageio.metadata.IIOMetadata metadata) {
    }

    /**
     * Pillow 9.4 decodes a GIF's first frame onto a canvas of the logical screen size, filled with the palette
     * index of the transparent colour if there is one, else index 0 (GifImagePlugin load_prepare); ImageIO gives
     * only the frame's own rectangle.
     */
    private static BufferedImage gifOnScreen(Decoded d, int screenW, int screenH, String name) {
        BufferedImage frame = d.image();
        if (!(frame.getColorModel() instanceof IndexColorModel icm)) {
            return frame;
        }
        int left = 0;
        int top = 0;
        int fill = 0;
        org.w3c.dom.Node root = d.metadata().getAsTree("javax_imageio_gif_image_1.0");
        for (org.w3c.dom.Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
            org.w3c.dom.NamedNodeMap at = n.getAttributes();
            if (n.getNodeName().equals("ImageDescriptor")) {
                left = Integer.parseInt(at.getNamedItem("imageLeftPosition").getNodeValue());
                top = Integer.parseInt(at.getNamedItem("imageTopPosition").getNodeValue());
            } else if (n.getNodeName().equals("GraphicControlExtension")
                    && "TRUE".equalsIgnoreCase(at.getNamedItem("transparentColorFlag").getNodeValue())) {
                fill = Integer.parseInt(at.getNamedItem("transparentColorIndex").getNodeValue());
            }
        }
        if (left == 0 && top == 0 && frame.getWidth() == screenW && frame.getHeight() == screenH) {
            return frame;
        }
        BufferedImage canvas = new BufferedImage(screenW, screenH, BufferedImage.TYPE_BYTE_INDEXED, icm);
        java.awt.image.WritableRaster r = canvas.getRaster();
        int[] row = new int[screenW];
        java.util.Arrays.fill(row, fill);
        for (int y = 0; y < screenH; y++) {
            r.setSamples(0, y, screenW, 1, 0, row);
        }
        // the part of the frame inside the screen
        int w = Math.min(frame.getWidth(), screenW - left);
        int h = Math.min(frame.getHeight(), screenH - top);
        if (w > 0 && h > 0) {
            int[] src = new int[w];
            for (int y = 0; y < h; y++) {
                frame.getRaster().getSamples(0, y, w, 1, 0, src);
                r.setSamples(left, top + y, w, 1, 0, src);
            }
        }
        return canvas;
    }

    private static Decoded readWithImageIo(Format format, byte[] data, long maxPixels, String name) {
        String formatName = format.name().toLowerCase();
        Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(formatName);
        if (!readers.hasNext()) {
            ImageIO.scanForPlugins();
            readers = ImageIO.getImageReadersByFormatName(formatName);
            if (!readers.hasNext()) {
                throw new ImageException(format + " " + name + ": no ImageIO reader for " + formatName
                        + " is on the class path");
            }
        }
        ImageReader reader = readers.next();
        try (ImageInputStream in = new BoundedImageInput(data)) {
            reader.setInput(in, true, true);
            // the first frame's own size (a GIF frame may be larger than its logical screen): checked before read
            // allocates it; the screen size was checked by the caller, so this refuses only, it does not warn twice
            long w = reader.getWidth(0), h = reader.getHeight(0);
            if (w * h > 2 * maxPixels) checkPixels(format.name(), w, h, maxPixels, name);
            BufferedImage img = reader.read(0);
            if (img == null) {
                throw new ImageException(format + " " + name + ": the decoder returned no image");
            }
            return new Decoded(img, format == Format.GIF ? reader.getImageMetadata(0) : null);
        } catch (IOException | RuntimeException e) {
            if (e instanceof ImageException ie) {
                throw ie;
            }
            throw new ImageException(format + " " + name + ": corrupt or truncated data (" + e.getMessage() + ")", e);
        } finally {
            reader.dispose();
        }
    }

    /** Pillow's convert('RGB') applied to the raw samples ImageIO read. */
    static RgbImage toPillowRgb(BufferedImage img, Format format, String name) {
        int w = img.getWidth();
        int h = img.getHeight();
        Raster r = img.getRaster();
        ColorModel cm = img.getColorModel();
        byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(w, h), 3)];
        if (cm instanceof IndexColorModel icm) {
            // palette colour as is; the palette's alpha (PNG tRNS, GIF transparency) is ignored
            int n = icm.getMapSize();
            byte[] pr = new byte[n];
            byte[] pg = new byte[n];
            byte[] pb = new byte[n];
            icm.getReds(pr);
            icm.getGreens(pg);
            icm.getBlues(pb);
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                r.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    int idx = Math.min(row[x], n - 1);
                    int o = (y * w + x) * 3;
                    out[o] = pr[idx];
                    out[o + 1] = pg[idx];
                    out[o + 2] = pb[idx];
                }
            }
            return new RgbImage(w, h, out);
        }
        int colorBands = cm.getNumColorComponents();
        int bits = cm.getComponentSize(0);
        boolean sixteen = r.getDataBuffer().getDataType() == DataBuffer.TYPE_USHORT && bits == 16;
        if (!(cm instanceof ComponentColorModel) && !(cm instanceof java.awt.image.DirectColorModel)) {
            throw new ImageException(format + " " + name + ": unsupported colour model " + cm);
        }
        int[][] bands = new int[colorBands][w];
        for (int y = 0; y < h; y++) {
            for (int b = 0; b < colorBands; b++) {
                r.getSamples(0, y, w, 1, b, bands[b]);
            }
            for (int x = 0; x < w; x++) {
                int o = (y * w + x) * 3;
                if (colorBands == 1) {
                    int v = bands[0][x];
                    if (sixteen) {
                        // Pillow 9: 16-bit grey opens as mode I; I -> RGB clamps, it does not rescale
                        v = cm.hasAlpha() ? v >> 8 : Math.min(v, 255);
                    } else if (bits < 8) {
                        v = v * 255 / ((1 << bits) - 1);
                    }
                    out[o] = out[o + 1] = out[o + 2] = (byte) v;
                } else {
                    for (int c = 0; c < 3; c++) {
                        int v = bands[c][x];
                        if (sixteen) {
                            v >>= 8; // RGB;16B: the high byte
                        } else {
                            int cb = cm.getComponentSize(c);
                            if (cb < 8) {
                                v = v * 255 / ((1 << cb) - 1);
                            }
                        }
                        out[o + c] = (byte) v;
                    }
                }
            }
        }
        return new RgbImage(w, h, out);
    }
}
