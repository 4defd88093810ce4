package org.internvl4j.spark;

import java.util.Arrays;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.image.ImageSchema;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.internvl4j.checkpoint.Quantization;
import org.internvl4j.tensor.DType;

/**
 * A Spark ML {@link Transformer} that asks an InternVL model about the image of every row.
 *
 * <pre>{@code
 * Dataset<Row> images = spark.read().format("binaryFile").load("photos/*.jpg");
 * Dataset<Row> answers = new InternVLCaptioner().setModel("OpenGVLab/InternVL2-8B-MPO")
 *         .setImageCol("content").setPrompt("Describe this image.").setOutputCol("answer")
 *         .transform(images);
 * }</pre>
 *
 * <p>The image column holds encoded bytes ({@code binaryFile}'s {@code content}), a path or URI string, or the
 * struct of Spark's {@code image} source. The prompt is fixed ({@link #setPrompt}) or read per row
 * ({@link #setPromptCol}). Added columns: the answer ({@code outputCol}), {@code prompt_tokens},
 * {@code generated_tokens}, {@code finish_reason}, {@code latency_ms} (vision, prefill and decode time of the
 * row's batch) and the error column ({@code errorCol}: null on success; a bad image or prompt fails its row,
 * not the job).
 *
 * <p>Each executor JVM loads the model once (memory-mapped, shared by its tasks); with {@code quantize} set to q8
 * or q4 it quantizes the language model's linear weights as it loads (once per format). Decoding is greedy unless
 * {@code doSample} is set; sampling uses {@code seed} or a per-row {@code seedCol}, so a retried task gives the
 * same answers.
 */
public final class InternVLCaptioner extends Transformer {
    /** Columns the transformer adds, in order: answer, prompt_tokens, generated_tokens, finish_reason, latency_ms, error. */
    static final int ADDED_COLUMNS = 6;
    public static final String PROMPT_TOKENS = "prompt_tokens", GENERATED_TOKENS = "generated_tokens",
            FINISH_REASON = "finish_reason", LATENCY_MS = "latency_ms";
    /** The model card's example question. */
    public static final String DEFAULT_PROMPT = "Please describe the image shortly.";

    private final String uid;
    private final Param<String> model, quantize, imageCol, promptCol, prompt, outputCol, errorCol, seedCol;
    private final IntParam maxNewTokens, maxNum, batchSize, topK;
    private final BooleanParam doSample;
    private final DoubleParam temperature, topP, repetitionPenalty;
    private final LongParam seed;

    public InternVLCaptioner() {
        this(Identifiable$.MODULE$.randomUID("internvlCaptioner"));
    }

    /** Spark's {@code copy} recreates a transformer through this constructor. */
    public InternVLCaptioner(String uid) {
        this.uid = uid;
        model = new Param<>(this, "model", "model directory or hub id owner/name[@revision], opened on each executor");
        quantize = new Param<>(this, "quantize", "q8 or q4: quantize the language model's linear weights as each executor"
                + " loads the model (Q8_0 or Q4_0 blocks, see docs/QUANTIZATION.md); none or unset: as stored");
        imageCol = new Param<>(this, "imageCol", "image column: binary (encoded image), string (path or URI) or Spark's image struct");
        promptCol = new Param<>(this, "promptCol", "string column with each row's question; unset: the fixed prompt");
        prompt = new Param<>(this, "prompt", "the question asked about every image when promptCol is unset");
        outputCol = new Param<>(this, "outputCol", "answer column");
        errorCol = new Param<>(this, "errorCol", "error column: null when the row succeeded");
        seedCol = new Param<>(this, "seedCol", "long column with each row's sampling seed; unset: the seed param");
        maxNewTokens = new IntParam(this, "maxNewTokens", "generated tokens at most per row", ParamValidators.gtEq(1));
        maxNum = new IntParam(this, "maxNum", "tiles per image at most; 0: the checkpoint's max_dynamic_patch",
                ParamValidators.gtEq(0));
        batchSize = new IntParam(this, "batchSize", "rows generated together in one pass over the weights",
                ParamValidators.gtEq(1));
        topK = new IntParam(this, "topK", "sampling: keep the k most likely tokens; 0 disables", ParamValidators.gtEq(0));
        doSample = new BooleanParam(this, "doSample", "false: greedy decoding");
        temperature = new DoubleParam(this, "temperature", "sampling temperature", ParamValidators.gt(0));
        topP = new DoubleParam(this, "topP", "sampling: nucleus probability; 1 disables", ParamValidators.inRange(0, 1, false, true));
        repetitionPenalty = new DoubleParam(this, "repetitionPenalty", "1 disables", ParamValidators.gt(0));
        seed = new LongParam(this, "seed", "sampling seed of every row (when seedCol is unset)");
        setDefault(imageCol, "image");
        setDefault(prompt, DEFAULT_PROMPT);
        setDefault(outputCol, "answer");
        setDefault(errorCol, "error");
        setDefault(maxNewTokens, (Object) 256);
        setDefault(maxNum, (Object) 0);
        setDefault(batchSize, (Object) 4);
        setDefault(topK, (Object) 0);
        setDefault(doSample, (Object) false);
        setDefault(temperature, (Object) 1.0);
        setDefault(topP, (Object) 1.0);
        setDefault(repetitionPenalty, (Object) 1.0);
        setDefault(seed, (Object) 0L);
    }

