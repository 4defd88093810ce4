package org.internvl4j.image;

import static org.bytedeco.ffmpeg.global.avcodec.av_packet_alloc;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_free;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_unref;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_alloc_context3;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_find_decoder;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_free_context;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_open2;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_parameters_to_context;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_receive_frame;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_send_packet;
import static org.bytedeco.ffmpeg.global.avformat.av_find_best_stream;
import static org.bytedeco.ffmpeg.global.avformat.av_read_frame;
import static org.bytedeco.ffmpeg.global.avformat.avformat_close_input;
import static org.bytedeco.ffmpeg.global.avformat.avformat_find_stream_info;
import static org.bytedeco.ffmpeg.global.avformat.avformat_open_input;
import static org.bytedeco.ffmpeg.global.avutil.AVERROR_EOF;
import static org.bytedeco.ffmpeg.global.avutil.AVMEDIA_TYPE_VIDEO;
import static org.bytedeco.ffmpeg.global.avutil.AV_LOG_ERROR;
import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_RGB24;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_alloc;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_free;
import static org.bytedeco.ffmpeg.global.avutil.av_log_set_level;
import static org.bytedeco.ffmpeg.global.avutil.av_strerror;
import static org.bytedeco.ffmpeg.global.swscale.SWS_BICUBIC;
import static org.bytedeco.ffmpeg.global.swscale.sws_freeContext;
import static org.bytedeco.ffmpeg.global.swscale.sws_getContext;
import static org.bytedeco.ffmpeg.global.swscale.sws_scale;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.ffmpeg.avcodec.AVCodec;
import org.bytedeco.ffmpeg.avcodec.AVCodecContext;
import org.bytedeco.ffmpeg.avcodec.AVPacket;
import org.bytedeco.ffmpeg.avformat.AVFormatContext;
import org.bytedeco.ffmpeg.avformat.AVStream;
import org.bytedeco.ffmpeg.avutil.AVDictionary;
import org.bytedeco.ffmpeg.avutil.AVFrame;
import org.bytedeco.ffmpeg.avutil.AVRational;
import org.bytedeco.ffmpeg.swscale.SwsContext;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerPointer;
import org.internvl4j.util.Limits;

/**
 * The model card's {@code load_video}: sample {@code numSegments} frames with {@link #getIndex}, decode them with
 * FFmpeg (any container/codec FFmpeg reads: mp4/H.264, webm/VP9, avi, ...), convert to RGB24 and preprocess each
 * frame with the given {@link ImagePreprocessor} (the model card uses max_num 1 for video).
 *
 * <p>The frame count is the number of video packets (what decord's {@code len(vr)} counts) and the fps is the
 * stream's average frame rate ({@code vr.get_avg_fps()}).
 */
public final class VideoLoader {

    private VideoLoader() {
    }

    /** Frame count and average fps of a video's best video stream. */
    public record VideoInfo(int frames, double fps, int width, int height, String codec) {
    }

    /**
     * The model card's {@code get_index(bound, fps, max_frame, first_idx, num_segments)}: the middle frame of each
     * of numSegments equal segments of [start, end] (seconds, or the whole video when bound is null). Python's
     * {@code round} and {@code np.round} round half to even, {@code int()} truncates toward zero.
     */
    public static int[] getIndex(double[] bound, double fps, int maxFrame, int firstIdx, int numSegments) {
        double start;
        double end;
        if (bound != null) {
            if (bound.length != 2) {
                throw new ImageException("bound must be [start, end] in seconds, got " + bound.length + " values");
            }
            start = bound[0];
            end = bound[1];
        } else {
            start = -100000;
            end = 100000;
        }
        long startIdx = Math.max(firstIdx, (long) Math.rint(start * fps));
        long endIdx = Math.min((long) Math.rint(end * fps), maxFrame);
        double segSize = (double) (endIdx - startIdx) / numSegments;
        int[] idx = new int[numSegments];
        for (int i = 0; i < numSegments; i++) {
            idx[i] = (int) (startIdx + (segSize / 2) + Math.rint(segSize * i));
        }
        return idx;
    }

