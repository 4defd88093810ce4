package org.internvl4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.internvl4j.model.SyntheticCheckpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `internvl make-synthetic DIR`: a random-weight checkpoint with InternVL2-8B's shapes, for benchmarks. */
@Command(
        name = "make-synthetic",
        header = "Writes a random-weight checkpoint with InternVL2-8B's shapes.",
        mixinStandardHelpOptions = true,
        description = {
            "Writes a random-weight checkpoint with the real shapes of an InternVL2 size (bf16, sharded; 8B is about 16 GB, "
                + "1B about 1.9 GB) for `internvl bench model`. The weights mean nothing; there is no tokenizer."
        })
public final class MakeSyntheticCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "DIR", description = "Directory to write (created).")
    Path dir;

    @Option(names = "--seed", defaultValue = "1", paramLabel = "N", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--tiny", description = "Write tiny shapes instead (a few MB), to try the commands quickly.")
    boolean tiny;

    @Option(names = "--like", defaultValue = "internvl2-8b", paramLabel = "MODEL",
            description = "Which size: internvl2-1b (Qwen2), internvl2-2b (InternLM2), internvl2-4b (Phi-3), internvl2-8b, or internvl2-26b "
                    + "(InternViT-6B + InternLM2-20B, about 51 GB) (default: ${DEFAULT-VALUE}).")
    String like;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** Tiny shapes with the same structure (GQA, dynamic NTK, layer-norm vision tower). */
    static SyntheticCheckpoint.Spec tinySpec() {
        return new SyntheticCheckpoint.Spec(64, 2, 4, 128, 128, 2, 8, 2, 256, 1000, 4096, 1_000_000, 2.0, 1L << 20);
    }

    static long bytesOnDisk(Path dir) {
        try (var files = java.nio.file.Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".safetensors")).mapToLong(f -> f.toFile().length()).sum();
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            return 0;
        }
    }

    /** Usable bytes on the file system that will hold dir (its nearest existing parent), or -1 if unknown. */
    static long freeBytes(Path dir) {
        Path p = dir.toAbsolutePath();
        while (p != null && !java.nio.file.Files.exists(p)) p = p.getParent();
        try {
            return p == null ? -1 : java.nio.file.Files.getFileStore(p).getUsableSpace();
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    @Override
    public Integer call() {
        SyntheticCheckpoint.Spec s = tiny ? tinySpec() : SyntheticCheckpoint.like(like);
        long need = SyntheticCheckpoint.weightBytes(s);
        long free = freeBytes(dir);
        if (free >= 0 && free < need + (1L << 30)) {
            throw new IllegalArgumentException(String.format("%s: not enough disk: the checkpoint needs %.1f GB and %.1f GB are free"
                    + " (with 1 GB to spare)", dir, need / 1e9, free / 1e9));
        }
        long t0 = System.nanoTime();
        long bytes;
        // the writer streams shard after shard; the bar follows the bytes already on disk
        try (Progress p = Progress.bytes(spec.commandLine().getErr(), "writing " + dir, SyntheticCheckpoint.weightBytes(s),
                () -> bytesOnDisk(dir))) {
            bytes = SyntheticCheckpoint.write(dir, s, seed);
        }
        spec.commandLine().getOut().printf("wrote %s: %.2f GB of bf16 weights in %.1f s%n", dir, bytes / 1e9, (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
