package org.internvl4j.cli;

import java.io.PrintWriter;
import java.util.concurrent.atomic.AtomicLong;
import org.internvl4j.checkpoint.Quantization;
import org.internvl4j.tensor.DType;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The {@code --quantize q8|q4} option of the commands that load a model: the language model's linear
 * weights are quantized as the model loads (a bar on a terminal, a line at start and end otherwise).
 * A checkpoint written by {@code internvl quantize} needs no option: it loads quantized as it is.
 */
public final class QuantizeOption {
    @Option(names = "--quantize", paramLabel = "q8|q4",
            description = "Quantize the language model's linear weights at load: q8 (Q8_0, 8.5 bits per weight) or q4 (Q4_0, 4.5 bits). "
                    + "See docs/QUANTIZATION.md; `internvl quantize` writes a quantized checkpoint once instead.")
    String quantize;

    /** The format asked for, or null; a bad name is a usage error. */
    DType format(CommandSpec spec) {
        try {
            return Quantization.parse(quantize, "--quantize");
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    /**
     * Makes every model load in this process quantize to the chosen format (the loaders read
     * {@value Quantization#PROPERTY}; the server and pipelines reach them through many paths), with
     * progress on err. Returns the format, or null when the option was not given (nothing is changed).
     */
    DType apply(CommandSpec spec, PrintWriter err) {
        DType f = format(spec);
        if (f == null) return null;
        System.setProperty(Quantization.PROPERTY, Quantization.shortName(f));
        Quantization.listener(listener(err));
        return f;
    }

    /** Draws the quantizing as a {@link Progress} bar over the source bytes read. */
    static Quantization.Listener listener(PrintWriter err) {
        return new Quantization.Listener() {
            private final AtomicLong done = new AtomicLong();
            private Progress progress;

            @Override
            public synchronized void started(DType format, long sourceBytes) {
                done.set(0);
                progress = Progress.bytes(err, "quantizing to " + Quantization.shortName(format), sourceBytes, done::get);
            }

            @Override
            public void advanced(long bytes) {
                done.addAndGet(bytes);
            }

            @Override
            public synchronized void finished() {
                if (progress != null) progress.close();
                progress = null;
            }
        };
    }
}