    @Override
    public String uid() {
        return uid;
    }

    // Spark lists a stage's params by reflecting on public no-argument methods that return a Param.
    public Param<String> model() { return model; }
    public Param<String> quantize() { return quantize; }
    public Param<String> imageCol() { return imageCol; }
    public Param<String> promptCol() { return promptCol; }
    public Param<String> prompt() { return prompt; }
    public Param<String> outputCol() { return outputCol; }
    public Param<String> errorCol() { return errorCol; }
    public Param<String> seedCol() { return seedCol; }
    public IntParam maxNewTokens() { return maxNewTokens; }
    public IntParam maxNum() { return maxNum; }
    public IntParam batchSize() { return batchSize; }
    public IntParam topK() { return topK; }
    public BooleanParam doSample() { return doSample; }
    public DoubleParam temperature() { return temperature; }
    public DoubleParam topP() { return topP; }
    public DoubleParam repetitionPenalty() { return repetitionPenalty; }
    public LongParam seed() { return seed; }

    public InternVLCaptioner setModel(String v) { set(model, v); return this; }
    /** q8, q4 or none; anything else is refused here (and again at transform, for params set through a ParamMap). */
    public InternVLCaptioner setQuantize(String v) {
        quantizeFormat(v);
        if (v == null) clear(quantize);
        else set(quantize, v);
        return this;
    }

    public InternVLCaptioner setImageCol(String v) { set(imageCol, v); return this; }
    public InternVLCaptioner setPromptCol(String v) { set(promptCol, v); return this; }
    public InternVLCaptioner setPrompt(String v) { set(prompt, v); return this; }
    public InternVLCaptioner setOutputCol(String v) { set(outputCol, v); return this; }
    public InternVLCaptioner setErrorCol(String v) { set(errorCol, v); return this; }
    public InternVLCaptioner setSeedCol(String v) { set(seedCol, v); return this; }
    public InternVLCaptioner setMaxNewTokens(int v) { set(maxNewTokens, (Object) v); return this; }
    public InternVLCaptioner setMaxNum(int v) { set(maxNum, (Object) v); return this; }
    public InternVLCaptioner setBatchSize(int v) { set(batchSize, (Object) v); return this; }
    public InternVLCaptioner setTopK(int v) { set(topK, (Object) v); return this; }
    public InternVLCaptioner setDoSample(boolean v) { set(doSample, (Object) v); return this; }
    public InternVLCaptioner setTemperature(double v) { set(temperature, (Object) v); return this; }
    public InternVLCaptioner setTopP(double v) { set(topP, (Object) v); return this; }
    public InternVLCaptioner setRepetitionPenalty(double v) { set(repetitionPenalty, (Object) v); return this; }
    public InternVLCaptioner setSeed(long v) { set(seed, (Object) v); return this; }

    public String getModel() { return isDefined(model) ? value(model) : null; }
    public String getQuantize() { return isDefined(quantize) ? value(quantize) : null; }
    public String getImageCol() { return value(imageCol); }
    public String getPrompt() { return value(prompt); }
    public String getOutputCol() { return value(outputCol); }
    public String getErrorCol() { return value(errorCol); }
    public int getMaxNewTokens() { return (Integer) value(maxNewTokens); }
    public int getBatchSize() { return (Integer) value(batchSize); }

    @SuppressWarnings("unchecked")
    private <T> T value(Param<?> p) {
        return (T) getOrDefault(p);
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType out = transformSchema(dataset.schema(), true);
        CaptionSettings settings = settings(dataset.schema());
        return dataset.toDF().mapPartitions(new CaptionPartition(settings), Encoders.row(out));
    }

