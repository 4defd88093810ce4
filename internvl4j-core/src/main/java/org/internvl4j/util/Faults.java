package org.internvl4j.util;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Failure injection for tests and drills: {@code -Dinternvl.faults.diskFullAfterBytes=N} makes every file write of
 * {@link AtomicFiles} and of the hub's downloads fail like a full disk once that file holds more than N bytes, so the
 * cleanup paths can be shown on any machine (a real full disk needs a small tmpfs, i.e. root).
 * {@code -Dinternvl.faults.kvOutOfMemoryAfterBlocks=N} makes a KV block pool that already allocated N blocks throw
 * {@link OutOfMemoryError} when it allocates another, as a heap too small for a long context does. Unset: no effect.
 */
public final class Faults {
    public static final String DISK_FULL_AFTER = "internvl.faults.diskFullAfterBytes";
    public static final String KV_OUT_OF_MEMORY_AFTER = "internvl.faults.kvOutOfMemoryAfterBlocks";

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

    /** Throws the OutOfMemoryError a full heap gives when injection is on and a pool that made this many blocks makes one more. */
    public static void checkKvBlock(long allocatedBlocks) {
        String v = System.getProperty(KV_OUT_OF_MEMORY_AFTER);
        if (v == null) return;
        if (allocatedBlocks >= Long.parseLong(v.trim())) {
            throw new OutOfMemoryError("Java heap space (injected by -D" + KV_OUT_OF_MEMORY_AFTER + "=" + v.trim() + ")");
        }
    }
}
