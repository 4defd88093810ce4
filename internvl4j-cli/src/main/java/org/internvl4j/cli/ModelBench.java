package org.internvl4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.internvl4j.checkpoint.WeightMemory;
import org.internvl4j.tensor.CpuInfo;
import org.internvl4j.checkpoint.LlmConfig;
import org.internvl4j.checkpoint.VisionConfig;
import org.internvl4j.llm.CausalLM;
import org.internvl4j.llm.KvCache;
import org.internvl4j.model.InternVLModel;

/**
 * Times the model end to end on a checkpoint (real or synthetic): load, vision tower + projector per
 * tile, LLM prefill and decode, peak resident memory, each next to this machine's limits, probed in
 * the same run with the kernel bench's probes (FP32 FMA peak, memory-read bandwidth) and RAM.
 */
final class ModelBench {
    private final PrintWriter out;

    ModelBench(PrintWriter out) {
        this.out = out;
    }

    /** The figures of one run; shares are fractions of the limits probed in the same run. */
    record Figures(String cpu, int vectorBits, int threads, String weights, String format, double fmaPeakGflops, double bandwidthGbs,
            double loadS, double visionFirstTileS, double visionSPerTile, double prefillTokensPerS, double decodeTokensPerS,
            double visionShareOfFmaPeak, double prefillShareOfFmaPeak, double decodeShareOfBandwidth, double peakRssGib) {

        /** One JSON object; the keys are a contract (snake_case, as in `bench model --json`). */
        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("cpu", cpu);
            m.put("vector_bits", vectorBits);
            m.put("threads", threads);
            m.put("weights", weights);
            m.put("format", format);
            m.put("fma_peak_gflops", round(fmaPeakGflops));
            m.put("bandwidth_gbs", round(bandwidthGbs));
            m.put("load_s", round(loadS));
            m.put("vision_first_tile_s", Double.isNaN(visionFirstTileS) ? null : round(visionFirstTileS));
            m.put("vision_s_per_tile", Double.isNaN(visionSPerTile) ? null : round(visionSPerTile));
            m.put("prefill_tokens_per_s", round(prefillTokensPerS));
            m.put("decode_tokens_per_s", round(decodeTokensPerS));
            m.put("vision_share_of_fma_peak", Double.isNaN(visionShareOfFmaPeak) ? null : round(visionShareOfFmaPeak));
            m.put("prefill_share_of_fma_peak", round(prefillShareOfFmaPeak));
            m.put("decode_share_of_bandwidth", round(decodeShareOfBandwidth));
            m.put("peak_rss_gib", round(peakRssGib));
            return m;
        }

