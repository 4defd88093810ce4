package org.internvl4j.hub;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A model repository on the hub, {@code owner/name}, with the revision to use (a branch, tag or
 * commit hash; {@code null} means the source's default branch).
 */
public record RepoId(String owner, String name, String revision) {

    // Hub repo names: letters, digits, '-', '_', '.'; "--" and ".." are not allowed
    // (huggingface_hub utils/_validators.py REPO_ID_REGEX).
    private static final Pattern PART = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,95}");

    public RepoId {
        Objects.requireNonNull(owner, "owner");
        Objects.requireNonNull(name, "name");
        checkPart(owner, "owner", owner + "/" + name);
        checkPart(name, "name", owner + "/" + name);
        if (revision != null && (revision.isBlank() || revision.contains(".."))) {
            throw new HubException(HubException.Kind.INVALID_ID,
                    "bad revision '" + revision + "' for " + owner + "/" + name + ": expected a branch, tag or commit hash");
        }
    }

    /** Parses {@code owner/name} or {@code owner/name@revision}. */
    public static RepoId parse(String text) {
        if (text == null || text.isBlank()) {
            throw new HubException(HubException.Kind.INVALID_ID, "empty model id: expected owner/name[@revision]");
        }
        String id = text.strip();
        String revision = null;
        int at = id.indexOf('@');
        if (at >= 0) {
            revision = id.substring(at + 1);
            id = id.substring(0, at);
            if (revision.isEmpty()) {
                throw new HubException(HubException.Kind.INVALID_ID,
                        "model id '" + text + "' ends with '@': expected owner/name@revision");
            }
        }
        String[] parts = id.split("/", -1);
        if (parts.length != 2) {
            throw new HubException(HubException.Kind.INVALID_ID,
                    "'" + text + "' is not a directory and not a hub id: expected owner/name[@revision], "
                            + "e.g. OpenGVLab/InternVL2-8B-MPO");
        }
        return new RepoId(parts[0], parts[1], revision);
    }

    /** True when {@code text} has the shape of a hub id (it may still name a missing repository). */
    public static boolean looksLikeId(String text) {
        try {
            parse(text);
            return true;
        } catch (HubException e) {
            return false;
        }
    }

    private static void checkPart(String part, String what, String id) {
        if (!PART.matcher(part).matches() || part.contains("--") || part.contains("..") || part.endsWith(".")) {
            throw new HubException(HubException.Kind.INVALID_ID,
                    "bad " + what + " '" + part + "' in model id '" + id
                            + "': expected letters, digits, '-', '_' or '.' (no '--' or '..')");
        }
    }

    /** {@code owner/name}, without the revision. */
    public String repo() {
        return owner + "/" + name;
    }

    /** The revision, or {@code fallback} when none was given. */
    public String revisionOr(String fallback) {
        return revision == null ? fallback : revision;
    }

    public RepoId withRevision(String rev) {
        return new RepoId(owner, name, rev);
    }

    @Override
    public String toString() {
        return revision == null ? repo() : repo() + "@" + revision;
    }
}
