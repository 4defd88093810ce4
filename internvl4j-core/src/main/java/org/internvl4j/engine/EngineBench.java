package org.internvl4j.engine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.internvl4j.generate.SamplingParams;
import org.internvl4j.generate.TokenLogprob;
import org.internvl4j.model.InternVLModel;

/**
 * Serving throughput of the engine (a benchmark, not a test): aggregate decode tokens/s with 1, 2, 4, 8 and 16
 * concurrent streams, time to first token with and without a prefix-cache hit, and memory. Token ids only, so a
 * checkpoint without a tokenizer (the synthetic full-size one) works.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp "internvl4j-cli/target/lib/*" \
 *     org.internvl4j.engine.EngineBench MODEL_DIR [NEW_TOKENS=16] [STREAMS=1,2,4,8,16]
 * </pre>
 */
public final class EngineBench {
    private EngineBench() {
    }

    /** First-token and end times of one stream. */
    private static final class Timed implements SequenceListener {
        final long start = System.nanoTime();
        volatile long first;
        final CompletableFuture<Long> end = new CompletableFuture<>();

        @Override
        public boolean onToken(int tokenId, float logprob, List<TokenLogprob> top) {
            if (first == 0) first = System.nanoTime();
            return true;
        }

        @Override
        public void onFinish(Finish finish, Usage usage, RuntimeException error) {
            if (error != null) end.completeExceptionally(error);
            else end.complete(System.nanoTime());
        }
    }

    static int[] prompt(int seed, int length, int vocab) {
        int[] p = new int[length];
        p[0] = 1;
        for (int i = 1; i < length; i++) p[i] = 1000 + Math.floorMod(seed * 7919 + i * 104729, vocab - 2000);
        return p;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: EngineBench MODEL_DIR [NEW_TOKENS=16] [STREAMS=1,2,4,8,16]");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        int newTokens = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        String streamList = args.length > 2 ? args[2] : "1,2,4,8,16";
        try (InternVLModel model = InternVLModel.load(dir);
             Engine engine = new Engine(model, EngineOptions.defaults(Engine.kvBudgetThatFits(4L << 30), 8192).withMaxBatch(32))) {
            int vocab = model.llm().vocabSize();
            System.out.printf(Locale.ROOT, "model %s, %d threads, KV %d bytes/token%n", dir.getFileName(),
                    Runtime.getRuntime().availableProcessors(), engine.kvBytesPerToken());
            // warm up: map the weights in
            run(engine, 1, 32, 4, vocab, 0);
            System.out.println("streams  decode tok/s  (per stream)  ttft_s(mean)");
            double one = 0;
            for (String s : streamList.split(",")) {
                int n = Integer.parseInt(s.trim());
                double[] r = run(engine, n, 32, newTokens, vocab, 100 * n);
                if (n == 1) one = r[0];
                System.out.printf(Locale.ROOT, "%7d  %12.2f  %12.2f  %12.2f%s%n", n, r[0], r[0] / n, r[1],
                        one > 0 && n > 1 ? String.format(Locale.ROOT, "   x%.2f of one stream", r[0] / one) : "");
            }
            // time to first token of a 512-token prompt, cold and with its first 511 tokens cached
            int[] longPrompt = prompt(99, 512, vocab);
            double miss = ttft(engine, longPrompt);
            int[] sameStart = longPrompt.clone();
            sameStart[511] = 1234;
            double hit = ttft(engine, sameStart);
            System.out.printf(Locale.ROOT, "ttft 512-token prompt: %.3f s without a prefix hit, %.3f s with one (%d hits so far)%n",
                    miss, hit, engine.stats().prefixHits());
            Runtime rt = Runtime.getRuntime();
            System.out.printf(Locale.ROOT, "memory: heap used %d MiB, RSS %s, KV blocks used %d of %d, KV pool allocated %d MiB"
                            + " (%d blocks of %d tokens, the most in use at once)%n",
                    (rt.totalMemory() - rt.freeMemory()) >> 20, rss(), engine.stats().kvBlocksUsed(), engine.stats().kvBlocksTotal(),
                    engine.pool().allocated() * engine.pool().bytesPerBlock() >> 20, engine.pool().allocated(), engine.pool().blockTokens());
        }
    }

    /** {decode tokens/s over all streams while all of them decode, mean time to first token}. */
    static double[] run(Engine engine, int n, int promptLength, int newTokens, int vocab, int seed) throws Exception {
        List<Timed> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Timed t = new Timed();
            engine.submit(EngineRequest.text(prompt(seed + i, promptLength, vocab), SamplingParams.greedy(newTokens, Set.of())), t);
            all.add(t);
        }
        long lastFirst = 0, lastEnd = 0;
        double ttft = 0;
        for (Timed t : all) {
            long e = t.end.get(1, TimeUnit.HOURS);
            lastEnd = Math.max(lastEnd, e);
            lastFirst = Math.max(lastFirst, t.first);
            ttft += (t.first - t.start) / 1e9;
        }
        // after the last first token every stream decodes together until the end: n * (newTokens - 1) tokens
        double seconds = (lastEnd - lastFirst) / 1e9;
        return new double[] {n * (newTokens - 1) / seconds, ttft / n};
    }

    static double ttft(Engine engine, int[] prompt) throws Exception {
        Timed t = new Timed();
        engine.submit(EngineRequest.text(prompt, SamplingParams.greedy(1, Set.of())), t);
        t.end.get(1, TimeUnit.HOURS);
        return (t.first - t.start) / 1e9;
    }

    static String rss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) if (line.startsWith("VmRSS:")) return line.substring(6).trim();
        } catch (java.io.IOException | RuntimeException e) {
            return "unknown";
        }
        return "unknown";
    }
}
