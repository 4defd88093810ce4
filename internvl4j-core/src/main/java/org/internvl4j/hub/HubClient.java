package org.internvl4j.hub;

import java.io.IOException;
import java.io.InputStream;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

/**
 * Talks to one model source: lists a repository's files at a revision and opens one file's bytes.
 * {@link #create(HubOptions)} picks the Hugging Face or ModelScope protocol.
 */
public interface HubClient extends AutoCloseable {

    /** Resolves the repository's revision to a commit and lists its files. */
    RepoListing list(RepoId repo);

    /**
     * Opens a file's bytes from {@code offset} on (a Range request when offset &gt; 0). Returns a 200
     * (whole file) or 206 (from offset) response, or 416 when the offset is past the end; any other
     * answer becomes a {@link HubException}, or an IOException when a retry may help (5xx, 429).
     */
    HttpResponse<InputStream> open(RepoListing listing, RemoteFile file, long offset) throws IOException;

    @Override
    void close();

    static HubClient create(HubOptions options) {
        return switch (options.source()) {
            case HUGGING_FACE -> new HuggingFaceClient(options);
            case MODELSCOPE -> new ModelScopeClient(options);
        };
    }

    /** Percent-encodes each segment of a '/'-separated path. */
    static String encodePath(String path) {
        StringBuilder sb = new StringBuilder();
        for (String seg : path.split("/", -1)) {
            if (!sb.isEmpty()) {
                sb.append('/');
            }
            sb.append(encode(seg));
        }
        return sb.toString();
    }

    /** Percent-encodes one component, '/' included (huggingface_hub quotes revisions with safe=""). */
    static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
