package org.internvl4j.cli;

import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.ByteOrder;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.internvl4j.tensor.DType;
import org.internvl4j.tensor.MatMul;
import org.internvl4j.tensor.Parallel;
import org.internvl4j.tensor.Weight;

/**
 * The kernel benchmark behind `internvl bench kernels`. Ratios are taken against probes run with the
 * same thread count just before the kernels, because this machine's bandwidth swings over minutes.
 */
final class KernelBench {
    /** The probes run at the kernels' vector width (see internvl.vector.bits), so shares compare like with like. */
    private static final VectorSpecies<Float> F = VectorSpecies.of(float.class, jdk.incubator.vector.VectorShape.forBitSize(org.internvl4j.tensor.MatMul.vectorBits()));
    /** Weights cycled through in matrix-vector runs, so they come from memory and not the last-level cache. */
    private static final long MIN_STREAMED_BYTES = 512L << 20;

    /** [rows, cols] of InternVL2-8B's language model: wqkv, wo, w1/w3, w2, output. */
    private static final int[][] MATVEC_SHAPES = {{6144, 4096}, {4096, 4096}, {14336, 4096}, {4096, 14336}, {92553, 4096}};
    private static final int MATMUL_TOKENS = 512;
    private static final int[] MATMUL_SHAPE = {14336, 4096};

    private final PrintWriter out;
    private final double seconds;
    private final int probeMib;

    private final DType dtype;

    KernelBench(PrintWriter out, double seconds, int probeMib) {
        this(out, seconds, probeMib, DType.BF16);
    }

    /** dtype: the weights' format in the timed products (BF16, Q8_0 or Q4_0). */
    KernelBench(PrintWriter out, double seconds, int probeMib, DType dtype) {
        this.dtype = dtype;
        this.out = out;
        this.seconds = seconds;
        this.probeMib = probeMib;
    }

    /**
     * One measured figure. rates: work per wall-clock second for each call (GB/s or GFLOP/s).
     * cpuRate: work over the whole measuring phase per second of CPU time the process got, divided by
     * the thread count: what the calls would reach if the host did not take our CPUs away (stalls on
     * memory still count as CPU time; the process clock is too coarse to time single calls). cpuShare: the share of the requested CPU time the process got while measuring;
     * below ~90 % the host was busy with other work and the wall-clock figures understate.
     */
    record Result(String name, int threads, String unit, double[] rates, double cpuRate, double cpuShare,
            double limit, double cpuLimit) {
        Result withLimits(Result probe) {
            return new Result(name, threads, unit, rates, cpuRate, cpuShare, probe.median(), probe.cpuRate());
        }

        /** Both probe rounds together (they measure for the same time, so their CPU figures average). */
        Result merge(Result other) {
            return new Result(name, threads, unit, concat(rates, other.rates), (cpuRate + other.cpuRate) / 2,
                    (cpuShare + other.cpuShare) / 2, limit, cpuLimit);
        }

        double median() {
            return percentile(rates, 0.5);
        }

        static double percentile(double[] values, double p) {
            double[] s = values.clone();
            Arrays.sort(s);
            return s[(int) Math.round(p * (s.length - 1))];
        }

        private static double[] concat(double[] a, double[] b) {
            double[] all = Arrays.copyOf(a, a.length + b.length);
            System.arraycopy(b, 0, all, a.length, b.length);
            return all;
        }
    }

    /**
     * How long and how much memory a run takes: per thread count, four probes and six kernels, each
     * measured for `seconds` after a third of that in warm-up, plus setup (filling the weights); memory:
     * the probe's buffer, the matrix-vector weights cycled from memory (MIN_STREAMED_BYTES), the
     * matrix-matrix weights and its activations.
     */
    static String estimate(int threadCounts, double seconds, int probeMib) {
        double perCount = 10 * seconds * 4 / 3 + 10;
        long mib = probeMib + (MIN_STREAMED_BYTES >> 20) + ((long) MATMUL_SHAPE[0] * MATMUL_SHAPE[1] * 2 >> 20)
                + ((long) MATMUL_TOKENS * (MATMUL_SHAPE[0] + MATMUL_SHAPE[1]) * 4 >> 20) + 64;
        long s = Math.round(threadCounts * perCount);
        return String.format(java.util.Locale.ROOT, "bench kernels: %d thread count%s x 10 measurements of %s s: about %d min %02d s, "
                + "with about %.1f GiB of memory (the probe's %d MiB buffer and the weights)", threadCounts, threadCounts == 1 ? "" : "s",
                seconds == Math.rint(seconds) ? Long.toString((long) seconds) : Double.toString(seconds), s / 60, s % 60, mib / 1024.0, probeMib);
    }

