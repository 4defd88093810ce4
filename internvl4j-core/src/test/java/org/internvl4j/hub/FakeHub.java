package org.internvl4j.hub;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Hugging Face hub (and ModelScope) stand-in on 127.0.0.1: the model API, resolve URLs that
 * redirect LFS files to a separate "CDN" server, Range requests, error headers, and faults on demand
 * (a connection cut at a byte offset, corrupted bytes, a gated repository, error statuses such as 503
 * and 429 with Retry-After, and resumes answered with 416, a wrong Content-Range or a 200 that ignores
 * the Range).
 */
final class FakeHub implements AutoCloseable {

    record Entry(byte[] content, boolean lfs) {}

    record Repo(String commit, Map<String, Entry> files, String gatedToken) {}

    record Request(String server, String method, String path, String authorization, String range, String host) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    final HttpServer hub;
    final HttpServer cdn;
    final Map<String, Repo> repos = new ConcurrentHashMap<>();
    final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
    /** path -> absolute byte offset at which the next response for it is cut (once). */
    final Map<String, Long> cutAt = new ConcurrentHashMap<>();
    /** path -> absolute byte offset at which the next response for it stops sending, without closing (once). */
    final Map<String, Long> stallAt = new ConcurrentHashMap<>();
    /** path -> how many more responses for it carry a flipped byte. */
    final Map<String, Integer> corrupt = new ConcurrentHashMap<>();

    /** An error answer in place of a file: the status and, when not null, a Retry-After header. */
    record Status(int code, String retryAfter) {}

    /** path -> error answers given, one per request, before the file is served again. */
    final Map<String, java.util.Deque<Status>> statuses = new ConcurrentHashMap<>();
    /** path -> how many more Range requests for it get a 200 with the whole file (a server ignoring Range). */
    final Map<String, Integer> ignoreRange = new ConcurrentHashMap<>();
    /** path -> how many more Range requests for it get a 206 whose Content-Range starts at 0, not where asked. */
    final Map<String, Integer> wrongContentRange = new ConcurrentHashMap<>();
    /** path -> how many more Range requests for it get a 416 (Range Not Satisfiable). */
    final Map<String, Integer> refuseRange = new ConcurrentHashMap<>();

    /** Queues error answers for the next requests of path. */
    void failNext(String path, Status... answers) {
        statuses.computeIfAbsent(path, p -> new java.util.concurrent.ConcurrentLinkedDeque<>()).addAll(List.of(answers));
    }

    /** Uses up one fault from a per-path countdown; false when none is left. */
    private static boolean take(Map<String, Integer> faults, String path) {
        Integer n = faults.get(path);
        if (n == null || n <= 0) return false;
        faults.put(path, n - 1);
        return true;
    }

