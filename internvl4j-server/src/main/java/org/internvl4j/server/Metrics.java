package org.internvl4j.server;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.internvl4j.engine.EngineStats;

/** The server's Prometheus text exposition (format 0.0.4): request counts, engine gauges and counters, TTFT. */
final class Metrics {
    static final double[] TTFT_BUCKETS = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

    private final Map<String, LongAdder> requests = new ConcurrentHashMap<>(); // "path status" -> count
    private final AtomicLong[] ttftBuckets = new AtomicLong[TTFT_BUCKETS.length];
    private final LongAdder ttftCount = new LongAdder();
    private final AtomicLong ttftSumMicros = new AtomicLong();
    private final long startNanos = System.nanoTime();
    // rates: the counters at the previous scrape
    private long lastNanos = startNanos, lastPrompt, lastGenerated;
    private double promptRate, generatedRate;

    Metrics() {
        for (int i = 0; i < ttftBuckets.length; i++) ttftBuckets[i] = new AtomicLong();
    }

    void request(String path, int status) {
        requests.computeIfAbsent(path + " " + status, k -> new LongAdder()).increment();
    }

    void timeToFirstToken(double seconds) {
        for (int i = 0; i < TTFT_BUCKETS.length; i++) if (seconds <= TTFT_BUCKETS[i]) ttftBuckets[i].incrementAndGet();
        ttftCount.increment();
        ttftSumMicros.addAndGet((long) (seconds * 1e6));
    }

    synchronized String render(EngineStats s) {
        long now = System.nanoTime();
        double dt = (now - lastNanos) / 1e9;
        if (dt >= 1) { // tokens/s since the previous scrape at least a second ago
            promptRate = (s.promptTokens() - lastPrompt) / dt;
            generatedRate = (s.generatedTokens() - lastGenerated) / dt;
            lastNanos = now;
            lastPrompt = s.promptTokens();
            lastGenerated = s.generatedTokens();
        }
        StringBuilder b = new StringBuilder();
        head(b, "internvl_requests_total", "counter", "HTTP requests by path and status");
        new TreeMap<>(requests).forEach((k, v) -> {
            int sp = k.lastIndexOf(' ');
            b.append("internvl_requests_total{path=\"").append(k, 0, sp).append("\",status=\"").append(k.substring(sp + 1))
                    .append("\"} ").append(v.sum()).append('\n');
        });
        gauge(b, "internvl_queue_depth", "requests waiting to be admitted", s.waiting());
        gauge(b, "internvl_running_batch_size", "sequences in the running batch", s.running());
        gauge(b, "internvl_kv_blocks_total", "KV cache blocks of the budget", s.kvBlocksTotal());
        gauge(b, "internvl_kv_blocks_used", "KV cache blocks held by running sequences and the prefix cache", s.kvBlocksUsed());
        gauge(b, "internvl_kv_blocks_free", "KV cache blocks free", s.kvBlocksTotal() - s.kvBlocksUsed());
        gauge(b, "internvl_kv_blocks_running", "KV cache blocks held by running sequences", s.kvBlocksUsed() - s.kvBlocksCached());
        gauge(b, "internvl_kv_blocks_prefix_cache", "KV cache blocks held by the prefix cache (freed on demand)", s.kvBlocksCached());
        counter(b, "internvl_prefix_cache_lookups_total", "admissions that looked up the prefix cache", s.prefixLookups());
        counter(b, "internvl_prefix_cache_hits_total", "admissions that reused a cached prefix", s.prefixHits());
        counter(b, "internvl_prefix_cache_hit_tokens_total", "prompt tokens reused from the prefix cache", s.prefixHitTokens());
        gauge(b, "internvl_prefix_cache_hit_rate", "prefix cache hits / lookups", rate(s.prefixHits(), s.prefixLookups()));
        counter(b, "internvl_image_feature_cache_lookups_total", "images looked up in the feature cache", s.featureLookups());
        counter(b, "internvl_image_feature_cache_hits_total", "images whose features were cached", s.featureHits());
        gauge(b, "internvl_image_feature_cache_hit_rate", "feature cache hits / lookups", rate(s.featureHits(), s.featureLookups()));
        counter(b, "internvl_prompt_tokens_total", "prompt tokens computed (cached ones excluded)", s.promptTokens());
        counter(b, "internvl_generation_tokens_total", "tokens generated", s.generatedTokens());
        gauge(b, "internvl_prompt_tokens_per_second", "prompt tokens per second since the previous scrape", promptRate);
        gauge(b, "internvl_generation_tokens_per_second", "generated tokens per second since the previous scrape", generatedRate);
        counter(b, "internvl_preemptions_total", "sequences preempted to free KV blocks", s.preemptions());
        counter(b, "internvl_engine_steps_total", "scheduler steps", s.steps());
        head(b, "internvl_time_to_first_token_seconds", "histogram", "time from request to first token");
        for (int i = 0; i < TTFT_BUCKETS.length; i++) {
            b.append("internvl_time_to_first_token_seconds_bucket{le=\"").append(fmt(TTFT_BUCKETS[i])).append("\"} ")
                    .append(ttftBuckets[i].get()).append('\n');
        }
        b.append("internvl_time_to_first_token_seconds_bucket{le=\"+Inf\"} ").append(ttftCount.sum()).append('\n');
        b.append("internvl_time_to_first_token_seconds_sum ").append(fmt(ttftSumMicros.get() / 1e6)).append('\n');
        b.append("internvl_time_to_first_token_seconds_count ").append(ttftCount.sum()).append('\n');
        return b.toString();
    }

    private static double rate(long hits, long lookups) {
        return lookups == 0 ? 0 : (double) hits / lookups;
    }

    private static void head(StringBuilder b, String name, String type, String help) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void gauge(StringBuilder b, String name, String help, double v) {
        head(b, name, "gauge", help);
        b.append(name).append(' ').append(fmt(v)).append('\n');
    }

    private static void counter(StringBuilder b, String name, String help, long v) {
        head(b, name, "counter", help);
        b.append(name).append(' ').append(v).append('\n');
    }

    private static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : String.format(Locale.ROOT, "%.6g", v);
    }
}
