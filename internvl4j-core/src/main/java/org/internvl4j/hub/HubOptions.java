package org.internvl4j.hub;

import java.io.IOException;
import java.net.ProxySelector;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.ToLongFunction;

/**
 * How to reach the hub and where to keep files. Build one with {@link #fromEnvironment(Map)} (which
 * reads the same variables as Python's huggingface_hub) and adjust it with the {@code with*} methods.
 *
 * @param source       where files come from
 * @param endpoint     base URL of the hub or mirror, without a trailing slash
 * @param token        bearer token, or {@code null}
 * @param offline      never touch the network; use only the cache
 * @param includes     glob patterns of the files to fetch (see {@link Globs})
 * @param parallelism  files downloaded at the same time
 * @param cacheRoot    the hub cache folder that holds {@code models--owner--name} folders
 * @param proxy        proxy selection for HTTP requests
 * @param retries      extra attempts per file after a network error (each resumes where the last stopped)
 * @param timeout      connect timeout, and the longest wait for the next bytes of an answer (its head or body)
 * @param maxTime      the most one API answer (a listing, an error body) may take in all, however steadily it
 *                     trickles in, like curl's {@code --max-time}; file downloads are bounded by {@code timeout}
 *                     per read only, as they may rightly take hours
 * @param usableSpace  free bytes for a folder; replaced in tests
 */
