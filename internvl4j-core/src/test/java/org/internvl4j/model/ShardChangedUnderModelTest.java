package org.internvl4j.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.internvl4j.checkpoint.CheckpointException;
import org.internvl4j.checkpoint.SafeTensorsFile;
import org.internvl4j.checkpoint.TensorInfo;
import org.internvl4j.checkpoint.WeightMemory;
import org.internvl4j.generate.GenerationRequest;
import org.internvl4j.generate.Generator;
import org.internvl4j.generate.SamplingParams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A shard truncated or rewritten under a running model. On JDK 25 a scalar read of mapped memory past the file's new
 * end is SIGBUS turned into {@code InternalError: a fault occurred in an unsafe memory access operation}, but in
 * C2-compiled Vector API loads the same SIGBUS kills the JVM (found by this test's first version), so the model
 * stats its shards before each forward and refuses with a CheckpointException naming the shard. With copied weights
 * the model keeps running on what it loaded.
 */
class ShardChangedUnderModelTest {
    static final int[] PROMPT = {1, 300, 301, 302, 303, 304, 305, 306, 307, 308};
    static final SamplingParams GREEDY = SamplingParams.greedy(12, Set.of());

    static Path copyOfTinyA(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(Fixtures.tinyModel("tiny-a"))) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        return dir;
    }

    static Path shard(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.toString().endsWith(".safetensors")).findFirst().orElseThrow();
        }
    }

    static void truncateToHalf(Path f) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() / 2);
        }
    }

    @Test
    void aMappedReadPastTheNewEndIsAnInternalErrorNotACrash(@TempDir Path dir) throws IOException {
        Path f = shard(copyOfTinyA(dir));
        try (SafeTensorsFile st = SafeTensorsFile.open(f)) {
            TensorInfo last = st.tensors().values().stream().max(java.util.Comparator.comparingLong(t -> t.data().address())).orElseThrow();
            truncateToHalf(f);
            assertThatThrownBy(() -> last.data().get(ValueLayout.JAVA_BYTE, last.data().byteSize() - 1))
                    .isInstanceOf(InternalError.class).hasMessageContaining("unsafe memory access");
            assertThat(st.changeSinceOpened()).contains("bytes, it was");
        }
    }

    @Test
    void mappedWeightsTruncatedUnderTheModelGiveAClearError(@TempDir Path dir) throws IOException {
        Path ckpt = copyOfTinyA(dir);
        try (InternVLModel model = InternVLModel.load(ckpt, WeightMemory.Mode.MMAP)) {
            Generator g = new Generator(model.llm(), 4096);
            int[] before = g.generate(GenerationRequest.text(PROMPT, GREEDY)).tokenIds();
            assertThat(before).hasSize(12);
            truncateToHalf(shard(ckpt));
            // found before any kernel reads the missing pages
            assertThatThrownBy(() -> g.generate(GenerationRequest.text(PROMPT, GREEDY)))
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("the checkpoint changed under the running model")
                    .hasMessageContaining(shard(ckpt).getFileName().toString())
                    .hasMessageContaining("load the model again");
            // a fault that still comes (a scalar read during the change) is explained the same way, with the fault as cause
            InternalError fault = new InternalError("a fault occurred in an unsafe memory access operation");
            assertThat(model.checkpoint().mappedFault(fault)).isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("changed under the running model").hasCause(fault);
        }
    }

    @Test
    void mappedWeightsRewrittenInPlaceAreFoundByTheirModificationTime(@TempDir Path dir) throws Exception {
        Path ckpt = copyOfTinyA(dir);
        try (InternVLModel model = InternVLModel.load(ckpt, WeightMemory.Mode.MMAP)) {
            Generator g = new Generator(model.llm(), 4096);
            g.generate(GenerationRequest.text(PROMPT, GREEDY));
            Path f = shard(ckpt);
            byte[] bytes = Files.readAllBytes(f);
            for (int i = bytes.length - 4096; i < bytes.length; i++) bytes[i] ^= 0x55; // same size, other weights
            Files.write(f, bytes, StandardOpenOption.WRITE);
            Files.setLastModifiedTime(f, FileTime.from(Instant.now().plusSeconds(5)));
            assertThatThrownBy(() -> g.generate(GenerationRequest.text(PROMPT, GREEDY)))
                    .isInstanceOf(CheckpointException.class).hasMessageContaining("was modified at");
        }
    }

    @Test
    void copiedWeightsKeepWorkingAfterTheFileIsTruncated(@TempDir Path dir) throws IOException {
        Path ckpt = copyOfTinyA(dir);
        try (InternVLModel model = InternVLModel.load(ckpt, WeightMemory.Mode.COPY)) {
            Generator g = new Generator(model.llm(), 4096);
            int[] before = g.generate(GenerationRequest.text(PROMPT, GREEDY)).tokenIds();
            truncateToHalf(shard(ckpt));
            assertThat(g.generate(GenerationRequest.text(PROMPT, GREEDY)).tokenIds()).containsExactly(before);
            assertThatThrownBy(() -> model.checkpoint().checkUnchanged()).isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("bytes, it was").hasMessageNotContaining("no longer what was loaded");
        }
    }
}
