package org.internvl4j.hub;

/**
 * Anything that stops a model from being found or fetched. {@link #kind()} tells callers what went
 * wrong without parsing the message; the message names the repository, file or folder and what to do.
 */
public final class HubException extends RuntimeException {

    /** What went wrong, coarse enough for a caller to branch on. */
    public enum Kind {
        /** The argument is not a directory and not an {@code owner/name[@revision]} id. */
        INVALID_ID,
        /** The hub says the repository does not exist (or is private and the token cannot see it). */
        REPO_NOT_FOUND,
        /** The repository is gated and no token, or a token without access, was sent. */
        GATED,
        /** The branch, tag or commit does not exist in the repository. */
        REVISION_NOT_FOUND,
        /** A requested file does not exist in the repository. */
        ENTRY_NOT_FOUND,
        /** The hub could not be reached (connection refused, DNS, timeout, connection cut). */
        NETWORK,
        /** Offline (or the network is down) and the cache does not hold what is needed. */
        NOT_CACHED,
        /** Not enough free space for the download, or the disk filled up while writing. */
        DISK_FULL,
        /** A downloaded file did not match its size or checksum, twice. */
        CHECKSUM,
        /** The hub answered with something we do not understand. */
        BAD_RESPONSE,
        /** A local file operation failed for another reason (permissions, broken cache). */
        IO
    }

    private final Kind kind;

    public HubException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public HubException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
