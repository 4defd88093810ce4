package org.internvl4j.hub;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * One file of a repository at one commit.
 *
 * @param path     path inside the repository, '/'-separated
 * @param size     size in bytes (for LFS files the real size, not the pointer's)
 * @param etag     the hub's etag, which names the blob in the cache: the sha256 for LFS files, the
 *                 git blob sha1 for files kept in git; {@code null} when the source gives none
 * @param checksum how to verify the bytes, or {@code null} when only the size can be checked
 */
public record RemoteFile(String path, long size, String etag, Checksum checksum) {

    /** An expected digest of the whole file. */
    public record Checksum(Algorithm algorithm, String hex) {
        public Checksum {
            Objects.requireNonNull(algorithm, "algorithm");
            hex = hex.toLowerCase(java.util.Locale.ROOT);
        }
    }

    public enum Algorithm {
        /** sha256 of the content (git-lfs oid, ModelScope's Sha256). */
        SHA256,
        /** git's blob id: sha1 of "blob {size}\0" followed by the content. */
        GIT_SHA1
    }

    public RemoteFile {
        Objects.requireNonNull(path, "path");
        if (size < 0) {
            throw new IllegalArgumentException("negative size for " + path);
        }
        if (path.isEmpty() || path.startsWith("/") || path.contains("\\")
                || java.util.Arrays.stream(path.split("/")).anyMatch(s -> s.isEmpty() || s.equals(".") || s.equals(".."))) {
            // A hostile listing must not write outside the snapshot folder.
            throw new HubException(HubException.Kind.BAD_RESPONSE,
                    "the hub listed an unsafe file path '" + path + "'");
        }
        if (etag != null && !etag.matches("[0-9A-Za-z_-]{8,128}")) {
            throw new HubException(HubException.Kind.BAD_RESPONSE,
                    "the hub gave file '" + path + "' an unusable etag '" + etag + "'");
        }
    }

    /** The file name under {@code blobs/}: the etag, or a stable stand-in when the source gives none. */
    public String blobName() {
        if (etag != null) {
            return etag;
        }
        try {
            byte[] h = MessageDigest.getInstance("SHA-256")
                    .digest((path + ":" + size).getBytes(StandardCharsets.UTF_8));
            return "noetag-" + HexFormat.of().formatHex(h, 0, 20);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A digest primed for this file's checksum, or {@code null} when there is none. */
    MessageDigest newDigest() {
        if (checksum == null) {
            return null;
        }
        try {
            return switch (checksum.algorithm()) {
                case SHA256 -> MessageDigest.getInstance("SHA-256");
                case GIT_SHA1 -> {
                    MessageDigest d = MessageDigest.getInstance("SHA-1");
                    // git hash-object: header "blob <decimal size>\0" then the bytes.
                    d.update(("blob " + size + "\0").getBytes(StandardCharsets.US_ASCII));
                    yield d;
                }
            };
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