        private static double round(double v) {
            return Math.round(v * 1e4) / 1e4;
        }
    }

    Figures run(Path dir, int tiles, int promptTokens, int decodeTokens, int threads, WeightMemory.Mode weights) {
        return run(dir, tiles, promptTokens, decodeTokens, threads, weights, null);
    }

    /** quantize: Q8_0 or Q4_0 to quantize the language model at load, or null (a quantized checkpoint is timed as stored). */
    Figures run(Path dir, int tiles, int promptTokens, int decodeTokens, int threads, WeightMemory.Mode weights,
                org.internvl4j.tensor.DType quantize) {
        CpuInfo cpu = CpuInfo.current();
        out.printf("model %s, %d compute threads, %d tile(s), %d prompt tokens, %d decode tokens%n", dir, threads, tiles, promptTokens, decodeTokens);
        out.printf("cpu:     %s; matMul register tile %d rows%n", cpu.describe(), org.internvl4j.tensor.MatMul.tileRowCount());
        // Limits of this machine, now: other machines (and a busy host) differ too much for constants.
        KernelBench probes = new KernelBench(new PrintWriter(java.io.Writer.nullWriter()), 2, 1024);
        double fmaPerThread = probes.fmaProbe(threads).median() / threads;
        double readGbs = probes.memoryProbe(threads).median();
        double fmaPeak = fmaPerThread * threads;
        out.printf("probes:  FP32 FMA %.1f GFLOP/s per thread, memory read %.1f GB/s with %d threads (bench kernels' probes)%n",
                fmaPerThread, readGbs, threads);
        resetPeakRss(); // the peak below is the model's, not the probe buffer's
        long t0 = System.nanoTime();
        try (InternVLModel m = InternVLModel.load(dir, weights, quantize)) {
            double loadS = (System.nanoTime() - t0) / 1e9;
            WeightMemory mem = m.checkpoint().memory();
            String where = mem.copies() ? "copy" : "mmap";
            out.printf("load:    %.2f s (%s)%n", loadS, mem.copies()
                    ? String.format("weights copied into anonymous memory with huge pages: %.2f GB", mem.copiedBytes() / 1e9)
                    : "weights memory-mapped; pages are read on first use");
            out.flush();

            double visionS = Double.NaN, visionShare = Double.NaN, visionFirst = Double.NaN;
            if (tiles > 0) {
                int size = m.imageSize();
                float[] pv = new float[tiles * 3 * size * size];
                SplittableRandom r = new SplittableRandom(1);
                for (int i = 0; i < pv.length; i++) pv[i] = (float) (r.nextDouble() * 4 - 2);
                // The first tile also pays for the JIT compiling the vision code (1.6x the steady time on
                // Zen 5); it is reported apart, as the LLM's first token is.
                long f0 = System.nanoTime();
                m.extractFeature(java.util.Arrays.copyOf(pv, 3 * size * size), 1);
                visionFirst = (System.nanoTime() - f0) / 1e9;
                out.printf("vision:  first tile %.2f s (cold: includes JIT compilation)%n", visionFirst);
                long v0 = System.nanoTime(), c0 = cpuNanos();
                m.extractFeature(pv, tiles);
                double msPerTile = (System.nanoTime() - v0) / 1e6 / tiles, cpuS = (cpuNanos() - c0) / 1e9;
                double gflop = visionGflopPerTile(m);
                double gflops = gflop / (msPerTile / 1e3);
                visionS = msPerTile / 1e3;
                visionShare = gflops / fmaPeak;
                out.printf("vision:  then %.0f ms per tile (%.0f GFLOP/tile -> %.1f GFLOP/s = %.1f%% of FP32 FMA peak %.0f GFLOP/s at %d threads)%n",
                        msPerTile, gflop, gflops, 100 * visionShare, fmaPeak, threads);
                out.printf("         per CPU-second: %.1f GFLOP/s = %.1f%% of one thread's peak (process CPU %.1f s of %.1f s wall)%n",
                        gflop * tiles / cpuS, 100 * gflop * tiles / cpuS / fmaPerThread, cpuS, msPerTile * tiles / 1e3);
                out.flush();
            }

            CausalLM llm = m.llm();
            int[] ids = promptIds(promptTokens, llm.vocabSize());
            // first touch: one token through the LLM reads every weight page once (from disk if not cached)
            long w0 = System.nanoTime();
            llm.forward(llm.newCache(), new int[] {1}, null, -1, true);
            out.printf("warm-up: %.1f s for one token (first touch of the LLM weights, and the JIT)%n", (System.nanoTime() - w0) / 1e9);
            out.flush();
            KvCache cache = llm.newCache(promptTokens + decodeTokens);
            long p0 = System.nanoTime(), pc0 = cpuNanos();
            float[] logits = llm.forward(cache, ids, null, -1, true);
            double prefillS = (System.nanoTime() - p0) / 1e9, prefillCpu = (cpuNanos() - pc0) / 1e9;
            double prefillTps = promptTokens / prefillS;
            double prefillGflopPerToken = 2.0 * llmMatrixWeights(llm.config(), false) / 1e9;
            double prefillBound = fmaPeak / prefillGflopPerToken;
            out.printf("prefill: %.2f tokens/s (%d tokens in %.1f s; %.1f GFLOP/token -> bound %.1f tokens/s at FP32 peak, %d threads: %.1f%%)%n",
                    prefillTps, promptTokens, prefillS, prefillGflopPerToken, prefillBound, threads, 100 * prefillTps / prefillBound);
            out.printf("         per CPU-second: %.2f tokens/s = %.1f%% of one thread's bound %.1f (process CPU %.1f s)%n",
                    promptTokens / prefillCpu, 100 * promptTokens / prefillCpu / (fmaPerThread / prefillGflopPerToken),
                    fmaPerThread / prefillGflopPerToken, prefillCpu);
            out.flush();

            int next = argmax(logits);
            long d0 = System.nanoTime(), dc0 = cpuNanos();
            for (int i = 0; i < decodeTokens; i++) {
                logits = llm.forward(cache, new int[] {next}, null, -1, true);
                next = argmax(logits);
            }
            double decodeS = (System.nanoTime() - d0) / 1e9, decodeCpu = (cpuNanos() - dc0) / 1e9;
            double decodeTps = decodeTokens / decodeS;
            // bytes per weight of the format the linear layers run in (the output head is quantized with them unless tied)
            org.internvl4j.tensor.DType format = m.checkpoint().weightFormat();
            double bytesPerStep = format.blockBytes() / (double) format.blockSize() * llmMatrixWeights(llm.config(), true);
            String formatName = format.name().toLowerCase(java.util.Locale.ROOT);
            double bound = readGbs * 1e9 / bytesPerStep;
            out.printf("decode:  %.2f tokens/s (%d steps in %.1f s; %.2f GB of %s weights per step -> %.1f GB/s; bound %.2f tokens/s at %.0f GB/s: %.0f%%)%n",
                    decodeTps, decodeTokens, decodeS, bytesPerStep / 1e9, formatName, bytesPerStep * decodeTps / 1e9, bound, readGbs, 100 * decodeTps / bound);
            out.printf("         process CPU %.1f s for %.1f s wall (%.0f%% of %d threads; the rest is waiting for the machine or the disk)%n",
                    decodeCpu, decodeS, 100 * decodeCpu / decodeS / threads, threads);
            long hwm = procStatusKb("VmHWM"), total = memTotalKb();
            out.printf("memory:  peak resident %.2f GiB (VmHWM after the probes; mapped weight pages count) = %.0f%% of %.1f GiB RAM%n",
                    hwm / 1048576.0, 100.0 * hwm / total, total / 1048576.0);
            out.flush();
            return new Figures(cpu.name(), cpu.vectorBits(), threads, where, formatName,
                    fmaPeak, readGbs, loadS, visionFirst, visionS, prefillTps, decodeTps, visionShare, prefillTps / prefillBound, decodeTps / bound,
                    hwm / 1048576.0);
        }
    }

    /** The prompt's token ids: random, past the first three (special) ids, the same on every run; the peer gets them too. */
    static int[] promptIds(int n, int vocabSize) {
        int[] ids = new int[n];
        SplittableRandom r = new SplittableRandom(2);
        for (int i = 0; i < ids.length; i++) ids[i] = 3 + r.nextInt(vocabSize - 3);
        return ids;
    }

    /** Resets VmHWM to the current resident size (Linux: writing 5 to clear_refs); ignored elsewhere. */
    static void resetPeakRss() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        } catch (IOException | RuntimeException e) {
            // the peak then includes what came before
        }
    }

    /** Multiply-adds x2 of one 448 px tile through InternViT and the projector (attention included). */
    static double visionGflopPerTile(InternVLModel m) {
        VisionConfig v = m.config().vision();
        long n = m.vision().tokensPerTile(), d = v.hiddenSize(), in = v.intermediateSize(), dl = m.config().llm().hiddenSize();
        double layer = n * (3 * d * d + d * d + 2 * d * in) + 2.0 * n * n * d; // linears + scores + weighted sum
        double patch = (n - 1) * d * 3.0 * v.patchSize() * v.patchSize();
        long tokens = m.imageTokensPerTile();
        double projector = tokens * (4 * d * dl + (double) dl * dl);
        int layers = v.numHiddenLayers() + m.config().selectLayer() + 1;
        return 2 * (layers * layer + patch + projector) / 1e9;
    }

    /**
     * Weights of the LLM's decoder matrices, plus the output head if withHead (decode reads it every step;
     * prefill runs it for the last position only). The embedding is a row lookup.
     */
    static double llmMatrixWeights(LlmConfig c, boolean withHead) {
        long d = c.hiddenSize(), hd = c.headDim();
        double layer = (c.numAttentionHeads() + 2.0 * c.numKeyValueHeads()) * hd * d + d * c.numAttentionHeads() * hd + 3.0 * d * c.intermediateSize();
        return c.numHiddenLayers() * layer + (withHead ? (double) c.vocabSize() * d : 0);
    }

    /** CPU time of the whole process (all threads), to separate our work from a busy shared machine. */
    static long cpuNanos() {
        var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : 0;
    }

    static int argmax(float[] x) {
        int b = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[b]) b = i;
        return b;
    }

    static long procStatusKb(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key + ":")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    static long memTotalKb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        } catch (IOException | NumberFormatException e) {
            return 24L << 20;
        }
        return 24L << 20;
    }
}
