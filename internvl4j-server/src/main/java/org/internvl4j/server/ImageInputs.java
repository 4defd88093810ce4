package org.internvl4j.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import org.internvl4j.image.ImageException;
import org.internvl4j.image.ImagePreprocessor;
import org.internvl4j.image.PixelValues;

/**
 * The images of a request: {@code data:} URIs always; http(s) URLs only when the server allows remote images, and
 * then never to private, loopback, link-local or other non-public addresses, without redirects, with a size limit
 * and timeouts. The host is resolved once, every address it resolves to is checked, and the connection goes to a
 * checked address (no second lookup that a rebinding DNS server could answer differently). Every failure is a 400
 * naming the image.
 */
final class ImageInputs {
    static final long MAX_REMOTE_BYTES = 20L << 20;
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final Duration READ_TIMEOUT = Duration.ofSeconds(20);

    /** Host name to addresses: the system resolver; tests give their own. */
    @FunctionalInterface
    interface Resolver {
        InetAddress[] resolve(String host) throws UnknownHostException;
    }

    private final ImagePreprocessor preprocessor;
    private final boolean allowRemote;
    private final int maxTiles;
    private final Resolver resolver;
    private final Predicate<InetAddress> allowed;

    ImageInputs(ImagePreprocessor preprocessor, boolean allowRemote) {
        this(preprocessor, allowRemote, Integer.MAX_VALUE);
    }

    /** maxTiles: tiles of one request at most, all its images together. */
    ImageInputs(ImagePreprocessor preprocessor, boolean allowRemote, int maxTiles) {
        this(preprocessor, allowRemote, maxTiles, InetAddress::getAllByName, ImageInputs::isPublic);
    }

    /** With a resolver and an address rule of the caller's (tests). */
    ImageInputs(ImagePreprocessor preprocessor, boolean allowRemote, Resolver resolver, Predicate<InetAddress> allowed) {
        this(preprocessor, allowRemote, Integer.MAX_VALUE, resolver, allowed);
    }

    ImageInputs(ImagePreprocessor preprocessor, boolean allowRemote, int maxTiles, Resolver resolver, Predicate<InetAddress> allowed) {
        this.preprocessor = preprocessor;
        this.allowRemote = allowRemote;
        this.maxTiles = maxTiles;
        this.resolver = resolver;
        this.allowed = allowed;
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
        String host = uri.getHost();
        if (host == null) throw ApiError.badRequest("image_url has no host", param, "invalid_image_url");
        if (uri.getRawUserInfo() != null) throw ApiError.badRequest("image_url must not carry credentials", param, "invalid_image_url");
        boolean tls = "https".equalsIgnoreCase(uri.getScheme());
        int port = uri.getPort() >= 0 ? uri.getPort() : tls ? 443 : 80;
        // one lookup: every address it gives must be allowed, and the connection goes to the first of them (a
        // second lookup by an HTTP client could answer differently: DNS rebinding)
        InetAddress address = checkedAddress(host, param);
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        if (uri.getRawQuery() != null) path += "?" + uri.getRawQuery();
        long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
        try (Socket plain = new Socket()) {
            plain.connect(new InetSocketAddress(address, port), (int) CONNECT_TIMEOUT.toMillis());
            plain.setSoTimeout((int) READ_TIMEOUT.toMillis());
            Socket socket = plain;
            if (tls) socket = tlsOver(plain, host, port);
            String hostHeader = (host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host)
                    + (uri.getPort() >= 0 ? ":" + port : "");
            // HTTP/1.0: the body ends with the connection, never chunked
            String head = "GET " + path + " HTTP/1.0\r\nHost: " + hostHeader + "\r\nAccept: image/*\r\n"
                    + "User-Agent: internvl4j-server\r\nConnection: close\r\n\r\n";
            OutputStream out = socket.getOutputStream();
            out.write(head.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return readResponse(socket.getInputStream(), deadline, param);
        } catch (SocketTimeoutException e) {
            throw ApiError.badRequest("the image could not be fetched: timed out", param, "invalid_image_url");
        } catch (IOException e) {
            throw ApiError.badRequest("the image could not be fetched: " + e.getMessage(), param, "invalid_image_url");
        }
    }

    private static Socket tlsOver(Socket plain, String host, int port) throws IOException {
        SSLSocketFactory f;
        try {
            f = SSLContext.getDefault().getSocketFactory();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IOException("no TLS: " + e.getMessage(), e);
        }
        SSLSocket tls = (SSLSocket) f.createSocket(plain, host, port, true);
        SSLParameters p = tls.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name the URL's host
        if (!host.contains(":")) p.setServerNames(List.of(new SNIHostName(host)));
        tls.setSSLParameters(p);
        tls.startHandshake();
        return tls;
    }

    /** Status line, headers, then the body up to the size limit; no redirects. */
    private static byte[] readResponse(InputStream in, long deadline, String param) throws IOException {
        String status = line(in);
        String[] parts = status.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/")) throw new IOException("not an HTTP response");
        int code;
        try {
            code = Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            throw new IOException("bad HTTP status line");
        }
        for (String h; !(h = line(in)).isEmpty(); ) {
            if (h.regionMatches(true, 0, "transfer-encoding:", 0, 18) && !h.substring(18).trim().equalsIgnoreCase("identity")) {
                throw new IOException("the server sent a " + h.substring(18).trim() + " body to an HTTP/1.0 request");
            }
        }
        if (code / 100 == 3) throw ApiError.badRequest("the image URL redirects; redirects are not followed", param, "invalid_image_url");
        if (code != 200) throw ApiError.badRequest("the image URL answered HTTP " + code, param, "invalid_image_url");
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        byte[] buf = new byte[64 << 10];
        for (int n; (n = in.read(buf)) > 0; ) {
            body.write(buf, 0, n);
            if (body.size() > MAX_REMOTE_BYTES) {
                throw ApiError.badRequest("the image is larger than " + (MAX_REMOTE_BYTES >> 20) + " MiB", param, "image_too_large");
            }
            if (System.nanoTime() - deadline > 0) throw new SocketTimeoutException("timed out");
        }
        return body.toByteArray();
    }

    /** One header line (CRLF or LF ended), at most 8 KiB. */
    private static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        for (int c; (c = in.read()) != '\n'; ) {
            if (c < 0) throw new IOException("the connection closed in the response head");
            if (b.length() > 8192) throw new IOException("a response header line is longer than 8 KiB");
            if (c != '\r') b.append((char) c);
        }
        return b.toString();
    }

