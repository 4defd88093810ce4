package org.internvl4j.spark;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.SparkConf;

/** What executors of a real cluster need, added to the conf unless the user set it (e.g. with spark-submit --conf). */
final class ClusterSettings {
    private ClusterSettings() {}

    /** The flags every JVM that runs the model needs: the Vector API module, and native access for mmap. */
    static final String JVM_FLAGS = "--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED";

    static void apply(SparkConf conf, PrintWriter err) {
        String opts = conf.get("spark.executor.extraJavaOptions", "");
        if (!opts.contains("jdk.incubator.vector")) opts = (opts + " " + JVM_FLAGS).trim();
        // One compute thread per task slot: executors sharing a machine must not each take every core.
        if (conf.contains("spark.executor.cores") && !opts.contains("-Dinternvl.threads=")) {
            opts += " -Dinternvl.threads=" + conf.get("spark.executor.cores");
        }
        conf.set("spark.executor.extraJavaOptions", opts);
        // Started by the CLI rather than spark-submit: ship the shaded jar so executors have our classes.
        if (!conf.contains("spark.jars")) {
            Path all = shadedJar();
            if (all != null) conf.set("spark.jars", all.toString());
            else err.println("spark-caption: no internvl4j-spark-*-all.jar beside this build; executors need it on their"
                    + " classpath (spark.jars or spark.executor.extraClassPath)");
        }
    }

    /** internvl4j-spark-VERSION-all.jar in the folder this class was loaded from (or its parent, for target/classes). */
    static Path shadedJar() {
        try {
            Path here = Path.of(ClusterSettings.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            for (Path dir : new Path[] {here.getParent(), here.getParent() == null ? null : here.getParent().getParent()}) {
                if (dir == null || !Files.isDirectory(dir)) continue;
                try (var files = Files.list(dir)) {
                    var jar = files.filter(f -> f.getFileName().toString().matches("internvl4j-spark-.*-all\\.jar")).findFirst();
                    if (jar.isPresent()) return jar.get();
                }
            }
        } catch (Exception e) {
            // not found: the caller says what to do
        }
        return null;
    }
}
