package org.internvl4j.spark;

import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.SparkEnv;
import org.internvl4j.chat.ChatModel;
import org.internvl4j.checkpoint.Quantization;
import org.internvl4j.hub.ModelLocator;
import org.internvl4j.tensor.DType;

/**
 * The models of this JVM, one per {@code --model} argument and weight format, loaded on first use and kept until the
 * JVM exits: every task an executor runs shares one memory-mapped copy of the weights (the model is thread-safe).
 * The format (the captioner's {@code quantize} param) goes to the loader as an argument, not through the JVM-wide
 * {@value Quantization#PROPERTY}, so captioners with different formats can share an executor.
 */
final class ExecutorModels {
    private ExecutorModels() {}

    /** A model argument and the format its linear weights are quantized to at load (null: as stored). */
    private record Key(String model, DType quantize) {}

    private static final ConcurrentHashMap<Key, ChatModel> MODELS = new ConcurrentHashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> MODELS.values().forEach(ChatModel::close),
                "internvl-unmap"));
    }

    /** The model for {@code modelArg} as stored (or as this JVM's {@value Quantization#PROPERTY} says). */
    static ChatModel get(String modelArg) {
        return get(modelArg, null);
    }

    /**
     * The model for {@code modelArg} with its language model's linear weights quantized at load to {@code quantize}
     * (q8 or q4; none: as stored; null: as stored, or as this JVM's {@value Quantization#PROPERTY} says when its
     * options set one), loading it (blocking concurrent callers for the same model and format) when absent.
     */
    static ChatModel get(String modelArg, String quantize) {
        DType format = quantize == null || quantize.isBlank()
                ? Quantization.fromSystemProperty()
                : Quantization.parse(quantize, "InternVLCaptioner's quantize param");
        return MODELS.computeIfAbsent(new Key(modelArg, format), ExecutorModels::load);
    }

    /** How many models this JVM has loaded (tests check that the driver loaded none). */
    static int loads() {
        return LOADS.get();
    }

    private static ChatModel load(Key key) {
        String modelArg = key.model();
        try {
            Path dir = ModelLocator.resolve(modelArg);
            ChatModel m = ChatModel.load(dir, key.quantize());
            LOADS.incrementAndGet();
            return m;
        } catch (LinkageError e) {
            throw new IllegalStateException("executor " + where() + " cannot run the model '" + modelArg + "': " + e
                    + ". Start executors with " + ClusterSettings.JVM_FLAGS + " (spark.executor.extraJavaOptions).", e);
        } catch (RuntimeException e) {
            // A missing or unmappable model is not one row's fault: fail the task, saying where and why.
            throw new IllegalStateException("executor " + where() + " cannot find or map the model '" + modelArg + "'"
                    + (key.quantize() == null ? "" : " (quantizing to " + Quantization.shortName(key.quantize()) + " at load)")
                    + ": " + e.getMessage() + ". Every executor opens the model itself: give a directory that exists at"
                    + " the same path on every worker (shared storage or a copy on each), or a hub id that is in each"
                    + " worker's Hugging Face cache or can be downloaded there.", e);
        }
    }

    private static String where() {
        SparkEnv env = SparkEnv.get();
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            host = "?";
        }
        return (env == null ? "?" : env.executorId()) + " on " + host;
    }
}
