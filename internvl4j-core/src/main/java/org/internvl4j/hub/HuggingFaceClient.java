package org.internvl4j.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.internvl4j.util.Json;

/**
 * The Hugging Face hub protocol (and mirrors that copy it, through {@code HF_ENDPOINT}):
 * <ul>
 *   <li>{@code GET /api/models/{owner}/{name}/revision/{rev}?blobs=true}: JSON with the commit
 *       ({@code sha}) and {@code siblings} ({@code rfilename}, {@code size}, {@code blobId},
 *       and for LFS files {@code lfs: {sha256, size}});</li>
 *   <li>{@code GET /{owner}/{name}/resolve/{commit}/{path}}: the bytes, or for LFS files a 302 to
 *       a CDN; Range requests resume a partial file;</li>
 *   <li>errors carry {@code X-Error-Code} ({@code RepoNotFound}, {@code GatedRepo},
 *       {@code RevisionNotFound}, {@code EntryNotFound}) and {@code X-Error-Message}
 *       (huggingface_hub utils/_http.py hf_raise_for_status).</li>
 * </ul>
 */
final class HuggingFaceClient implements HubClient {

    private static final ObjectMapper JSON = Json.mapper();

    private final HubOptions options;
    private final Http http;

    HuggingFaceClient(HubOptions options) {
        this.options = options;
        this.http = new Http(options);
    }

