package org.internvl4j.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.internvl4j.spark.SparkTestSupport.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.internvl4j.chat.ChatModel;
import org.internvl4j.chat.ChatRequest;
import org.internvl4j.chat.ChatResult;
import org.internvl4j.generate.SamplingParams;
import org.internvl4j.tensor.DType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The transformer in Spark's local mode (local[2], up to 3 attempts per task) on the tiny checkpoint. */
class InternVLCaptionerTest {
    static SparkSession spark;
    @TempDir
    static Path tmp;
    static Path images;
    static Map<String, ChatResult> expected;

    @BeforeAll
    static void start() throws Exception {
        images = tmp.resolve("images");
        writeImages(images, true);
        expected = expected(images, PROMPT);
        spark = SparkSession.builder().master("local[2,3]").appName("InternVLCaptionerTest")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").config("spark.sql.shuffle.partitions", "2")
                .getOrCreate();
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    static InternVLCaptioner captioner() {
        return new InternVLCaptioner().setModel(tinyModel().toString()).setImageCol("content").setPrompt(PROMPT)
                .setMaxNewTokens(MAX_NEW_TOKENS).setMaxNum(MAX_NUM).setBatchSize(3);
    }

    static Dataset<Row> binaryFiles() {
        // two partitions, so both task slots caption
        return spark.read().format("binaryFile").load(images.toString()).repartition(2);
    }

    @Test
    void binaryFileFolderCaptionedToParquetMatchesChatModel() throws Exception {
        Path out = tmp.resolve("answers.parquet");
        captioner().transform(binaryFiles()).drop("content").write().parquet(out.toString());

        assertThat(out.resolve("_SUCCESS")).exists();
        try (var parts = Files.list(out)) {
            assertThat(parts.map(p -> p.getFileName().toString())).anyMatch(n -> n.startsWith("part-") && n.endsWith(".parquet"));
        }
        List<Row> rows = spark.read().parquet(out.toString()).collectAsList();
        assertThat(rows).hasSize(IMAGES.size() + 1);
        for (Row r : rows) {
            String name = fileName(r.getAs("path"));
            if (name.equals("broken.png")) {
                assertThat((String) r.getAs("answer")).isNull();
                assertThat((String) r.getAs("error")).startsWith("ImageException").contains("PNG");
                continue;
            }
            ChatResult want = expected.get(name);
            assertThat((String) r.getAs("error")).as(name).isNull();
            assertThat((String) r.getAs("answer")).as(name).isEqualTo(want.response());
            assertThat((int) r.getAs("prompt_tokens")).isEqualTo(want.promptIds().length);
            assertThat((int) r.getAs("generated_tokens")).isEqualTo(want.tokenIds().length);
            assertThat((String) r.getAs("finish_reason")).isEqualTo(want.finishReason().name().toLowerCase());
            assertThat((double) r.getAs("latency_ms")).isPositive();
        }
    }

    @Test
    void pathColumnWithPerRowPromptsAndSeeds() throws Exception {
        StructType schema = new StructType().add("file", DataTypes.StringType).add("question", DataTypes.StringType)
                .add("seed", DataTypes.LongType);
        List<Row> in = new ArrayList<>();
        for (int i = 0; i < IMAGES.size(); i++) {
            in.add(RowFactory.create(images.resolve(IMAGES.get(i)).toString(), "Question " + i + ": what colour?", 40L + i));
        }
        in.add(RowFactory.create(images.resolve("missing.png").toString(), "Where?", 1L));
        Dataset<Row> df = spark.createDataFrame(in, schema).repartition(2);
        List<Row> rows = captioner().setImageCol("file").setPromptCol("question").setSeedCol("seed").setDoSample(true)
                .setTemperature(0.9).setTopK(20).transform(df).collectAsList();

        Map<String, Row> byFile = new HashMap<>();
        for (Row r : rows) byFile.put(fileName(r.getString(0)), r);
        assertThat((String) byFile.get("missing.png").getAs("error")).contains("missing.png");
        try (ChatModel chat = ChatModel.load(tinyModel())) {
            var pre = CaptionPartition.preprocessor(chat, MAX_NUM);
            for (int i = 0; i < IMAGES.size(); i++) {
                SamplingParams p = SamplingParams.sample(MAX_NEW_TOKENS, 0.9f, 20, 1f, 40L + i, Set.of());
                ChatResult want = chat.chat(ChatRequest.of("Question " + i + ": what colour?",
                        pre.load(images.resolve(IMAGES.get(i)))).withParams(p));
                Row got = byFile.get(IMAGES.get(i));
                assertThat((String) got.getAs("error")).isNull();
                assertThat((String) got.getAs("answer")).as(IMAGES.get(i)).isEqualTo(want.response());
            }
        }
    }

    @Test
    void sparkImageSourceStructsGiveTheSameAnswers() {
        Dataset<Row> df = spark.read().format("image").option("dropInvalid", "false").load(images.toString());
        List<Row> rows = captioner().setImageCol("image").transform(df).collectAsList();
        assertThat(rows).hasSize(IMAGES.size() + 1);
        for (Row r : rows) {
            String name = fileName(r.getStruct(0).getString(0));
            if (name.equals("broken.png")) {
                assertThat((String) r.getAs("error")).contains("could not decode");
            } else {
                assertThat((String) r.getAs("answer")).as(name).isEqualTo(expected.get(name).response());
            }
        }
    }

    static final AtomicInteger FIRST_ATTEMPTS_KILLED = new AtomicInteger();

    /** Fails the first attempt of every task after its first row was captioned (local mode: same JVM). */
    static final class KillFirstAttempt implements MapFunction<Row, Row> {
        @Override
        public Row call(Row r) {
            if (TaskContext.get().attemptNumber() == 0) {
                FIRST_ATTEMPTS_KILLED.incrementAndGet();
                throw new IllegalStateException("killed on purpose: first attempt");
            }
            return r;
        }
    }

    @Test
    void retriedTasksWriteTheSameAnswers() {
        Dataset<Row> once = captioner().transform(binaryFiles()).select("path", "answer", "error");
        Map<String, String> first = new HashMap<>();
        for (Row r : once.collectAsList()) first.put(r.getString(0), r.getString(1) + "|" + r.getString(2));

        Dataset<Row> failing = captioner().transform(binaryFiles()).select("path", "answer", "error")
                .map(new KillFirstAttempt(), Encoders.row(once.schema()));
        Map<String, String> retried = new HashMap<>();
        for (Row r : failing.collectAsList()) retried.put(r.getString(0), r.getString(1) + "|" + r.getString(2));

        assertThat(FIRST_ATTEMPTS_KILLED.get()).as("tasks killed").isGreaterThanOrEqualTo(2);
        assertThat(retried).isEqualTo(first).hasSize(IMAGES.size() + 1);
    }

    @Test
    void theModelIsLoadedOncePerJvmAndSharedByItsTasks() {
        captioner().transform(binaryFiles()).count();
        int loads = ExecutorModels.loads();
        var model = ExecutorModels.get(tinyModel().toString());
        captioner().setBatchSize(1).transform(binaryFiles().repartition(4)).collectAsList();
        assertThat(ExecutorModels.loads()).isEqualTo(loads);
        assertThat(ExecutorModels.get(tinyModel().toString())).isSameAs(model);
    }

    @Test
    void quantizeQ4GivesTheAnswersOfTheModelQuantizedInProcess() throws Exception {
        Map<String, ChatResult> want = expected(images, PROMPT, DType.Q4_0);
        List<Row> rows = captioner().setQuantize("q4").transform(binaryFiles()).select("path", "answer", "error")
                .collectAsList();
        assertThat(rows).hasSize(IMAGES.size() + 1);
        int differFromBf16 = 0;
        for (Row r : rows) {
            String name = fileName(r.getString(0));
            if (name.equals("broken.png")) continue;
            assertThat(r.getString(2)).as(name).isNull();
            assertThat(r.getString(1)).as(name).isEqualTo(want.get(name).response());
            if (!r.getString(1).equals(expected.get(name).response())) differFromBf16++;
        }
        // the tiny model's random weights have small logit margins: q4 changes some answers, so equal answers prove
        // the executors ran the q4 model, not the BF16 one
        assertThat(differFromBf16).as("answers that differ from BF16's").isPositive();
        // local mode: the executors are this JVM, so their cache is this one; each format is its own model
        ChatModel q4 = ExecutorModels.get(tinyModel().toString(), "q4");
        assertThat(q4.model().checkpoint().weightFormat()).isEqualTo(DType.Q4_0);
        assertThat(ExecutorModels.get(tinyModel().toString(), "q4_0")).as("q4_0 is q4").isSameAs(q4);
        ChatModel asStored = ExecutorModels.get(tinyModel().toString(), "none");
        assertThat(asStored.model().checkpoint().weightFormat()).isEqualTo(DType.BF16);
        assertThat(asStored).isNotSameAs(q4);
        int loads = ExecutorModels.loads();
        captioner().setQuantize("q4").transform(binaryFiles()).count();
        assertThat(ExecutorModels.loads()).as("the q4 model is cached").isEqualTo(loads);
    }

    @Test
    void aBadQuantizeValueIsRefusedOnTheDriverNamingTheParam() {
        String message = "InternVLCaptioner's quantize param must be q8 or q4 (or none), got 'q5'";
        assertThatThrownBy(() -> captioner().setQuantize("q5")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(message);
        // set through a ParamMap, past the setter: refused when the job is built, before any executor runs
        InternVLCaptioner c = captioner();
        InternVLCaptioner copy = c.copy(new ParamMap().put(c.quantize(), "q5"));
        int loads = ExecutorModels.loads();
        assertThatThrownBy(() -> copy.transform(binaryFiles())).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(message);
        assertThat(ExecutorModels.loads()).isEqualTo(loads);
        assertThat(captioner().setQuantize("Q8_0").getQuantize()).isEqualTo("Q8_0");
        assertThat(captioner().setQuantize("q8").setQuantize(null).getQuantize()).isNull();
    }

    @Test
    void badParamsAreRefusedOnTheDriver() {
        Dataset<Row> df = binaryFiles();
        assertThatThrownBy(() -> new InternVLCaptioner().setImageCol("content").transform(df))
                .hasMessageContaining("setModel");
        assertThatThrownBy(() -> captioner().setImageCol("nope").transform(df))
                .hasMessageContaining("imageCol 'nope' is not a column").hasMessageContaining("content");
        assertThatThrownBy(() -> captioner().setImageCol("length").transform(df))
                .hasMessageContaining("is bigint: expected binary");
        assertThatThrownBy(() -> captioner().setOutputCol("path").transform(df))
                .hasMessageContaining("already has a column 'path'");
        assertThatThrownBy(() -> captioner().setMaxNewTokens(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aModelNoExecutorCanFindFailsTheJobSayingSo() {
        Dataset<Row> df = binaryFiles();
        var job = captioner().setModel(tmp.resolve("no-such-model").toString()).transform(df);
        assertThatThrownBy(job::collectAsList).hasStackTraceContaining("cannot find or map the model")
                .hasStackTraceContaining("no-such-model");
    }
}