    @Override
    public StructType transformSchema(StructType schema) {
        settings(schema);   // validates the params against the input columns
        StructType out = schema;
        for (StructField f : addedFields()) {
            if (Arrays.asList(schema.fieldNames()).contains(f.name())) {
                throw new IllegalArgumentException("the input already has a column '" + f.name()
                        + "' (InternVLCaptioner adds " + Arrays.toString(Arrays.stream(addedFields()).map(StructField::name).toArray())
                        + "; rename it or set outputCol/errorCol)");
            }
            out = out.add(f);
        }
        return out;
    }

    private StructField[] addedFields() {
        return new StructField[] {
            DataTypes.createStructField(value(outputCol), DataTypes.StringType, true),
            DataTypes.createStructField(PROMPT_TOKENS, DataTypes.IntegerType, true),
            DataTypes.createStructField(GENERATED_TOKENS, DataTypes.IntegerType, true),
            DataTypes.createStructField(FINISH_REASON, DataTypes.StringType, true),
            DataTypes.createStructField(LATENCY_MS, DataTypes.DoubleType, true),
            DataTypes.createStructField(value(errorCol), DataTypes.StringType, true),
        };
    }

    private CaptionSettings settings(StructType schema) {
        String m = getModel();
        if (m == null || m.isBlank()) {
            throw new IllegalArgumentException("InternVLCaptioner: set the model (a directory or a hub id such as"
                    + " OpenGVLab/InternVL2-8B-MPO) with setModel");
        }
        String q = null;
        if (isDefined(quantize)) {
            DType f = quantizeFormat(value(quantize));
            q = f == null ? "none" : Quantization.shortName(f);
        }
        int image = column(schema, value(imageCol), "imageCol");
        DataType t = schema.fields()[image].dataType();
        CaptionSettings.ImageKind kind;
        if (t.equals(DataTypes.BinaryType)) {
            kind = CaptionSettings.ImageKind.BYTES;
        } else if (t.equals(DataTypes.StringType)) {
            kind = CaptionSettings.ImageKind.PATH;
        } else if (isSparkImage(t)) {
            kind = CaptionSettings.ImageKind.SPARK_IMAGE;
        } else {
            throw new IllegalArgumentException("imageCol '" + value(imageCol) + "' is " + t.simpleString()
                    + ": expected binary (encoded image bytes, e.g. binaryFile's content), string (a path or URI)"
                    + " or the struct of Spark's image source");
        }
        int promptIndex = -1;
        if (isDefined(promptCol)) {
            promptIndex = column(schema, value(promptCol), "promptCol");
            requireType(schema, promptIndex, DataTypes.StringType, "promptCol");
        }
        int seedIndex = -1;
        if (isDefined(seedCol)) {
            seedIndex = column(schema, value(seedCol), "seedCol");
            requireType(schema, seedIndex, DataTypes.LongType, "seedCol");
        }
        CaptionSettings s = new CaptionSettings(m, q, image, kind, promptIndex, value(prompt), seedIndex,
                value(maxNewTokens), value(maxNum), value(batchSize), value(doSample), value(temperature), value(topK), value(topP),
                value(repetitionPenalty), value(seed));
        s.params(null);   // the core's checks of the generation settings, on the driver
        return s;
    }

    /** The format the quantize param names (null for none); a bad name fails on the driver, naming the param. */
    private static DType quantizeFormat(String v) {
        return Quantization.parse(v, "InternVLCaptioner's quantize param");
    }

    /** Spark's image struct, compared by field names and types: readers differ in the fields' nullability. */
    private static boolean isSparkImage(DataType t) {
        if (!(t instanceof StructType st)) return false;
        StructField[] want = ImageSchema.columnSchema().fields();
        if (st.fields().length != want.length) return false;
        for (int i = 0; i < want.length; i++) {
            if (!st.fields()[i].name().equals(want[i].name()) || !st.fields()[i].dataType().equals(want[i].dataType())) {
                return false;
            }
        }
        return true;
    }

    private static int column(StructType schema, String name, String param) {
        if (!Arrays.asList(schema.fieldNames()).contains(name)) {
            throw new IllegalArgumentException(param + " '" + name + "' is not a column of the input; it has "
                    + Arrays.toString(schema.fieldNames()));
        }
        return schema.fieldIndex(name);
    }

    private static void requireType(StructType schema, int index, DataType type, String param) {
        DataType t = schema.fields()[index].dataType();
        if (!t.equals(type)) {
            throw new IllegalArgumentException(param + " '" + schema.fields()[index].name() + "' is "
                    + t.simpleString() + ", expected " + type.simpleString());
        }
    }

    @Override
    public InternVLCaptioner copy(ParamMap extra) {
        return (InternVLCaptioner) defaultCopy(extra);
    }
}
