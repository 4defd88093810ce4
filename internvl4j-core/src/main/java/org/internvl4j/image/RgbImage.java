package org.internvl4j.image;

/**
 * An 8-bit RGB image, what Pillow's {@code Image.convert('RGB')} holds.
 *
 * @param width  pixels per row, at least 1
 * @param height rows, at least 1
 * @param rgb    interleaved R, G, B bytes, row-major: {@code rgb[(y * width + x) * 3 + c]}
 */
public record RgbImage(int width, int height, byte[] rgb) {

    public RgbImage {
        if (width < 1 || height < 1) {
            throw new ImageException("image size must be at least 1x1, got " + width + "x" + height);
        }
        if (rgb == null || rgb.length != (long) width * height * 3) {
            throw new ImageException("RGB buffer for a " + width + "x" + height + " image must hold "
                    + (long) width * height * 3 + " bytes, got " + (rgb == null ? "null" : rgb.length));
        }
    }

    /** A black image. */
    public static RgbImage blank(int width, int height) {
        return new RgbImage(width, height, new byte[Math.multiplyExact(Math.multiplyExact(width, height), 3)]);
    }

    /** Channel c (0 = R) of pixel (x, y), 0..255. */
    public int get(int x, int y, int c) {
        return rgb[(y * width + x) * 3 + c] & 0xFF;
    }

    /** Pillow's {@code crop((x0, y0, x0 + w, y0 + h))} for a box inside the image. */
    public RgbImage crop(int x0, int y0, int w, int h) {
        if (x0 < 0 || y0 < 0 || w < 1 || h < 1 || x0 + w > width || y0 + h > height) {
            throw new ImageException("crop box (" + x0 + ", " + y0 + ", " + w + "x" + h + ") is outside the "
                    + width + "x" + height + " image");
        }
        byte[] out = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            System.arraycopy(rgb, ((y0 + y) * width + x0) * 3, out, y * w * 3, w * 3);
        }
        return new RgbImage(w, h, out);
    }
}
