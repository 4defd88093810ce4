package org.internvl4j.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.internvl4j.spark.SparkTestSupport.*;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.internvl4j.chat.ChatResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `spark-caption` end to end on local[2]: a folder in, Spark's Parquet directory out. */
class SparkCaptionTest {
    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        var cl = SparkCaption.commandLine();
        cl.setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void captionsAFolderToAParquetDirectory() throws Exception {
        Path images = tmp.resolve("in");
        writeImages(images, true);
        Files.writeString(images.resolve("notes.txt"), "not an image, skipped by the folder filter");
        Path out = tmp.resolve("out.parquet");
        Run r = run("--model", tinyModel().toString(), "--input", images.toString(), "--output", out.toString(),
                "--prompt", PROMPT, "--max-new-tokens", String.valueOf(MAX_NEW_TOKENS), "--max-num",
                String.valueOf(MAX_NUM), "--master", "local[2]", "--batch-size", "2");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("wrote 7 answers (1 failed) to " + out).contains("images/min");
        assertThat(r.err()).contains("spark-caption: 7/7 images").contains("broken.png: ImageException");
        assertThat(out.resolve("_SUCCESS")).exists();

        Map<String, ChatResult> expected = expected(images, PROMPT);
        SparkSession spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false").getOrCreate();
        try {
            List<Row> rows = spark.read().parquet(out.toString()).collectAsList();
            assertThat(rows).hasSize(7);
            for (Row row : rows) {
                String name = fileName(row.getAs("path"));
                if (name.equals("broken.png")) assertThat((String) row.getAs("error")).isNotNull();
                else assertThat((String) row.getAs("answer")).as(name).isEqualTo(expected.get(name).response());
            }
        } finally {
            spark.stop();
        }

        Run again = run("--model", tinyModel().toString(), "--input", images.toString(), "--output", out.toString());
        assertThat(again.code()).isEqualTo(1);
        assertThat(again.err()).contains("exists; remove it or add --overwrite");
    }

    @Test
    void badArgumentsAreOneLineErrors() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Run none = run("--model", tinyModel().toString(), "--input", empty.toString(), "--output",
                tmp.resolve("o").toString(), "--master", "local[1]");
        assertThat(none.code()).isEqualTo(1);
        assertThat(none.err()).contains("no images found");

        Run noModel = run("--model", tmp.resolve("nope").toString(), "--input", empty.toString(), "--output", "o");
        assertThat(noModel.code()).isEqualTo(1);
        assertThat(noModel.err()).contains("nope").contains("no such directory");

        Run quantize = run("--model", tinyModel().toString(), "--input", empty.toString(), "--output", "o", "--quantize", "q5");
        assertThat(quantize.code()).isEqualTo(1);
        assertThat(quantize.err().lines().toList())
                .containsExactly("internvl spark-caption: --quantize must be q8 or q4 (or none), got 'q5'");

        Run missing = run("--input", "x", "--output", "y");
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).contains("Missing required option: '--model");
    }

    /** --quantize is the CLI's option: the same name, placeholder and kind of description as `internvl generate`'s. */
    @Test
    void quantizeIsTheCliOption() {
        var cli = org.internvl4j.cli.Main.commandLine().getSubcommands().get("generate").getCommandSpec().findOption("--quantize");
        var here = SparkCaption.commandLine().getCommandSpec().findOption("--quantize");
        assertThat(here.paramLabel()).isEqualTo(cli.paramLabel()).isEqualTo("q8|q4");
        assertThat(here.description()).hasSize(1);
        assertThat(here.description()[0]).startsWith("Quantize the language model's linear weights")
                .contains("q8 (Q8_0, 8.5 bits per weight) or q4 (Q4_0, 4.5 bits)").endsWith(cli.description()[0]
                        .substring(cli.description()[0].indexOf(" See docs/")));
    }

    /** Through `internvl spark-caption`: the CLI starts a child JVM (here with this test's classpath as Spark's). */
    @Test
    void theCliLaunchesItInAChildJvm() throws Exception {
        Path images = tmp.resolve("in");
        writeImages(images, false);
        Path out = tmp.resolve("cli.parquet");
        String before = System.setProperty("internvl.spark.classpath", System.getProperty("java.class.path"));
        try {
            int code = org.internvl4j.cli.Main.commandLine().execute("spark-caption", "--model", tinyModel().toString(),
                    "--input", images + "/*.png", "--output", out.toString(), "--prompt", PROMPT, "--max-new-tokens",
                    String.valueOf(MAX_NEW_TOKENS), "--max-num", String.valueOf(MAX_NUM), "--master", "local[2]");
            assertThat(code).isZero();
        } finally {
            if (before == null) System.clearProperty("internvl.spark.classpath");
            else System.setProperty("internvl.spark.classpath", before);
        }
        assertThat(out.resolve("_SUCCESS")).exists();
        Map<String, ChatResult> expected = expected(images, PROMPT);
        SparkSession spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false").getOrCreate();
        try {
            List<Row> rows = spark.read().parquet(out.toString()).collectAsList();
            assertThat(rows).hasSize(IMAGES.size());
            for (Row row : rows) {
                String name = fileName(row.getAs("path"));
                assertThat((String) row.getAs("answer")).as(name).isEqualTo(expected.get(name).response());
            }
        } finally {
            spark.stop();
        }
    }
}
