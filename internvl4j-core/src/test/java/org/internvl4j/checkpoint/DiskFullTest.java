package org.internvl4j.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.internvl4j.model.SyntheticCheckpoint;
import org.internvl4j.tensor.DType;
import org.internvl4j.testing.Tmpfs;
import org.internvl4j.util.AtomicFiles;
import org.internvl4j.util.Faults;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A disk that fills while make-tiny or make-synthetic writes over a good checkpoint: a clear error, the good files
 * untouched (every file is written beside its target and renamed over it only when whole), no temporary file left.
 * The same for {@code internvl quantize}, which writes a whole new directory and renames it into place.
 * The failure is injected ({@link Faults}) so that this runs anywhere, and made real on a small tmpfs where mounting
 * is allowed (skipped elsewhere).
 */
class DiskFullTest {
    @AfterEach
    void noInjection() {
        System.clearProperty(Faults.DISK_FULL_AFTER);
    }

    static Map<String, byte[]> contents(Path dir) throws IOException {
        Map<String, byte[]> m = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) m.put(f.getFileName().toString(), Files.readAllBytes(f));
        }
        return m;
    }

    static void assertSame(Map<String, byte[]> before, Path dir) throws IOException {
        Map<String, byte[]> after = contents(dir);
        assertThat(after.keySet()).containsExactlyElementsOf(before.keySet()); // no .tmp left, nothing removed
        for (String f : before.keySet()) assertThat(after.get(f)).as(f).isEqualTo(before.get(f));
    }

    @Test
    void aFailedWriteLeavesTheOldFileAndNoTemporary(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("config.json");
        AtomicFiles.writeString(f, "{\"good\": true}\n");
        System.setProperty(Faults.DISK_FULL_AFTER, "4");
        assertThatThrownBy(() -> AtomicFiles.writeString(f, "{\"good\": false, \"longer\": 1}\n"))
                .isInstanceOf(IOException.class).hasMessageStartingWith("No space left on device");
        assertThat(Files.readString(f)).isEqualTo("{\"good\": true}\n");
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.toList()).containsExactly(f);
        }
    }

    @Test
    void makeTinyOverAGoodCheckpointOnAFullDisk(@TempDir Path dir) throws IOException {
        TinyCheckpoint.write(dir, TinyCheckpoint.Options.of(TinyCheckpoint.Variant.A));
        Map<String, byte[]> good = contents(dir);
        System.setProperty(Faults.DISK_FULL_AFTER, "100000"); // the shards are larger; the JSON files are not
        assertThatThrownBy(() -> TinyCheckpoint.write(dir, TinyCheckpoint.Options.of(TinyCheckpoint.Variant.A).withSeed(2)))
                .hasMessageContaining("No space left on device");
        assertSame(good, dir);
        System.clearProperty(Faults.DISK_FULL_AFTER);
        Checkpoint.open(dir).close(); // still a good checkpoint
    }

    @Test
    void makeSyntheticOverAGoodCheckpointOnAFullDisk(@TempDir Path dir) throws IOException {
        SyntheticCheckpoint.Spec small = new SyntheticCheckpoint.Spec(64, 1, 2, 128, 64, 1, 4, 2, 128, 512, 2048, 10_000, 1.0, 1L << 16);
        SyntheticCheckpoint.write(dir, small, 1);
        Map<String, byte[]> good = contents(dir);
        System.setProperty(Faults.DISK_FULL_AFTER, "50000");
        assertThatThrownBy(() -> SyntheticCheckpoint.write(dir, small, 2)).hasMessageContaining("No space left on device");
        assertSame(good, dir);
    }

    static List<String> names(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void quantizeOnAFullDiskLeavesNoOutputNoHiddenDirectoryAndTheOldOutputAsItWas(@TempDir Path dir) throws IOException {
        Path src = dir.resolve("src");
        TinyCheckpoint.write(src, TinyCheckpoint.Options.of(TinyCheckpoint.Variant.A));
        Path good = dir.resolve("q8");
        QuantizedCheckpointWriter.write(src, DType.Q8_0, good, n -> { });
        Map<String, byte[]> goodFiles = contents(good), srcFiles = contents(src);
        System.setProperty(Faults.DISK_FULL_AFTER, "100000"); // the shards are larger; the JSON files and tokenizer.model are not
        // over the existing good output: refused before anything is written (quantize never overwrites)
        assertThatThrownBy(() -> QuantizedCheckpointWriter.write(src, DType.Q8_0, good, n -> { }))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("already exists");
        // beside it, to a new name: the disk fills while a shard is written
        Path out = dir.resolve("q8-again");
        assertThatThrownBy(() -> QuantizedCheckpointWriter.write(src, DType.Q8_0, out, n -> { }))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("No space left on device").hasMessageContaining(".safetensors")
                .hasMessageContaining("q8-again was not created and the partial copy was removed");
        assertThat(out).doesNotExist();
        assertThat(names(dir)).containsExactly("q8", "src"); // no hidden .q8-again.partial-PID directory
        assertSame(goodFiles, good);
        assertSame(srcFiles, src);
        // without the fault the same command succeeds, byte for byte the first output
        System.clearProperty(Faults.DISK_FULL_AFTER);
        QuantizedCheckpointWriter.write(src, DType.Q8_0, out, n -> { });
        assertSame(goodFiles, out);
        assertThat(names(dir)).containsExactly("q8", "q8-again", "src");
    }

    @Test
    void aRealFullDiskOnASmallTmpfs(@TempDir Path tmp) throws Exception {
        TinyCheckpoint.write(tmp.resolve("measure"), TinyCheckpoint.Options.of(TinyCheckpoint.Variant.A));
        long size = contents(tmp.resolve("measure")).values().stream().mapToLong(b -> b.length).sum();
        // room for the checkpoint and a third more: not for a second copy of its larger shard beside the first
        try (Tmpfs fs = Tmpfs.mount(tmp.resolve("small"), (int) (size * 13 / 10 / 1024))) {
            Path dir = fs.dir().resolve("tiny");
            TinyCheckpoint.write(dir, TinyCheckpoint.Options.of(TinyCheckpoint.Variant.A));
            Map<String, byte[]> good = contents(dir);
            assertThatThrownBy(() -> TinyCheckpoint.write(dir, TinyCheckpoint.Options.of(TinyCheckpoint.Variant.A).withSeed(2)))
                    .hasMessageContaining("No space left on device");
            assertSame(good, dir);
        }
    }
}
