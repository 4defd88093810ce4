package org.internvl4j.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.internvl4j.spark.SparkTestSupport.*;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.internvl4j.chat.ChatResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real standalone cluster on loopback: a master and two workers, each a separate JVM started from the Spark jars on
 * the test classpath, each worker launching its own executor JVM. The job must load the model in those executors
 * (never in this driver JVM) and give ChatModel's answers. Small: 1 core and 1 GB per worker.
 */
class StandaloneClusterTest {
    private final List<Process> daemons = new ArrayList<>();
    private final Thread reaper = new Thread(this::killAll, "kill-spark-daemons");
    @TempDir
    Path tmp;

    @Test
    @Timeout(value = 240)   // 50-80 s on a loaded 2-vCPU machine
    void twoWorkerClusterCaptionsInExecutorJvms() throws Exception {
        Runtime.getRuntime().addShutdownHook(reaper);   // even if this JVM is stopped mid-test
        Path images = tmp.resolve("images");
        writeImages(images, true);
        Map<String, ChatResult> expected = expected(images, PROMPT);

        // A Spark "distribution" whose jars/ is empty: the executors get this JVM's classpath as extraClassPath.
        Path home = Files.createDirectories(tmp.resolve("spark-home"));
        Files.createDirectories(home.resolve("jars"));
        int masterPort = freePort();
        String master = "spark://127.0.0.1:" + masterPort;
        start("master", home, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
                String.valueOf(masterPort), "--webui-port", String.valueOf(freePort()));
        awaitPort(masterPort, Duration.ofSeconds(60));
        for (int i = 1; i <= 2; i++) {
            start("worker-" + i, home, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", "1",
                    "--memory", "1g", "--webui-port", String.valueOf(freePort()), "--work-dir",
                    Files.createDirectories(tmp.resolve("work-" + i)).toString(), master);
        }

        SparkSession spark = SparkSession.builder().master(master).appName("StandaloneClusterTest")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.memory", "512m")
                .config("spark.executor.memory", "768m").config("spark.executor.cores", "1")
                .config("spark.cores.max", "2")
                .config("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                .config("spark.executor.extraJavaOptions", "--add-modules jdk.incubator.vector"
                        + " --enable-native-access=ALL-UNNAMED -Dinternvl.threads=1")
                .config("spark.sql.shuffle.partitions", "2").getOrCreate();
        try {
            awaitExecutors(spark, 2, Duration.ofSeconds(90));
            int driverLoads = ExecutorModels.loads();   // other test classes may have loaded it in this JVM before
            var df = spark.read().format("binaryFile").load(images.toString()).repartition(4);
            var captioned = new InternVLCaptioner().setModel(tinyModel().toString()).setImageCol("content")
                    .setPrompt(PROMPT).setMaxNewTokens(MAX_NEW_TOKENS).setMaxNum(MAX_NUM).setBatchSize(2)
                    .transform(df).select("path", "answer", "error");
            // where each row was captioned, and how many models that executor JVM had loaded by then
            StructType withPid = captioned.schema().add("pid", DataTypes.LongType).add("loads", DataTypes.IntegerType);
            List<Row> rows = captioned.map((MapFunction<Row, Row>) r -> RowFactory.create(r.get(0), r.get(1), r.get(2),
                    ProcessHandle.current().pid(), ExecutorModels.loads()), Encoders.row(withPid)).collectAsList();

            assertThat(rows).hasSize(IMAGES.size() + 1);
            Set<Long> pids = new HashSet<>();
            for (Row r : rows) {
                pids.add(r.getLong(3));
                assertThat(r.getInt(4)).as("models loaded by executor " + r.getLong(3)).isEqualTo(1);
                String name = fileName(r.getString(0));
                if (name.equals("broken.png")) {
                    assertThat(r.getString(2)).startsWith("ImageException");
                } else {
                    assertThat(r.getString(2)).as(name).isNull();
                    assertThat(r.getString(1)).as(name).isEqualTo(expected.get(name).response());
                }
            }
            assertThat(pids).as("executor JVMs that captioned").hasSize(2).doesNotContain(ProcessHandle.current().pid());
            assertThat(ExecutorModels.loads()).as("models loaded by the driver JVM during the job").isEqualTo(driverLoads);
        } finally {
            spark.stop();
        }
    }

    @AfterEach
    void stopCluster() {
        killAll();
        Runtime.getRuntime().removeShutdownHook(reaper);
    }

    private void start(String name, Path home, String mainClass, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(tmp.resolve(name + ".log").toFile());
        pb.environment().put("SPARK_HOME", home.toString());
        pb.environment().put("SPARK_SCALA_VERSION", "2.13");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        daemons.add(pb.start());
    }

    /** Executors first, then their workers and the master; each is waited for. */
    private void killAll() {
        for (Process p : daemons) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        for (Process p : daemons) {
            try {
                p.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        daemons.clear();
    }

    private void awaitExecutors(SparkSession spark, int n, Duration timeout) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        // the driver counts itself among the executor infos
        while (spark.sparkContext().statusTracker().getExecutorInfos().length < n + 1) {
            if (System.nanoTime() > end) throw new AssertionError(n + " executors did not register in " + timeout + logs());
            for (Process p : daemons) {
                if (!p.isAlive()) throw new AssertionError("a Spark daemon exited with " + p.exitValue() + logs());
            }
            Thread.sleep(200);
        }
    }

    private String logs() throws IOException {
        StringBuilder sb = new StringBuilder();
        try (var files = Files.list(tmp)) {
            for (Path f : files.filter(f -> f.toString().endsWith(".log")).toList()) {
                List<String> lines = Files.readAllLines(f);
                sb.append("\n--- ").append(f.getFileName()).append('\n')
                        .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size())));
            }
        }
        return sb.toString();
    }

    private static void awaitPort(int port, Duration timeout) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return;
            } catch (IOException e) {
                if (System.nanoTime() > end) throw new AssertionError("the master did not open port " + port);
                Thread.sleep(200);
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
