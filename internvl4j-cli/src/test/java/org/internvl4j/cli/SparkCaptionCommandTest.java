package org.internvl4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The launcher half of `internvl spark-caption` (the Spark half is tested end to end in internvl4j-spark). */
class SparkCaptionCommandTest {
    @TempDir
    Path tmp;

    @Test
    void findsTheSparkModuleBuildAboveTheCliJar() throws Exception {
        Path target = Files.createDirectories(tmp.resolve("internvl4j-spark/target/lib"));
        Path sparkTarget = target.getParent();
        Files.createFile(sparkTarget.resolve("internvl4j-spark-0.1.0-SNAPSHOT-all.jar"));
        Files.createFile(sparkTarget.resolve("internvl4j-spark-0.1.0-SNAPSHOT.jar"));
        Path cliJar = Files.createDirectories(tmp.resolve("internvl4j-cli/target")).resolve("internvl4j-cli-0.1.0-SNAPSHOT.jar");

        assertThat(SparkCaptionCommand.builtClasspath(cliJar)).isEqualTo(
                sparkTarget.resolve("internvl4j-spark-0.1.0-SNAPSHOT.jar") + File.pathSeparator + target + File.separator + "*");
    }

    @Test
    void saysHowToBuildItWhenMissing() {
        assertThatThrownBy(() -> SparkCaptionCommand.builtClasspath(tmp.resolve("internvl4j-cli/target/x.jar")))
                .hasMessageContaining("internvl4j-spark module is not built")
                .hasMessageContaining("./mvnw -q package -DskipTests")
                .hasMessageContaining("INTERNVL_SPARK_CLASSPATH");
    }

    @Test
    void childGetsThisJvmsFlagsAndTheArgumentsUnchanged() {
        List<String> cmd = SparkCaptionCommand.childCommand("a.jar:lib/*",
                List.of("--add-modules=jdk.incubator.vector", "-Xmx3g", "-agentlib:jdwp=transport=dt_socket"),
                List.of("--model", "m", "--input", "in dir", "--output", "o.parquet", "--prompt", "What's this?"));
        assertThat(cmd.get(0)).endsWith(File.separator + "java");
        assertThat(cmd).contains("--add-modules=jdk.incubator.vector", "-Xmx3g").doesNotContain("-agentlib:jdwp=transport=dt_socket");
        int cp = cmd.indexOf("-cp");
        assertThat(cmd.subList(cp, cmd.size())).containsExactly("-cp", "a.jar:lib/*", "org.internvl4j.spark.SparkCaption",
                "--model", "m", "--input", "in dir", "--output", "o.parquet", "--prompt", "What's this?");
    }

    @Test
    void isASubcommandOfInternvl() {
        Run r = Run.internvl("help", "spark-caption");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("spark-caption --model DIR|owner/name --input DIR|glob")
                .contains("--output out.parquet [--prompt T] [--max-new-tokens N] [--master URL]");
    }
}
