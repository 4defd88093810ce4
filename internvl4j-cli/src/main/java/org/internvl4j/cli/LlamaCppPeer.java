package org.internvl4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.internvl4j.checkpoint.InternVLConfig;
import org.internvl4j.checkpoint.LlmConfig;
import org.internvl4j.checkpoint.gguf.GgmlType;
import org.internvl4j.checkpoint.gguf.RandomGguf;
import org.internvl4j.util.Json;

/**
 * bench model's peer: llama.cpp, through the prebuilt CPU binaries of the node-llama-cpp npm package, driven
 * by scripts/peer/llama-cpp-bench.mjs (installed with {@code npm ci --prefix scripts/peer}; opt-in, never part
 * of the build). It times a prefill of the same token ids and the same number of greedy decode steps with
 * the same thread count as our run, and reports what the script prints.
 */
final class LlamaCppPeer {
    /** Environment variable naming the folder with llama-cpp-bench.mjs and its node_modules (default: the checkout's scripts/peer). */
    static final String DIR_ENV = "INTERNVL_PEER_DIR";
    static final String SCRIPT = "llama-cpp-bench.mjs";

    /** What one peer run measured; the keys of {@link #json()} are a contract, as bench model's. */
    record Figures(String release, String bindings, String systemInfo, String gguf, String format, int threads, double loadS,
            int promptTokens, double prefillTokensPerS, int decodeTokens, double decodeTokensPerS, double decodeStepMsMin,
            double decodeStepMsMedian, double decodeStepMsMax) {
        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", "llama.cpp");
            m.put("llama_cpp_release", release);
            m.put("node_llama_cpp", bindings);
            m.put("system_info", systemInfo);
            m.put("gguf", gguf);
            m.put("format", format);
            m.put("threads", threads);
            m.put("load_s", round(loadS));
            m.put("prompt_tokens", promptTokens);
            m.put("prefill_tokens_per_s", round(prefillTokensPerS));
            m.put("decode_tokens", decodeTokens);
            m.put("decode_tokens_per_s", round(decodeTokensPerS));
            // The spread of the steps: a busy machine stalls llama.cpp's spinning thread barrier (see docs/peer.md).
            m.put("decode_step_ms_min", round(decodeStepMsMin));
            m.put("decode_step_ms_median", round(decodeStepMsMedian));
            m.put("decode_step_ms_max", round(decodeStepMsMax));
            return m;
        }
    }

    /** The peer located and its GGUF files written (or found in the cache), one per format, before our run. */
    record Prepared(LlamaCppPeer peer, LlmConfig config, List<GgmlType> formats, List<Path> ggufs) {
        /**
         * Runs the peer once per format with our run's prompt (the same ids), decode steps and threads; prints its
         * figures and ours / its as ratios; returns one JSON object per format.
         */
        List<Map<String, Object>> runBeside(double ourPrefill, double ourDecode, String ourFormat, int promptTokens, int decodeTokens,
                int threads, PrintWriter human) throws IOException {
            List<Map<String, Object>> out = new ArrayList<>();
            int[] ids = ModelBench.promptIds(promptTokens, config.vocabSize());
            for (int i = 0; i < formats.size(); i++) {
                Figures p = peer.run(ggufs.get(i), formats.get(i).userName(), ids, decodeTokens, threads);
                if (i == 0) {
                    human.printf("peer:    llama.cpp %s (node-llama-cpp %s), random weights of our shapes, %d threads, weights in memory%n",
                            p.release(), p.bindings(), p.threads());
                    human.printf("peer:    %s%n", p.systemInfo().strip());
                }
                double prefillRatio = ourPrefill / p.prefillTokensPerS(), decodeRatio = ourDecode / p.decodeTokensPerS();
                human.printf("peer:    %-5s load %.1f s; prefill %.2f tokens/s (%d tokens); decode %.2f tokens/s (%d steps; step %.0f/%.0f/%.0f ms min/median/max)%n",
                        p.format(), p.loadS(), p.prefillTokensPerS(), p.promptTokens(), p.decodeTokensPerS(), p.decodeTokens(),
                        p.decodeStepMsMin(), p.decodeStepMsMedian(), p.decodeStepMsMax());
                human.printf("ratio:   ours (%s) / llama.cpp (%s): prefill %.2fx, decode %.2fx%n", ourFormat, p.format(), prefillRatio, decodeRatio);
                human.flush();
                Map<String, Object> m = p.json();
                m.put("ours_format", ourFormat);
                m.put("prefill_ratio_ours_to_peer", round(prefillRatio));
                m.put("decode_ratio_ours_to_peer", round(decodeRatio));
                out.add(m);
            }
            return out;
        }
    }

    /**
     * Locates the peer, reads the model's language-model shapes from modelDir/config.json and writes (or reuses) one
     * random GGUF per format in cache.
     *
     * @throws IllegalStateException    the peer is not installed (with what to do)
     * @throws IllegalArgumentException the shapes are not ones the GGUF tables cover
     */
    static Prepared prepare(Path modelDir, List<GgmlType> formats, Path cache, Consumer<String> log) throws IOException {
        LlamaCppPeer peer = locate();
        LlmConfig c = InternVLConfig.read(modelDir.resolve("config.json")).llm();
        RandomGguf.architecture(c);
        List<Path> ggufs = new ArrayList<>();
        for (GgmlType t : formats) ggufs.add(RandomGguf.cached(c, t, cache, log));
        return new Prepared(peer, c, List.copyOf(formats), List.copyOf(ggufs));
    }

    private final Path dir;

    private LlamaCppPeer(Path dir) {
        this.dir = dir;
    }

    /**
     * The peer, checked before any long work: node on the PATH, the script and its node-llama-cpp installed.
     *
     * @throws IllegalStateException with what to do when something is missing
     */
    static LlamaCppPeer locate() {
        String env = System.getenv(DIR_ENV);
        Path dir = env != null && !env.isBlank() ? Path.of(env) : defaultDir();
        if (dir == null || !Files.isRegularFile(dir.resolve(SCRIPT))) {
            throw new IllegalStateException("the llama.cpp peer's script " + SCRIPT + " was not found"
                    + (dir == null ? "" : " in " + dir) + "; set " + DIR_ENV + " to the checkout's scripts/peer folder");
        }
        if (!Files.isDirectory(dir.resolve("node_modules/node-llama-cpp"))) {
            throw new IllegalStateException("the llama.cpp peer needs node-llama-cpp: run `npm ci --prefix " + dir + "` once (about 700 MB)");
        }
        try {
            Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
            String v = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IOException("node --version failed: " + v);
        } catch (IOException e) {
            throw new IllegalStateException("the llama.cpp peer runs on Node.js 18 or newer, and `node` could not be started: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking for node");
        }
        return new LlamaCppPeer(dir);
    }

    /** scripts/peer of the checkout this jar (or classes folder) was built in: internvl4j-cli/target/X -> the root. */
    private static Path defaultDir() {
        try {
            Path built = Path.of(LlamaCppPeer.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path root = built.getParent() == null ? null : built.getParent().getParent() == null ? null : built.getParent().getParent().getParent();
            return root == null ? null : root.resolve("scripts/peer");
        } catch (Exception e) {
            return null;
        }
    }

    /**
     * Runs the peer on gguf: prefill of promptIds, decodeTokens greedy steps, threads threads. Its log goes to
     * a file, whose tail is in the exception when the run fails.
     */
    Figures run(Path gguf, String format, int[] promptIds, int decodeTokens, int threads) throws IOException {
        Path tokens = Files.createTempFile("internvl-peer-tokens", ".json");
        Path log = Files.createTempFile("internvl-peer", ".log");
        try {
            Files.writeString(tokens, Arrays.toString(promptIds));
            List<String> cmd = new ArrayList<>(List.of("node", dir.resolve(SCRIPT).toString(), "--model", gguf.toString(),
                    "--threads", String.valueOf(threads), "--decode-tokens", String.valueOf(decodeTokens), "--tokens", tokens.toString()));
            Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int code = p.waitFor();
            String last = out.lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElse(null);
            if (code != 0 || last == null) {
                List<String> lines = Files.readAllLines(log);
                String tail = String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
                throw new IOException("the llama.cpp peer failed (exit " + code + ")" + (tail.isBlank() ? "" : ":\n" + tail));
            }
            return parse(Json.mapper().readTree(last), format);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while the llama.cpp peer ran");
        } finally {
            Files.deleteIfExists(tokens);
            Files.deleteIfExists(log);
        }
    }

    static Figures parse(JsonNode j, String format) {
        return new Figures(j.path("llama_cpp_release").asText("?"), j.path("node_llama_cpp").asText("?"), j.path("system_info").asText(""),
                j.path("model").asText(), format, j.path("threads").asInt(), j.path("load_s").asDouble(Double.NaN),
                j.path("prompt_tokens").asInt(), j.path("prefill_tokens_per_s").asDouble(Double.NaN), j.path("decode_tokens").asInt(),
                j.path("decode_tokens_per_s").asDouble(Double.NaN), j.path("decode_step_ms_min").asDouble(Double.NaN),
                j.path("decode_step_ms_median").asDouble(Double.NaN), j.path("decode_step_ms_max").asDouble(Double.NaN));
    }

    private static double round(double v) {
        return Math.round(v * 1e4) / 1e4;
    }
}
