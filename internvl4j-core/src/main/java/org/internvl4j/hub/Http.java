package org.internvl4j.hub;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;


/**
 * GET requests to the hub with redirects followed by hand: the token goes only to the hub's own
 * host, never to the CDN a file redirects to (as huggingface_hub drops "authorization" there).
 */
final class Http implements AutoCloseable {

    private static final int MAX_REDIRECTS = 10;
    private static final String USER_AGENT = "internvl4j/0.1; java/" + Runtime.version().feature();

    private final HttpClient client;
    private final HubOptions options;
    private final StallWatch stalls;

    Http(HubOptions options) {
        this.options = options;
        this.stalls = new StallWatch(options.timeout());
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(options.timeout())
                .proxy(options.proxy())
                .build();
    }

    /**
     * GETs {@code uri} and follows redirects. The body of the final response is left open for the
     * caller; redirect bodies are discarded.
     */
    HttpResponse<InputStream> get(URI uri, Map<String, String> headers) throws IOException {
        URI current = uri;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(current)
                    .GET()
                    .timeout(options.timeout())
                    .header("User-Agent", USER_AGENT);
            headers.forEach(b::header);
            if (options.token() != null && sameOrigin(current, options.endpoint())) {
                b.header("Authorization", "Bearer " + options.token());
            }
            HttpResponse<InputStream> r = send(b.build());
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

    private HttpResponse<InputStream> send(HttpRequest request) throws IOException {
        try {
            return client.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while requesting " + request.uri());
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
     * arriving for the timeout is an IOException: java.net.http has no read timeout, and a chunked body
     * cut short by a closed connection left the reader waiting for ever (found by fuzzing).
     */
    byte[] readBody(HttpResponse<InputStream> r, int limit) throws IOException {
        try (InputStream in = r.body(); StallWatch.Watch watch = stalls.watch(in)) {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            while (out.size() < limit) {
                if (watch.stalled()) throw stalled(r);   // a closed body may go on answering 0 bytes
                int n;
                try {
                    n = in.read(buf, 0, Math.min(buf.length, limit - out.size()));
                } catch (IOException e) {
                    if (watch.stalled()) throw stalled(r);
                    throw e;
                }
                if (n < 0) break;
                watch.touch();
                out.write(buf, 0, n);
            }
            if (watch.stalled()) throw stalled(r);
            return out.toByteArray();
        }
    }

    private IOException stalled(HttpResponse<?> r) {
        return new IOException(r.uri() + " stopped sending its response for " + options.timeout().toSeconds() + " s");
    }

    @Override
    public void close() {
        stalls.close();
        client.close();
    }
}
