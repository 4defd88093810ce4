package org.internvl4j.spark;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.SparkConf;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.internvl4j.checkpoint.Quantization;
import org.internvl4j.hub.ModelLocator;
import org.internvl4j.tensor.DType;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code internvl spark-caption}: captions a folder or glob of images with {@link InternVLCaptioner} and writes
 * Spark's Parquet directory. Runs on a local Spark ({@code local[*]}) by default; under {@code spark-submit} it
 * takes the master spark-submit gives it.
 */
@Command(name = "spark-caption", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Captions every image of a folder or glob on Apache Spark (a local Spark by default) and writes",
            "the answers as a Parquet directory: path, answer, prompt_tokens, generated_tokens, finish_reason,",
            "latency_ms, error. A bad image fails its row (error column), not the job."})
public final class SparkCaption implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR|OWNER/NAME[@REV]",
            description = "A checkpoint directory (at the same path on every executor), or a Hugging Face id.")
    String model;

    @Option(names = "--input", required = true, paramLabel = "DIR|GLOB",
            description = "A folder (searched recursively for .jpg .jpeg .png .bmp .gif .webp) or a glob such as 'photos/*.jpg';"
                    + " any Hadoop file system URI works (file:, hdfs:, s3a:).")
    String input;

    @Option(names = "--output", required = true, paramLabel = "OUT.parquet", description = "Parquet directory to write.")
    String output;

    @Option(names = "--prompt", paramLabel = "T", description = "Question asked about each image (default: \"${DEFAULT-VALUE}\").")
    String prompt = InternVLCaptioner.DEFAULT_PROMPT;

    @Option(names = "--max-new-tokens", paramLabel = "N", description = "Generated tokens at most per image (default: ${DEFAULT-VALUE}).")
    int maxNewTokens = 256;

    @Option(names = "--master", paramLabel = "URL",
            description = "Spark master: local[*] (default, unless spark-submit set one), local[N], spark://HOST:7077, ...")
    String master;

    @Option(names = "--max-num", paramLabel = "N", description = "Tiles per image at most (default: the checkpoint's max_dynamic_patch).")
    int maxNum = 0;

    @Option(names = "--batch-size", paramLabel = "N", description = "Images generated together per pass over the weights (default: ${DEFAULT-VALUE}).")
    int batchSize = 4;

    @Option(names = "--quantize", paramLabel = "q8|q4",
            description = "Quantize the language model's linear weights as each executor loads the model: q8 (Q8_0, 8.5 bits per weight) "
                    + "or q4 (Q4_0, 4.5 bits). See docs/QUANTIZATION.md; `internvl quantize` writes a quantized checkpoint once instead.")
    String quantize;

    @Option(names = "--overwrite", description = "Replace the output directory if it exists.")
    boolean overwrite;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    static final String IMAGE_GLOB = "*.{jpg,jpeg,png,bmp,gif,webp,JPG,JPEG,PNG,BMP,GIF,WEBP}";

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        return new CommandLine(new SparkCaption()).setExecutionExceptionHandler((e, cl, parsed) -> {
            String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            cl.getErr().println("internvl spark-caption: " + m.lines().findFirst().orElse(""));
            if (System.getenv("INTERNVL_DEBUG") != null) e.printStackTrace(cl.getErr());
            return 1;
        });
    }

    @Override
    public Integer call() {
        if (maxNewTokens < 1) throw new IllegalArgumentException("--max-new-tokens must be >= 1, got " + maxNewTokens);
        if (batchSize < 1) throw new IllegalArgumentException("--batch-size must be >= 1, got " + batchSize);
        if (maxNum < 0) throw new IllegalArgumentException("--max-num must be >= 0, got " + maxNum);
        DType format = Quantization.parse(quantize, "--quantize");   // a bad name fails here, before Spark starts
        if (!overwrite && !output.contains(":") && Files.exists(Path.of(output))) {
            throw new IllegalArgumentException("--output " + output + " exists; remove it or add --overwrite");
        }
        var err = spec.commandLine().getErr();
        SparkConf conf = new SparkConf().setAppName("internvl spark-caption");
        if (master != null) conf.setMaster(master);
        else if (!conf.contains("spark.master")) conf.setMaster("local[*]");
        conf.setIfMissing("spark.ui.showConsoleProgress", "false");   // our own progress line instead
        String modelArg = model;
        if (conf.get("spark.master").startsWith("local")) {
            // Local: the executor is this JVM, so resolve (and download) once here, with the usual progress bars.
            modelArg = ModelLocator.resolve(model).toString();
            if (format != null) Quantization.listener(quantizing(err));
        } else {
            ClusterSettings.apply(conf, err);
        }

        long t0 = System.nanoTime();
        SparkSession spark = SparkSession.builder().config(conf).getOrCreate();
        try {
            Dataset<Row> files = listImages(spark);
            long n = files.count();
            if (n == 0) throw new IllegalArgumentException("--input " + input + ": no images found");
            // Small tasks: an image at a time is seconds of work, so a task per batch keeps executors evenly busy,
            // and progress (counted as tasks end) moves smoothly.
            int tasks = (int) Math.max(1, Math.min(100_000, (n + batchSize - 1) / batchSize));
            Dataset<Row> captioned = new InternVLCaptioner().setModel(modelArg).setImageCol("path").setPrompt(prompt)
                    .setMaxNewTokens(maxNewTokens).setMaxNum(maxNum).setBatchSize(batchSize).setQuantize(quantize)
                    .transform(files.repartition(tasks));
            AtomicLong done = new AtomicLong();
            spark.sparkContext().addSparkListener(new SparkListener() {
                @Override
                public void onTaskEnd(SparkListenerTaskEnd end) {
                    if (end.taskMetrics() != null && end.reason() instanceof org.apache.spark.Success$) {
                        done.addAndGet(end.taskMetrics().outputMetrics().recordsWritten());
                    }
                }
            });
            long tStart = System.nanoTime();
            try (Progress progress = new Progress(err, n, done, tStart)) {
                captioned.select("path", "answer", InternVLCaptioner.PROMPT_TOKENS, InternVLCaptioner.GENERATED_TOKENS,
                                InternVLCaptioner.FINISH_REASON, InternVLCaptioner.LATENCY_MS, "error")
                        .write().mode(overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists).parquet(output);
            }
            double seconds = (System.nanoTime() - tStart) / 1e9;
            Dataset<Row> written = spark.read().parquet(output);
            long failed = written.filter(functions.col("error").isNotNull()).count();
            spec.commandLine().getOut().printf(Locale.ROOT,
                    "wrote %d answers (%d failed) to %s in %.1f s: %.1f images/min (%.1f s with Spark's start)%n",
                    n, failed, output, seconds, n / seconds * 60, (System.nanoTime() - t0) / 1e9);
            if (failed > 0) {
                written.filter(functions.col("error").isNotNull()).select("path", "error").limit(3).collectAsList()
                        .forEach(r -> err.println("  " + r.getString(0) + ": " + r.getString(1)));
            }
            return 0;
        } finally {
            spark.stop();
        }
    }

    /** Local mode: the model loads in this JVM, so say when quantizing starts and ends (it can take a minute). */
    private static Quantization.Listener quantizing(java.io.PrintWriter err) {
        return new Quantization.Listener() {
            private long start;

            @Override
            public void started(DType format, long sourceBytes) {
                start = System.nanoTime();
                err.printf(Locale.ROOT, "spark-caption: quantizing %.0f MB of weights to %s ...%n", sourceBytes / 1e6,
                        Quantization.shortName(format));
                err.flush();
            }

            @Override
            public void finished() {
                err.printf(Locale.ROOT, "spark-caption: quantized in %.1f s%n", (System.nanoTime() - start) / 1e9);
                err.flush();
            }
        };
    }

    /** The input as a table of paths: binaryFile lists the files; its content column is not read here. */
    private Dataset<Row> listImages(SparkSession spark) {
        var reader = spark.read().format("binaryFile");
        boolean localDir = !input.contains(":") && Files.isDirectory(Path.of(input));
        if (localDir || (input.contains(":") && !input.matches(".*[*?\\[{].*"))) {
            reader = reader.option("recursiveFileLookup", "true").option("pathGlobFilter", IMAGE_GLOB);
        }
        return reader.load(input).select("path");
    }

    /** A progress line on stderr: redrawn in place on a terminal, a line every 10 s otherwise. */
    private static final class Progress implements AutoCloseable {
        private final Thread thread;
        private final boolean tty = System.console() != null && System.console().isTerminal();

        Progress(java.io.PrintWriter err, long total, AtomicLong done, long start) {
            thread = Thread.ofPlatform().daemon().name("spark-caption-progress").start(() -> {
                try {
                    while (true) {
                        Thread.sleep(tty ? 1000 : 10_000);
                        err.print(line(total, done.get(), start) + (tty ? "\r" : "\n"));
                        err.flush();
                    }
                } catch (InterruptedException e) {
                    err.print(line(total, done.get(), start) + "\n");
                    err.flush();
                }
            });
        }

        static String line(long total, long done, long start) {
            double s = (System.nanoTime() - start) / 1e9;
            return String.format(Locale.ROOT, "spark-caption: %d/%d images, %.1f images/min, %.0f s", done, total,
                    s > 0 ? done / s * 60 : 0, s);
        }

        @Override
        public void close() {
            thread.interrupt();
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
