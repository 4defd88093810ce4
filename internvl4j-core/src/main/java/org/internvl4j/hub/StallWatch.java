package org.internvl4j.hub;

import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Closes a response stream that has delivered no bytes for too long. java.net.http has no read
 * timeout for bodies; closing the stream from another thread wakes the blocked reader with an
 * IOException, which the downloader treats like a cut connection (retry and resume).
 */
final class StallWatch implements AutoCloseable {

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("hub-stall-watch").factory());
    private final Duration limit;

    StallWatch(Duration limit) {
        this.limit = limit;
    }

    /** One watched stream: call {@link #touch()} after each read, {@link #close()} when done. */
    final class Watch implements AutoCloseable {
        private final Closeable stream;
        private final ScheduledFuture<?> check;
        private volatile long lastNanos = System.nanoTime();
        private volatile boolean stalled;

        private Watch(Closeable stream) {
            this.stream = stream;
            long period = Math.max(50, Math.min(1000, limit.toMillis() / 4));
            this.check = timer.scheduleAtFixedRate(this::check, period, period, TimeUnit.MILLISECONDS);
        }

        void touch() {
            lastNanos = System.nanoTime();
        }

        boolean stalled() {
            return stalled;
        }

        private void check() {
            if (!stalled && System.nanoTime() - lastNanos > limit.toNanos()) {
                stalled = true;
                try {
                    stream.close();
                } catch (IOException ignored) {
                    // the reader sees the close either way
                }
            }
        }

        @Override
        public void close() {
            check.cancel(false);
        }
    }

    Watch watch(Closeable stream) {
        return new Watch(stream);
    }

    Duration limit() {
        return limit;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