    /** Samples and preprocesses frames; {@code bound} is {@code [start, end]} in seconds or null. */
    public static VideoFrames load(Path file, int numSegments, double[] bound, ImagePreprocessor pre) {
        if (numSegments < 1) {
            throw new ImageException("numSegments must be >= 1, got " + numSegments);
        }
        int tileLimit = Limits.current().tilesPerRequest();
        if (numSegments > tileLimit) {
            throw new ImageException(numSegments + " segments would make more than " + tileLimit
                    + " tiles, the limit per request (-D" + Limits.PREFIX + "tilesPerRequest)");
        }
        VideoInfo info = probe(file);
        if (info.frames() < 1) {
            throw new ImageException(file + ": the video stream has no frames");
        }
        int[] indices = getIndex(bound, info.fps(), info.frames() - 1, 0, numSegments);
        Map<Integer, RgbImage> decoded = decodeFrames(file, indices, pre.maxPixels());
        List<PixelValues> frames = new ArrayList<>();
        for (int i : indices) {
            RgbImage img = decoded.get(i);
            if (img == null) {
                throw new ImageException(file + ": frame " + i + " of " + info.frames() + " could not be decoded");
            }
            frames.add(pre.preprocess(img));
        }
        return new VideoFrames(frames, indices, info.fps());
    }

    /** Frame count (by counting packets, no decoding) and average fps, within the video limits of {@link Limits}. */
    public static VideoInfo probe(Path file) {
        return probe(file, Limits.current());
    }

    /**
     * As {@link #probe(Path)} with these limits: more than {@code videoFrames} frames, or a duration (the
     * container's, else frames / fps) above {@code videoSeconds}, is refused; counting stops at the first frame
     * past the limit, so a huge file is not read to its end.
     */
    public static VideoInfo probe(Path file, Limits limits) {
        try (Opened o = open(file)) {
            long containerMicros = o.fmt.duration(); // AV_TIME_BASE units; AV_NOPTS_VALUE (< 0) when unknown
            if (containerMicros > 0 && containerMicros / 1e6 > limits.videoSeconds()) {
                throw new ImageException(file + ": the video lasts " + String.format(java.util.Locale.ROOT, "%.1f", containerMicros / 1e6)
                        + " s, above the limit of " + limits.videoSeconds() + " s (-D" + Limits.PREFIX + "videoSeconds)");
            }
            AVPacket pkt = av_packet_alloc();
            int frames = 0;
            try {
                while (av_read_frame(o.fmt, pkt) >= 0) {
                    if (pkt.stream_index() == o.streamIndex && ++frames > limits.videoFrames()) {
                        av_packet_unref(pkt);
                        throw new ImageException(file + ": the video has more than " + Limits.count(limits.videoFrames())
                                + " frames, the limit (-D" + Limits.PREFIX + "videoFrames)");
                    }
                    av_packet_unref(pkt);
                }
            } finally {
                av_packet_free(pkt);
            }
            AVStream st = o.fmt.streams(o.streamIndex);
            double fps = rate(st.avg_frame_rate());
            if (!(fps > 0)) {
                fps = rate(st.r_frame_rate());
            }
            if (!(fps > 0)) {
                throw new ImageException(file + ": the video stream declares no frame rate");
            }
            if (frames / fps > limits.videoSeconds()) {
                throw new ImageException(file + ": the video lasts " + String.format(java.util.Locale.ROOT, "%.1f", frames / fps)
                        + " s (" + frames + " frames at " + fps + " fps), above the limit of " + limits.videoSeconds()
                        + " s (-D" + Limits.PREFIX + "videoSeconds)");
            }
            AVCodec codec = avcodec_find_decoder(st.codecpar().codec_id());
            return new VideoInfo(frames, fps, st.codecpar().width(), st.codecpar().height(),
                    codec == null ? "unknown" : codec.name().getString());
        }
    }

    private static double rate(AVRational r) {
        return r.den() == 0 ? 0 : (double) r.num() / r.den();
    }

    /** Decodes the stream in order and keeps the frames whose 0-based number is in wanted. */
    static Map<Integer, RgbImage> decodeFrames(Path file, int[] wanted, long maxPixels) {
        int last = -1;
        java.util.Set<Integer> want = new java.util.HashSet<>();
        for (int w : wanted) {
            want.add(w);
            last = Math.max(last, w);
        }
        Map<Integer, RgbImage> out = new HashMap<>();
        try (Opened o = open(file)) {
            AVStream st = o.fmt.streams(o.streamIndex);
            AVCodec codec = avcodec_find_decoder(st.codecpar().codec_id());
            if (codec == null) {
                throw new ImageException(file + ": no decoder for codec id " + st.codecpar().codec_id());
            }
            ImageDecoder.checkPixels("video", st.codecpar().width(), st.codecpar().height(), maxPixels, file.toString());
            AVCodecContext ctx = avcodec_alloc_context3(codec);
            AVPacket pkt = av_packet_alloc();
            AVFrame frame = av_frame_alloc();
            int[] counter = {0};
            try {
                check(avcodec_parameters_to_context(ctx, st.codecpar()), file, "avcodec_parameters_to_context");
                ctx.thread_count(1);
                check(avcodec_open2(ctx, codec, (AVDictionary) null), file, "avcodec_open2");
                boolean done = false;
                while (!done && av_read_frame(o.fmt, pkt) >= 0) {
                    if (pkt.stream_index() == o.streamIndex) {
                        int r = avcodec_send_packet(ctx, pkt);
                        av_packet_unref(pkt);
                        if (r < 0 && r != -11 /* EAGAIN */) {
                            throw new ImageException(file + ": corrupt video data (" + err(r) + ")");
                        }
                        done = drain(ctx, frame, counter, want, last, out, file, maxPixels);
                    } else {
                        av_packet_unref(pkt);
                    }
                }
                if (!done) {
                    avcodec_send_packet(ctx, null); // flush delayed frames
                    drain(ctx, frame, counter, want, last, out, file, maxPixels);
                }
            } finally {
                av_frame_free(frame);
                av_packet_free(pkt);
                avcodec_free_context(ctx);
            }
        }
        return out;
    }

