package org.internvl4j.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.internvl4j.checkpoint.TensorInfo;
import org.internvl4j.checkpoint.WeightMemory;
import org.internvl4j.generate.GenerationRequest;
import org.internvl4j.generate.Generator;
import org.internvl4j.generate.SamplingParams;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The page cache dropped under a generation with memory-mapped weights: it is only slower (the next step reads the
 * weights from disk again), never different. The drop is madvise(MADV_PAGEOUT) over the model's own mappings, which
 * reclaims exactly those file pages as memory pressure would, needs no root and leaves other processes' caches alone
 * ({@code echo 1 > /proc/sys/vm/drop_caches} needs root, touches the whole machine, and skips pages still mapped).
 * mincore() shows the pages leave. Skipped where madvise/mincore are missing (not Linux).
 */
class PageCacheDropTest {
    static final int MADV_PAGEOUT = 21; // Linux 5.4, include/uapi/asm-generic/mman-common.h
    static final long PAGE = 4096;
    static final int[] PROMPT = {1, 300, 301, 302, 303, 304, 305, 306, 307, 308};

    static MethodHandle fn(String name, FunctionDescriptor d) {
        var f = Linker.nativeLinker().defaultLookup().find(name);
        Assumptions.assumeTrue(f.isPresent() && System.getProperty("os.name", "").startsWith("Linux"), "no " + name + " here");
        return Linker.nativeLinker().downcallHandle(f.get(), d);
    }

    static final MethodHandle MADVISE = fn("madvise", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    static final MethodHandle MINCORE = fn("mincore", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
            ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
    static final MethodHandle OPEN = fn("open", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    static final MethodHandle CLOSE = fn("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    static final MethodHandle FADVISE = fn("posix_fadvise", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    static final int POSIX_FADV_DONTNEED = 4;

    /** The whole pages of each tensor's mapped bytes. */
    static List<long[]> pages(InternVLModel model) {
        List<long[]> out = new ArrayList<>();
        for (TensorInfo t : model.checkpoint().tensors().values()) {
            long start = (t.data().address() + PAGE - 1) & -PAGE, end = (t.data().address() + t.data().byteSize()) & -PAGE;
            if (end > start) out.add(new long[] {start, end});
        }
        return out;
    }

    static long resident(List<long[]> ranges) throws Throwable {
        long n = 0;
        try (Arena a = Arena.ofConfined()) {
            for (long[] r : ranges) {
                long count = (r[1] - r[0]) / PAGE;
                MemorySegment vec = a.allocate(count);
                int rc = (int) MINCORE.invokeExact(MemorySegment.ofAddress(r[0]), r[1] - r[0], vec);
                assertThat(rc).isZero();
                for (long i = 0; i < count; i++) n += vec.get(ValueLayout.JAVA_BYTE, i) & 1;
            }
        }
        return n;
    }

    /** Our mappings' pages out (MADV_PAGEOUT), then the files' clean pages out of the page cache (fadvise). */
    static void pageOut(List<long[]> ranges, List<Path> files) throws Throwable {
        for (long[] r : ranges) {
            int rc = (int) MADVISE.invokeExact(MemorySegment.ofAddress(r[0]), r[1] - r[0], MADV_PAGEOUT);
            Assumptions.assumeTrue(rc == 0, "madvise(MADV_PAGEOUT) refused (a kernel before 5.4?)");
        }
        try (Arena a = Arena.ofConfined()) {
            for (Path f : files) {
                int fd = (int) OPEN.invokeExact(a.allocateFrom(f.toString()), 0);
                assertThat(fd).isNotNegative();
                int rc = (int) FADVISE.invokeExact(fd, 0L, 0L, POSIX_FADV_DONTNEED);
                int closed = (int) CLOSE.invokeExact(fd);
                assertThat(rc).isZero();
            }
        }
    }

    @Test
    void droppedPagesMakeTheNextStepSlowerNotDifferent(@TempDir Path dir) throws Throwable {
        Path ckpt = ShardChangedUnderModelTest.copyOfTinyA(dir);
        List<Path> shards = new ArrayList<>();
        try (var files = java.nio.file.Files.list(ckpt)) {
            for (Path f : files.toList()) {
                if (!f.toString().endsWith(".safetensors")) continue;
                shards.add(f);
                try (var ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.WRITE)) {
                    ch.force(true); // fresh copies are dirty pages, which no drop can evict
                }
            }
        }
        try (InternVLModel model = InternVLModel.load(ckpt, WeightMemory.Mode.MMAP)) {
            Generator g = new Generator(model.llm(), 4096);
            SamplingParams p = SamplingParams.greedy(40, Set.of());
            int[] reference = g.generate(GenerationRequest.text(PROMPT, p)).tokenIds();
            List<long[]> ranges = pages(model);
            long before = resident(ranges);
            assertThat(before).isPositive();
            long[] dropped = new long[1];
            long[] stepNanos = new long[41];
            long[] last = {System.nanoTime()};
            int[] again = g.generate(List.of(GenerationRequest.text(PROMPT, p)), (i, tok) -> {
                long now = System.nanoTime();
                stepNanos[Math.min(40, (int) dropped[0]++)] = now - last[0];
                if (dropped[0] == 20) {
                    try {
                        pageOut(ranges, shards);
                        stepNanos[40] = resident(ranges); // pages left right after the drop
                    } catch (Throwable e) {
                        throw new AssertionError(e);
                    }
                }
                last[0] = System.nanoTime();
                return true;
            }).get(0).tokenIds();
            assertThat(again).containsExactly(reference);
            assertThat(stepNanos[40]).as("resident weight pages right after the drop, of " + before).isLessThan(before / 2);
            System.out.printf("page cache drop: %d of %d weight pages resident before, %d after the drop; "
                            + "decode step before it %.2f ms, first step after it %.2f ms, next %.2f ms%n",
                    before, before, stepNanos[40], stepNanos[19] / 1e6, stepNanos[20] / 1e6, stepNanos[21] / 1e6);
        }
    }
}
