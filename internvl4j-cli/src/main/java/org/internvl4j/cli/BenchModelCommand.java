package org.internvl4j.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.internvl4j.checkpoint.WeightMemory;
import org.internvl4j.checkpoint.gguf.GgmlType;
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

    @Mixin
    QuantizeOption quantize;

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

    @Option(names = "--peer", paramLabel = "llama.cpp",
            description = "Also time llama.cpp on a random GGUF with this model's language-model shapes, with the same prompt tokens, "
                    + "decode steps and threads, and print its figures beside ours as ratios. Needs Node.js and, once, "
                    + "`npm ci --prefix scripts/peer` (see docs/peer.md).")
    String peer;

    @Option(names = "--peer-format", paramLabel = "bf16|q8_0|q4_0[,...]",
            description = "The peer GGUF's weight type, by llama-quantize's names; several, comma-separated, run the peer once each "
                    + "(default: the format ours runs in: q8_0 or q4_0 for a quantized checkpoint or --quantize, else bf16).")
    String peerFormat;

    @Option(names = "--peer-cache", paramLabel = "DIR",
            description = "Where the random GGUF files are written and reused while their shapes match (default: internvl4j-peer in the "
                    + "temporary folder; InternVL2-8B's language model takes 15.5 GB in bf16, 4.4 GB in q4_0).")
    Path peerCache;

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
        org.internvl4j.tensor.DType format = quantize.format(spec);
        if (format != null) org.internvl4j.checkpoint.Quantization.listener(QuantizeOption.listener(spec.commandLine().getErr()));
        Path dir = model.resolve();
        org.internvl4j.tensor.DType ours = format != null ? format : org.internvl4j.checkpoint.Quantization.storedIn(dir);
        String oursName = ours == null ? "bf16" : ours.name().toLowerCase(java.util.Locale.ROOT);
        List<GgmlType> formats = peerFormats(oursName);
        PrintWriter human = json ? spec.commandLine().getErr() : spec.commandLine().getOut();
        // The peer's setup and its GGUF files come first: a missing piece fails in seconds, not after our run.
        LlamaCppPeer.Prepared peerRun = null;
        if (!formats.isEmpty()) {
            Path cache = peerCache != null ? peerCache : Path.of(System.getProperty("java.io.tmpdir"), "internvl4j-peer");
            try {
                peerRun = LlamaCppPeer.prepare(dir, formats, cache, line -> { human.println("peer:    " + line); human.flush(); });
            } catch (IllegalStateException | IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--peer: " + e.getMessage());
            } catch (IOException e) {
                throw new UncheckedIOException("--peer: could not write the GGUF in " + cache + ": " + e.getMessage(), e);
            }
        }
        ModelBench.Figures f = new ModelBench(human).run(dir, tiles, promptTokens, decodeTokens, threads(), mode, format);
        Map<String, Object> result = f.json();
        if (peerRun != null) {
            try {
                result.put("peers", peerRun.runBeside(f.prefillTokensPerS(), f.decodeTokensPerS(), f.format(), promptTokens, decodeTokens,
                        threads(), human));
            } catch (IOException e) {
                throw new UncheckedIOException(e.getMessage(), e);
            }
        }
        if (json) {
            try {
                PrintWriter out = spec.commandLine().getOut();
                out.println(Json.mapper().writeValueAsString(result));
                out.flush();
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
        return 0;
    }

    /** The peer's weight types, none without --peer, by default ours; bad names are usage errors. */
    private List<GgmlType> peerFormats(String ours) {
        if (peer == null) {
            if (peerFormat != null || peerCache != null) {
                throw new ParameterException(spec.commandLine(), "--peer-format and --peer-cache need --peer llama.cpp");
            }
            return List.of();
        }
        if (!peer.equalsIgnoreCase("llama.cpp")) {
            throw new ParameterException(spec.commandLine(), "--peer: unknown peer '" + peer + "' (supported: llama.cpp)");
        }
        List<GgmlType> out = new ArrayList<>();
        for (String name : (peerFormat == null ? ours : peerFormat).split(",")) {
            try {
                GgmlType t = GgmlType.parseWeightFormat(name.strip());
                if (!out.contains(t)) out.add(t);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--peer-format: " + e.getMessage());
            }
        }
        return out;
    }

    /** The compute threads the kernels use (system property internvl.threads, else all processors). */
    static int threads() {
        return org.internvl4j.tensor.Parallel.threads();
    }
}