    void run(List<Integer> threadCounts) {
        int before = Parallel.threads();
        out.printf("# internvl bench kernels — %s, %d available processors, %d-bit vectors, Java %s%n",
                Instant.now().truncatedTo(ChronoUnit.SECONDS), Runtime.getRuntime().availableProcessors(),
                F.vectorBitSize(), Runtime.version());
        out.printf("# cpu: %s; matMul register tile %d rows%n", org.internvl4j.tensor.CpuInfo.current().describe(),
                org.internvl4j.tensor.MatMul.tileRowCount());
        out.flush();
        List<Result> results = new ArrayList<>();
        try {
            for (int t : threadCounts) {
                Parallel.setThreads(t);
                // Probes before and after the kernels; the limit is the median over both rounds.
                Result bw = print(memoryProbe(t));
                Result fma = print(fmaProbe(t));
                List<Result> kernels = new ArrayList<>();
                for (int[] shape : MATVEC_SHAPES) kernels.add(print(matVec(shape[0], shape[1], t)));
                kernels.add(print(matMul(MATMUL_TOKENS, MATMUL_SHAPE[0], MATMUL_SHAPE[1], t)));
                bw = bw.merge(print(memoryProbe(t)));
                fma = fma.merge(print(fmaProbe(t)));
                results.add(bw);
                results.add(fma);
                for (Result k : kernels) results.add(k.withLimits(k.unit().equals("GB/s") ? bw : fma));
            }
        } finally {
            Parallel.setThreads(before);
        }
        out.println();
        out.println("| kernel | threads | median (wall) | p10–p90 | runs | CPU share | share of probe | per CPU-second | share of probe, per CPU-second |");
        out.println("|---|---|---|---|---|---|---|---|---|");
        for (Result r : results) {
            boolean probe = r.limit() == 0;
            out.printf("| %s | %d | %.1f %s | %.1f–%.1f | %d | %.0f %% | %s | %.1f | %s |%n", r.name(), r.threads(), r.median(), r.unit(),
                    Result.percentile(r.rates(), 0.1), Result.percentile(r.rates(), 0.9), r.rates().length, 100 * r.cpuShare(),
                    probe ? "—" : String.format("**%.0f %%** of %.1f", 100 * r.median() / r.limit(), r.limit()),
                    r.cpuRate(), probe ? "—" : String.format("**%.0f %%** of %.1f", 100 * r.cpuRate() / r.cpuLimit(), r.cpuLimit()));
        }
        out.flush();
    }

    private Result print(Result r) {
        out.printf("  %-44s %d thread(s): median %7.1f %s (p10 %.1f, p90 %.1f, %d runs), CPU share %.0f %%, per CPU-second %.1f%n",
                r.name(), r.threads(), r.median(), r.unit(), Result.percentile(r.rates(), 0.1), Result.percentile(r.rates(), 0.9),
                r.rates().length, 100 * r.cpuShare(), r.cpuRate());
        out.flush();
        return r;
    }

    /** Per-call rates by wall clock, the rate per CPU-second over the phase, and the CPU share. */
    private record Timing(double[] rates, double cpuRate, double cpuShare) {
        Result result(String name, int threads, String unit) {
            return new Result(name, threads, unit, rates, cpuRate, cpuShare, 0, 0);
        }
    }

    /** Times op repeatedly: warm-up for a third of the time (at least twice), then measure. */
    private Timing repeat(Runnable op, double workPerCall, int threads) {
        long warmEnd = System.nanoTime() + (long) (seconds / 3 * 1e9);
        int warm = 0;
        while (warm < 2 || System.nanoTime() < warmEnd) {
            op.run();
            warm++;
        }
        List<Double> rates = new ArrayList<>();
        long cpuStart = processCpuNanos();
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        while (rates.size() < 3 || (System.nanoTime() < end && rates.size() < 10_000)) {
            long t0 = System.nanoTime();
            op.run();
            rates.add(workPerCall / (System.nanoTime() - t0));
        }
        double cpu = Math.max(1, processCpuNanos() - cpuStart);
        double wall = System.nanoTime() - start;
        return new Timing(rates.stream().mapToDouble(Double::doubleValue).toArray(), workPerCall * rates.size() / (cpu / threads),
                cpu / (wall * threads));
    }

    private static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    // ---- probes ----

