package org.internvl4j.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `internvl bench`: speed measurements, each reported next to this machine's measured limits. */
@Command(
        name = "bench",
        header = "Measures speed against this machine's limits.",
        mixinStandardHelpOptions = true,
        description = "Measures speed against this machine's limits, probed in the same run.",
        subcommands = {BenchCommand.Kernels.class, BenchModelCommand.class, BenchQualityCommand.class})
public final class BenchCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(
            name = "kernels",
            header = "Times the matrix kernels against memory bandwidth and FMA peak.",
            mixinStandardHelpOptions = true,
            description = {
                "Probes memory-read bandwidth and FP32 FMA peak, then times BF16 matrix-vector products at InternVL2-8B's "
                    + "sizes (GB/s) and a 512-token matrix-matrix product (GFLOP/s), as shares of the probes.",
                "Before it starts it says how long it will take (about 13 x SECONDS + 10 s per thread count) and how much memory "
                    + "(about MIB + 700 MiB)."
            })
    static final class Kernels implements Callable<Integer> {
        @Option(names = "--threads", split = ",", defaultValue = "1,2", paramLabel = "N[,N...]",
                description = "Thread counts to run with (default: ${DEFAULT-VALUE}).")
        List<Integer> threads;

        @Option(names = "--seconds", defaultValue = "3", paramLabel = "S",
                description = "Measuring time per kernel and thread count, after warm-up (default: ${DEFAULT-VALUE}).")
        double seconds;

        @Option(names = "--probe-mib", defaultValue = "2048", paramLabel = "MIB",
                description = "Size of the buffer the bandwidth probe reads, in MiB (default: ${DEFAULT-VALUE}).")
        int probeMib;

        @Option(names = "--format", defaultValue = "bf16", paramLabel = "bf16|q8|q4",
                description = "Weight format of the timed products: bf16, or the block-quantized q8 (Q8_0) and q4 (Q4_0) (default: ${DEFAULT-VALUE}).")
        String format;

        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            org.internvl4j.tensor.DType dtype = switch (format) {
                case "bf16" -> org.internvl4j.tensor.DType.BF16;
                case "q8" -> org.internvl4j.tensor.DType.Q8_0;
                case "q4" -> org.internvl4j.tensor.DType.Q4_0;
                default -> throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--format must be bf16, q8 or q4, got '" + format + "'");
            };
            for (int t : threads) {
                if (t < 1) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--threads: each count must be at least 1, got " + t);
            }
            if (!(seconds > 0)) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--seconds must be positive, got " + seconds);
            if (probeMib < 64) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--probe-mib must be at least 64 (to defeat the caches), got " + probeMib);
            var err = spec.commandLine().getErr();
            err.println(KernelBench.estimate(threads.size(), seconds, probeMib));
            err.flush();
            new KernelBench(spec.commandLine().getOut(), seconds, probeMib, dtype).run(threads);
            return 0;
        }
    }
}
