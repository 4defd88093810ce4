package org.internvl4j.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.nio.file.Path;
import org.internvl4j.checkpoint.WeightMemory;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import org.internvl4j.util.Json;

/** `internvl bench model`: load time, vision ms/tile, prefill and decode tokens/s, peak memory. */
@Command(
        name = "model",
        header = "Times a model: load, vision, prefill, decode and memory.",
        mixinStandardHelpOptions = true,
        description = {
            "Times a checkpoint (real, or from `internvl make-synthetic`): load, vision tower + projector per 448 px tile, "
                + "prefill tokens/s, decode tokens/s with BF16 weights and peak resident memory, each as a share of this "
                + "machine's limits, probed in the same run (FP32 FMA peak, memory-read bandwidth, RAM)."
        })
public final class BenchModelCommand implements Callable<Integer> {
    @Mixin
    ModelOption model;

    @Option(names = "--tiles", defaultValue = "1", paramLabel = "N", description = "448 px tiles through the vision tower (default: ${DEFAULT-VALUE}; 0 skips).")
    int tiles;

    @Option(names = "--prompt-tokens", defaultValue = "512", paramLabel = "N", description = "Prefill length (default: ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = "--decode-tokens", defaultValue = "16", paramLabel = "N", description = "Decode steps after the prefill (default: ${DEFAULT-VALUE}).")
    int decodeTokens;

    @Option(names = "--weights", defaultValue = "auto", paramLabel = "auto|copy|mmap",
            description = "Where the weights live: copied into anonymous memory with huge pages, memory-mapped, or auto "
                    + "(copy when the checkpoint takes at most 75%% of RAM; default: ${DEFAULT-VALUE}).")
    String weights;

    @Option(names = "--json", description = "Print one JSON object with the figures (after the human-readable lines, which go to stderr).")
    boolean json;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (tiles < 0) throw new ParameterException(spec.commandLine(), "--tiles must be at least 0, got " + tiles);
        if (promptTokens < 1) throw new ParameterException(spec.commandLine(), "--prompt-tokens must be at least 1, got " + promptTokens);
        if (decodeTokens < 1) throw new ParameterException(spec.commandLine(), "--decode-tokens must be at least 1, got " + decodeTokens);
        WeightMemory.Mode mode;
        try {
            mode = WeightMemory.Mode.parse(weights, "--weights");
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        Path dir = model.resolve();
        PrintWriter human = json ? spec.commandLine().getErr() : spec.commandLine().getOut();
        ModelBench.Figures f = new ModelBench(human).run(dir, tiles, promptTokens, decodeTokens, threads(), mode);
        if (json) {
            try {
                PrintWriter out = spec.commandLine().getOut();
                out.println(Json.mapper().writeValueAsString(f.json()));
                out.flush();
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
        return 0;
    }

    /** The compute threads the kernels use (system property internvl.threads, else all processors). */
    static int threads() {
        return org.internvl4j.tensor.Parallel.threads();
    }
}
