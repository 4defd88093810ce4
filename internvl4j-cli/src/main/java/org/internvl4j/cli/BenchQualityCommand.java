package org.internvl4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.internvl4j.checkpoint.Quantization;
import org.internvl4j.checkpoint.WeightMemory;
import org.internvl4j.llm.CausalLM;
import org.internvl4j.model.InternVLModel;
import org.internvl4j.model.QuantizationQuality;
import org.internvl4j.model.QuantizationQuality.Agreement;
import org.internvl4j.tensor.DType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code internvl bench quality}: how far q8 and q4 stray from the BF16 model, on the same inputs. */
@Command(
        name = "quality",
        header = "Measures how far q8 and q4 weights move the model from BF16.",
        mixinStandardHelpOptions = true,
        description = {
            "Loads the checkpoint as it is (BF16) and quantized at load, and compares them on the same inputs: "
                + "the first greedy token of PROMPTS random prompts; GREEDY greedy steps after one prompt, teacher-forced on the BF16 "
                + "model's tokens (top-1 agreement, relative error of the logits) and run freely (same tokens, first divergence); "
                + "and a short text teacher-forced (the tokenizer's encoding of a fixed English text, random ids when there is no tokenizer).",
            "Prints one markdown table row per format (docs/QUANTIZATION.md)."
        })
public final class BenchQualityCommand implements Callable<Integer> {
    /** A short English text (the first lines of this project's README, roughly): what teacher forcing reads. */
    static final String TEXT = "InternVL4j runs the InternVL2 vision-language models on the CPU, in pure Java: it reads the "
            + "Hugging Face checkpoint as it is, memory-mapped, and answers questions about images and videos. The language "
            + "model decodes one token at a time, reading every weight once per token, so smaller weights decode faster.";

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOption model;

    @Option(names = "--formats", split = ",", defaultValue = "q8,q4", paramLabel = "q8|q4[,...]", description = "Formats to compare (default: ${DEFAULT-VALUE}).")
    List<String> formats;

    @Option(names = "--prompts", defaultValue = "32", paramLabel = "N", description = "Random prompts for the first-token agreement (default: ${DEFAULT-VALUE}).")
    int prompts;

    @Option(names = "--greedy", defaultValue = "64", paramLabel = "N", description = "Greedy steps compared (default: ${DEFAULT-VALUE}).")
    int greedy;

    @Override
    public Integer call() {
        if (prompts < 1 || greedy < 1) throw new ParameterException(spec.commandLine(), "--prompts and --greedy must be at least 1");
        List<DType> fs = new ArrayList<>();
        for (String f : formats) {
            try {
                DType t = Quantization.parse(f, "--formats");
                if (t == null) throw new IllegalArgumentException("--formats: each must be q8 or q4, got '" + f + "'");
                fs.add(t);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
        }
        Path dir = model.resolve();
        PrintWriter out = spec.commandLine().getOut();
        try (InternVLModel ref = InternVLModel.load(dir, WeightMemory.Mode.MMAP, null)) {
            CausalLM r = ref.llm();
            int vocab = r.vocabSize();
            List<int[]> ps = QuantizationQuality.randomPrompts(prompts, 16, 3, vocab, 1);
            int[] text = textTokens(dir, vocab);
            int[] prompt = ps.get(0);
            int[] ref64 = QuantizationQuality.greedy(r, prompt, greedy);
            // prompt + all but the last greedy token: its positions from the prompt's last on predict the greedy tokens
            int[] forced = concat(prompt, java.util.Arrays.copyOf(ref64, greedy - 1));
            out.printf("# internvl bench quality — %s, %d-layer %s, vocabulary %d; %d random prompts of 16 ids (seed 1); %d greedy steps; "
                            + "teacher-forced text of %d tokens (%s)%n", dir.getFileName(), r.config().numHiddenLayers(), r.config().arch().name(),
                    vocab, prompts, greedy, text.length, textSource);
            out.println();
            out.println("| format | weights' relative RMS error | first token kept (random prompts) | greedy steps: top-1 agreement, teacher-forced on BF16's tokens | logits' relative error (mean / max) | "
                    + "free-running greedy: same tokens, first divergence | text teacher-forced: top-1 agreement | text: logits' relative error (mean / max) |");
            out.println("|---|---|---|---|---|---|---|---|");
            out.flush();
            for (DType f : fs) {
                try (InternVLModel qm = InternVLModel.load(dir, WeightMemory.Mode.MMAP, f)) {
                    CausalLM q = qm.llm();
                    int first = QuantizationQuality.firstTokenMatches(r, q, ps);
                    Agreement g = QuantizationQuality.teacherForced(r, q, forced, prompt.length - 1);
                    int[] free = QuantizationQuality.sameAndFirstDivergence(ref64, QuantizationQuality.greedy(q, prompt, greedy));
                    Agreement t = QuantizationQuality.teacherForced(r, q, text, 0);
                    double wErr = weightError(ref, qm);
                    out.printf(Locale.ROOT, "| %s | %.4f | %d / %d | %d / %d (%.1f %%) | %.4f / %.4f | %d / %d, at step %d | %d / %d (%.1f %%) | %.4f / %.4f |%n",
                            Quantization.shortName(f), wErr, first, ps.size(), g.matches(), g.total(), 100 * g.share(), g.meanRelativeError(), g.maxRelativeError(),
                            free[0], greedy, free[1], t.matches(), t.total(), 100 * t.share(), t.meanRelativeError(), t.maxRelativeError());
                    out.flush();
                }
            }
        }
        return 0;
    }

    private String textSource = "";

    /** The fixed text through the checkpoint's tokenizer, or 96 random ids (seed 2) when it has none. */
    private int[] textTokens(Path dir, int vocab) {
        try {
            int[] ids = org.internvl4j.tokenizer.Tokenizer.load(dir).encode(TEXT);
            boolean inRange = true;
            for (int id : ids) inRange &= id >= 0 && id < vocab;
            if (ids.length > 1 && inRange) {
                textSource = "a fixed English text through the tokenizer";
                return ids;
            }
        } catch (RuntimeException e) {
            // no tokenizer files (synthetic checkpoints): random ids below
        }
        textSource = "random ids, seed 2: the checkpoint has no tokenizer";
        return QuantizationQuality.randomPrompts(1, 96, 3, vocab, 2).get(0);
    }

    /** ||W_q - W|| / ||W|| over all quantized tensors together. */
    static double weightError(InternVLModel ref, InternVLModel q) {
        double diff = 0, norm = 0;
        for (String name : Quantization.quantizable(ref.config())) {
            var t = ref.checkpoint().tensors().get(name);
            if (t == null) continue;
            int rows = Math.toIntExact(t.shape()[0]), cols = Math.toIntExact(t.shape()[1]);
            var a = ref.checkpoint().weight(name, rows, cols);
            var b = q.checkpoint().weight(name, rows, cols);
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    double x = a.get(r, c), d = b.get(r, c) - x;
                    diff += d * d;
                    norm += x * x;
                }
            }
        }
        return Math.sqrt(diff / Math.max(norm, Double.MIN_NORMAL));
    }

    private static int[] concat(int[] a, int[] b) {
        int[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
