package org.internvl4j.checkpoint;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import org.internvl4j.tensor.Parallel;

/**
 * Where the weights live while the model runs.
 * <ul>
 * <li>{@link Mode#MMAP}: views of the memory-mapped checkpoint files. Nothing is copied and pages are
 * read on first use; the kernel can drop them again under memory pressure. For machines short of RAM.</li>
 * <li>{@link Mode#COPY}: each weight copied once at load into anonymous memory that asks for
 * transparent huge pages ({@code madvise(MADV_HUGEPAGE)}). Pages of a mapped file get no huge pages,
 * and on Zen 5 decoding from them ran at ~2/3 of the speed of anonymous memory.</li>
 * </ul>
 * {@link Mode#AUTO} (the default, or {@code -Dinternvl.weights=auto|copy|mmap}) copies when the
 * checkpoint takes at most {@value #AUTO_SHARE_PERCENT} % of physical RAM.
 */
public final class WeightMemory implements AutoCloseable {
    /** How weights are held; see the class comment. */
    public enum Mode {
        AUTO, COPY, MMAP;

        /** The mode named by the system property {@code internvl.weights} (any case), AUTO if unset. */
        public static Mode fromSystemProperty() {
            return parse(System.getProperty("internvl.weights", "auto").trim().toLowerCase(Locale.ROOT), "internvl.weights");
        }

        /** The mode named auto, copy or mmap; otherwise an error naming the setting it came from. */
        public static Mode parse(String name, String setting) {
            return switch (name) {
                case "auto" -> AUTO;
                case "copy" -> COPY;
                case "mmap" -> MMAP;
                default -> throw new IllegalArgumentException(setting + " must be auto, copy or mmap, got '" + name + "'");
            };
        }
    }

    static final int AUTO_SHARE_PERCENT = 75;
    private static final long HUGE_PAGE = 2L << 20;
    private static final int MADV_DONTNEED = 4;
    private static final int MADV_HUGEPAGE = 14;
    private static final Native NATIVE = Native.find();

    private final boolean copy;
    private final Arena arena = Arena.ofShared();
    private long copiedBytes;

    private WeightMemory(boolean copy) {
        this.copy = copy;
    }

    /** Decides the mode for a checkpoint of this many bytes of tensors. */
    public static WeightMemory of(Mode mode, long checkpointBytes) {
        return new WeightMemory(switch (mode) {
            case COPY -> true;
            case MMAP -> false;
            case AUTO -> checkpointBytes <= physicalRamBytes() / 100 * AUTO_SHARE_PERCENT;
        });
    }

    /** True if weights are copied into anonymous memory. */
    public boolean copies() {
        return copy;
    }

    /** Bytes copied so far. */
    public synchronized long copiedBytes() {
        return copiedBytes;
    }

    /**
     * The weight's bytes where the kernels will read them: the mapped view itself, or a copy in anonymous
     * memory (the mapped source pages are then released from this process's resident set).
     */
    public MemorySegment place(MemorySegment mapped) {
        if (!copy || mapped.byteSize() == 0) return mapped;
        long n = mapped.byteSize();
        MemorySegment dst = allocate(n);
        // 2 MiB pieces over the compute threads: one thread copies at a fraction of the memory bandwidth
        long pieces = (n + HUGE_PAGE - 1) / HUGE_PAGE;
        Parallel.forRange(Math.toIntExact(pieces), 1, (p0, p1) -> {
            long from = p0 * HUGE_PAGE, to = Math.min(n, p1 * HUGE_PAGE);
            MemorySegment.copy(mapped, from, dst, from, to - from);
        });
        NATIVE.advise(mapped, MADV_DONTNEED); // clean file pages: they stay in the page cache, not in our RSS
        synchronized (this) {
            copiedBytes += n;
        }
        return dst;
    }

    /** Drops a mapped source's pages from this process's resident set once it has been read (they stay in the page cache). */
    void release(MemorySegment mapped) {
        if (mapped.byteSize() > 0) NATIVE.advise(mapped, MADV_DONTNEED);
    }

    /** Anonymous memory (2 MiB aligned, huge pages advised where possible) that lives until {@link #close}. */
    MemorySegment allocate(long bytes) {
        Optional<MemorySegment> anon = NATIVE.mapAnonymous(bytes, arena);
        if (anon.isPresent()) return anon.get();
        return arena.allocate(bytes, 64); // no mmap (not Linux): ordinary native memory
    }

    /** Frees the copies; weights placed by this instance must no longer be used. */
    @Override
    public void close() {
        arena.close();
    }

    static long physicalRamBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux: fall through
        }
        var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getTotalMemorySize() : 0;
    }

    /** mmap/madvise/munmap through FFM, where the C library has them. */
    private record Native(MethodHandle mmap, MethodHandle madvise, MethodHandle munmap) {
        private static final int PROT_READ_WRITE = 3;
        private static final int MAP_PRIVATE_ANONYMOUS = 0x22;

        static Native find() {
            try {
                Linker linker = Linker.nativeLinker();
                var libc = linker.defaultLookup();
                MethodHandle mmap = linker.downcallHandle(libc.find("mmap").orElseThrow(), FunctionDescriptor.of(ValueLayout.ADDRESS,
                        ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
                MethodHandle madvise = linker.downcallHandle(libc.find("madvise").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
                MethodHandle munmap = linker.downcallHandle(libc.find("munmap").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
                return new Native(mmap, madvise, munmap);
            } catch (RuntimeException | LinkageError e) {
                return new Native(null, null, null);
            }
        }

        /**
         * Anonymous memory aligned to 2 MiB and advised to use huge pages before any page is touched
         * (advice after the first touch leaves 4 KiB pages in place); unmapped when the arena closes.
         */
        Optional<MemorySegment> mapAnonymous(long bytes, Arena arena) {
            if (mmap == null || !System.getProperty("os.name", "").startsWith("Linux")) return Optional.empty();
            try {
                long len = bytes + HUGE_PAGE;
                MemorySegment raw = (MemorySegment) mmap.invokeExact(MemorySegment.NULL, len, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0L);
                if (raw.address() == -1L) return Optional.empty(); // MAP_FAILED
                long start = (raw.address() + HUGE_PAGE - 1) & -HUGE_PAGE;
                MemorySegment aligned = MemorySegment.ofAddress(start).reinterpret(bytes);
                int ignored = (int) madvise.invokeExact(aligned, bytes, MADV_HUGEPAGE); // a hint: 4 KiB pages still work
                MethodHandle unmap = munmap;
                long rawAddress = raw.address();
                return Optional.of(MemorySegment.ofAddress(start).reinterpret(bytes, arena, s -> {
                    try {
                        int r = (int) unmap.invokeExact(MemorySegment.ofAddress(rawAddress), len);
                    } catch (Throwable t) {
                        // nothing more to do while freeing
                    }
                }));
            } catch (Throwable t) {
                return Optional.empty();
            }
        }

        /** madvise over the whole pages inside s; failures are ignored (advice only). */
        void advise(MemorySegment s, int advice) {
            if (madvise == null) return;
            long start = (s.address() + 4095) & -4096L, end = (s.address() + s.byteSize()) & -4096L;
            if (end <= start) return;
            try {
                int ignored = (int) madvise.invokeExact(MemorySegment.ofAddress(start), end - start, advice);
            } catch (Throwable t) {
                // advice only
            }
        }
    }
}
