package org.internvl4j.hub;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.internvl4j.util.Faults;

/**
 * Downloads a repository's inference files into the hub cache, the way {@code snapshot_download}
 * does: one listing, then each selected file fetched once into {@code blobs/<etag>.incomplete}
 * (resumed with a Range request after a cut), checked against its size and checksum, renamed to
 * {@code blobs/<etag>} in one step and linked from {@code snapshots/<commit>/<path>}. A crash at any
 * point leaves at worst an {@code .incomplete} file, never a blob or link that looks finished.
 */
public final class HubDownloader {

    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");

    private final HubOptions options;
    private final HfCache cache;

    public HubDownloader(HubOptions options) {
        this.options = options;
        this.cache = new HfCache(options.cacheRoot());
    }

    public HfCache cache() {
        return cache;
    }

    /** Downloads (or finds in the cache) the files of {@code repo} that match the include patterns. */
    public DownloadResult download(RepoId repo) {
        return download(repo, DownloadListener.NONE);
    }

    public DownloadResult download(RepoId repo, DownloadListener listener) {
        if (options.offline()) {
            return fromCache(repo, listener, "offline mode (HF_HUB_OFFLINE is set)", null);
        }
        try (HubClient client = HubClient.create(options)) {
            RepoListing listing;
            try {
                listing = client.list(repo);
            } catch (HubException e) {
                if (e.kind() == HubException.Kind.NETWORK) {
                    return fromCache(repo, listener, "the hub is unreachable", e);
                }
                throw e;
            }
            return fetchAll(client, listing, listener);
        }
    }

    private DownloadResult fromCache(RepoId repo, DownloadListener listener, String why, HubException cause) {
        String revision = repo.revisionOr(options.source().defaultRevision());
        Optional<Path> snapshot = cache.lookup(repo, revision);
        if (snapshot.isEmpty()) {
            String head = cause != null ? cause.getMessage() + "; and " : why + " and ";
            throw new HubException(HubException.Kind.NOT_CACHED, head + repo.repo() + "@" + revision
                    + " is not in the cache (" + cache.repoDir(repo) + "). Download it while online with: internvl download "
                    + repo.repo() + (repo.revision() == null ? "" : " --revision " + repo.revision()), cause);
        }
        listener.usingCache(snapshot.get(), why);
        List<Path> files;
        try (var s = Files.walk(snapshot.get())) {
            files = s.filter(Files::isRegularFile).toList();
        } catch (IOException e) {
            throw new HubException(HubException.Kind.IO, "cannot read cached snapshot " + snapshot.get() + ": " + e.getMessage(), e);
        }
        long bytes = 0;
        for (Path f : files) {
            try {
                bytes += Files.size(f);
            } catch (IOException ignored) {
                // counted as 0: only used for the summary line
            }
        }
        return new DownloadResult(snapshot.get(), snapshot.get().getFileName().toString(), files.size(), bytes, 0, true);
    }

    private DownloadResult fetchAll(HubClient client, RepoListing listing, DownloadListener listener) {
        RepoId repo = listing.repo();
        List<RemoteFile> selected = listing.files().stream()
                .filter(f -> Globs.matchesAny(options.includes(), f.path()))
                .toList();
        if (selected.isEmpty()) {
            List<String> names = listing.files().stream().map(RemoteFile::path).limit(20).toList();
            throw new HubException(HubException.Kind.ENTRY_NOT_FOUND, "no file of " + repo.repo() + "@" + listing.revision()
                    + " matches " + options.includes() + "; it has " + names + (listing.files().size() > 20 ? " …" : ""));
        }
        // Files with the same content share one blob: fetch each blob once.
        Map<String, RemoteFile> byBlob = new LinkedHashMap<>();
        for (RemoteFile f : selected) {
            byBlob.putIfAbsent(f.blobName(), f);
        }
        long total = 0;
        long present = 0;
        long needed = 0;
        List<RemoteFile> toFetch = new ArrayList<>();
        for (RemoteFile f : byBlob.values()) {
            total += f.size();
            if (cache.hasBlob(repo, f.blobName(), f.size())) {
                present += f.size();
                continue;
            }
            long partial = partialLength(cache.incomplete(repo, f.blobName()), f.size());
            present += partial;
            needed += f.size() - partial;
            toFetch.add(f);
        }
        listener.planned(listing, selected, total, present);
        checkFreeSpace(repo, needed);

        AtomicLong downloaded = new AtomicLong();
        if (!toFetch.isEmpty()) {
            try (StallWatch stalls = new StallWatch(options.timeout())) {
                runInParallel(toFetch, f -> fetch(client, listing, f, listener, downloaded, stalls));
            }
        }
        java.util.Set<RemoteFile> fetched = new java.util.HashSet<>(toFetch);
        for (RemoteFile f : selected) {
            cache.link(repo, listing.commit(), f.path(), f.blobName());
            if (!fetched.contains(f)) {
                listener.finished(f); // already cached, or shares its blob with another file
            }
        }
        cache.writeRef(repo, listing.revision(), listing.commit());
        return new DownloadResult(cache.snapshotDir(repo, listing.commit()), listing.commit(), selected.size(),
                total, downloaded.get(), false);
    }