    Result memoryProbe(int threads) {
        long bytes = (long) probeMib << 20;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(bytes, 64);
            fill(buf, 1);
            int chunkBytes = 1 << 20;
            int chunks = (int) (bytes / chunkBytes);
            double[] sink = new double[1];
            Timing tm = repeat(() -> {
                float[] partial = new float[chunks];
                // Each task reads four streams in lockstep, a quarter of its range apart, as matVec does:
                // one stream alone leaves bandwidth unused, which would make the limit too lenient.
                Parallel.forRange(chunks / 4, 1, (c0, c1) -> {
                    int quarter = chunks / 4;
                    for (int c = c0; c < c1; c++) {
                        partial[c] = sumFloats4(buf, (long) c * chunkBytes, (long) quarter * chunkBytes, chunkBytes);
                    }
                });
                sink[0] += partial[0];
            }, bytes, threads);
            if (sink[0] == 42) out.print("");
            return tm.result("memory read probe (" + probeMib + " MiB, 4 streams per thread)", threads, "GB/s");
        }
    }

    /** Sums len bytes at each of off, off + gap, off + 2 gap and off + 3 gap, reading the four in lockstep. */
    private static float sumFloats4(MemorySegment s, long off, long gap, long len) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        long step = F.vectorByteSize();
        for (long o = off, end = off + len; o < end; o += step) {
            a0 = a0.add(FloatVector.fromMemorySegment(F, s, o, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(F, s, o + gap, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(F, s, o + 2 * gap, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(F, s, o + 3 * gap, ByteOrder.LITTLE_ENDIAN));
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }

    Result fmaProbe(int threads) {
        long iters = 20_000_000L;
        double flopsPerCall = (double) threads * iters * 12 * F.length() * 2;
        float[] sink = new float[threads];
        Timing tm = repeat(() -> Parallel.forRange(threads, 1, (a, b) -> {
            for (int i = a; i < b; i++) sink[i] = fmaLoop(iters);
        }), flopsPerCall, threads);
        return tm.result("FP32 FMA probe (12 accumulators)", threads, "GFLOP/s");
    }

    private static float fmaLoop(long iters) {
        FloatVector m = FloatVector.broadcast(F, 0.999999f), c = FloatVector.broadcast(F, 1e-7f);
        FloatVector a0 = FloatVector.broadcast(F, 1f), a1 = a0.add(1), a2 = a0.add(2), a3 = a0.add(3), a4 = a0.add(4), a5 = a0.add(5);
        FloatVector a6 = a0.add(6), a7 = a0.add(7), a8 = a0.add(8), a9 = a0.add(9), a10 = a0.add(10), a11 = a0.add(11);
        for (long i = 0; i < iters; i++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
            a8 = a8.fma(m, c);
            a9 = a9.fma(m, c);
            a10 = a10.fma(m, c);
            a11 = a11.fma(m, c);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(VectorOperators.ADD);
    }

    // ---- kernels ----

    private Result matVec(int rows, int cols, int threads) {
        long bytes = (long) rows * dtype.byteSize(cols);
        int copies = (int) Math.max(1, (MIN_STREAMED_BYTES + bytes - 1) / bytes);
        try (Arena arena = Arena.ofShared()) {
            Weight[] ws = new Weight[copies];
            for (int i = 0; i < copies; i++) {
                MemorySegment seg = arena.allocate(bytes, 64);
                fill(seg, 7 + i);
                ws[i] = Weight.of(dtype, seg, rows, cols);
            }
            float[] x = randomFloats(cols, 3);
            float[] y = new float[rows];
            int[] next = {0};
            Timing tm = repeat(() -> MatMul.matVec(ws[next[0]++ % copies], x, 0, y, 0), bytes, threads);
            return tm.result(String.format("%s matVec %d×%d%s", dtype, rows, cols, copies > 1 ? " (" + copies + " copies)" : ""), threads, "GB/s");
        }
    }

    private Result matMul(int n, int rows, int cols, int threads) {
        long bytes = (long) rows * dtype.byteSize(cols);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment seg = arena.allocate(bytes, 64);
            fill(seg, 11);
            Weight w = Weight.of(dtype, seg, rows, cols);
            float[] x = randomFloats(n * cols, 5);
            float[] y = new float[n * rows];
            double flops = 2.0 * n * rows * cols;
            Timing tm = repeat(() -> MatMul.matMul(w, x, n, y), flops, threads);
            return tm.result(String.format("%s matMul %d tokens × %d×%d", dtype, n, rows, cols), threads, "GFLOP/s");
        }
    }

    /** Random weights: bf16 values as below, or random quantized bytes with each block's fp16 scale set to 2^-7. */
    private void fill(MemorySegment seg, long seed) {
        fillBf16(seg, seed);
        if (!dtype.quantized()) return;
        for (long o = 0; o < seg.byteSize(); o += dtype.blockBytes()) seg.set(Weight.I16_LE, o, Float.floatToFloat16(0x1p-7f));
    }

    /** Random bf16 values of moderate size (exponents around 2^-7, random sign and mantissa). */
    private static void fillBf16(MemorySegment seg, long seed) {
        long s = seed * 0x9E3779B97F4A7C15L + 1;
        ValueLayout.OfLong layout = ValueLayout.JAVA_LONG_UNALIGNED;
        long n = seg.byteSize() / 8;
        for (long i = 0; i < n; i++) {
            s ^= s << 13;
            s ^= s >>> 7;
            s ^= s << 17;
            seg.setAtIndex(layout, i, (s & 0x807f807f807f807fL) | 0x3c003c003c003c00L);
        }
    }

    private static float[] randomFloats(int n, long seed) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }
}
