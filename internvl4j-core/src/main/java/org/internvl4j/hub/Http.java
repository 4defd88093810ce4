package org.internvl4j.hub;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import javax.net.ssl.SSLSession;


/**
 * GET requests to the hub with redirects followed by hand: the token goes only to the hub's own
 * host, never to the CDN a file redirects to (as huggingface_hub drops "authorization" there).
 *
 * <p>Requests go through {@link HttpURLConnection}, not java.net.http's {@link HttpClient}: the latter's
 * HTTP/1.1 chunked decoder (JDK 25, {@code ResponseContent.ChunkedBodyParser}) adds up a chunk size's hex
 * digits in an int without an overflow check and skips the CRLF after a chunk unread; a size past 0x7fffffff
 * that wraps negative makes it loop for ever on the bytes it holds, on a thread that nothing can stop, often
 * the caller's inside {@code send} (found by fuzzing: docs/RELIABILITY.md). HttpURLConnection checks the CRLF,
 * refuses such a size ("Bogus chunk size") and has a read timeout.
 */
final class Http implements AutoCloseable {

    private static final int MAX_REDIRECTS = 10;
    private static final String USER_AGENT = "internvl4j/0.1; java/" + Runtime.version().feature();

    private final HubOptions options;
    private final StallWatch stalls;

    Http(HubOptions options) {
        this.options = options;
        this.stalls = new StallWatch(options.timeout());
    }

