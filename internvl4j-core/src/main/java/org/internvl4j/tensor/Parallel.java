package org.internvl4j.tensor;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/**
 * The one compute pool that all kernels share. Its size comes from the system property
 * {@code internvl.threads}, else {@link #setThreads}, else the number of available processors.
 * Work is split over contiguous ranges (usually output rows); with one thread it runs inline.
 */
public final class Parallel {
    /** Body of a parallel loop over [from, to). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    private static volatile ForkJoinPool pool;
    private static volatile int threads = defaultThreads();

    private Parallel() {
    }

    private static int defaultThreads() {
        String prop = System.getProperty("internvl.threads");
        if (prop == null || prop.isBlank()) return Runtime.getRuntime().availableProcessors();
        try {
            int n = Integer.parseInt(prop.trim());
            if (n >= 1) return n;
        } catch (NumberFormatException e) {
            // fall through to the error below
        }
        throw new IllegalArgumentException("system property internvl.threads must be a positive integer, got '" + prop + "'");
    }

    /** Number of threads kernels use. */
    public static int threads() {
        return threads;
    }

    /** Sets the number of compute threads (at least 1); the pool is rebuilt on next use. */
    public static synchronized void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be at least 1, got " + n);
        if (n == threads) return;
        ForkJoinPool old = pool;
        pool = null;
        threads = n;
        if (old != null) old.shutdown();
    }

    private static ForkJoinPool pool() {
        ForkJoinPool p = pool;
        if (p == null) {
            synchronized (Parallel.class) {
                p = pool;
                if (p == null) {
                    p = new ForkJoinPool(threads, pool -> {
                        var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
                        t.setName("internvl-compute-" + t.getPoolIndex());
                        t.setDaemon(true);
                        return t;
                    }, null, false);
                    pool = p;
                }
            }
        }
        return p;
    }

    /**
     * Runs body over [0, n) in contiguous chunks whose starts are multiples of grain (the last chunk
     * takes the remainder). Returns when all chunks are done; exceptions propagate to the caller.
     */
    public static void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) return;
        if (grain < 1) throw new IllegalArgumentException("grain must be at least 1, got " + grain);
        int t = threads;
        int units = (n + grain - 1) / grain;
        if (t == 1 || units == 1) {
            body.run(0, n);
            return;
        }
        // A few chunks per thread balance uneven progress without much scheduling overhead.
        int chunks = Math.min(units, t * 4);
        int unitsPerChunk = (units + chunks - 1) / chunks;
        int chunk = unitsPerChunk * grain;
        int count = (n + chunk - 1) / chunk;
        ForkJoinPool p = pool();
        Split task = new Split(body, n, chunk, 0, count);
        if (java.util.concurrent.ForkJoinTask.getPool() == p) task.invoke();
        else p.invoke(task);
    }

    private static final class Split extends RecursiveAction {
        private final RangeBody body;
        private final int n;
        private final int chunk;
        private final int lo;
        private final int hi;

        Split(RangeBody body, int n, int chunk, int lo, int hi) {
            this.body = body;
            this.n = n;
            this.chunk = chunk;
            this.lo = lo;
            this.hi = hi;
        }

        @Override
        protected void compute() {
            if (hi - lo == 1) {
                body.run(lo * chunk, Math.min(n, (lo + 1) * chunk));
                return;
            }
            int mid = (lo + hi) >>> 1;
            invokeAll(new Split(body, n, chunk, lo, mid), new Split(body, n, chunk, mid, hi));
        }
    }
}
