package org.internvl4j.util;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * Writes a file so that it appears whole or not at all: into a hidden temporary file beside it, forced to disk, then
 * renamed over the target in one step. A failure on the way (a full disk, an interrupt, a crash) leaves the target as
 * it was (a good file stays good) and removes the temporary file; a model that has the old file mapped keeps
 * reading the old bytes (a rename never touches the mapped inode).
 */
public final class AtomicFiles {
    /** Writes the whole file to the channel. */
    @FunctionalInterface
    public interface Body {
        void write(FileChannel channel) throws IOException;
    }

    private AtomicFiles() {
    }

    public static void write(Path target, Body body) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
        boolean moved = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                body.write(ch);
                Faults.checkWrite(target, ch.size());
                ch.force(false);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            moved = true;
        } finally {
            if (!moved) Files.deleteIfExists(tmp);
        }
    }

    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, ch -> {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) ch.write(b);
        });
    }

    public static void writeString(Path target, String text) throws IOException {
        write(target, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Copies a file to target, whole or not at all. */
    public static void copy(Path source, Path target) throws IOException {
        write(target, ch -> {
            try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ)) {
                long size = in.size();
                for (long pos = 0; pos < size; ) pos += in.transferTo(pos, size - pos, ch);
            }
        });
    }
}
