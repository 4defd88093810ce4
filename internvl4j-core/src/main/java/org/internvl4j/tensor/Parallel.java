package org.internvl4j.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The one compute pool that all kernels share. Its size comes from the system property
 * {@code internvl.threads}, else {@link #setThreads}, else the number of available processors.
 * Work is split over contiguous ranges (usually output rows); with one thread it runs inline.
 *
 * <p>Decode calls this about 150 times per token, each for tens of microseconds of work. Waking a parked
 * thread costs about as much, so workers spin for a short while after each loop before they park, and
 * the caller works on the loop itself: a loop starts on a store and a load instead of a futex wake.
 * Loops from different caller threads take turns (each still gets every thread); a loop started from
 * inside a loop body runs inline.
 */
public final class Parallel {
    /** Body of a parallel loop over [from, to). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    /** How long an idle worker spins before it parks: a few decode steps' worth of glue code. */
    private static final long SPIN_NANOS = Long.getLong("internvl.spin.micros", 200) * 1000;

    private static volatile Pool pool;
    private static volatile int threads = defaultThreads();
    /** True on a thread that is running a loop body (a worker, or a caller inside its own loop). */
    private static final ThreadLocal<boolean[]> IN_LOOP = ThreadLocal.withInitial(() -> new boolean[1]);

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
        Pool old = pool;
        pool = null;
        threads = n;
        if (old != null) old.shutdown();
    }

    private static Pool pool() {
        Pool p = pool;
        if (p == null) {
            synchronized (Parallel.class) {
                p = pool;
                if (p == null) {
                    p = new Pool(threads - 1);
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
        boolean[] inLoop = IN_LOOP.get();
        if (t == 1 || units == 1 || inLoop[0]) {
            body.run(0, n);
            return;
        }
        // A few chunks per thread balance uneven progress without much scheduling overhead.
        int chunks = Math.min(units, t * 4);
        int unitsPerChunk = (units + chunks - 1) / chunks;
        int chunk = unitsPerChunk * grain;
        int count = (n + chunk - 1) / chunk;
        inLoop[0] = true;
        try {
            pool().run(new Job(body, n, chunk, count));
        } finally {
            inLoop[0] = false;
        }
    }

    /** One loop: chunks are claimed from a counter by the caller and the workers alike. */
    private static final class Job {
        final RangeBody body;
        final int n;
        final int chunk;
        final int count;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        volatile Throwable failure;

        Job(RangeBody body, int n, int chunk, int count) {
            this.body = body;
            this.n = n;
            this.chunk = chunk;
            this.count = count;
        }

        /** Claims and runs chunks until none are left. */
        void work() {
            for (int c; (c = next.getAndIncrement()) < count; ) {
                try {
                    if (failure == null) body.run(c * chunk, Math.min(n, (c + 1) * chunk));
                } catch (Throwable e) {
                    if (failure == null) failure = e;
                } finally {
                    done.incrementAndGet();
                }
            }
        }
    }

    private static final class Pool {
        private final Worker[] workers;
        private final ReentrantLock callers = new ReentrantLock();
        /** The loop in progress, or null; workers notice a new one by the generation. */
        private volatile Job job;
        private volatile long generation;
        private volatile boolean shutdown;

        Pool(int size) {
            workers = new Worker[size];
            for (int i = 0; i < size; i++) {
                workers[i] = new Worker(this, i);
                workers[i].start();
            }
        }

        void run(Job j) {
            callers.lock();
            try {
                job = j;
                generation++;
                for (Worker w : workers) {
                    if (w.parked) LockSupport.unpark(w);
                }
                j.work();
                // Chunks others claimed may still be running; they are short, so wait by spinning.
                for (int spins = 0; j.done.get() < j.count; spins++) {
                    if (spins < 10_000) Thread.onSpinWait();
                    else Thread.yield();
                }
            } finally {
                job = null;   // let the body and its arrays go
                callers.unlock();
            }
            Throwable f = j.failure;
            if (f instanceof RuntimeException e) throw e;
            if (f instanceof Error e) throw e;
            if (f != null) throw new IllegalStateException(f);
        }

        void shutdown() {
            shutdown = true;
            for (Worker w : workers) LockSupport.unpark(w);
        }
    }

    private static final class Worker extends Thread {
        private final Pool pool;
        volatile boolean parked;

        Worker(Pool pool, int index) {
            super("internvl-compute-" + (index + 1));
            this.pool = pool;
            setDaemon(true);
        }

        @Override
        public void run() {
            IN_LOOP.get()[0] = true;
            long seen = 0;
            while (!pool.shutdown) {
                long g = pool.generation;
                if (g != seen) {
                    seen = g;
                    Job j = pool.job;
                    if (j != null) j.work();
                    continue;
                }
                // Idle: spin a while (the next loop usually comes within microseconds), then park.
                long until = System.nanoTime() + SPIN_NANOS;
                while (pool.generation == seen && !pool.shutdown && System.nanoTime() < until) Thread.onSpinWait();
                if (pool.generation == seen && !pool.shutdown) {
                    parked = true;
                    // Re-check after publishing the flag: the caller may have posted a loop just before.
                    if (pool.generation == seen && !pool.shutdown) LockSupport.park(this);
                    parked = false;
                }
            }
        }
    }
}