    /**
     * GETs {@code uri} and follows redirects. The body of the final response is left open for the
     * caller; redirect bodies are discarded.
     */
    HttpResponse<InputStream> get(URI uri, Map<String, String> headers) throws IOException {
        URI current = uri;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpResponse<InputStream> r = send(current, headers,
                    options.token() != null && sameOrigin(current, options.endpoint()));
            int s = r.statusCode();
            if (s == 301 || s == 302 || s == 303 || s == 307 || s == 308) {
                String location = r.headers().firstValue("Location").orElse(null);
                r.body().close();
                if (location == null) {
                    throw new HubException(HubException.Kind.BAD_RESPONSE,
                            current + " answered " + s + " without a Location header");
                }
                current = redirect(current, s, location);
                continue;
            }
            return r;
        }
        throw new HubException(HubException.Kind.BAD_RESPONSE, uri + " redirected more than " + MAX_REDIRECTS + " times");
    }

    /** Where a redirect goes: an http(s) URL, or a HubException (a bad Location was an unchecked exception, found by fuzzing). */
    private static URI redirect(URI from, int status, String location) {
        URI next;
        try {
            next = from.resolve(location);
        } catch (IllegalArgumentException e) {
            throw new HubException(HubException.Kind.BAD_RESPONSE,
                    from + " answered " + status + " with an invalid Location header '" + location + "'");
        }
        String scheme = next.getScheme();
        if (next.getHost() == null || !("http".equalsIgnoreCase(scheme) || "https".equalsIgnoreCase(scheme))) {
            throw new HubException(HubException.Kind.BAD_RESPONSE,
                    from + " redirected to '" + location + "', which is not an http(s) URL");
        }
        return next;
    }

    private HttpResponse<InputStream> send(URI uri, Map<String, String> headers, boolean withToken) throws IOException {
        int timeoutMs = (int) Math.min(Integer.MAX_VALUE, Math.max(1, options.timeout().toMillis()));
        List<Proxy> proxies = options.proxy().select(uri);
        Proxy proxy = proxies == null || proxies.isEmpty() ? Proxy.NO_PROXY : proxies.getFirst();
        HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection(proxy);
        c.setInstanceFollowRedirects(false);
        c.setUseCaches(false);
        c.setConnectTimeout(timeoutMs);
        c.setReadTimeout(timeoutMs);       // each read, the response head's included
        c.setRequestProperty("User-Agent", USER_AGENT);
        c.setRequestProperty("Accept", "*/*");
        headers.forEach(c::setRequestProperty);
        if (withToken) {
            c.setRequestProperty("Authorization", "Bearer " + options.token());
        }
        int status;
        InputStream body;
        try {
            status = c.getResponseCode();
            if (status < 100 || status > 999) {
                throw new IOException(uri + " answered without a valid HTTP status line");
            }
            body = status >= 400 ? c.getErrorStream() : c.getInputStream();
        } catch (IOException | RuntimeException e) {
            c.disconnect();
            if (e instanceof IOException io) throw io;
            // the JDK's header parser may throw unchecked exceptions on a malformed answer
            throw new IOException(uri + " answered with a malformed response head (" + e + ")", e);
        }
        HttpHeaders responseHeaders = headers(c.getHeaderFields());
        InputStream in = new FilterInputStream(body == null ? InputStream.nullInputStream() : body) {
            @Override
            public void close() throws IOException {
                try {
                    super.close();
                } finally {
                    c.disconnect();
                }
            }
        };
        return new Response(uri, status, responseHeaders, in);
    }

    /** The response's header fields as HttpHeaders: names compared without case, the status line left out. */
    private static HttpHeaders headers(Map<String, List<String>> fields) {
        TreeMap<String, List<String>> merged = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        fields.forEach((name, values) -> {
            if (name == null || name.isBlank() || values == null) return;
            List<String> all = merged.computeIfAbsent(name.trim(), k -> new ArrayList<>());
            for (String v : values) {
                if (v != null) all.add(v);
            }
        });
        merged.values().removeIf(List::isEmpty);
        return HttpHeaders.of(merged, (k, v) -> true);
    }

    /** A response read through HttpURLConnection, in the shape the clients and the downloader use. */
    private record Response(URI uri, int statusCode, HttpHeaders headers, InputStream body)
            implements HttpResponse<InputStream> {
        @Override
        public HttpRequest request() {
            return HttpRequest.newBuilder(uri).GET().build();
        }

        @Override
        public Optional<HttpResponse<InputStream>> previousResponse() {
            return Optional.empty();
        }

        @Override
        public Optional<SSLSession> sslSession() {
            return Optional.empty();
        }

        @Override
        public HttpClient.Version version() {
            return HttpClient.Version.HTTP_1_1;
        }
    }

    static boolean sameOrigin(URI a, URI b) {
        return a.getScheme().equalsIgnoreCase(b.getScheme())
                && a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost())
                && port(a) == port(b);
    }

    private static int port(URI u) {
        if (u.getPort() > 0) {
            return u.getPort();
        }
        return "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
    }

    /** The error for a request that never got an answer. */
    HubException unreachable(URI uri, IOException e) {
        if (e instanceof BrokenAnswer b) {
            return new HubException(b.kind, b.getMessage(), e);
        }
        String proxy = options.proxy() instanceof EnvProxySelector p ? p.describe(uri) : "the configured proxy";
        String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + e.getMessage();
        return new HubException(HubException.Kind.NETWORK,
                "cannot reach " + uri.getScheme() + "://" + uri.getAuthority() + " (" + why + ", " + proxy + "). "
                        + "Check the network, " + endpointVariable() + " and HTTPS_PROXY, "
                        + "or set HF_HUB_OFFLINE=1 to use only the local cache", e);
    }

    String endpointVariable() {
        return options.source() == Source.HUGGING_FACE ? "HF_ENDPOINT" : "MODELSCOPE_ENDPOINT";
    }

    /**
     * Reads a small body (an error message or API JSON), at most {@code limit} bytes. A body that stops
     * arriving for the timeout, or that is still arriving after {@link HubOptions#maxTime()}, is an
     * IOException: a chunked body cut short by a closed connection left the reader waiting for ever, and a
     * body that trickles in would (found by fuzzing).
     */
    byte[] readBody(HttpResponse<InputStream> r, int limit) throws IOException {
        try (InputStream in = r.body(); StallWatch.Watch watch = stalls.watch(in, options.maxTime())) {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            while (out.size() < limit) {
                if (watch.stalled()) throw stalled(r, watch);   // a closed body may go on answering 0 bytes
                int n;
                try {
                    n = in.read(buf, 0, Math.min(buf.length, limit - out.size()));
                } catch (IOException e) {
                    // closed by the watch, or the socket's read timeout (the same idle limit) came first
                    if (watch.stalled() || e instanceof java.net.SocketTimeoutException) throw stalled(r, watch);
                    throw new BrokenAnswer(HubException.Kind.BAD_RESPONSE,
                            r.uri() + " sent a broken response (" + e.getMessage() + ")", e);
                }
                if (n < 0) break;
                watch.touch();
                out.write(buf, 0, n);
            }
            if (watch.stalled()) throw stalled(r, watch);
            return out.toByteArray();
        }
    }

    private IOException stalled(HttpResponse<?> r, StallWatch.Watch watch) {
        if (watch.overTime()) {
            return new BrokenAnswer(HubException.Kind.NETWORK, r.uri() + " took more than " + options.maxTime().toSeconds()
                    + " s to send its response (the limit for one answer, HubOptions.maxTime)", null);
        }
        return new BrokenAnswer(HubException.Kind.NETWORK,
                r.uri() + " stopped sending its response for " + options.timeout().toSeconds() + " s", null);
    }

    /** A body that was reached but stalled, ran over its time or broke its framing: not "cannot reach". */
    static final class BrokenAnswer extends IOException {
        final HubException.Kind kind;

        BrokenAnswer(HubException.Kind kind, String message, Throwable cause) {
            super(message, cause);
            this.kind = kind;
        }
    }

    @Override
    public void close() {
        stalls.close();
    }
}
