package org.internvl4j.image;

import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Reads encoded image bytes from a file, an http(s) URL or a {@code data:} URI, with a size limit. */
public final class ImageSource {

    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

    private ImageSource() {
    }

    /** The bytes of a file, refusing files larger than maxBytes. */
    public static byte[] read(Path file, long maxBytes) {
        try {
            if (Files.isDirectory(file)) {
                throw new ImageException(file + ": is a directory, not an image file");
            }
            if (!Files.isRegularFile(file)) {
                throw new ImageException(file + ": no such file");
            }
            long size = Files.size(file);
            if (size > maxBytes) {
                throw new ImageException(file + ": " + size + " bytes, above the limit of " + maxBytes);
            }
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ImageException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** A short name for messages: the path or URL, or the head of a data URI. */
    public static String describe(String source) {
        if (source == null) {
            return "null";
        }
        return source.startsWith("data:") && source.length() > 40 ? source.substring(0, 40) + "..." : source;
    }

    /** The bytes behind an http(s) URL, a data: URI (base64 or percent-encoded), a file: URI or a plain path. */
    public static byte[] fetch(String source, long maxBytes) {
        return fetch(source, maxBytes, REQUEST_TIMEOUT);
    }

    /** As {@link #fetch(String, long)}, with a limit on the whole http(s) download (headers and body). */
    public static byte[] fetch(String source, long maxBytes, Duration timeout) {
        if (source == null || source.isBlank()) {
            throw new ImageException("image source is empty, expected a path, an http(s) URL or a data: URI");
        }
        String s = source.strip();
        String lower = s.length() > 8 ? s.substring(0, 8).toLowerCase() : s.toLowerCase();
        if (lower.startsWith("data:")) {
            return dataUri(s, maxBytes);
        }
        if (lower.startsWith("http://") || lower.startsWith("https://")) {
            return http(s, maxBytes, timeout);
        }
        if (lower.startsWith("file:")) {
            return read(Path.of(URI.create(s)), maxBytes);
        }
        return read(Path.of(s), maxBytes);
    }

    private static byte[] dataUri(String s, long maxBytes) {
        int comma = s.indexOf(',');
        if (comma < 0) {
            throw new ImageException("data URI " + describe(s) + " has no ',' before its payload");
        }
        String meta = s.substring(5, comma);
        String payload = s.substring(comma + 1);
        if ((long) payload.length() * 3 / 4 > maxBytes) {
            throw new ImageException("data URI " + describe(s) + " holds more than " + maxBytes + " bytes");
        }
        if (meta.endsWith(";base64")) {
            try {
                return Base64.getDecoder().decode(payload.replaceAll("\\s", "")); // strict: stray characters are an error
            } catch (IllegalArgumentException e) {
                throw new ImageException("data URI " + describe(s) + ": invalid base64 (" + e.getMessage() + ")");
            }
        }
        return URLDecoder.decode(payload, StandardCharsets.ISO_8859_1).getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] http(String url, long maxBytes, Duration timeout) {
        HttpClient client = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NORMAL).build();
        HttpRequest req;
        try {
            req = HttpRequest.newBuilder(URI.create(url)).timeout(timeout).GET().build();
        } catch (IllegalArgumentException e) {
            throw new ImageException(url + ": invalid URL (" + e.getMessage() + ")");
        }
        CompletableFuture<HttpResponse<byte[]>> future = client.sendAsync(req, info -> {
            if (info.statusCode() / 100 != 2) {
                return HttpResponse.BodySubscribers.replacing(null);
            }
            long declared = info.headers().firstValueAsLong("content-length").orElse(-1);
            if (declared > maxBytes) {
                return new LimitedBody(-1, url, declared);
            }
            return new LimitedBody(maxBytes, url, declared);
        });
        try {
            // the whole download, body included, must finish within the request timeout: never a hang
            HttpResponse<byte[]> resp = future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (resp.statusCode() / 100 != 2) {
                throw new ImageException(url + ": HTTP status " + resp.statusCode());
            }
            return resp.body();
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new ImageException(url + ": download did not finish within " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof ImageException ie) {
                throw ie;
            }
            throw new ImageException(url + ": download failed (" + cause + ")", cause);
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new ImageException(url + ": download interrupted", e);
        }
    }

    /** Collects a response body, failing as soon as it grows past the limit (or at once when limit < 0). */
    private static final class LimitedBody implements HttpResponse.BodySubscriber<byte[]> {
        private final long limit;
        private final String url;
        private final long declared;
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private final java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        private Flow.Subscription subscription;

        LimitedBody(long limit, String url, long declared) {
            this.limit = limit;
            this.url = url;
            this.declared = declared;
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (limit < 0) {
                s.cancel();
                result.completeExceptionally(new ImageException(url + ": " + declared
                        + " bytes, above the limit"));
                return;
            }
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            for (ByteBuffer b : items) {
                if (buf.size() + (long) b.remaining() > limit) {
                    subscription.cancel();
                    result.completeExceptionally(new ImageException(url + ": more than " + limit
                            + " bytes, above the limit"));
                    return;
                }
                byte[] chunk = new byte[b.remaining()];
                b.get(chunk);
                buf.writeBytes(chunk);
            }
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            result.complete(buf.toByteArray());
        }
    }
}
