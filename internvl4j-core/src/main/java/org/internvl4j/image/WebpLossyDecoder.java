package org.internvl4j.image;

import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_VP8;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_alloc;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_free;
import static org.bytedeco.ffmpeg.global.avcodec.av_new_packet;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_alloc_context3;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_find_decoder;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_free_context;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_open2;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_receive_frame;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_send_packet;
import static org.bytedeco.ffmpeg.global.avutil.AV_LOG_QUIET;
import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_YUV420P;
import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_YUVA420P;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_alloc;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_free;
import static org.bytedeco.ffmpeg.global.avutil.av_log_set_level;

import org.bytedeco.ffmpeg.avcodec.AVCodec;
import org.bytedeco.ffmpeg.avcodec.AVCodecContext;
import org.bytedeco.ffmpeg.avcodec.AVPacket;
import org.bytedeco.ffmpeg.avutil.AVDictionary;
import org.bytedeco.ffmpeg.avutil.AVFrame;

/**
 * Lossy WebP as Pillow 9.4 sees it through libwebp 1.2.4: the VP8 key frame is decoded to YUV 4:2:0 (VP8 decoding
 * is normative, so FFmpeg's VP8 decoder gives libwebp's planes), then libwebp's "fancy" chroma upsampler
 * (src/dsp/upsampling.c UpsampleRgbLinePair, driven as src/dec/io_dec.c EmitFancyRGB does) and its 14-bit
 * fixed-point YUV->RGB (src/dsp/yuv.h VP8YuvToRgb). Alpha (ALPH chunk) is dropped, as Pillow's convert('RGB') does.
 */
final class WebpLossyDecoder {

    private WebpLossyDecoder() {
    }

    /** True when the RIFF holds a lossy VP8 image (possibly inside VP8X with alpha), not VP8L. */
    static boolean isLossy(byte[] d) {
        return findChunk(d, "VP8 ") >= 0 && findChunk(d, "VP8L") < 0;
    }

    /** Offset of the payload of the first chunk with this fourcc, or -1. */
    private static int findChunk(byte[] d, String fourcc) {
        int p = 12;
        while (p + 8 <= d.length) {
            String id = new String(d, p, 4, java.nio.charset.StandardCharsets.US_ASCII);
            long size = (d[p + 4] & 0xFFL) | ((d[p + 5] & 0xFFL) << 8) | ((d[p + 6] & 0xFFL) << 16)
                    | ((d[p + 7] & 0xFFL) << 24);
            if (id.equals(fourcc)) {
                return p + 8;
            }
            p += 8 + (int) Math.min(size + (size & 1), Integer.MAX_VALUE - p - 16);
        }
        return -1;
    }

    static RgbImage decode(byte[] d, long maxPixels, String name) {
        int off = findChunk(d, "VP8 ");
        if (off < 0) {
            throw new ImageException("WEBP " + name + ": no VP8 chunk");
        }
        long size = (d[off - 4] & 0xFFL) | ((d[off - 3] & 0xFFL) << 8) | ((d[off - 2] & 0xFFL) << 16)
                | ((d[off - 1] & 0xFFL) << 24);
        if (off + size > d.length) {
            throw new ImageException("WEBP " + name + ": truncated: the VP8 chunk declares " + size
                    + " bytes, only " + (d.length - off) + " are present");
        }
        // the VP8 frame header's own size (RFC 6386 9.1: 14-bit width and height after the start code) may differ
        // from the VP8X canvas the caller checked; FFmpeg allocates by it, so it is checked first
        if (size >= 10) {
            long fw = ((d[off + 6] & 0xFF) | ((d[off + 7] & 0xFF) << 8)) & 0x3FFF;
            long fh = ((d[off + 8] & 0xFF) | ((d[off + 9] & 0xFF) << 8)) & 0x3FFF;
            if (fw * fh > 2 * maxPixels) ImageDecoder.checkPixels("WEBP", fw, fh, maxPixels, name);
        }
        av_log_set_level(AV_LOG_QUIET);
        AVCodec codec = avcodec_find_decoder(AV_CODEC_ID_VP8);
        if (codec == null) {
            throw new ImageException("WEBP " + name + ": FFmpeg has no VP8 decoder");
        }
        AVCodecContext ctx = avcodec_alloc_context3(codec);
        AVPacket pkt = av_packet_alloc();
        AVFrame frame = av_frame_alloc();
        try {
            ctx.thread_count(1);
            if (avcodec_open2(ctx, codec, (AVDictionary) null) < 0) {
                throw new ImageException("WEBP " + name + ": cannot open FFmpeg's VP8 decoder");
            }
            if (av_new_packet(pkt, (int) size) < 0) {
                throw new ImageException("WEBP " + name + ": out of memory for " + size + " bytes");
            }
            pkt.data().put(d, off, (int) size);
            int r = avcodec_send_packet(ctx, pkt);
            if (r >= 0) {
                avcodec_send_packet(ctx, null);
                r = avcodec_receive_frame(ctx, frame);
            }
            if (r < 0) {
                throw new ImageException("WEBP " + name + ": corrupt VP8 data (FFmpeg error " + r + ")");
            }
            int fmt = frame.format();
            if (fmt != AV_PIX_FMT_YUV420P && fmt != AV_PIX_FMT_YUVA420P) {
                throw new ImageException("WEBP " + name + ": VP8 decoded to unexpected pixel format " + fmt);
            }
            int w = frame.width();
            int h = frame.height();
            int uvw = (w + 1) / 2;
            int uvh = (h + 1) / 2;
            byte[] y = plane(frame, 0, w, h);
            byte[] u = plane(frame, 1, uvw, uvh);
            byte[] v = plane(frame, 2, uvw, uvh);
            return new RgbImage(w, h, fancyRgb(y, u, v, w, h));
        } finally {
            av_frame_free(frame);
            av_packet_free(pkt);
            avcodec_free_context(ctx);
        }
    }