    private void checkFreeSpace(RepoId repo, long needed) {
        Path blobs = cache.blobsDir(repo);
        long free = options.usableSpace().applyAsLong(blobs);
        if (needed > free) {
            throw new HubException(HubException.Kind.DISK_FULL, "the download needs " + Sizes.human(needed)
                    + " more in " + blobs + " but only " + Sizes.human(free)
                    + " is free; free some space or point HF_HUB_CACHE (or HF_HOME) at a larger disk");
        }
    }

    private interface FileTask {
        void run(RemoteFile f);
    }

    private void runInParallel(List<RemoteFile> files, FileTask task) {
        int threads = Math.min(options.parallelism(), files.size());
        ExecutorService pool = Executors.newFixedThreadPool(threads, Thread.ofPlatform().daemon().name("hub-download-", 0).factory());
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (RemoteFile f : files) {
                futures.add(pool.submit(() -> task.run(f)));
            }
            RuntimeException first = null;
            for (Future<?> fu : futures) {
                try {
                    fu.get();
                } catch (ExecutionException e) {
                    RuntimeException r = e.getCause() instanceof RuntimeException re ? re
                            : new HubException(HubException.Kind.IO, String.valueOf(e.getCause()), e.getCause());
                    if (first == null) {
                        first = r;
                    } else {
                        first.addSuppressed(r);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    pool.shutdownNow();
                    throw new HubException(HubException.Kind.IO, "download interrupted; run it again to resume", e);
                }
            }
            if (first != null) {
                throw first;
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Fetches one blob, retrying network failures (each resumes) and one checksum failure (from scratch). */
    private void fetch(HubClient client, RepoListing listing, RemoteFile f, DownloadListener listener, AtomicLong downloaded,
            StallWatch stalls) {
        RepoId repo = listing.repo();
        // One writer per blob across processes: <cache>/.locks/models--owner--name/<etag>.lock, where
        // huggingface_hub puts its own lock files.
        Path lockFile = cache.root().resolve(".locks").resolve(cache.repoDir(repo).getFileName()).resolve(f.blobName() + ".lock");
        try {
            Files.createDirectories(lockFile.getParent());
            try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                    FileLock lock = acquire(ch, f, listener)) {
                if (cache.hasBlob(repo, f.blobName(), f.size())) {
                    listener.finished(f); // another process finished it while we waited
                    return;
                }
                fetchLocked(client, listing, f, listener, downloaded, stalls);
            }
        } catch (IOException e) {
            throw new HubException(isDiskFull(e) ? HubException.Kind.DISK_FULL : HubException.Kind.IO,
                    "cannot use lock file " + lockFile + ": " + e.getMessage(), e);
        }
    }

    private static FileLock acquire(FileChannel ch, RemoteFile f, DownloadListener listener) throws IOException {
        boolean told = false;
        while (true) {
            try {
                FileLock lock = ch.tryLock();
                if (lock != null) {
                    return lock;
                }
            } catch (OverlappingFileLockException sameJvm) {
                // another thread of this process holds it: wait the same way
            }
            if (!told) {
                listener.retrying(f, "waiting for another download of the same file to finish");
                told = true;
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for " + f.path());
            }
        }
    }

    private void fetchLocked(HubClient client, RepoListing listing, RemoteFile f, DownloadListener listener,
            AtomicLong downloaded, StallWatch stalls) {
        RepoId repo = listing.repo();
        Path part = cache.incomplete(repo, f.blobName());
        Path blob = cache.blob(repo, f.blobName());
        boolean checksumRetried = false;
        int failures = 0;
        while (true) {
            try {
                Files.createDirectories(part.getParent());
                long have = partialLength(part, f.size());
                if (have == 0) {
                    Files.deleteIfExists(part); // longer than the file: start again
                }
                MessageDigest digest = f.newDigest();
                if (have > 0 && digest != null) {
                    hashPrefix(part, have, digest);
                }
                if (have < f.size()) {
                    listener.started(f, have);
                    digest = receive(client, listing, f, part, have, digest, listener, downloaded, stalls);
                } else if (!Files.exists(part)) {
                    Files.createFile(part); // an empty file has nothing to fetch
                }
                long got = Files.size(part);
                String actual = digest == null ? null : HexFormat.of().formatHex(digest.digest());
                if (got == f.size() && (actual == null || actual.equals(f.checksum().hex()))) {
                    HfCache.moveAtomically(part, blob);
                    listener.finished(f);
                    return;
                }
                Files.deleteIfExists(part);
                String what = got != f.size() ? "size " + got + " instead of " + f.size()
                        : f.checksum().algorithm() + " " + actual + " instead of " + f.checksum().hex();
                if (checksumRetried) {
                    throw new HubException(HubException.Kind.CHECKSUM, repo.repo() + "/" + f.path()
                            + " failed verification twice (" + what + "); the bad file was removed. "
                            + "The hub or a proxy/mirror in between is serving different bytes; try again later or another HF_ENDPOINT");
                }
                checksumRetried = true;
                listener.retrying(f, "verification failed (" + what + "); file removed, downloading again");
            } catch (IOException e) {
                if (isDiskFull(e)) {
                    throw new HubException(HubException.Kind.DISK_FULL, "the disk filled up while writing " + part
                            + "; free some space and run again (the download resumes)", e);
                }
                if (e instanceof InterruptedIOException || Thread.currentThread().isInterrupted()) {
                    throw new HubException(HubException.Kind.IO, "download of " + f.path() + " interrupted; run again to resume", e);
                }
                failures++;
                if (failures > options.retries()) {
                    String last = e.getMessage() == null ? e.getClass().getSimpleName()
                            : e.getClass().getSimpleName() + ": " + e.getMessage();
                    throw new HubException(HubException.Kind.NETWORK, "download of " + repo.repo() + "/" + f.path()
                            + " from " + options.endpoint() + " failed after " + failures + " attempts (last: " + last
                            + "). What arrived is kept in " + part + " and the next run resumes from there;"
                            + " if it keeps failing, check the network, HF_ENDPOINT and HTTPS_PROXY", e);
                }
                listener.retrying(f, e.getClass().getSimpleName() + ": " + e.getMessage());
                sleepBeforeRetry(failures);
            }
        }
    }

    /** Streams the rest of the file into {@code part}; returns the digest of everything in it. */
    private MessageDigest receive(HubClient client, RepoListing listing, RemoteFile f, Path part, long have,
            MessageDigest digest, DownloadListener listener, AtomicLong downloaded, StallWatch stalls) throws IOException {
        HttpResponse<InputStream> r = client.open(listing, f, have);
        try (InputStream in = r.body(); StallWatch.Watch watch = stalls.watch(in)) {
            try {
                return copy(r, in, watch, f, part, have, digest, listener, downloaded);
            } catch (IOException e) {
                if (watch.stalled() || e instanceof java.net.SocketTimeoutException) {   // the watch or the read timeout
                    throw new IOException("no data for " + stalls.limit().toSeconds() + " s", e);
                }
                throw e;
            }
        }
    }

    private MessageDigest copy(HttpResponse<InputStream> r, InputStream in, StallWatch.Watch watch, RemoteFile f, Path part,
            long have, MessageDigest digest, DownloadListener listener, AtomicLong downloaded) throws IOException {
        int status = r.statusCode();
        long offset = have;
        if (status == 416) {
            // Our partial file is at least as long as what the server has: start over.
            Files.deleteIfExists(part);
            throw new IOException("the server refused range bytes=" + have + "- of " + f.path());
        }
        if (status == 206) {
            Matcher m = CONTENT_RANGE.matcher(r.headers().firstValue("Content-Range").orElse(""));
            if (!m.matches() || Long.parseLong(m.group(1)) != have) {
                Files.deleteIfExists(part);
                throw new IOException("the server answered range bytes=" + have + "- with Content-Range '"
                        + r.headers().firstValue("Content-Range").orElse("") + "'");
            }
        } else {
            offset = 0; // a 200 is the whole file: the server ignored our Range
            digest = f.newDigest();
        }
        StandardOpenOption mode = offset == 0 ? StandardOpenOption.TRUNCATE_EXISTING : StandardOpenOption.APPEND;
        try (FileChannel out = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE, mode)) {
            byte[] buf = new byte[1 << 20];
            long written = offset;
            listener.progress(f, written);
            int n;
            while ((n = in.read(buf)) > 0) {
                watch.touch();
                if (written + n > f.size()) {
                    n = (int) Math.min(n, f.size() + 1 - written); // one byte too many is enough to fail the size check
                }
                Faults.checkWrite(part, written + n);
                ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                while (bb.hasRemaining()) {
                    out.write(bb);
                }
                if (digest != null) {
                    digest.update(buf, 0, n);
                }
                written += n;
                downloaded.addAndGet(n);
                listener.progress(f, written);
                if (written > f.size()) {
                    break;
                }
            }
            if (written < f.size()) {
                throw new IOException("connection closed after " + written + " of " + f.size() + " bytes");
            }
        }
        return digest;
    }

    private static void hashPrefix(Path part, long length, MessageDigest digest) throws IOException {
        try (InputStream in = Files.newInputStream(part)) {
            byte[] buf = new byte[1 << 20];
            long left = length;
            while (left > 0) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) {
                    throw new IOException(part + " shrank while it was read");
                }
                digest.update(buf, 0, n);
                left -= n;
            }
        }
    }

    /** Bytes already in a partial download; 0 when there is none or it is longer than the file. */
    private static long partialLength(Path part, long size) {
        try {
            if (!Files.isRegularFile(part)) {
                return 0;
            }
            long n = Files.size(part);
            return n <= size ? n : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    static boolean isDiskFull(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m != null && (m.contains("No space left on device") || m.contains("not enough space on the disk")
                    || m.contains("Disk quota exceeded"))) {
                return true;
            }
        }
        return false;
    }

    private static void sleepBeforeRetry(int failures) {
        try {
            Thread.sleep(Math.min(4000, 250L << Math.min(failures - 1, 4)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