    /** Resolves host once and refuses it if any address is not public; returns the address to connect to. */
    InetAddress checkedAddress(String host, String param) {
        InetAddress[] all;
        try {
            all = resolver.resolve(host.startsWith("[") ? host.substring(1, host.length() - 1) : host);
        } catch (UnknownHostException e) {
            throw ApiError.badRequest("the image host " + host + " does not resolve", param, "invalid_image_url");
        }
        if (all.length == 0) throw ApiError.badRequest("the image host " + host + " does not resolve", param, "invalid_image_url");
        for (InetAddress a : all) {
            if (!allowed.test(a)) {
                throw ApiError.badRequest("image URLs to private, loopback or link-local addresses are refused (" + host
                        + " is " + a.getHostAddress() + ")", param, "invalid_image_url");
            }
        }
        return all[0];
    }

    /** Refuses hosts that resolve to any address that is not public (checked before any request is sent). */
    static void checkPublic(String host, String param) {
        new ImageInputs(null, true).checkedAddress(host, param);
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
            if ((b[0] & 0xff) == 0xfe && (b[1] & 0xc0) == 0xc0) return false; // site-local fec0::/10 (deprecated)
            if ((b[0] & 0xff) == 0x20 && (b[1] & 0xff) == 0x01 && b[2] == 0x0d && (b[3] & 0xff) == 0xb8) return false; // documentation 2001:db8::/32
            boolean zero10 = true;
            for (int i = 0; i < 10; i++) zero10 &= b[i] == 0;
            // IPv4 inside IPv6: mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64 64:ff9b::a.b.c.d, 6to4 2002:a.b.c.d::
            if (zero10 && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff) return isPublicV4(b, 12);
            if (zero10 && b[10] == 0 && b[11] == 0) return isPublicV4(b, 12);
            if (b[0] == 0 && b[1] == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b) return isPublicV4(b, 12);
            if (b[0] == 0x20 && b[1] == 0x02) return isPublicV4(b, 2);
        }
        return true;
    }

    private static boolean isPublicV4(byte[] b, int at) {
        try {
            return isPublic(InetAddress.getByAddress(java.util.Arrays.copyOfRange(b, at, at + 4)));
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
