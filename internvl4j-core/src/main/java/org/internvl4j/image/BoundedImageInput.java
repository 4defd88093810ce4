package org.internvl4j.image;

import java.io.IOException;
import javax.imageio.IIOException;
import javax.imageio.stream.ImageInputStreamImpl;

/**
 * The encoded bytes as an ImageIO stream, in memory, that refuses to be read past its end more than
 * {@link #MAX_READS_PAST_END} times. TwelveMonkeys' lossless WebP bit reader catches the EOFException of a
 * read past the end and goes on with the bits it has, once per pixel: a truncated 65-byte file that claims
 * 2048x2048 pixels took minutes (found by ImageFuzzTest#webp). The error here is an IIOException, not an
 * EOFException, so it ends the decode. It also keeps ImageIO off its temporary-file cache.
 */
final class BoundedImageInput extends ImageInputStreamImpl {
    /** Decoders peek past the end a few times at most; a thousand is far beyond any real file's need. */
    static final int MAX_READS_PAST_END = 1000;

    private final byte[] data;
    private int readsPastEnd;

    BoundedImageInput(byte[] data) {
        this.data = data;
    }

    @Override
    public int read() throws IOException {
        checkClosed();
        bitOffset = 0;
        if (streamPos >= data.length) {
            pastEnd();
            return -1;
        }
        return data[(int) streamPos++] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        checkClosed();
        if (off < 0 || len < 0 || off + len > b.length || off + len < 0) {
            throw new IndexOutOfBoundsException("off " + off + ", len " + len + ", buffer " + b.length);
        }
        bitOffset = 0;
        if (len == 0) return 0;
        if (streamPos >= data.length) {
            pastEnd();
            return -1;
        }
        int n = (int) Math.min(len, data.length - streamPos);
        System.arraycopy(data, (int) streamPos, b, off, n);
        streamPos += n;
        return n;
    }

    @Override
    public long length() {
        return data.length;
    }

    private void pastEnd() throws IIOException {
        if (++readsPastEnd > MAX_READS_PAST_END) {
            throw new IIOException("the decoder read past the end of the " + data.length + "-byte input "
                    + MAX_READS_PAST_END + " times: the image data is truncated");
        }
    }
}
