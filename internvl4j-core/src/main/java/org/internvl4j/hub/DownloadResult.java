package org.internvl4j.hub;

import java.nio.file.Path;

/**
 * What a download left in the cache.
 *
 * @param snapshot        the snapshot folder: a complete model directory to open
 * @param commit          the commit (or, for ModelScope, the revision) the snapshot holds
 * @param files           files selected
 * @param totalBytes      their total size
 * @param downloadedBytes bytes fetched over the network in this run
 * @param fromCache       true when the hub was not asked (offline, or unreachable)
 */
public record DownloadResult(Path snapshot, String commit, int files, long totalBytes, long downloadedBytes, boolean fromCache) {}