    private static byte[] plane(AVFrame f, int i, int w, int h) {
        byte[] out = new byte[w * h];
        int stride = f.linesize(i);
        org.bytedeco.javacpp.BytePointer p = f.data(i);
        for (int r = 0; r < h; r++) {
            p.position((long) r * stride).get(out, r * w, w);
        }
        p.position(0);
        return out;
    }

    /** io_dec.c EmitFancyRGB over the whole picture: row 0 alone, then row pairs, then the last row if even. */
    static byte[] fancyRgb(byte[] y, byte[] u, byte[] v, int w, int h) {
        int uvw = (w + 1) / 2;
        byte[] rgb = new byte[w * h * 3];
        upsamplePair(y, 0, -1, u, v, 0, 0, uvw, rgb, 0, -1, w);
        int row = 0; // last finished output row
        int uvRow = 0;
        while (row + 2 < h) {
            // rows row+1 (top, nearer the previous chroma row) and row+2 (bottom)
            upsamplePair(y, (row + 1) * w, (row + 2) * w, u, v, uvRow * uvw, (uvRow + 1) * uvw, uvw, rgb,
                    (row + 1) * w * 3, (row + 2) * w * 3, w);
            row += 2;
            uvRow++;
        }
        if ((h & 1) == 0) {
            upsamplePair(y, (h - 1) * w, -1, u, v, uvRow * uvw, uvRow * uvw, uvw, rgb, (h - 1) * w * 3, -1, w);
        }
        return rgb;
    }

    /**
     * upsampling.c UPSAMPLE_FUNC for RGB: top row uses chroma rows (top, cur) weighted 3:1, bottom row 1:3, with
     * the 9-3-3-1 diagonal filter across. Packed u|v arithmetic of the C code is done per channel here; the
     * results are the same because neither half carries into the other.
     */
    private static void upsamplePair(byte[] y, int topY, int bottomY, byte[] u, byte[] v, int topUv, int curUv,
                                     int uvw, byte[] rgb, int topDst, int bottomDst, int len) {
        int lastPixelPair = (len - 1) >> 1;
        int tlU = u[topUv] & 0xFF;
        int tlV = v[topUv] & 0xFF;
        int lU = u[curUv] & 0xFF;
        int lV = v[curUv] & 0xFF;
        put(y[topY] & 0xFF, (3 * tlU + lU + 2) >> 2, (3 * tlV + lV + 2) >> 2, rgb, topDst);
        if (bottomY >= 0) {
            put(y[bottomY] & 0xFF, (3 * lU + tlU + 2) >> 2, (3 * lV + tlV + 2) >> 2, rgb, bottomDst);
        }
        for (int x = 1; x <= lastPixelPair; x++) {
            int tU = u[topUv + x] & 0xFF;
            int tV = v[topUv + x] & 0xFF;
            int cU = u[curUv + x] & 0xFF;
            int cV = v[curUv + x] & 0xFF;
            int avgU = tlU + tU + lU + cU + 8;
            int avgV = tlV + tV + lV + cV + 8;
            int d12U = (avgU + 2 * (tU + lU)) >> 3;
            int d12V = (avgV + 2 * (tV + lV)) >> 3;
            int d03U = (avgU + 2 * (tlU + cU)) >> 3;
            int d03V = (avgV + 2 * (tlV + cV)) >> 3;
            put(y[topY + 2 * x - 1] & 0xFF, (d12U + tlU) >> 1, (d12V + tlV) >> 1, rgb, topDst + (2 * x - 1) * 3);
            put(y[topY + 2 * x] & 0xFF, (d03U + tU) >> 1, (d03V + tV) >> 1, rgb, topDst + 2 * x * 3);
            if (bottomY >= 0) {
                put(y[bottomY + 2 * x - 1] & 0xFF, (d03U + lU) >> 1, (d03V + lV) >> 1, rgb,
                        bottomDst + (2 * x - 1) * 3);
                put(y[bottomY + 2 * x] & 0xFF, (d12U + cU) >> 1, (d12V + cV) >> 1, rgb, bottomDst + 2 * x * 3);
            }
            tlU = tU;
            tlV = tV;
            lU = cU;
            lV = cV;
        }
        if ((len & 1) == 0) {
            put(y[topY + len - 1] & 0xFF, (3 * tlU + lU + 2) >> 2, (3 * tlV + lV + 2) >> 2, rgb,
                    topDst + (len - 1) * 3);
            if (bottomY >= 0) {
                put(y[bottomY + len - 1] & 0xFF, (3 * lU + tlU + 2) >> 2, (3 * lV + tlV + 2) >> 2, rgb,
                        bottomDst + (len - 1) * 3);
            }
        }
    }

    // yuv.h: YUV_FIX2 = 6, MultHi(v, coeff) = (v * coeff) >> 8
    private static int clip8(int v) {
        return (v & ~((256 << 6) - 1)) == 0 ? v >> 6 : (v < 0 ? 0 : 255);
    }

    private static int multHi(int v, int coeff) {
        return (v * coeff) >> 8;
    }

    private static void put(int y, int u, int v, byte[] rgb, int o) {
        rgb[o] = (byte) clip8(multHi(y, 19077) + multHi(v, 26149) - 14234);
        rgb[o + 1] = (byte) clip8(multHi(y, 19077) - multHi(u, 6419) - multHi(v, 13320) + 8708);
        rgb[o + 2] = (byte) clip8(multHi(y, 19077) + multHi(u, 33050) - 17685);
    }
}