    private static boolean drain(AVCodecContext ctx, AVFrame frame, int[] counter, java.util.Set<Integer> want,
                                 int last, Map<Integer, RgbImage> out, Path file, long maxPixels) {
        while (true) {
            int r = avcodec_receive_frame(ctx, frame);
            if (r == -11 || r == AVERROR_EOF()) {
                return false;
            }
            if (r < 0) {
                throw new ImageException(file + ": corrupt video data (" + err(r) + ")");
            }
            int n = counter[0]++;
            if (want.contains(n)) {
                out.put(n, toRgb(frame, file, maxPixels));
            }
            if (n >= last) {
                return true;
            }
        }
    }

    /** An AVFrame in any pixel format to RGB24 with swscale. */
    static RgbImage toRgb(AVFrame frame, Path file, long maxPixels) {
        int w = frame.width();
        int h = frame.height();
        // a frame's own size may differ from the stream's, which was checked before decoding
        ImageDecoder.checkPixels("video frame of", w, h, maxPixels, file.toString());
        SwsContext sws = sws_getContext(w, h, frame.format(), w, h, AV_PIX_FMT_RGB24, SWS_BICUBIC, null, null,
                (DoublePointer) null);
        if (sws == null) {
            throw new ImageException(file + ": cannot convert pixel format " + frame.format() + " to RGB");
        }
        try (BytePointer dst = new BytePointer((long) w * h * 3); IntPointer dstStride = new IntPointer(1)) {
            dstStride.put(0, w * 3);
            PointerPointer<?> dstData = new PointerPointer<>(1).put(0, dst);
            sws_scale(sws, frame.data(), frame.linesize(), 0, h, dstData, dstStride);
            byte[] rgb = new byte[w * h * 3];
            dst.get(rgb);
            dstData.close();
            return new RgbImage(w, h, rgb);
        } finally {
            sws_freeContext(sws);
        }
    }

    private static void check(int r, Path file, String what) {
        if (r < 0) {
            throw new ImageException(file + ": " + what + " failed (" + err(r) + ")");
        }
    }

    private static String err(int r) {
        byte[] buf = new byte[256];
        av_strerror(r, buf, buf.length);
        int n = 0;
        while (n < buf.length && buf[n] != 0) {
            n++;
        }
        return new String(buf, 0, n) + ", code " + r;
    }

    /** An opened container with its best video stream. */
    private static final class Opened implements AutoCloseable {
        final AVFormatContext fmt;
        final int streamIndex;

        Opened(AVFormatContext fmt, int streamIndex) {
            this.fmt = fmt;
            this.streamIndex = streamIndex;
        }

        @Override
        public void close() {
            avformat_close_input(fmt);
        }
    }

    private static Opened open(Path file) {
        if (Files.isDirectory(file)) {
            throw new ImageException(file + ": is a directory, not a video file");
        }
        if (!Files.isRegularFile(file)) {
            throw new ImageException(file + ": no such video file");
        }
        av_log_set_level(AV_LOG_ERROR);
        AVFormatContext fmt = new AVFormatContext(null);
        int r = avformat_open_input(fmt, file.toString(), null, null);
        if (r < 0) {
            throw new ImageException(file + ": not a readable video (" + err(r) + ")");
        }
        boolean ok = false;
        try {
            check(avformat_find_stream_info(fmt, (PointerPointer<?>) null), file, "reading stream info");
            int s = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, (AVCodec) null, 0);
            if (s < 0) {
                throw new ImageException(file + ": no video stream (" + err(s) + ")");
            }
            ok = true;
            return new Opened(fmt, s);
        } finally {
            if (!ok) {
                avformat_close_input(fmt);
            }
        }
    }
}
