package org.internvl4j.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.internvl4j.tensor.DType;
import org.internvl4j.tensor.Weight;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** internvl quantize's writer, and reading its output back: the same blocks as quantizing at load, mapped as they are. */
class QuantizedCheckpointTest {
    @TempDir
    Path tmp;

    @Test
    void writtenCheckpointHoldsTheBlocksThatQuantizingAtLoadMakes() throws IOException {
        Path src = tmp.resolve("src");
        TinyCheckpoint.write(src);
        for (DType format : new DType[] {DType.Q8_0, DType.Q4_0}) {
            Path out = tmp.resolve(format.name());
            AtomicLong progress = new AtomicLong();
            long written = QuantizedCheckpointWriter.write(src, format, out, progress::addAndGet);
            assertThat(progress.get()).isEqualTo(QuantizedCheckpointWriter.sourceBytes(src));
            try (Checkpoint stored = Checkpoint.open(out, true, WeightMemory.Mode.MMAP, null);
                 Checkpoint atLoad = Checkpoint.open(src, true, WeightMemory.Mode.MMAP, format);
                 Checkpoint bf16 = Checkpoint.open(src, true, WeightMemory.Mode.MMAP, null)) {
                assertThat(stored.weightFormat()).isEqualTo(format);
                long sum = 0;
                for (TensorInfo t : stored.tensors().values()) sum += t.byteSize();
                assertThat(sum).isEqualTo(written);
                for (String name : Quantization.quantizable(stored.config())) {
                    TensorInfo t = stored.tensors().get(name);
                    assertThat(t.dtype()).as(name).isEqualTo(format);
                    assertThat(t.shape()).as("logical shape of " + name).isEqualTo(bf16.tensors().get(name).shape());
                    int rows = (int) t.shape()[0], cols = (int) t.shape()[1];
                    Weight w = stored.weight(name, rows, cols);
                    assertThat(w.dtype()).isEqualTo(format);
                    assertThat(w.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE))
                            .as("same blocks as at load: " + name).isEqualTo(atLoad.weight(name, rows, cols).segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
                }
                // everything else byte for byte: embeddings, norms, the vision tower
                for (TensorInfo t : bf16.tensors().values()) {
                    if (Quantization.quantizable(bf16.config()).contains(t.name())) continue;
                    TensorInfo c = stored.tensors().get(t.name());
                    assertThat(c.dtype()).isEqualTo(t.dtype());
                    assertThat(c.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)).as(t.name()).isEqualTo(t.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
                }
            }
            JsonNode q = SafeTensorsFile.JSON.readTree(out.resolve("config.json").toFile()).get(Quantization.CONFIG_KEY);
            assertThat(q.get("format").asText()).isEqualTo(format.name().toLowerCase());
            assertThat(q.get("quant_method").asText()).isEqualTo("internvl4j");
            for (String f : new String[] {"generation_config.json", "tokenizer.model", "tokenizer_config.json", Checkpoint.INDEX}) {
                assertThat(out.resolve(f)).as(f).exists();
            }
            // no hidden partial directory is left next to OUT
            try (Stream<Path> s = Files.list(tmp)) {
                assertThat(s.map(p -> p.getFileName().toString()).filter(n -> n.contains(".partial-"))).isEmpty();
            }
        }
        long q4 = 0, bf = 0;
        try (Stream<Path> s = Files.list(tmp.resolve("Q4_0"))) {
            for (Path p : s.filter(p -> p.toString().endsWith(".safetensors")).toList()) q4 += Files.size(p);
        }
        try (Stream<Path> s = Files.list(src)) {
            for (Path p : s.filter(p -> p.toString().endsWith(".safetensors")).toList()) bf += Files.size(p);
        }
        assertThat(q4).isLessThan(bf);
    }

    @Test
    void refusesAnExistingOutputAQuantizedSourceAndAnotherFormatAtLoad() throws IOException {
        Path src = tmp.resolve("src");
        TinyCheckpoint.write(src);
        Path out = tmp.resolve("out");
        Files.createDirectories(out);
        Files.writeString(out.resolve("keep.txt"), "mine");
        assertThatThrownBy(() -> QuantizedCheckpointWriter.write(src, DType.Q8_0, out, n -> { }))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("already exists");
        assertThat(out.resolve("keep.txt")).hasContent("mine");

        Path q8 = tmp.resolve("q8");
        QuantizedCheckpointWriter.write(src, DType.Q8_0, q8, n -> { });
        assertThatThrownBy(() -> QuantizedCheckpointWriter.write(q8, DType.Q4_0, tmp.resolve("q8q4"), n -> { }))
                .hasMessageContaining("already quantized");
        assertThat(tmp.resolve("q8q4")).doesNotExist();
        assertThatThrownBy(() -> Checkpoint.open(q8, true, WeightMemory.Mode.MMAP, DType.Q4_0))
                .hasMessageContaining("already quantized to q8").hasMessageContaining("cannot be re-quantized to q4");
        Checkpoint.open(q8, true, WeightMemory.Mode.MMAP, DType.Q8_0).close(); // the same format: loads as it is
    }

    @Test
    void aConfigNamingAnotherMethodOrFormatIsRefused() throws IOException {
        Path src = tmp.resolve("src");
        TinyCheckpoint.write(src);
        Path q = tmp.resolve("q");
        QuantizedCheckpointWriter.write(src, DType.Q4_0, q, n -> { });
        assertThat(Quantization.storedIn(q)).isEqualTo(DType.Q4_0);
        assertThat(Quantization.storedIn(src)).isNull();
        Path config = q.resolve("config.json");
        String text = Files.readString(config);
        Files.writeString(config, text.replace("\"internvl4j\"", "\"bitsandbytes\""));
        assertThatThrownBy(() -> Checkpoint.open(q)).hasMessageContaining("quant_method is 'bitsandbytes'");
        Files.writeString(config, text.replace("\"q4_0\"", "\"nf4\""));
        assertThatThrownBy(() -> Checkpoint.open(q)).hasMessageContaining("format must be \"q8_0\" or \"q4_0\", got 'nf4'");
        // an earlier version's row layout (no layout entry) would read as garbage: refused, with the way out
        var old = (com.fasterxml.jackson.databind.node.ObjectNode) SafeTensorsFile.JSON.readTree(text);
        ((com.fasterxml.jackson.databind.node.ObjectNode) old.get(Quantization.CONFIG_KEY)).remove("layout");
        Files.write(config, SafeTensorsFile.JSON.writeValueAsBytes(old));
        assertThatThrownBy(() -> Checkpoint.open(q)).hasMessageContaining("layout is ''").hasMessageContaining("quantized again");
        // a BF16 checkpoint that claims to be quantized: its weights are not U8 blocks
        Path lie = tmp.resolve("lie");
        TinyCheckpoint.write(lie);
        Path lieConfig = lie.resolve("config.json");
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) SafeTensorsFile.JSON.readTree(lieConfig.toFile());
        root.set(Quantization.CONFIG_KEY, Quantization.configEntry(DType.Q8_0));
        Files.write(lieConfig, SafeTensorsFile.JSON.writeValueAsBytes(root));
        assertThatThrownBy(() -> Checkpoint.open(lie)).hasMessageContaining("is BF16").hasMessageContaining("stored as U8");
    }
}