    FakeHub() throws IOException {
        hub = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        cdn = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        hub.createContext("/", ex -> handle("hub", ex));
        cdn.createContext("/", ex -> handle("cdn", ex));
        hub.setExecutor(Executors.newCachedThreadPool());
        cdn.setExecutor(Executors.newCachedThreadPool());
        hub.start();
        cdn.start();
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + hub.getAddress().getPort());
    }

    String cdnBase() {
        return "http://127.0.0.1:" + cdn.getAddress().getPort();
    }

    void add(String repo, String commit, Map<String, Entry> files) {
        repos.put(repo, new Repo(commit, new LinkedHashMap<>(files), null));
    }

    void addGated(String repo, String commit, Map<String, Entry> files, String token) {
        repos.put(repo, new Repo(commit, new LinkedHashMap<>(files), token));
    }

    List<Request> requests(String server, String pathPart) {
        synchronized (requests) {
            return requests.stream().filter(r -> r.server.equals(server) && r.path.contains(pathPart)).toList();
        }
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** git hash-object: sha1 over "blob <size>\0" + content. */
    static String gitBlobId(byte[] b) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-1");
            d.update(("blob " + b.length + "\0").getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(d.digest(b));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static final Pattern API = Pattern.compile("/api/models/([^/]+/[^/]+)/revision/([^/?]+)");
    private static final Pattern RESOLVE = Pattern.compile("/([^/]+/[^/]+)/resolve/([^/]+)/(.+)");
    private static final Pattern MS_FILES = Pattern.compile("/api/v1/models/([^/]+/[^/]+)/repo/files");
    private static final Pattern MS_FILE = Pattern.compile("/api/v1/models/([^/]+/[^/]+)/repo");
    private static final Pattern BLOB = Pattern.compile("/blobs/([0-9a-f]{64})");

    private void handle(String server, HttpExchange ex) throws IOException {
        String rawPath = ex.getRequestURI().getRawPath();
        String path = URLDecoder.decode(rawPath.replace("+", "%2B"), StandardCharsets.UTF_8);
        requests.add(new Request(server, ex.getRequestMethod(), path + (ex.getRequestURI().getRawQuery() == null ? ""
                : "?" + ex.getRequestURI().getRawQuery()),
                ex.getRequestHeaders().getFirst("Authorization"), ex.getRequestHeaders().getFirst("Range"),
                ex.getRequestHeaders().getFirst("Host")));
        try {
            if (server.equals("cdn")) {
                Matcher m = BLOB.matcher(path);
                if (m.matches()) {
                    for (Repo r : repos.values()) {
                        for (var e : r.files.entrySet()) {
                            if (sha256(e.getValue().content).equals(m.group(1))) {
                                serve(ex, e.getKey(), e.getValue().content, Map.of());
                                return;
                            }
                        }
                    }
                }
                send(ex, 404, "text/plain", "no such blob".getBytes(), Map.of());
                return;
            }
            Matcher m;
            if ((m = API.matcher(rawPath)).matches()) {
                api(ex, m.group(1), URLDecoder.decode(m.group(2), StandardCharsets.UTF_8));
            } else if ((m = MS_FILES.matcher(rawPath)).matches()) {
                msFiles(ex, m.group(1));
            } else if ((m = MS_FILE.matcher(rawPath)).matches()) {
                msFile(ex, m.group(1));
            } else if ((m = RESOLVE.matcher(rawPath)).matches()) {
                resolve(ex, m.group(1), URLDecoder.decode(m.group(2), StandardCharsets.UTF_8),
                        URLDecoder.decode(m.group(3).replace("+", "%2B"), StandardCharsets.UTF_8));
            } else {
                send(ex, 404, "text/plain", "not found".getBytes(), Map.of());
            }
        } finally {
            ex.close();
        }
    }

    private Repo repoOrError(HttpExchange ex, String id) throws IOException {
        Repo r = repos.get(id);
        if (r == null) {
            // The hub answers 401 for unknown (or private) repositories.
            send(ex, 401, "application/json", "{\"error\":\"Repository not found\"}".getBytes(),
                    Map.of("X-Error-Code", "RepoNotFound", "X-Error-Message", "Repository not found"));
        }
        return r;
    }

    private boolean revisionOk(Repo r, String rev) {
        return rev.equals("main") || rev.equals(r.commit);
    }

    private void api(HttpExchange ex, String id, String rev) throws IOException {
        Repo r = repoOrError(ex, id);
        if (r == null) {
            return;
        }
        if (!revisionOk(r, rev)) {
            send(ex, 404, "application/json", "{\"error\":\"Invalid rev id\"}".getBytes(),
                    Map.of("X-Error-Code", "RevisionNotFound", "X-Error-Message", "Invalid rev id: " + rev));
            return;
        }
        ObjectNode root = JSON.createObjectNode();
        root.put("id", id);
        root.put("sha", r.commit);
        root.put("gated", r.gatedToken == null ? "false" : "manual");
        ArrayNode siblings = root.putArray("siblings");
        for (var e : r.files.entrySet()) {
            ObjectNode s = siblings.addObject();
            byte[] c = e.getValue().content;
            s.put("rfilename", e.getKey());
            if (e.getValue().lfs) {
                // blobId is the git id of the LFS pointer, not of the content.
                s.put("blobId", gitBlobId(("version https://git-lfs.github.com/spec/v1\noid sha256:" + sha256(c)).getBytes()));
                s.put("size", c.length);
                ObjectNode lfs = s.putObject("lfs");
                lfs.put("sha256", sha256(c));
                lfs.put("size", c.length);
                lfs.put("pointerSize", 134);
            } else {
                s.put("blobId", gitBlobId(c));
                s.put("size", c.length);
            }
        }
        send(ex, 200, "application/json", JSON.writeValueAsBytes(root), Map.of());
    }

    private void resolve(HttpExchange ex, String id, String rev, String file) throws IOException {
        Repo r = repoOrError(ex, id);
        if (r == null) {
            return;
        }
        if (r.gatedToken != null && !("Bearer " + r.gatedToken).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
            boolean anyToken = ex.getRequestHeaders().getFirst("Authorization") != null;
            send(ex, anyToken ? 403 : 401, "application/json", "{\"error\":\"Access restricted\"}".getBytes(),
                    Map.of("X-Error-Code", "GatedRepo", "X-Error-Message",
                            "Access to model " + id + " is restricted. You must have access to it and be authenticated to access it. Please log in."));
            return;
        }
        if (!revisionOk(r, rev)) {
            send(ex, 404, "application/json", "{}".getBytes(), Map.of("X-Error-Code", "RevisionNotFound"));
            return;
        }
        Entry e = r.files.get(file);
        if (e == null) {
            send(ex, 404, "application/json", "{}".getBytes(),
                    Map.of("X-Error-Code", "EntryNotFound", "X-Repo-Commit", r.commit));
            return;
        }
        if (e.lfs) {
            String sha = sha256(e.content);
            ex.getResponseHeaders().add("Location", cdnBase() + "/blobs/" + sha + "?signature=abc");
            ex.getResponseHeaders().add("X-Linked-Etag", "\"" + sha + "\"");
            ex.getResponseHeaders().add("X-Linked-Size", String.valueOf(e.content.length));
            ex.getResponseHeaders().add("X-Repo-Commit", r.commit);
            ex.sendResponseHeaders(302, -1);
            return;
        }
        serve(ex, file, e.content, Map.of("ETag", "\"" + gitBlobId(e.content) + "\"", "X-Repo-Commit", r.commit));
    }

    private void msFiles(HttpExchange ex, String id) throws IOException {
        Repo r = repos.get(id);
        if (r == null) {
            send(ex, 404, "application/json",
                    "{\"Code\":10010205001,\"Message\":\"model not exist\",\"Success\":false}".getBytes(), Map.of());
            return;
        }
        ObjectNode root = JSON.createObjectNode();
        root.put("Code", 200);
        root.put("Success", true);
        ArrayNode files = root.putObject("Data").putArray("Files");
        java.util.Set<String> dirs = new java.util.TreeSet<>();
        for (var e : r.files.entrySet()) {
            ObjectNode f = files.addObject();
            String p = e.getKey();
            f.put("Name", p.substring(p.lastIndexOf('/') + 1));
            f.put("Path", p);
            f.put("Size", e.getValue().content.length);
            f.put("Sha256", sha256(e.getValue().content));
            f.put("Type", "blob");
            f.put("IsLFS", e.getValue().lfs);
            if (p.contains("/")) {
                dirs.add(p.substring(0, p.lastIndexOf('/')));
            }
        }
        for (String d : dirs) {
            files.addObject().put("Path", d).put("Name", d).put("Type", "tree").put("Size", 0);
        }
        send(ex, 200, "application/json", JSON.writeValueAsBytes(root), Map.of());
    }

    private void msFile(HttpExchange ex, String id) throws IOException {
        Repo r = repos.get(id);
        Map<String, String> q = query(ex.getRequestURI().getRawQuery());
        Entry e = r == null ? null : r.files.get(q.get("FilePath"));
        if (e == null) {
            send(ex, 404, "application/json", "{\"Message\":\"file not found\"}".getBytes(), Map.of());
            return;
        }
        if (e.lfs) {
            ex.getResponseHeaders().add("Location", cdnBase() + "/blobs/" + sha256(e.content));
            ex.sendResponseHeaders(302, -1);
            return;
        }
        serve(ex, q.get("FilePath"), e.content, Map.of());
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> q = new LinkedHashMap<>();
        if (raw != null) {
            for (String kv : raw.split("&")) {
                int i = kv.indexOf('=');
                q.put(URLDecoder.decode(kv.substring(0, i), StandardCharsets.UTF_8),
                        URLDecoder.decode(kv.substring(i + 1), StandardCharsets.UTF_8));
            }
        }
        return q;
    }

    /** Sends a file, honouring "Range: bytes=N-" and the injected faults. */
    private void serve(HttpExchange ex, String file, byte[] content, Map<String, String> headers) throws IOException {
        Status status = statuses.getOrDefault(file, new java.util.ArrayDeque<>()).poll();
        if (status != null) {
            send(ex, status.code(), "text/plain", ("fault " + status.code()).getBytes(),
                    status.retryAfter() == null ? Map.of() : Map.of("Retry-After", status.retryAfter()));
            return;
        }
        byte[] body = content;
        Integer bad = corrupt.get(file);
        if (bad != null && bad > 0) {
            corrupt.put(file, bad - 1);
            body = content.clone();
            body[body.length / 2] ^= 0x5a;
        }
        long start = 0;
        String range = ex.getRequestHeaders().getFirst("Range");
        if (range != null && take(ignoreRange, file)) {
            range = null; // answered like a plain GET: 200 and the whole file
        }
        if (range != null && take(refuseRange, file)) {
            ex.getResponseHeaders().add("Content-Range", "bytes */" + body.length);
            ex.sendResponseHeaders(416, -1);
            return;
        }
        if (range != null && take(wrongContentRange, file)) {
            // a 206 for a range other than the one asked for: here the whole file from byte 0
            ex.getResponseHeaders().add("Content-Range", "bytes 0-" + (body.length - 1) + "/" + body.length);
            ex.sendResponseHeaders(206, body.length);
            ex.getResponseBody().write(body);
            return;
        }
        if (range != null) {
            Matcher m = Pattern.compile("bytes=(\\d+)-").matcher(range);
            if (!m.matches()) {
                send(ex, 400, "text/plain", "bad range".getBytes(), Map.of());
                return;
            }
            start = Long.parseLong(m.group(1));
            if (start >= body.length) {
                ex.getResponseHeaders().add("Content-Range", "bytes */" + body.length);
                ex.sendResponseHeaders(416, -1);
                return;
            }
            ex.getResponseHeaders().add("Content-Range", "bytes " + start + "-" + (body.length - 1) + "/" + body.length);
        }
        headers.forEach((k, v) -> ex.getResponseHeaders().add(k, v));
        ex.getResponseHeaders().add("Accept-Ranges", "bytes");
        int length = (int) (body.length - start);
        ex.sendResponseHeaders(range != null ? 206 : 200, length == 0 ? -1 : length);
        Long cut = cutAt.remove(file);
        OutputStream out = ex.getResponseBody();
        if (cut != null && cut > start && cut < body.length) {
            out.write(body, (int) start, (int) (cut - start));
            out.flush();
            // Drop the connection with the rest of the promised Content-Length unsent.
            ex.close(); // the server closes the connection: "insufficient bytes written to stream"
            return;
        }
        if (cut != null) {
            cutAt.put(file, cut); // not reached in this response; keep it for a later one
        }
        Long stall = stallAt.remove(file);
        if (stall != null && stall > start && stall < body.length) {
            out.write(body, (int) start, (int) (stall - start));
            out.flush();
            try {
                Thread.sleep(5000); // silent, connection open: only a client-side timeout ends this
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return;
        }
        out.write(body, (int) start, length);
    }

    private static void send(HttpExchange ex, int status, String type, byte[] body, Map<String, String> headers) throws IOException {
        headers.forEach((k, v) -> ex.getResponseHeaders().add(k, v));
        ex.getResponseHeaders().add("Content-Type", type);
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        ex.getResponseBody().write(body);
    }

    @Override
    public void close() {
        hub.stop(0);
        cdn.stop(0);
    }
}
