package org.internvl4j.spark;

import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.SparkEnv;
import org.internvl4j.chat.ChatModel;
import org.internvl4j.hub.ModelLocator;

/**
 * The models of this JVM, one per {@code --model} argument, loaded on first use and kept until the JVM exits:
 * every task an executor runs shares one memory-mapped copy of the weights (the model is thread-safe).
 */
final class ExecutorModels {
    private ExecutorModels() {}

    private static final ConcurrentHashMap<String, ChatModel> MODELS = new ConcurrentHashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> MODELS.values().forEach(ChatModel::close),
                "internvl-unmap"));
    }

    /** The model for {@code modelArg}, loading it (blocking concurrent callers for the same model) when absent. */
    static ChatModel get(String modelArg) {
        return MODELS.computeIfAbsent(modelArg, ExecutorModels::load);
    }

    /** How many models this JVM has loaded (tests check that the driver loaded none). */
    static int loads() {
        return LOADS.get();
    }

    private static ChatModel load(String modelArg) {
        try {
            Path dir = ModelLocator.resolve(modelArg);
            ChatModel m = ChatModel.load(dir);
            LOADS.incrementAndGet();
            return m;
        } catch (LinkageError e) {
            throw new IllegalStateException("executor " + where() + " cannot run the model '" + modelArg + "': " + e
                    + ". Start executors with " + ClusterSettings.JVM_FLAGS + " (spark.executor.extraJavaOptions).", e);
        } catch (RuntimeException e) {
            // A missing or unmappable model is not one row's fault: fail the task, saying where and why.
            throw new IllegalStateException("executor " + where() + " cannot find or map the model '" + modelArg
                    + "': " + e.getMessage() + ". Every executor opens the model itself: give a directory that exists at"
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
