package org.internvl4j.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.internvl4j.model.InternVLModel;
import org.internvl4j.testing.TestData;
import org.internvl4j.tensor.Weight;
import org.junit.jupiter.api.Test;

class WeightMemoryTest {
    private static final Path TINY = TestData.dir("tiny-models").resolve("tiny-a");
    private static final String W1 = "language_model.model.layers.0.feed_forward.w1.weight";

    @Test
    void copiedWeightsHoldTheMappedBytesOutsideTheFile() {
        try (Checkpoint mapped = Checkpoint.open(TINY, true, WeightMemory.Mode.MMAP);
             Checkpoint copied = Checkpoint.open(TINY, true, WeightMemory.Mode.COPY)) {
            TensorInfo t = mapped.tensor(W1, 256, 128);
            Weight m = mapped.weight(W1, 256, 128), c = copied.weight(W1, 256, 128);
            assertThat(mapped.memory().copies()).isFalse();
            assertThat(copied.memory().copies()).isTrue();
            assertThat(m.segment().address()).isEqualTo(t.data().address()); // a view of the mapping
            assertThat(c.segment().address()).isNotEqualTo(copied.tensor(W1, 256, 128).data().address());
            assertThat(c.segment().toArray(ValueLayout.JAVA_BYTE)).isEqualTo(m.segment().toArray(ValueLayout.JAVA_BYTE));
            assertThat(copied.weight(W1, 256, 128)).isSameAs(c); // asked twice, copied once
            assertThat(copied.memory().copiedBytes()).isEqualTo(t.byteSize());
        }
    }

    @Test
    void autoCopiesSmallCheckpointsAndMapsOnesLargerThanRamAllows() {
        long ram = WeightMemory.physicalRamBytes();
        assertThat(ram).isPositive();
        try (WeightMemory small = WeightMemory.of(WeightMemory.Mode.AUTO, ram / 2);
             WeightMemory large = WeightMemory.of(WeightMemory.Mode.AUTO, ram / 100 * 80)) {
            assertThat(small.copies()).isTrue();
            assertThat(large.copies()).isFalse();
        }
    }

    @Test
    void theModelGivesIdenticalLogitsFromCopiedAndMappedWeights() {
        int[] ids = {1, 500, 77, 1000, 42};
        float[] mapped, copied;
        try (InternVLModel m = InternVLModel.load(TINY, WeightMemory.Mode.MMAP)) {
            mapped = m.llm().forward(m.llm().newCache(), ids, null, -1, false);
        }
        try (InternVLModel m = InternVLModel.load(TINY, WeightMemory.Mode.COPY)) {
            copied = m.llm().forward(m.llm().newCache(), ids, null, -1, false);
        }
        assertThat(copied).isEqualTo(mapped);
    }

    @Test
    void aBadModeNameIsAClearError() {
        String before = System.getProperty("internvl.weights");
        System.setProperty("internvl.weights", "ram");
        try {
            assertThatThrownBy(WeightMemory.Mode::fromSystemProperty).hasMessage("internvl.weights must be auto, copy or mmap, got 'ram'");
        } finally {
            if (before == null) System.clearProperty("internvl.weights");
            else System.setProperty("internvl.weights", before);
        }
    }
}
