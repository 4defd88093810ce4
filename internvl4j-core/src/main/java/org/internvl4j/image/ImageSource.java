package org.internvl4j.image;

import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
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

    /**
     * GET through HttpURLConnection, not java.net.http: JDK 25's java.net.http chunked decoder adds a chunk size of
     * eight or more hex digits into an int without an overflow check and then spins for ever on the negative size,
     * inside send() and on its own threads, where no timeout reaches it (docs/RELIABILITY.md, the hub's second hang).
     * HttpURLConnection refuses such a size. Each read waits at most the timeout, and the body is given up once the
     * timeout has passed since the request, so a body that stalls or trickles in a byte at a time ends too.
     */
    private static byte[] http(String url, long maxBytes, Duration timeout) {
        java.net.URL u;
        try {
            u = URI.create(url).toURL();
        } catch (IllegalArgumentException | java.net.MalformedURLException e) {
            throw new ImageException(url + ": invalid URL (" + e.getMessage() + ")");
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        String late = url + ": download did not finish within " + timeout.toMillis() + " ms";
        java.net.HttpURLConnection c = null;
        try {
            c = (java.net.HttpURLConnection) u.openConnection();
            c.setConnectTimeout((int) Math.min(CONNECT_TIMEOUT.toMillis(), Math.max(1, timeout.toMillis())));
            c.setReadTimeout((int) Math.max(1, timeout.toMillis()));
            c.setInstanceFollowRedirects(true);
            int code = c.getResponseCode();
            if (code / 100 != 2) {
                throw new ImageException(url + ": HTTP status " + code);
            }
            long declared = c.getContentLengthLong();
            if (declared > maxBytes) {
                throw new ImageException(url + ": " + declared + " bytes, above the limit");
            }
            java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
            byte[] buf = new byte[64 << 10];
            try (java.io.InputStream in = c.getInputStream()) {
                while (true) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) throw new ImageException(late);
                    int n = in.read(buf);
                    if (n < 0) break;
                    if (body.size() + (long) n > maxBytes) {
                        throw new ImageException(url + ": more than " + maxBytes + " bytes, above the limit");
                    }
                    body.write(buf, 0, n);
                }
            }
            return body.toByteArray();
        } catch (java.net.SocketTimeoutException e) {
            throw new ImageException(late);
        } catch (java.io.IOException e) {
            throw new ImageException(url + ": download failed (" + e + ")", e);
        } finally {
            if (c != null) c.disconnect();
        }
    }
}
