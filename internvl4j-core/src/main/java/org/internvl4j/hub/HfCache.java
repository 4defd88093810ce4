package org.internvl4j.hub;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The Hugging Face hub cache, laid out exactly as Python's huggingface_hub lays it out
 * (file_download.py, hf_hub_download), so either tool can use what the other downloaded:
 *
 * <pre>
 * &lt;root&gt;/models--owner--name/
 *     blobs/&lt;etag&gt;                 file contents; the etag is the sha256 (LFS) or git sha1
 *     blobs/&lt;etag&gt;.incomplete      a download in progress (resumed from its length)
 *     refs/&lt;revision&gt;             the commit hash the branch or tag pointed to, no newline
 *     snapshots/&lt;commit&gt;/&lt;path&gt;   relative symlink to ../../blobs/&lt;etag&gt;
 * </pre>
 */
public final class HfCache {

    // huggingface_hub file_download.py REGEX_COMMIT_HASH
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    private final Path root;

    public HfCache(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    public Path root() {
        return root;
    }

    /** {@code $HF_HOME}, else {@code $XDG_CACHE_HOME/huggingface}, else {@code ~/.cache/huggingface}. */
    public static Path hfHome(Map<String, String> env) {
        String home = env.get("HF_HOME");
        if (home != null && !home.isBlank()) {
            return expandUser(home, env);
        }
        String xdg = env.get("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? expandUser(xdg, env) : userHome(env).resolve(".cache");
        return base.resolve("huggingface");
    }

    /**
     * The hub cache folder with huggingface_hub's precedence (constants.py): {@code HF_HUB_CACHE},
     * then the legacy {@code HUGGINGFACE_HUB_CACHE}, then {@code <HF_HOME>/hub}.
     */
    public static Path defaultRoot(Map<String, String> env) {
        for (String name : new String[] {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"}) {
            String v = env.get(name);
            if (v != null && !v.isBlank()) {
                return expandUser(v, env);
            }
        }
        return hfHome(env).resolve("hub");
    }

    /**
     * Where ModelScope downloads go: the same layout, under {@code $MODELSCOPE_CACHE} (default
     * {@code ~/.cache/modelscope}) in an {@code internvl4j} folder, apart from the Hugging Face cache
     * because ModelScope revisions are not Hugging Face commits.
     */
    public static Path modelScopeRoot(Map<String, String> env) {
        String v = env.get("MODELSCOPE_CACHE");
        Path base = v != null && !v.isBlank() ? expandUser(v, env) : userHome(env).resolve(".cache").resolve("modelscope");
        return base.resolve("internvl4j");
    }

    static Path expandUser(String path, Map<String, String> env) {
        if (path.equals("~")) {
            return userHome(env);
        }
        if (path.startsWith("~/")) {
            return userHome(env).resolve(path.substring(2));
        }
        return Path.of(path);
    }

    private static Path userHome(Map<String, String> env) {
        String h = env.get("HOME");
        return Path.of(h != null && !h.isBlank() ? h : System.getProperty("user.home"));
    }

    public static boolean isCommitHash(String revision) {
        return revision != null && COMMIT.matcher(revision).matches();
    }

    /** {@code models--owner--name} (huggingface_hub repo_folder_name). */
    public Path repoDir(RepoId repo) {
        return root.resolve("models--" + repo.owner() + "--" + repo.name());
    }

    public Path blobsDir(RepoId repo) {
        return repoDir(repo).resolve("blobs");
    }

    public Path blob(RepoId repo, String blobName) {
        return blobsDir(repo).resolve(blobName);
    }

    public Path incomplete(RepoId repo, String blobName) {
        return blobsDir(repo).resolve(blobName + ".incomplete");
    }

    public Path snapshotDir(RepoId repo, String commit) {
        return repoDir(repo).resolve("snapshots").resolve(commit);
    }

    /** Where a file of a snapshot lives (a symlink into blobs/ when written by either tool). */
    public Path snapshotFile(RepoId repo, String commit, String path) {
        return snapshotDir(repo, commit).resolve(path);
    }

    private Path refFile(RepoId repo, String revision) {
        return repoDir(repo).resolve("refs").resolve(revision);
    }

    /**
     * The commit a revision resolves to in the cache: a commit hash stands for itself, a branch or
     * tag is read from {@code refs/}. Empty when the cache has never seen it.
     */
    public Optional<String> commitFor(RepoId repo, String revision) {
        if (isCommitHash(revision)) {
            return Optional.of(revision);
        }
        Path ref = refFile(repo, revision);
        if (!ref.normalize().startsWith(repoDir(repo).resolve("refs")) || !Files.isRegularFile(ref)) {
            return Optional.empty();
        }
        try {
            String commit = Files.readString(ref, StandardCharsets.UTF_8).strip();
            return commit.isEmpty() ? Optional.empty() : Optional.of(commit);
        } catch (IOException e) {
            throw new HubException(HubException.Kind.IO, "cannot read cache ref " + ref + ": " + e.getMessage(), e);
        }
    }

    /** The snapshot folder for a revision, if the cache has one. */
    public Optional<Path> lookup(RepoId repo, String revision) {
        return commitFor(repo, revision)
                .map(c -> snapshotDir(repo, c))
                .filter(Files::isDirectory);
    }

    /** A cached file of a revision, if present (a dangling symlink counts as absent). */
    public Optional<Path> lookupFile(RepoId repo, String revision, String path) {
        return lookup(repo, revision).map(s -> s.resolve(path)).filter(Files::isRegularFile);
    }

    /** True when blobs/ holds a finished blob of this size. */
    public boolean hasBlob(RepoId repo, String blobName, long size) {
        Path b = blob(repo, blobName);
        try {
            return Files.isRegularFile(b, LinkOption.NOFOLLOW_LINKS) && Files.size(b) == size;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Points {@code snapshots/<commit>/<path>} at {@code blobs/<blobName>} with a relative symlink
     * (as huggingface_hub's _create_symlink does), replacing whatever was there in one rename.
     * Where the file system has no symlinks, the blob is copied instead.
     */
    public void link(RepoId repo, String commit, String path, String blobName) {
        Path target = snapshotFile(repo, commit, path);
        Path blob = blob(repo, blobName);
        try {
            Files.createDirectories(target.getParent());
            Path relative = target.getParent().relativize(blob);
            Path tmp = target.resolveSibling("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
            try {
                Files.createSymbolicLink(tmp, relative);
            } catch (UnsupportedOperationException | FileSystemException noLinks) {
                Files.copy(blob, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            moveAtomically(tmp, target);
        } catch (IOException e) {
            throw new HubException(HubException.Kind.IO,
                    "cannot link " + target + " to " + blob + ": " + e.getMessage(), e);
        }
    }

    /** Records that {@code revision} pointed to {@code commit} (nothing to do for a commit hash). */
    public void writeRef(RepoId repo, String revision, String commit) {
        if (revision.equals(commit)) {
            return;
        }
        Path ref = refFile(repo, revision);
        try {
            Files.createDirectories(ref.getParent());
            Path tmp = ref.resolveSibling("." + ref.getFileName() + "." + UUID.randomUUID() + ".tmp");
            Files.writeString(tmp, commit, StandardCharsets.UTF_8);
            moveAtomically(tmp, ref);
        } catch (IOException e) {
            throw new HubException(HubException.Kind.IO, "cannot write cache ref " + ref + ": " + e.getMessage(), e);
        }
    }

    /** Renames in one step, so readers see the old file or the new one, never half of one. */
    static void moveAtomically(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
