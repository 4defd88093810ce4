package org.internvl4j.hub;

import java.nio.file.Path;
import java.util.List;

/**
 * Hears what a download is doing, to draw progress bars. Calls come from the download threads,
 * several at once; implementations must be thread-safe and quick. The library itself prints nothing.
 */
public interface DownloadListener {

    /** Nothing to report. */
    DownloadListener NONE = new DownloadListener() {};

    /**
     * The download is about to start.
     *
     * @param files        the files selected (all of them, cached or not)
     * @param totalBytes   their total size
     * @param presentBytes bytes already in the cache (finished blobs and partial downloads)
     */
    default void planned(RepoListing listing, List<RemoteFile> files, long totalBytes, long presentBytes) {}

    /** A file starts (or resumes) downloading at {@code offset} bytes. */
    default void started(RemoteFile file, long offset) {}

    /** {@code bytesOnDisk} of {@code file} are now written (it may go back to 0 on a restart). */
    default void progress(RemoteFile file, long bytesOnDisk) {}

    /** A file is complete, verified and linked into the snapshot. */
    default void finished(RemoteFile file) {}

    /** An attempt failed and the file will be tried again. */
    default void retrying(RemoteFile file, String reason) {}

    /** The hub was not asked (offline) or not reachable, and the cached snapshot is used. */
    default void usingCache(Path snapshot, String reason) {}
}
