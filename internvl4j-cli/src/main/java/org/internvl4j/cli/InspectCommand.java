package org.internvl4j.cli;

import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.internvl4j.checkpoint.Checkpoint;
import org.internvl4j.checkpoint.CheckpointException;
import org.internvl4j.checkpoint.CheckpointSummary;
import org.internvl4j.checkpoint.CheckpointSummary.PartSummary;
import org.internvl4j.checkpoint.InternVLConfig;
import org.internvl4j.checkpoint.InternVLTensors;
import org.internvl4j.checkpoint.LlmConfig;
import org.internvl4j.checkpoint.VisionConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import org.internvl4j.util.Json;

/** `internvl inspect MODEL` (or `-m MODEL`): what a checkpoint holds, without reading its weights. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        header = "Shows what a checkpoint holds and checks that it is complete.",
        description = {"Shows a checkpoint's architecture, parameter counts, dtypes and bytes per part, and checks that "
                + "every tensor the model needs is present with the shape config.json implies. Reads no weights.",
            "Exit status 0 when the checkpoint is complete, 1 when it is not."})
public final class InspectCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "DIR|OWNER/NAME[@REV]",
            description = "The checkpoint: a directory (config.json + safetensors) or a Hugging Face id, as with --model.")
    String positional;

    @Option(names = {"-m", "--model"}, paramLabel = "DIR|OWNER/NAME[@REV]", description = "The checkpoint, as an option (instead of the argument).")
    String option;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (positional != null && option != null) {
            throw new ParameterException(spec.commandLine(), "the model is given twice: as an argument and with --model; give one");
        }
        if (positional == null && option == null) {
            throw new ParameterException(spec.commandLine(), "missing the model: give a checkpoint directory or hub id (or -m MODEL)");
        }
        ModelOption m = new ModelOption();
        m.model = positional != null ? positional : option;
        Path dir = m.resolve();
        try (Checkpoint c = Checkpoint.open(dir, false)) {
            CheckpointSummary s = CheckpointSummary.of(c);
            String problem = null;
            try {
                c.validate();
            } catch (CheckpointException e) {
                problem = e.getMessage();
            }
            int required = InternVLTensors.expected(c.config()).size();
            if (json) {
                out.println(Json.builder().enable(SerializationFeature.INDENT_OUTPUT).build()
                        .writeValueAsString(toJson(c, s, required, problem)));
            } else {
                printText(out, c, s, required, problem);
            }
            out.flush();
            return problem == null ? 0 : 1;
        }
    }

    private static void printText(PrintWriter out, Checkpoint c, CheckpointSummary s, int required, String problem) {
        InternVLConfig cfg = c.config();
        VisionConfig v = cfg.vision();
        LlmConfig l = cfg.llm();
        out.printf("checkpoint    %s%n", c.dir());
        out.printf("architecture  %s: %s + mlp1 projector + %s%n", cfg.modelType(), VisionConfig.MODEL_TYPE, l.architecture());
        out.printf("vision        hidden %d, %d layers, %d heads, mlp %d, image %d / patch %d, %s%s%s%n",
                v.hiddenSize(), v.numHiddenLayers(), v.numAttentionHeads(), v.intermediateSize(), v.imageSize(), v.patchSize(),
                v.normType(), v.qkvBias() ? ", qkv bias" : "", v.qkNormalization() ? ", qk-norm" : "");
        out.printf("projector     pixel shuffle %s x%s, %d -> %d, %d image tokens per %d px tile%n",
                cfg.psVersion(), cfg.downsampleRatio(), v.hiddenSize() * 4, l.hiddenSize(), cfg.numImageTokens(), cfg.forceImageSize());
        out.printf("language      hidden %d, %d layers, %d heads (%d kv, head dim %d), ffn %d, vocab %d, rope theta %s%s, max pos %d%s%n",
                l.hiddenSize(), l.numHiddenLayers(), l.numAttentionHeads(), l.numKeyValueHeads(), l.headDim(), l.intermediateSize(),
                l.vocabSize(), number(l.ropeTheta()),
                l.ropeScaling() == null ? ""
                        : l.ropeScaling().longRope() ? " LongRoPE (" + l.ropeScaling().type() + ", original " + l.ropeScaling().originalMaxPositionEmbeddings() + ")"
                        : " " + l.ropeScaling().type() + " x" + number(l.ropeScaling().factor()),
                l.maxPositionEmbeddings(), l.bias() ? ", bias" : "");
        out.printf("files         %d safetensors file%s%n", s.files(), s.files() == 1 ? "" : "s");
        out.printf("%n%-16s %8s %16s %16s  %s%n", "part", "tensors", "parameters", "bytes", "dtypes");
        for (Map.Entry<InternVLTensors.Part, PartSummary> e : s.parts().entrySet()) row(out, e.getKey().label(), e.getValue());
        row(out, "total", s.total());
        out.println();
        out.println(problem == null
                ? "complete      all " + required + " tensors the model needs are present with the shapes config.json implies"
                : "INCOMPLETE    " + problem);
    }

    private static void row(PrintWriter out, String label, PartSummary p) {
        StringBuilder dtypes = new StringBuilder();
        p.parametersByDtype().forEach((d, n) -> dtypes.append(dtypes.isEmpty() ? "" : ", ").append(d).append(' ').append(String.format("%,d", n)));
        out.printf("%-16s %8d %,16d %,16d  %s%n", label, p.tensors(), p.parameters(), p.bytes(), dtypes);
    }

    private static String number(double x) {
        return x == Math.rint(x) && Math.abs(x) < 1e15 ? Long.toString((long) x) : Double.toString(x);
    }

    private static ObjectNode toJson(Checkpoint c, CheckpointSummary s, int required, String problem) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        InternVLConfig cfg = c.config();
        ObjectNode root = f.objectNode();
        root.put("dir", c.dir().toString());
        root.put("model_type", cfg.modelType());
        ObjectNode v = root.putObject("vision");
        v.put("model_type", VisionConfig.MODEL_TYPE).put("hidden_size", cfg.vision().hiddenSize())
                .put("num_hidden_layers", cfg.vision().numHiddenLayers()).put("num_attention_heads", cfg.vision().numAttentionHeads())
                .put("intermediate_size", cfg.vision().intermediateSize()).put("image_size", cfg.vision().imageSize())
                .put("patch_size", cfg.vision().patchSize()).put("norm_type", cfg.vision().normType());
        ObjectNode p = root.putObject("projector");
        p.put("ps_version", cfg.psVersion()).put("downsample_ratio", cfg.downsampleRatio()).put("image_tokens_per_tile", cfg.numImageTokens());
        LlmConfig l = cfg.llm();
        ObjectNode llm = root.putObject("llm");
        llm.put("architecture", l.architecture()).put("hidden_size", l.hiddenSize()).put("num_hidden_layers", l.numHiddenLayers())
                .put("num_attention_heads", l.numAttentionHeads()).put("num_key_value_heads", l.numKeyValueHeads())
                .put("intermediate_size", l.intermediateSize()).put("vocab_size", l.vocabSize());
        root.put("files", s.files());
        ObjectNode parts = root.putObject("parts");
        s.parts().forEach((part, sum) -> parts.set(part.name().toLowerCase(), part(f, sum)));
        root.set("total", part(f, s.total()));
        root.put("required_tensors", required);
        root.put("complete", problem == null);
        if (problem == null) root.putNull("problem");
        else root.put("problem", problem);
        return root;
    }

    private static ObjectNode part(JsonNodeFactory f, PartSummary p) {
        ObjectNode n = f.objectNode();
        n.put("tensors", p.tensors()).put("parameters", p.parameters()).put("bytes", p.bytes());
        ObjectNode d = n.putObject("dtypes");
        p.parametersByDtype().forEach(d::put);
        return n;
    }
}
