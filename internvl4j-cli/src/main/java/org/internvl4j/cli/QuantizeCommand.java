package org.internvl4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import org.internvl4j.checkpoint.Quantization;
import org.internvl4j.checkpoint.QuantizedCheckpointWriter;
import org.internvl4j.hub.Sizes;
import org.internvl4j.tensor.DType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code internvl quantize DIR|OWNER/NAME --to q8|q4 OUT}: writes a quantized checkpoint. */
@Command(
        name = "quantize",
        header = "Writes a Q8_0 or Q4_0 copy of a checkpoint.",
        mixinStandardHelpOptions = true,
        description = {
            "Quantizes the language model's linear layers and output head to q8 (Q8_0: blocks of 32 int8 weights and an fp16 scale) "
                + "or q4 (Q4_0: 4-bit weights, 32 per fp16 scale); the embeddings, norms, vision tower and projector are copied as they are, "
                + "and so are config.json (with a quantization_config entry), generation_config.json and the tokenizer files.",
            "OUT must not exist; it appears only once complete. `--model OUT` then loads it memory-mapped with no further work, "
                + "in every command. Example: `internvl quantize OpenGVLab/InternVL2-8B-MPO --to q4 ./internvl2-8b-q4`."
        })
public final class QuantizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR|OWNER/NAME[@REV]", description = "The checkpoint to quantize (a directory or a Hugging Face id).")
    String source;

    @Parameters(index = "1", paramLabel = "OUT", description = "The new checkpoint directory (must not exist).")
    Path out;

    @Option(names = "--to", required = true, paramLabel = "q8|q4", description = "The format.")
    String to;

    @Override
    public Integer call() {
        DType format;
        try {
            format = Quantization.parse(to, "--to");
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        if (format == null) throw new ParameterException(spec.commandLine(), "--to must be q8 or q4, got '" + to + "'");
        PrintWriter err = spec.commandLine().getErr();
        ModelOption m = new ModelOption();
        m.model = source;
        Path src = m.resolve();
        long total = QuantizedCheckpointWriter.sourceBytes(src);
        AtomicLong done = new AtomicLong();
        long written;
        try (Progress p = Progress.bytes(err, "quantizing " + src.getFileName() + " to " + Quantization.shortName(format), total, done::get)) {
            written = QuantizedCheckpointWriter.write(src, format, out, done::addAndGet);
        }
        spec.commandLine().getOut().printf("%s: %s of tensors (%s, %.0f%% of the source's %s)%n", out, Sizes.human(written),
                Quantization.shortName(format), 100.0 * written / total, Sizes.human(total));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
