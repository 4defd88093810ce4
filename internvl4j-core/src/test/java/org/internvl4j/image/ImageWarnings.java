package org.internvl4j.image;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** Collects the warnings the image package logs (System.Logger "org.internvl4j.image", which goes to java.util.logging). */
final class ImageWarnings extends Handler implements AutoCloseable {
    private final Logger logger = Logger.getLogger("org.internvl4j.image");
    final List<String> messages = new CopyOnWriteArrayList<>();

    ImageWarnings() {
        logger.addHandler(this);
    }

    @Override
    public void publish(LogRecord r) {
        if (r.getLevel().intValue() >= Level.WARNING.intValue()) messages.add(r.getMessage());
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        logger.removeHandler(this);
    }
}