    @Override
    public RepoListing list(RepoId repo) {
        String revision = repo.revisionOr(Source.HUGGING_FACE.defaultRevision());
        URI uri = URI.create(options.endpoint() + "/api/models/" + repo.owner() + "/" + repo.name()
                + "/revision/" + HubClient.encode(revision) + "?blobs=true");
        JsonNode root;
        try {
            HttpResponse<InputStream> r = http.get(uri, Map.of("Accept", "application/json"));
            byte[] body = http.readBody(r, 64 << 20);
            if (r.statusCode() != 200) {
                throw error(repo, revision, null, r, body);
            }
            root = JSON.readTree(body);
        } catch (HubException e) {
            throw e;
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new HubException(HubException.Kind.BAD_RESPONSE,
                    uri + " did not return JSON (is " + options.endpoint() + " a Hugging Face hub or mirror?): "
                            + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw http.unreachable(uri, e);
        }
        String commit = root.path("sha").asText(null);
        JsonNode siblings = root.path("siblings");
        if (commit == null || !siblings.isArray()) {
            throw new HubException(HubException.Kind.BAD_RESPONSE,
                    uri + " returned JSON without 'sha' and 'siblings': is " + options.endpoint() + " a Hugging Face hub?");
        }
        List<RemoteFile> files = new ArrayList<>();
        for (JsonNode s : siblings) {
            files.add(remoteFile(s, uri));
        }
        return new RepoListing(repo, revision, commit, files);
    }

    private static RemoteFile remoteFile(JsonNode s, URI uri) {
        String path = s.path("rfilename").asText(null);
        if (path == null) {
            throw new HubException(HubException.Kind.BAD_RESPONSE, uri + " listed a file without 'rfilename'");
        }
        JsonNode lfs = s.get("lfs");
        if (lfs != null && lfs.isObject()) {
            // LFS files are named and verified by the sha256 of their content.
            String sha = lfs.path("sha256").asText(lfs.path("oid").asText(null));
            long size = lfs.path("size").asLong(s.path("size").asLong(-1));
            if (sha == null || size < 0) {
                throw new HubException(HubException.Kind.BAD_RESPONSE, uri + " gave LFS file '" + path + "' no sha256 or size");
            }
            return new RemoteFile(path, size, sha, new RemoteFile.Checksum(RemoteFile.Algorithm.SHA256, sha));
        }
        String blobId = s.path("blobId").asText(null);
        long size = s.path("size").asLong(-1);
        if (blobId == null || size < 0) {
            throw new HubException(HubException.Kind.BAD_RESPONSE,
                    uri + " gave file '" + path + "' no blobId or size (the listing must be asked for with ?blobs=true)");
        }
        return new RemoteFile(path, size, blobId, new RemoteFile.Checksum(RemoteFile.Algorithm.GIT_SHA1, blobId));
    }

    @Override
    public HttpResponse<InputStream> open(RepoListing listing, RemoteFile file, long offset) throws IOException {
        RepoId repo = listing.repo();
        URI uri = URI.create(options.endpoint() + "/" + repo.owner() + "/" + repo.name() + "/resolve/"
                + HubClient.encode(listing.commit()) + "/" + HubClient.encodePath(file.path()));
        Map<String, String> headers = offset > 0 ? Map.of("Range", "bytes=" + offset + "-") : Map.of();
        HttpResponse<InputStream> r = http.get(uri, headers);
        int s = r.statusCode();
        if (s == 200 || s == 206 || s == 416) {
            return r;
        }
        byte[] body = http.readBody(r, 1 << 16);
        if (s >= 500 || s == 429 || s == 408) {
            throw new IOException("the server answered " + s + " for " + file.path());
        }
        throw error(repo, listing.revision(), file.path(), r, body);
    }

    /** Maps an error answer to a message that says what to do. */
    private HubException error(RepoId repo, String revision, String file, HttpResponse<?> r, byte[] body) {
        int s = r.statusCode();
        String code = r.headers().firstValue("X-Error-Code").orElse("");
        String serverMessage = r.headers().firstValue("X-Error-Message").orElse(jsonError(body));
        String detail = serverMessage.isBlank() ? "" : " (hub says: " + serverMessage + ")";
        String page = options.endpoint() + "/" + repo.repo();
        boolean token = options.token() != null;
        if (code.equals("GatedRepo") || (s == 403 && serverMessage.toLowerCase().contains("gated"))) {
            return new HubException(HubException.Kind.GATED, repo.repo() + " is a gated model: "
                    + (token ? "your token has no access yet; accept the conditions at " + page
                            : "accept its conditions at " + page + " and set HF_TOKEN (or run `huggingface-cli login`)")
                    + detail);
        }
        if (code.equals("RevisionNotFound")) {
            return new HubException(HubException.Kind.REVISION_NOT_FOUND,
                    "revision '" + revision + "' not found in " + repo.repo() + detail);
        }
        if (code.equals("EntryNotFound") || (file != null && s == 404 && !code.equals("RepoNotFound"))) {
            return new HubException(HubException.Kind.ENTRY_NOT_FOUND,
                    "file '" + file + "' not found in " + repo.repo() + " at " + revision + detail);
        }
        if (code.equals("RepoNotFound") || s == 404 || s == 401) {
            String hint = token ? "check the spelling; if it is private, your token cannot see it"
                    : "check the spelling; if it is private or gated, set HF_TOKEN";
            if (s == 401 && token && !code.equals("RepoNotFound")) {
                hint = "the hub rejected the token in HF_TOKEN; create a new one at " + options.endpoint() + "/settings/tokens";
            }
            return new HubException(HubException.Kind.REPO_NOT_FOUND,
                    "repository " + repo.repo() + " not found on " + options.endpoint() + ": " + hint + detail);
        }
        if (s == 403) {
            return new HubException(HubException.Kind.GATED, "access to " + repo.repo() + " is forbidden"
                    + (token ? " for this token" : "; set HF_TOKEN") + detail);
        }
        return new HubException(HubException.Kind.BAD_RESPONSE,
                options.endpoint() + " answered " + s + " for " + repo.repo() + (file == null ? "" : "/" + file) + detail);
    }

    private static String jsonError(byte[] body) {
        try {
            JsonNode n = JSON.readTree(body);
            return n.path("error").asText("");
        } catch (IOException | RuntimeException e) {
            String text = new String(body, 0, Math.min(body.length, 200), StandardCharsets.UTF_8).strip();
            return text.startsWith("<") ? "" : text;
        }
    }

    @Override
    public void close() {
        http.close();
    }
}
