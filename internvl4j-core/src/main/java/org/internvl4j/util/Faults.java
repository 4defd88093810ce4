package org.internvl4j.util;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Failure injection for tests and drills: {@code -Dinternvl.faults.diskFullAfterBytes=N} makes every file write of
 * {@link AtomicFiles} and of the hub's downloads fail like a full disk once that file holds more than N bytes, so the
 * cleanup paths can be shown on any machine (a real full disk needs a small tmpfs, i.e. root). Unset: no effect.
 */
public final class Faults {
    public static final String DISK_FULL_AFTER = "internvl.faults.diskFullAfterBytes";

    private Faults() {
    }

    /** Throws the IOException a full disk gives when injection is on and the file has grown past its limit. */
    public static void checkWrite(Path file, long bytesWritten) throws IOException {
        String v = System.getProperty(DISK_FULL_AFTER);
        if (v == null) return;
        if (bytesWritten > Long.parseLong(v.trim())) {
            throw new IOException("No space left on device (injected by -D" + DISK_FULL_AFTER + "=" + v.trim() + " while writing "
                    + file.getFileName() + ")");
        }
    }
}
