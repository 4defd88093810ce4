package org.internvl4j.server;

import java.io.IOException;
import java.io.InputStream;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Base64;
import java.util.Locale;
import org.internvl4j.image.ImageException;
import org.internvl4j.image.ImagePreprocessor;
import org.internvl4j.image.PixelValues;

/**
 * The images of a request: {@code data:} URIs always; http(s) URLs only when the server allows remote images, and
 * then never to private, loopback, link-local or other non-public addresses, without redirects, with a size limit
 * and timeouts. Every failure is a 400 naming the image.
 */
final class ImageInputs {
    static final long MAX_REMOTE_BYTES = 20L << 20;
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final Duration READ_TIMEOUT = Duration.ofSeconds(20);

    private final ImagePreprocessor preprocessor;
    private final boolean allowRemote;
    private final int maxTiles;
    private final HttpClient http;

    /** maxTiles: tiles of one request at most, all its images together. */
    ImageInputs(ImagePreprocessor preprocessor, boolean allowRemote, int maxTiles) {
        this.preprocessor = preprocessor;
        this.allowRemote = allowRemote;
        this.maxTiles = maxTiles;
        this.http = allowRemote ? HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(CONNECT_TIMEOUT).build() : null;
    }

    /**
     * Refuses a request whose images so far have more tiles than one request may (checked after each image, so
     * at most one image is decoded past the budget, and before any of them reaches the vision tower).
     */
    void checkTiles(int tiles, String param) {
        if (tiles > maxTiles) {
            throw ApiError.badRequest("the request's images make " + tiles + " tiles, more than the " + maxTiles
                    + " one request may have (-Dinternvl.limit.tilesPerRequest, and --session-len / tokens per tile);"
                    + " send fewer or smaller images, or lower max_num", param, "too_many_tiles");
        }
    }

    /** Decodes and tiles one image_url; param names the field for errors. */
    PixelValues load(String url, String param) {
        byte[] bytes = bytes(url, param);
        try {
            return preprocessor.load(bytes);
        } catch (ImageException | IllegalArgumentException e) {
            throw ApiError.badRequest("the image could not be decoded: " + e.getMessage(), param, "invalid_image");
        }
    }

    private byte[] bytes(String url, String param) {
        if (url.regionMatches(true, 0, "data:", 0, 5)) return dataUri(url, param);
        String lower = url.toLowerCase(Locale.ROOT);
        if (!lower.startsWith("http://") && !lower.startsWith("https://")) {
            throw ApiError.badRequest("image_url must be a data: URI or an http(s) URL", param, "invalid_image_url");
        }
        if (!allowRemote) {
            throw ApiError.badRequest("remote image URLs are disabled on this server (start it with --allow-remote-images);"
                    + " send the image as a data: URI", param, "remote_images_disabled");
        }
        return fetch(url, param);
    }

    static byte[] dataUri(String url, String param) {
        int comma = url.indexOf(',');
        if (comma < 0) throw ApiError.badRequest("the data: URI has no ',' before its data", param, "invalid_image_url");
        String meta = url.substring(5, comma).toLowerCase(Locale.ROOT);
        if (!meta.endsWith(";base64")) throw ApiError.badRequest("only base64 data: URIs are supported", param, "invalid_image_url");
        byte[] data;
        try {
            data = Base64.getDecoder().decode(url.substring(comma + 1).replaceAll("\\s+", ""));
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest("the data: URI is not valid base64: " + e.getMessage(), param, "invalid_image_url");
        }
        if (data.length == 0) throw ApiError.badRequest("the data: URI holds no bytes", param, "invalid_image_url");
        return data;
    }

    private byte[] fetch(String url, String param) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw ApiError.badRequest("image_url is not a valid URL: " + e.getMessage(), param, "invalid_image_url");
        }
        if (uri.getHost() == null) throw ApiError.badRequest("image_url has no host", param, "invalid_image_url");
        checkPublic(uri.getHost(), param);
        HttpRequest req = HttpRequest.newBuilder(uri).timeout(READ_TIMEOUT).GET().build();
        try {
            HttpResponse<InputStream> r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = r.body()) {
                if (r.statusCode() / 100 == 3) throw ApiError.badRequest("the image URL redirects; redirects are not followed", param, "invalid_image_url");
                if (r.statusCode() != 200) throw ApiError.badRequest("the image URL answered HTTP " + r.statusCode(), param, "invalid_image_url");
                byte[] data = in.readNBytes((int) MAX_REMOTE_BYTES + 1);
                if (data.length > MAX_REMOTE_BYTES) throw ApiError.badRequest("the image is larger than " + (MAX_REMOTE_BYTES >> 20) + " MiB", param, "image_too_large");
                return data;
            }
        } catch (IOException e) {
            throw ApiError.badRequest("the image could not be fetched: " + e.getMessage(), param, "invalid_image_url");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiError.badRequest("interrupted while fetching the image", param, "invalid_image_url");
        }
    }

    /** Refuses hosts that resolve to any address that is not public (checked before any request is sent). */
    static void checkPublic(String host, String param) {
        InetAddress[] all;
        try {
            all = InetAddress.getAllByName(host.startsWith("[") ? host.substring(1, host.length() - 1) : host);
        } catch (UnknownHostException e) {
            throw ApiError.badRequest("the image host " + host + " does not resolve", param, "invalid_image_url");
        }
        for (InetAddress a : all) {
            if (!isPublic(a)) {
                throw ApiError.badRequest("image URLs to private, loopback or link-local addresses are refused (" + host
                        + " is " + a.getHostAddress() + ")", param, "invalid_image_url");
            }
        }
    }

    static boolean isPublic(InetAddress a) {
        if (a.isAnyLocalAddress() || a.isLoopbackAddress() || a.isLinkLocalAddress() || a.isSiteLocalAddress()
                || a.isMulticastAddress()) return false;
        byte[] b = a.getAddress();
        if (a instanceof Inet4Address) {
            int b0 = b[0] & 0xff, b1 = b[1] & 0xff;
            if (b0 == 0 || b0 >= 240) return false;                 // this network, reserved, broadcast
            if (b0 == 100 && b1 >= 64 && b1 < 128) return false;     // carrier-grade NAT 100.64/10
            if (b0 == 169 && b1 == 254) return false;                // link-local (cloud metadata)
            if (b0 == 192 && b1 == 0 && (b[2] & 0xff) == 0) return false;
            if (b0 == 198 && (b1 == 18 || b1 == 19)) return false;   // benchmarking
        } else if (a instanceof Inet6Address) {
            if ((b[0] & 0xfe) == 0xfc) return false;                 // unique local fc00::/7
            boolean mapped = true;                                    // ::ffff:a.b.c.d maps an IPv4 address
            for (int i = 0; i < 10; i++) mapped &= b[i] == 0;
            if (mapped && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff) {
                try {
                    return isPublic(InetAddress.getByAddress(java.util.Arrays.copyOfRange(b, 12, 16)));
                } catch (UnknownHostException e) {
                    return false;
                }
            }
        }
        return true;
    }
}
