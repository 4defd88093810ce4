package org.internvl4j.image;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;

/** Reads encoded image bytes from a file, an http(s) URL or a {@code data:} URI, with a size limit. */
public final class ImageSource {

    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

    private ImageSource() {
    }

    /** The bytes of a file, refusing files larger than maxBytes. */
    public static byte[] read(Path file, long maxBytes) {
        try {
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
        if (source == null || source.isBlank()) {
            throw new ImageException("image source is empty, expected a path, an http(s) URL or a data: URI");
        }
        String s = source.strip();
        String lower = s.length() > 8 ? s.substring(0, 8).toLowerCase() : s.toLowerCase();
        if (lower.startsWith("data:")) {
            return dataUri(s, maxBytes);
        }
        if (lower.startsWith("http://") || lower.startsWith("https://")) {
            return http(s, maxBytes);
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

    private static byte[] http(String url, long maxBytes) {
        HttpClient client = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NORMAL).build();
        try {
            HttpRequest req = HttpRequest.newBuilder(URI.create(url)).timeout(REQUEST_TIMEOUT).GET().build();
            HttpResponse<InputStream> resp = client.send(req, HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = resp.body()) {
                if (resp.statusCode() / 100 != 2) {
                    throw new ImageException(url + ": HTTP status " + resp.statusCode());
                }
                long declared = resp.headers().firstValueAsLong("content-length").orElse(-1);
                if (declared > maxBytes) {
                    throw new ImageException(url + ": " + declared + " bytes, above the limit of " + maxBytes);
                }
                byte[] body = in.readNBytes((int) Math.min(maxBytes + 1, Integer.MAX_VALUE - 16));
                if (body.length > maxBytes) {
                    throw new ImageException(url + ": more than " + maxBytes + " bytes, above the limit");
                }
                return body;
            }
        } catch (IllegalArgumentException e) {
            throw new ImageException(url + ": invalid URL (" + e.getMessage() + ")");
        } catch (IOException e) {
            throw new ImageException(url + ": download failed (" + e + ")", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ImageException(url + ": download interrupted", e);
        }
    }
}
