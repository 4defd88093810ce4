package org.internvl4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The soak (Maven profile {@code soak}, never part of the default build; see docs/RELIABILITY.md):
 * <pre>
 * nice -n 19 ./mvnw -B -ntp verify -Psoak -pl internvl4j-core,internvl4j-server -Dtest=ServerSoak \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Dinternvl.soak.minutes=30
 * </pre>
 * Starts {@code internvl serve}'s server in its own JVM on loopback with the tiny checkpoint, sends mixed traffic
 * from a few clients (text, images as data URIs, long prompts, streaming and not, clients that hang up mid-stream
 * or give up waiting, and malformed requests of eight kinds), and samples the server process's resident memory,
 * threads and open files from /proc every 10 s. It asserts that every request got the status its kind earns (the
 * bad ones their 4xx, the rest 200; no 5xx), and that none of the three grows after the warm-up (see {@link #growth}).
 * Writes soak.csv, soak.png and soak-summary.txt to {@code -Dinternvl.soak.out} (default target/soak).
 */
class ServerSoak {
    static final long SAMPLE_SECONDS = 10;
    static final int CLIENTS = 3;
    static final long MAX_BODY = 256 << 10;
    static final long REQUEST_TIMEOUT_S = 60;
    /** Between two requests of one client: keeps the load moderate on a shared machine. */
    static final long PAUSE_MS = 300;

    /** A kind of request, the status it must get (0: the client gives up before any answer), and how often. */
    enum Kind {
        TEXT(200, 5), STREAM(200, 5), IMAGE(200, 2), IMAGE_STREAM(200, 1), LONG_PROMPT(200, 1), COMPLETION(200, 1),
        HANG_UP(200, 2), CLIENT_TIMEOUT(0, 1),
        BAD_JSON(400, 1), BAD_FIELD(400, 1), BAD_IMAGE(400, 1), DEEP_JSON(400, 1), TOO_LONG(400, 1),
        TOO_LARGE(413, 1), BIG_HEADER(431, 1), NOT_FOUND(404, 1), HEALTH(200, 1), METRICS(200, 1);

        final int expected;
        final int weight;

        Kind(int expected, int weight) {
            this.expected = expected;
            this.weight = weight;
        }
    }

    record Sample(double seconds, double rssMib, int threads, int fds, double heapAfterGcMib, long requests) {
    }

    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
    private final AtomicLong requests = new AtomicLong();
    private String base;
    private String image;
    private String longPrompt;
    private String tooLongPrompt;

    @Test
    void mixedTrafficWithoutGrowth() throws Exception {
        System.setProperty("java.awt.headless", "true");
        double minutes = Double.parseDouble(System.getProperty("internvl.soak.minutes", "30"));
        double warmupMinutes = Math.min(5, minutes / 3);
        Path out = Path.of(System.getProperty("internvl.soak.out", "target/soak"));
        Files.createDirectories(out);
        Path gcLog = out.resolve("gc.log");
        Files.deleteIfExists(gcLog);

        image = Http.dataUri(Http.image("img_b.png"));
        longPrompt = "Please summarise the following notes. " + "The quick brown fox jumps over the lazy dog. ".repeat(120);
        tooLongPrompt = "word ".repeat(20_000);

        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx256m",
                "-Dinternvl.threads=1", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-Xlog:gc:file=" + gcLog,
                "-cp", System.getProperty("java.class.path"), SoakServerMain.class.getName(),
                Http.tinyModel().toString(), Long.toString(MAX_BODY), Long.toString(REQUEST_TIMEOUT_S)));
        Process server = new ProcessBuilder(cmd).redirectError(out.resolve("server.err").toFile()).start();
        List<Sample> samples = new CopyOnWriteArrayList<>();
        long t0 = System.nanoTime();
        try {
            BufferedReader stdout = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            String line = stdout.readLine();
            if (line == null || !line.startsWith("PORT ")) {
                throw new AssertionError("the server did not start: " + Files.readString(out.resolve("server.err")));
            }
            base = "http://127.0.0.1:" + line.substring(5).trim();
            long end = t0 + (long) (minutes * 60e9);
            Thread sampler = Thread.ofPlatform().name("soak-sampler").start(() -> {
                try {
                    for (long next = t0; System.nanoTime() < end + 1_000_000_000L; next += SAMPLE_SECONDS * 1_000_000_000L) {
                        long wait = next - System.nanoTime();
                        if (wait > 0) Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                        samples.add(sample(server.pid(), gcLog, (System.nanoTime() - t0) / 1e9));
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (IOException e) {
                    errors.add("sampling failed: " + e);
                }
            });
            List<Thread> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                SplittableRandom random = new SplittableRandom(1000 + c);
                clients.add(Thread.ofPlatform().name("soak-client-" + c).start(() -> {
                    while (System.nanoTime() < end) {
                        Kind kind = pick(random);
                        send(kind, random);
                        try {
                            Thread.sleep(PAUSE_MS);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }));
            }
            for (Thread t : clients) t.join();
            sampler.join();
            // every sequence ended (finished, hung up or given up on) and gave its KV blocks back
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (ServerLimitsTest.metric(base, "internvl_running_batch_size") > 0 && System.nanoTime() < deadline) Thread.sleep(100);
            assertThat(ServerLimitsTest.metric(base, "internvl_running_batch_size")).isZero();
            assertThat(ServerLimitsTest.metric(base, "internvl_kv_blocks_running")).isZero();
            assertThat(server.isAlive()).as("server process alive at the end").isTrue();
        } finally {
            server.getOutputStream().close();
            if (!server.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) server.destroyForcibly();
        }

        writeCsv(out.resolve("soak.csv"), samples);
        SoakPlot.write(out.resolve("soak.png"), samples, warmupMinutes * 60,
                "internvl serve soak: tiny-a, " + CLIENTS + " clients, " + fmt(minutes) + " min, " + cpu());
        String verdict = growth(samples, warmupMinutes * 60);
        writeSummary(out.resolve("soak-summary.txt"), minutes, samples, verdict);
        System.out.println(Files.readString(out.resolve("soak-summary.txt")));
        assertThat(errors).as("requests that did not get the status their kind earns").isEmpty();
        for (Kind k : List.of(Kind.TOO_LARGE, Kind.BIG_HEADER)) {
            long answered = count(k + " " + k.expected), reset = count(k + " -1");
            assertThat(answered).as(k + " answered with " + k.expected + " (not only reset)").isGreaterThan(9 * reset);
        }
        assertThat(verdict).as("growth after warm-up").startsWith("flat");
    }

    private long count(String key) {
        AtomicLong n = counts.get(key);
        return n == null ? 0 : n.get();
    }

    static Kind pick(SplittableRandom random) {
        int total = 0;
        for (Kind k : Kind.values()) total += k.weight;
        int r = random.nextInt(total);
        for (Kind k : Kind.values()) {
            r -= k.weight;
            if (r < 0) return k;
        }
        throw new AssertionError();
    }

    // ---------------------------------------------------------------- traffic

    private void send(Kind kind, SplittableRandom random) {
        requests.incrementAndGet();
        int status;
        String body = "";
        try {
            switch (kind) {
                case HANG_UP -> status = hangUp(random);
                case CLIENT_TIMEOUT -> status = giveUp(random);
                case STREAM, IMAGE_STREAM -> {
                    HttpResponse<String> r = post("/v1/chat/completions", chatBody(kind, random), Map.of(), Duration.ofSeconds(120));
                    status = r.statusCode();
                    body = r.body();
                    if (status == 200 && !body.strip().endsWith("data: [DONE]")) {
                        errors.add(kind + ": stream did not end with [DONE]: " + tail(body));
                    }
                }
                case HEALTH, METRICS, NOT_FOUND -> {
                    String path = kind == Kind.HEALTH ? "/health" : kind == Kind.METRICS ? "/metrics" : "/v1/nothing-here";
                    HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
                            .GET().build(), HttpResponse.BodyHandlers.ofString());
                    status = r.statusCode();
                    body = r.body();
                }
                case BIG_HEADER -> {
                    HttpResponse<String> r = post("/v1/chat/completions", chatBody(Kind.TEXT, random),
                            Map.of("X-Padding", "p".repeat(64 << 10)), Duration.ofSeconds(60));
                    status = r.statusCode();
                    body = r.body();
                }
                case COMPLETION -> {
                    HttpResponse<String> r = post("/v1/completions", Http.json(Map.of("prompt", "Once upon a time",
                            "max_tokens", 12, "seed", random.nextInt(1000))), Map.of(), Duration.ofSeconds(120));
                    status = r.statusCode();
                    body = r.body();
                }
                default -> {
                    HttpResponse<String> r = post("/v1/chat/completions", chatBody(kind, random), Map.of(), Duration.ofSeconds(120));
                    status = r.statusCode();
                    body = r.body();
                }
            }
        } catch (IOException e) {
            status = -1; // no answer: the connection closed or was reset first
            body = e.toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        counts.computeIfAbsent(kind + " " + status, k -> new AtomicLong()).incrementAndGet();
        // a cancelled request may still finish first on a fast model: both outcomes are fine, the count shows which.
        // An oversized request may see its connection reset before the 413/431 arrives: the server answers and closes
        // while the client is still sending (RFC 9112 9.6); it is refused either way, and counted as -1.
        boolean ok = status == kind.expected || (kind == Kind.CLIENT_TIMEOUT && status == 200)
                || (status == -1 && (kind == Kind.TOO_LARGE || kind == Kind.BIG_HEADER));
        if (!ok) errors.add(kind + ": expected " + kind.expected + ", got " + status + ": " + tail(body));
    }

    private HttpResponse<String> post(String path, String body, Map<String, String> headers, Duration timeout)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(b::header);
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Streams a long answer, reads a few events and hangs up. */
    private int hangUp(SplittableRandom random) throws IOException, InterruptedException {
        String body = Http.json(Map.of("messages", List.of(Map.of("role", "user", "content", "tell me a long story " + random.nextInt())),
                "max_tokens", 400, "stream", true, "temperature", 1.0, "seed", random.nextInt(1000)));
        HttpResponse<InputStream> r = client.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                .timeout(Duration.ofSeconds(120)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = r.body();
             BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            int events = 0;
            for (String line; events < 3 && (line = lines.readLine()) != null; ) if (line.startsWith("data: ")) events++;
        }
        return r.statusCode();
    }

    /** A long non-streamed answer the client stops waiting for after 30 ms; status 0 when it gave up. */
    private int giveUp(SplittableRandom random) throws IOException, InterruptedException {
        String body = Http.json(Map.of("messages", List.of(Map.of("role", "user", "content", "write an essay " + random.nextInt())),
                "max_tokens", 400, "temperature", 1.0, "seed", random.nextInt(1000)));
        try {
            return post("/v1/chat/completions", body, Map.of(), Duration.ofMillis(30)).statusCode();
        } catch (HttpTimeoutException e) {
            return 0;
        }
    }

    private String chatBody(Kind kind, SplittableRandom random) {
        int seed = random.nextInt(1000);
        String question = "question " + random.nextInt(100) + ": what comes next?";
        return switch (kind) {
            case TEXT, BIG_HEADER -> Http.json(Map.of("messages", List.of(Map.of("role", "user", "content", question)),
                    "max_tokens", 16, "temperature", 0.8, "seed", seed));
            case STREAM -> Http.json(Map.of("messages", List.of(Map.of("role", "user", "content", question)),
                    "max_tokens", 24, "stream", true, "temperature", 0.8, "seed", seed));
            case IMAGE, IMAGE_STREAM -> Http.json(Map.of("messages", List.of(Map.of("role", "user", "content", List.of(
                            Map.of("type", "image_url", "image_url", Map.of("url", image)),
                            Map.of("type", "text", "text", "Describe the image.")))),
                    "max_tokens", 8, "stream", kind == Kind.IMAGE_STREAM, "seed", seed));
            case LONG_PROMPT -> Http.json(Map.of("messages", List.of(Map.of("role", "user", "content", longPrompt + seed)),
                    "max_tokens", 8, "seed", seed));
            case TOO_LONG -> Http.json(Map.of("messages", List.of(Map.of("role", "user", "content", tooLongPrompt)),
                    "max_tokens", 8));
            case BAD_JSON -> "{\"messages\": [{\"role\": \"user\", \"content\": \"unfinished";
            case BAD_FIELD -> Http.json(Map.of("messages", List.of(Map.of("role", "user", "content", question)),
                    "max_tokens", "many"));
            case BAD_IMAGE -> Http.json(Map.of("messages", List.of(Map.of("role", "user", "content", List.of(
                    Map.of("type", "image_url", "image_url", Map.of("url", "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB")),
                    Map.of("type", "text", "text", "What is this?"))))));
            case DEEP_JSON -> "{\"messages\": " + "[".repeat(5000) + "]".repeat(5000) + "}";
            case TOO_LARGE -> Http.json(Map.of("messages", List.of(Map.of("role", "user", "content", "x".repeat((int) MAX_BODY + 1024)))));
            default -> throw new IllegalArgumentException(kind.toString());
        };
    }

    private static String tail(String s) {
        s = s.replace('\n', ' ');
        return s.length() <= 300 ? s : s.substring(0, 300) + "...";
    }

    // ---------------------------------------------------------------- sampling

    private static final Pattern HEAP_AFTER_GC = Pattern.compile("(\\d+)M->(\\d+)M\\((\\d+)M\\)");

    private Sample sample(long pid, Path gcLog, double seconds) throws IOException {
        Path proc = Path.of("/proc", Long.toString(pid));
        double rss = 0;
        int threads = 0;
        for (String l : Files.readAllLines(proc.resolve("status"))) {
            if (l.startsWith("VmRSS:")) rss = Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024.0;
            if (l.startsWith("Threads:")) threads = Integer.parseInt(l.replaceAll("[^0-9]", ""));
        }
        int fds;
        try (Stream<Path> s = Files.list(proc.resolve("fd"))) {
            fds = (int) s.count();
        }
        double heap = Double.NaN;
        if (Files.exists(gcLog)) {
            Matcher m = HEAP_AFTER_GC.matcher(Files.readString(gcLog));
            while (m.find()) heap = Double.parseDouble(m.group(2));
        }
        return new Sample(seconds, rss, threads, fds, heap, requests.get());
    }

    /**
     * "flat: ..." when none of RSS, threads and open files grows after warm-up. RSS: the median of the last third of
     * the post-warm-up samples is at most the median of the first third plus a slack (5 % + 16 MiB, which the JIT's
     * code cache and G1's region sizing move by). Medians, not maxima: a leak lifts every sample, while G1 lifts
     * single ones (a young generation sized up just before a sample), and one such spike failed a 30-minute run whose
     * plot is flat. Threads and files, which do not jitter so: the highest of the last third at most the highest of
     * the first plus 4, the pool's breathing room. The maxima and the slope are reported either way.
     */
    static String growth(List<Sample> samples, double warmupSeconds) {
        List<Sample> after = samples.stream().filter(s -> s.seconds() >= warmupSeconds).toList();
        if (after.size() < 6) return "too few samples after warm-up: " + after.size();
        int third = after.size() / 3;
        List<Sample> first = after.subList(0, third), last = after.subList(after.size() - third, after.size());
        boolean flat = true;
        double med0 = median(first), med1 = median(last);
        flat &= med1 <= med0 * 1.05 + 16;
        double rss0 = first.stream().mapToDouble(Sample::rssMib).max().orElseThrow();
        double rss1 = last.stream().mapToDouble(Sample::rssMib).max().orElseThrow();
        int th0 = first.stream().mapToInt(Sample::threads).max().orElseThrow();
        int th1 = last.stream().mapToInt(Sample::threads).max().orElseThrow();
        flat &= th1 <= th0 + 4;
        int fd0 = first.stream().mapToInt(Sample::fds).max().orElseThrow();
        int fd1 = last.stream().mapToInt(Sample::fds).max().orElseThrow();
        flat &= fd1 <= fd0 + 4;
        return (flat ? "flat" : "GROWTH") + String.format(Locale.ROOT,
                ": median RSS %.1f -> %.1f MiB (max %.1f -> %.1f), threads %d -> %d, open files %d -> %d (first vs last third after"
                        + " %.0f s warm-up); RSS slope %.2f MiB/min after warm-up",
                med0, med1, rss0, rss1, th0, th1, fd0, fd1, warmupSeconds, slopePerMinute(after));
    }

    private static double median(List<Sample> s) {
        double[] v = s.stream().mapToDouble(Sample::rssMib).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    static double slopePerMinute(List<Sample> s) {
        double n = s.size(), sx = 0, sy = 0, sxx = 0, sxy = 0;
        for (Sample p : s) {
            double x = p.seconds() / 60;
            sx += x;
            sy += p.rssMib();
            sxx += x * x;
            sxy += x * p.rssMib();
        }
        return (n * sxy - sx * sy) / (n * sxx - sx * sx);
    }

    private static void writeCsv(Path file, List<Sample> samples) throws IOException {
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(file))) {
            w.println("seconds,rss_mib,threads,open_files,heap_after_gc_mib,requests_sent");
            for (Sample s : samples) {
                w.printf(Locale.ROOT, "%.1f,%.1f,%d,%d,%s,%d%n", s.seconds(), s.rssMib(), s.threads(), s.fds(),
                        Double.isNaN(s.heapAfterGcMib()) ? "" : fmt(s.heapAfterGcMib()), s.requests());
            }
        }
    }

    private void writeSummary(Path file, double minutes, List<Sample> samples, String verdict) throws IOException {
        Map<String, Long> sorted = new TreeMap<>();
        counts.forEach((k, v) -> sorted.put(k, v.get()));
        Map<Integer, Long> byStatus = new TreeMap<>();
        counts.forEach((k, v) -> byStatus.merge(Integer.parseInt(k.substring(k.indexOf(' ') + 1)), v.get(), Long::sum));
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(file))) {
            w.printf("soak finished %s: %s min, %d clients, %d samples, CPU %s%n", Instant.now(), fmt(minutes), CLIENTS,
                    samples.size(), cpu());
            w.printf("requests: %d; by status (0: the client gave up first): %s%n", requests.get(), byStatus);
            w.println("by kind and status: " + sorted);
            w.println("unexpected statuses: " + errors.size() + (errors.isEmpty() ? "" : " e.g. " + errors.stream().limit(5).toList()));
            w.println(verdict);
        }
    }

    static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : String.format(Locale.ROOT, "%.1f", v);
    }

    static String cpu() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) return l.substring(l.indexOf(':') + 1).trim() + " x" + Runtime.getRuntime().availableProcessors();
            }
        } catch (IOException e) {
            // not Linux
        }
        return System.getProperty("os.arch");
    }
}
