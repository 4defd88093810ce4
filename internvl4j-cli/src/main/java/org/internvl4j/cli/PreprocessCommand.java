package org.internvl4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import org.internvl4j.image.ImageDecoder;
import org.internvl4j.image.ImageException;
import org.internvl4j.image.ImagePreprocessor;
import org.internvl4j.image.ImageSource;
import org.internvl4j.image.PixelValues;
import org.internvl4j.image.RgbImage;
import org.internvl4j.image.VideoFrames;
import org.internvl4j.image.VideoLoader;
import org.internvl4j.util.Npy;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code internvl preprocess}: the model card's image/video preprocessing, written as float32 .npy. */
@Command(name = "preprocess", mixinStandardHelpOptions = true,
        header = "Turns an image or a video into the vision tower's input.",
        description = {"Turns an image (or video frames) into the vision tower's input, exactly as the model card's "
                + "load_image / load_video do: dynamic 448 px tiles + thumbnail, normalised, float32 [tiles, 3, 448, 448]."})
public final class PreprocessCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--image", paramLabel = "FILE|URL", description = "Image file, http(s) URL or data: URI.")
        String image;

        @Option(names = "--video", paramLabel = "FILE", description = "Video file (mp4, webm, avi, ...).")
        Path video;
    }

    @Option(names = "--max-num", paramLabel = "N", description = "Tiles at most (default: 12 for an image, 1 for video frames).")
    Integer maxNum;

    @Option(names = "--min-num", defaultValue = "1", paramLabel = "N", description = "Tiles at least (default: ${DEFAULT-VALUE}).")
    int minNum;

    @Option(names = "--input-size", defaultValue = "448", paramLabel = "PX", description = "Tile size in pixels (default: ${DEFAULT-VALUE}).")
    int inputSize;

    @Option(names = "--no-thumbnail", description = "Do not append the thumbnail tile.")
    boolean noThumbnail;

    @Option(names = "--max-pixels", defaultValue = "89478485",
            paramLabel = "N", description = "Warn above N pixels, refuse above twice N, as Pillow does (default: ${DEFAULT-VALUE}, Pillow's MAX_IMAGE_PIXELS).")
    long maxPixels;

    @Option(names = "--segments", defaultValue = "8", paramLabel = "N", description = "Video: frames to sample (default: ${DEFAULT-VALUE}).")
    int segments;

    @Option(names = "--bound", arity = "2", paramLabel = "SECONDS", description = "Video: START END in seconds.")
    double[] bound;

    @Option(names = "--out", paramLabel = "FILE.npy", description = "Write the pixel values as float32 .npy.")
    Path out;

    @Option(names = "--bench", paramLabel = "N", defaultValue = "0",
            description = "Image: repeat decode + preprocess N times and print the timings.")
    int bench;

    @Override
    public Integer call() {
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            int max = maxNum != null ? maxNum : (input.video != null ? 1 : 12);
            ImagePreprocessor pre = ImagePreprocessor.builder().maxNum(max).minNum(minNum).inputSize(inputSize)
                    .useThumbnail(!noThumbnail).maxPixels(maxPixels).build();
            if (input.video != null) {
                video(pre, o);
            } else {
                image(pre, o);
            }
            o.flush();
            return 0;
        } catch (ImageException | IllegalArgumentException e) {
            err.println("internvl preprocess: " + e.getMessage());
            err.flush();
            return 1;
        }
    }

    private void image(ImagePreprocessor pre, PrintWriter o) {
        if (bench > 0) {
            bench(pre, o);
        }
        PixelValues pv = pre.load(input.image);
        int grid = pv.gridCols() * pv.gridRows();
        o.printf("grid %dx%d (cols x rows): %d tile%s%s, shape %s%n", pv.gridCols(), pv.gridRows(), grid,
                grid == 1 ? "" : "s", pv.hasThumbnail() ? " + thumbnail" : "", Arrays.toString(pv.shape()));
        if (out != null) {
            Npy.writeFloat32(out, pv.data(), pv.shape());
            o.println("wrote " + out);
        }
    }

    private void video(ImagePreprocessor pre, PrintWriter o) {
        VideoFrames vf = VideoLoader.load(input.video, segments, bound, pre);
        int total = Arrays.stream(vf.numPatchesList()).sum();
        int size = pre.inputSize();
        o.printf("fps %.3f, sampled frames %s%n", vf.fps(), Arrays.toString(vf.frameIndices()));
        for (int i = 0; i < vf.frames().size(); i++) {
            PixelValues p = vf.frames().get(i);
            o.printf("frame %d (index %d): grid %dx%d, %d tile%s%n", i + 1, vf.frameIndices()[i], p.gridCols(),
                    p.gridRows(), p.tiles(), p.tiles() == 1 ? "" : "s");
        }
        o.printf("num_patches_list %s, shape [%d, 3, %d, %d]%n", Arrays.toString(vf.numPatchesList()), total, size, size);
        o.print("prompt prefix:\n" + vf.promptPrefix());
        if (out != null) {
            float[] all = new float[total * 3 * size * size];
            int pos = 0;
            for (PixelValues p : vf.frames()) {
                System.arraycopy(p.data(), 0, all, pos, p.data().length);
                pos += p.data().length;
            }
            Npy.writeFloat32(out, all, total, 3, size, size);
            o.println("wrote " + out);
        }
    }

    /** Decode and preprocess timings: one warm-up round, then N timed rounds (median, min, max). */
    private void bench(ImagePreprocessor pre, PrintWriter o) {
        byte[] bytes = ImageSource.fetch(input.image, pre.maxBytes());
        long[] dec = new long[bench];
        long[] prep = new long[bench];
        for (int i = -1; i < bench; i++) {
            long t0 = System.nanoTime();
            RgbImage img = ImageDecoder.decode(bytes, pre.maxPixels(), input.image);
            long t1 = System.nanoTime();
            PixelValues pv = pre.preprocess(img);
            long t2 = System.nanoTime();
            if (pv.tiles() < 1) {
                throw new IllegalStateException();
            }
            if (i >= 0) {
                dec[i] = t1 - t0;
                prep[i] = t2 - t1;
            }
        }
        long[] total = new long[bench];
        for (int i = 0; i < bench; i++) {
            total[i] = dec[i] + prep[i];
        }
        o.printf("bench over %d runs (ms, median [min..max]): decode %s, tile+resize+normalise %s, total %s%n", bench,
                stats(dec), stats(prep), stats(total));
    }

    private static String stats(long[] ns) {
        long[] s = ns.clone();
        Arrays.sort(s);
        return String.format("%.1f [%.1f..%.1f]", s[s.length / 2] / 1e6, s[0] / 1e6, s[s.length - 1] / 1e6);
    }
}
