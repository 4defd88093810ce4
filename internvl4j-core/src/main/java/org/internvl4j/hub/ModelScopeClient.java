package org.internvl4j.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.internvl4j.util.Json;

/**
 * The ModelScope protocol (modelscope hub/api.py, hub/file_download.py):
 * <ul>
 *   <li>{@code GET /api/v1/models/{owner}/{name}/repo/files?Revision={rev}&Recursive=true}:
 *       {@code {Code, Success, Message, Data: {Files: [{Path, Size, Sha256, Type}]}}} where
 *       {@code Type} is {@code blob} or {@code tree};</li>
 *   <li>{@code GET /api/v1/models/{owner}/{name}/repo?Revision={rev}&FilePath={path}}: the bytes
 *       (possibly through a redirect), with Range support.</li>
 * </ul>
 * ModelScope names no commit here, so the snapshot folder is named after the revision.
 */
final class ModelScopeClient implements HubClient {

    private static final ObjectMapper JSON = Json.mapper();

    private final HubOptions options;
    private final Http http;

    ModelScopeClient(HubOptions options) {
        this.options = options;
        this.http = new Http(options);
    }

    private String base(RepoId repo) {
        return options.endpoint() + "/api/v1/models/" + repo.owner() + "/" + repo.name();
    }

    private Map<String, String> headers(Map<String, String> extra) {
        var h = new java.util.HashMap<>(extra);
        if (options.token() != null) {
            // ModelScope's SDK logs in with this cookie; Http adds the bearer header too.
            h.put("Cookie", "m_session_id=" + options.token());
        }
        return h;
    }

    @Override
    public RepoListing list(RepoId repo) {
        String revision = repo.revisionOr(Source.MODELSCOPE.defaultRevision());
        URI uri = URI.create(base(repo) + "/repo/files?Revision=" + HubClient.encode(revision) + "&Recursive=true");
        JsonNode root;
        int status;
        try {
            HttpResponse<InputStream> r = http.get(uri, headers(Map.of("Accept", "application/json")));
            status = r.statusCode();
            byte[] body = http.readBody(r, 64 << 20);
            try {
                root = JSON.readTree(body);
            } catch (com.fasterxml.jackson.core.JacksonException e) {
                throw failure(repo, revision, status, "");
            }
        } catch (IOException e) {
            throw http.unreachable(uri, e);
        }
        boolean ok = status == 200 && root.path("Code").asInt(200) == 200 && root.path("Success").asBoolean(true)
                && root.path("Data").path("Files").isArray();
        if (!ok) {
            throw failure(repo, revision, status, root.path("Message").asText(""));
        }
        List<RemoteFile> files = new ArrayList<>();
        for (JsonNode f : root.path("Data").path("Files")) {
            if ("tree".equals(f.path("Type").asText())) {
                continue;
            }
            String path = f.path("Path").asText(null);
            long size = f.path("Size").asLong(-1);
            if (path == null || size < 0) {
                throw new HubException(HubException.Kind.BAD_RESPONSE, uri + " listed a file without Path or Size");
            }
            String sha = f.path("Sha256").asText("");
            RemoteFile.Checksum checksum = sha.isEmpty() ? null : new RemoteFile.Checksum(RemoteFile.Algorithm.SHA256, sha);
            files.add(new RemoteFile(path, size, sha.isEmpty() ? null : sha, checksum));
        }
        return new RepoListing(repo, revision, revision, files);
    }

    private HubException failure(RepoId repo, String revision, int status, String message) {
        String detail = message.isBlank() ? "" : " (ModelScope says: " + message + ")";
        String lower = message.toLowerCase();
        if (status == 404 || lower.contains("not exist") || lower.contains("not found")) {
            if (lower.contains("revision")) {
                return new HubException(HubException.Kind.REVISION_NOT_FOUND,
                        "revision '" + revision + "' not found in " + repo.repo() + " on ModelScope" + detail);
            }
            return new HubException(HubException.Kind.REPO_NOT_FOUND,
                    "repository " + repo.repo() + " not found on ModelScope (" + options.endpoint() + ")" + detail);
        }
        if (status == 401 || status == 403) {
            return new HubException(HubException.Kind.GATED, "ModelScope refused access to " + repo.repo()
                    + (options.token() == null ? ": set MODELSCOPE_API_TOKEN" : ": check MODELSCOPE_API_TOKEN") + detail);
        }
        return new HubException(HubException.Kind.BAD_RESPONSE,
                options.endpoint() + " answered " + status + " listing " + repo.repo() + detail);
    }

    @Override
    public HttpResponse<InputStream> open(RepoListing listing, RemoteFile file, long offset) throws IOException {
        URI uri = URI.create(base(listing.repo()) + "/repo?Revision=" + HubClient.encode(listing.revision())
                + "&FilePath=" + HubClient.encode(file.path()));
        Map<String, String> extra = offset > 0 ? Map.of("Range", "bytes=" + offset + "-") : Map.of();
        HttpResponse<InputStream> r = http.get(uri, headers(extra));
        int s = r.statusCode();
        if (s == 200 || s == 206 || s == 416) {
            return r;
        }
        http.readBody(r, 1 << 16);
        if (s >= 500 || s == 429 || s == 408) {
            throw new IOException("ModelScope answered " + s + " for " + file.path());
        }
        if (s == 404) {
            throw new HubException(HubException.Kind.ENTRY_NOT_FOUND,
                    "file '" + file.path() + "' not found in " + listing.repo().repo() + " on ModelScope");
        }
        throw failure(listing.repo(), listing.revision(), s, "");
    }

    @Override
    public void close() {
        http.close();
    }
}
