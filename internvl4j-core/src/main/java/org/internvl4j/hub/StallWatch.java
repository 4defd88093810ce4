package org.internvl4j.hub;

import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Closes a response stream that has delivered no bytes for too long, or (for a watch with a deadline)
 * that is still being read when its deadline has passed. Closing the stream from another thread wakes
 * the blocked reader with an IOException, which the downloader treats like a cut connection (retry and
 * resume). The socket's read timeout bounds each read as well; the watch also ends a body that trickles
 * (one byte just within each timeout) and a reader that gets 0-byte reads from a closed stream.
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
        private final long deadlineNanos;   // System.nanoTime() after which the stream is closed; 0: none
        private volatile long lastNanos = System.nanoTime();
        private volatile boolean stalled;
        private volatile boolean overTime;

        private Watch(Closeable stream, Duration maxTime) {
            this.stream = stream;
            this.deadlineNanos = maxTime == null ? 0 : lastNanos + Math.max(1, maxTime.toNanos());
            long period = Math.max(50, Math.min(1000, limit.toMillis() / 4));
            this.check = timer.scheduleAtFixedRate(this::check, period, period, TimeUnit.MILLISECONDS);
        }

        void touch() {
            lastNanos = System.nanoTime();
        }

        /** True once the stream was closed, because it was idle too long or past its deadline. */
        boolean stalled() {
            return stalled;
        }

        /** True when the stream was closed for its deadline, not for idling. */
        boolean overTime() {
            return overTime;
        }

        private void check() {
            long now = System.nanoTime();
            boolean late = deadlineNanos != 0 && now - deadlineNanos > 0;
            if (!stalled && (late || now - lastNanos > limit.toNanos())) {
                overTime = late;
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
        return new Watch(stream, null);
    }

    /** A watch that also closes the stream once {@code maxTime} has passed from now, however busy it is. */
    Watch watch(Closeable stream, Duration maxTime) {
        return new Watch(stream, maxTime);
    }

    Duration limit() {
        return limit;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