public record HubOptions(
        Source source,
        URI endpoint,
        String token,
        boolean offline,
        List<String> includes,
        int parallelism,
        Path cacheRoot,
        ProxySelector proxy,
        int retries,
        Duration timeout,
        Duration maxTime,
        ToLongFunction<Path> usableSpace) {

    /**
     * What inference needs from an InternVL2 repository: the configs, the bf16 shards and their index,
     * the SentencePiece model and the added/special token files. The Python modeling files are not
     * needed (the engine is Java); README.md is small and tells the user what they downloaded.
     */
    public static final List<String> INFERENCE_FILES = List.of(
            "config.json",
            "generation_config.json",
            "preprocessor_config.json",
            "*.safetensors",
            "model.safetensors.index.json",
            "tokenizer.model",
            "tokenizer_config.json",
            "added_tokens.json",
            "special_tokens_map.json",
            "README.md");

    public HubOptions {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(cacheRoot, "cacheRoot");
        Objects.requireNonNull(proxy, "proxy");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(maxTime, "maxTime");
        if (timeout.isNegative() || timeout.isZero() || maxTime.isNegative() || maxTime.isZero()) {
            throw new IllegalArgumentException("timeout and maxTime must be positive, got " + timeout + " and " + maxTime);
        }
        Objects.requireNonNull(usableSpace, "usableSpace");
        includes = List.copyOf(includes);
        if (includes.isEmpty()) {
            throw new IllegalArgumentException("includes must name at least one pattern");
        }
        if (parallelism < 1) {
            throw new IllegalArgumentException("parallelism must be at least 1, got " + parallelism);
        }
        if (retries < 0) {
            throw new IllegalArgumentException("retries must be 0 or more, got " + retries);
        }
        String e = endpoint.toString();
        if (e.endsWith("/")) {
            endpoint = URI.create(e.substring(0, e.length() - 1));
        }
        if (token != null && token.isBlank()) {
            token = null;
        }
    }

    /** Options from the process environment. */
    public static HubOptions fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    /**
     * Options from these environment variables (names as in huggingface_hub's constants.py):
     * {@code HF_ENDPOINT}, {@code HF_TOKEN} (else {@code HF_TOKEN_PATH} or {@code $HF_HOME/token}),
     * {@code HF_HUB_OFFLINE}, {@code HF_HUB_CACHE} / {@code HF_HOME} / {@code XDG_CACHE_HOME},
     * {@code HTTPS_PROXY} / {@code HTTP_PROXY} / {@code NO_PROXY}; {@code INTERNVL_HUB_SOURCE}
     * picks ModelScope ({@code MODELSCOPE_ENDPOINT}, {@code MODELSCOPE_API_TOKEN}).
     */
    public static HubOptions fromEnvironment(Map<String, String> env) {
        Source source = env.containsKey("INTERNVL_HUB_SOURCE") ? Source.parse(env.get("INTERNVL_HUB_SOURCE"))
                : Source.HUGGING_FACE;
        return forSource(source, env);
    }

    /** Options for {@code source} from the environment. */
    public static HubOptions forSource(Source source, Map<String, String> env) {
        String variable = source == Source.HUGGING_FACE ? "HF_ENDPOINT" : "MODELSCOPE_ENDPOINT";
        String endpoint = nonBlank(env.get(variable), source.defaultEndpoint());
        String token = source == Source.HUGGING_FACE ? huggingFaceToken(env) : env.get("MODELSCOPE_API_TOKEN");
        boolean offline = isTrue(env.get("HF_HUB_OFFLINE")) || isTrue(env.get("TRANSFORMERS_OFFLINE"));
        Path cache = source == Source.HUGGING_FACE ? HfCache.defaultRoot(env) : HfCache.modelScopeRoot(env);
        return new HubOptions(source, parseEndpoint(endpoint, variable), token, offline, INFERENCE_FILES, 4, cache,
                EnvProxySelector.fromEnvironment(env), 3, Duration.ofSeconds(30), Duration.ofSeconds(120),
                HubOptions::freeSpace);
    }

    public HubOptions withSource(Source s) {
        return new HubOptions(s, endpoint, token, offline, includes, parallelism, cacheRoot, proxy, retries, timeout, maxTime, usableSpace);
    }

    public HubOptions withEndpoint(URI e) {
        return new HubOptions(source, e, token, offline, includes, parallelism, cacheRoot, proxy, retries, timeout, maxTime, usableSpace);
    }

    public HubOptions withToken(String t) {
        return new HubOptions(source, endpoint, t, offline, includes, parallelism, cacheRoot, proxy, retries, timeout, maxTime, usableSpace);
    }

    public HubOptions withOffline(boolean o) {
        return new HubOptions(source, endpoint, token, o, includes, parallelism, cacheRoot, proxy, retries, timeout, maxTime, usableSpace);
    }

    public HubOptions withIncludes(List<String> i) {
        return new HubOptions(source, endpoint, token, offline, i, parallelism, cacheRoot, proxy, retries, timeout, maxTime, usableSpace);
    }

    public HubOptions withParallelism(int p) {
        return new HubOptions(source, endpoint, token, offline, includes, p, cacheRoot, proxy, retries, timeout, maxTime, usableSpace);
    }

    public HubOptions withCacheRoot(Path c) {
        return new HubOptions(source, endpoint, token, offline, includes, parallelism, c, proxy, retries, timeout, maxTime, usableSpace);
    }

    public HubOptions withProxy(ProxySelector p) {
        return new HubOptions(source, endpoint, token, offline, includes, parallelism, cacheRoot, p, retries, timeout, maxTime, usableSpace);
    }

    public HubOptions withRetries(int r) {
        return new HubOptions(source, endpoint, token, offline, includes, parallelism, cacheRoot, proxy, r, timeout, maxTime, usableSpace);
    }

    public HubOptions withTimeout(Duration t) {
        return new HubOptions(source, endpoint, token, offline, includes, parallelism, cacheRoot, proxy, retries, t, maxTime, usableSpace);
    }

    public HubOptions withMaxTime(Duration m) {
        return new HubOptions(source, endpoint, token, offline, includes, parallelism, cacheRoot, proxy, retries, timeout, m, usableSpace);
    }

    public HubOptions withUsableSpace(ToLongFunction<Path> u) {
        return new HubOptions(source, endpoint, token, offline, includes, parallelism, cacheRoot, proxy, retries, timeout, maxTime, u);
    }

    // huggingface_hub constants.py: "1", "ON", "YES", "TRUE" (any case) are true.
    static boolean isTrue(String value) {
        if (value == null) {
            return false;
        }
        return switch (value.strip().toUpperCase(Locale.ROOT)) {
            case "1", "ON", "YES", "TRUE" -> true;
            default -> false;
        };
    }

    private static String huggingFaceToken(Map<String, String> env) {
        String t = nonBlank(env.get("HF_TOKEN"), env.get("HUGGING_FACE_HUB_TOKEN"));
        if (t != null) {
            return t.strip();
        }
        // `huggingface-cli login` stores the token in $HF_HOME/token (or HF_TOKEN_PATH).
        Path file = env.containsKey("HF_TOKEN_PATH") ? HfCache.expandUser(env.get("HF_TOKEN_PATH"), env)
                : HfCache.hfHome(env).resolve("token");
        try {
            if (Files.isRegularFile(file)) {
                String s = Files.readString(file).strip();
                return s.isEmpty() ? null : s;
            }
        } catch (IOException ignored) {
            // An unreadable token file is the same as none: public repositories still work.
        }
        return null;
    }

    private static URI parseEndpoint(String text, String variable) {
        URI uri;
        try {
            uri = URI.create(text.strip());
        } catch (IllegalArgumentException e) {
            throw new HubException(HubException.Kind.INVALID_ID, "bad hub endpoint " + variable + "='" + text + "': " + e.getMessage());
        }
        if (uri.getScheme() == null || uri.getHost() == null
                || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))) {
            throw new HubException(HubException.Kind.INVALID_ID,
                    "bad hub endpoint " + variable + "='" + text + "': expected an http(s) URL such as https://huggingface.co");
        }
        return uri;
    }

    private static String nonBlank(String a, String b) {
        if (a != null && !a.isBlank()) {
            return a;
        }
        return b != null && !b.isBlank() ? b : null;
    }

    private static long freeSpace(Path dir) {
        try {
            Path p = dir;
            while (p != null && !Files.exists(p)) {
                p = p.getParent();
            }
            return p == null ? Long.MAX_VALUE : Files.getFileStore(p).getUsableSpace();
        } catch (IOException e) {
            return Long.MAX_VALUE; // unknown: let the write itself report a full disk
        }
    }
}
