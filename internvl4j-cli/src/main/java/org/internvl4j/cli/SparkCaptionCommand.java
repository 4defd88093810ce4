package org.internvl4j.cli;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/**
 * `internvl spark-caption`: captions a folder of images on Apache Spark. Spark is a few hundred MB of jars, so the
 * CLI does not carry it: this command starts {@code org.internvl4j.spark.SparkCaption} (module internvl4j-spark) in a
 * child JVM with the Spark jars that module's build copied to its target/lib, passing the arguments on unchanged.
 */
@Command(
        name = "spark-caption",
        header = "Captions a folder of images on Apache Spark into Parquet.",
        customSynopsis = {
            "internvl spark-caption --model DIR|owner/name --input DIR|glob",
            "      --output out.parquet [--prompt T] [--max-new-tokens N] [--master URL]",
            "      [--max-num N] [--batch-size N] [--quantize q8|q4] [--overwrite]"
        },
        description = {
            "Captions every image of a folder or glob on Apache Spark (local[*] by default) into a Parquet directory. "
                + "`internvl spark-caption --help` describes each option.",
            "Needs the internvl4j-spark module built (./mvnw package -DskipTests), or INTERNVL_SPARK_CLASSPATH set to a "
                + "classpath holding it and Spark 4 (Scala 2.13)."
        })
public final class SparkCaptionCommand implements Callable<Integer> {
    static final String MAIN_CLASS = "org.internvl4j.spark.SparkCaption";

    @Unmatched
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() throws IOException, InterruptedException {
        String explicit = System.getProperty("internvl.spark.classpath", System.getenv("INTERNVL_SPARK_CLASSPATH"));
        String classpath = explicit != null ? explicit : builtClasspath(codeLocation());
        Process p = new ProcessBuilder(childCommand(classpath, ManagementFactory.getRuntimeMXBean().getInputArguments(), args))
                .inheritIO().start();
        try {
            return p.waitFor();
        } catch (InterruptedException e) {
            p.destroy();
            throw e;
        }
    }

    /**
     * The child's command line: this JVM's java and flags (heap, --add-modules, -D settings), Spark's quieter log
     * configuration, then the arguments as given.
     */
    static List<String> childCommand(String classpath, List<String> jvmFlags, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String f : jvmFlags) {
            // debugger and agent flags would clash with this JVM's ports and files
            if (!f.startsWith("-agentlib") && !f.startsWith("-javaagent") && !f.startsWith("-Xrunjdwp")) cmd.add(f);
        }
        cmd.add("--sun-misc-unsafe-memory-access=allow");   // Spark's off-heap code uses sun.misc.Unsafe; JDK 25 warns
        if (jvmFlags.stream().noneMatch(f -> f.startsWith("-Dlog4j2.configurationFile"))) {
            cmd.add("-Dlog4j2.configurationFile=classpath:org/internvl4j/spark/cli-log4j2.properties");
        }
        cmd.add("-cp");
        cmd.add(classpath);
        cmd.add(MAIN_CLASS);
        cmd.addAll(args);
        return cmd;
    }

    /** Where this class was loaded from: the CLI jar, or target/classes in a build. */
    static Path codeLocation() {
        try {
            return Path.of(SparkCaptionCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (java.net.URISyntaxException | NullPointerException e) {
            return Path.of("");
        }
    }

    /**
     * The classpath of a built checkout: internvl4j-spark/target/internvl4j-spark-VERSION.jar and the jars its build
     * copied to target/lib, found by walking up from the CLI's own location.
     */
    static String builtClasspath(Path from) {
        for (Path p = from.toAbsolutePath(); p != null; p = p.getParent()) {
            Path target = p.resolve("internvl4j-spark").resolve("target");
            if (Files.isDirectory(target.resolve("lib"))) {
                try (var files = Files.list(target)) {
                    Path jar = files.filter(f -> {
                        String n = f.getFileName().toString();
                        return n.startsWith("internvl4j-spark-") && n.endsWith(".jar") && !n.endsWith("-all.jar")
                                && !n.endsWith("-sources.jar") && !n.endsWith("-tests.jar");
                    }).findFirst().orElse(null);
                    if (jar != null) return jar + File.pathSeparator + target.resolve("lib") + File.separator + "*";
                } catch (IOException e) {
                    throw new IllegalStateException("cannot list " + target + ": " + e.getMessage(), e);
                }
            }
        }
        throw new IllegalArgumentException("the internvl4j-spark module is not built (no internvl4j-spark/target/lib"
                + " above " + from + "): run ./mvnw -q package -DskipTests, or set INTERNVL_SPARK_CLASSPATH to a"
                + " classpath holding internvl4j-spark and Spark 4 with Scala 2.13");
    }
}
