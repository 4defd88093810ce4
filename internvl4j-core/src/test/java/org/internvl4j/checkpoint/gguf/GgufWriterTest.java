package org.internvl4j.checkpoint.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.internvl4j.checkpoint.LlmConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The writer's files read back by a reader written here from the GGUF specification (ggml docs/gguf.md), not
 * from the writer: header, typed metadata, tensor infos, the 32-byte alignment of every tensor's data.
 */
class GgufWriterTest {
    @TempDir
    Path tmp;

    /** What the reader found: metadata values (arrays as lists), tensor infos, and the file's bytes. */
    record Gguf(Map<String, Object> meta, Map<String, TensorInfo> tensors, long dataStart, ByteBuffer file) {
        ByteBuffer data(String name) {
            TensorInfo t = tensors.get(name);
            return file.duplicate().order(ByteOrder.LITTLE_ENDIAN).position((int) (dataStart + t.offset)).slice().order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    record TensorInfo(long[] dims, int type, long offset) {
    }

    static Gguf read(Path path) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(path)).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.getInt()).as("magic 'GGUF'").isEqualTo('G' | 'G' << 8 | 'U' << 16 | 'F' << 24);
        assertThat(b.getInt()).as("version").isEqualTo(3);
        long tensorCount = b.getLong(), kvCount = b.getLong();
        Map<String, Object> meta = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = string(b);
            meta.put(key, value(b, b.getInt()));
        }
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (long i = 0; i < tensorCount; i++) {
            String name = string(b);
            long[] dims = new long[b.getInt()];
            for (int d = 0; d < dims.length; d++) dims[d] = b.getLong();
            tensors.put(name, new TensorInfo(dims, b.getInt(), b.getLong()));
        }
        long dataStart = (b.position() + 31) / 32 * 32;
        return new Gguf(meta, tensors, dataStart, b.rewind());
    }

    private static String string(ByteBuffer b) {
        byte[] s = new byte[Math.toIntExact(b.getLong())];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    private static Object value(ByteBuffer b, int type) {
        return switch (type) {
            case 4 -> Integer.toUnsignedLong(b.getInt());
            case 5 -> b.getInt();
            case 6 -> b.getFloat();
            case 7 -> b.get() != 0;
            case 8 -> string(b);
            case 9 -> {
                int elementType = b.getInt();
                long n = b.getLong();
                List<Object> list = new ArrayList<>();
                for (long i = 0; i < n; i++) list.add(value(b, elementType));
                yield list;
            }
            default -> throw new AssertionError("metadata type " + type + " not expected from this writer");
        };
    }

    @Test
    void writesHeaderMetadataAndAlignedTensors() throws IOException {
        Path p = tmp.resolve("a.gguf");
        GgufWriter w = new GgufWriter()
                .put("general.architecture", "llama")
                .putU32("llama.block_count", 7)
                .putF32("llama.rope.freq_base", 10000.5f)
                .putBool("tokenizer.ggml.add_bos_token", true)
                .putStrings("tokenizer.ggml.tokens", List.of("a", "ü", ""))
                .putF32s("tokenizer.ggml.scores", new float[] {0, -1.5f, 2})
                .putI32s("tokenizer.ggml.token_type", new int[] {1, 6, 3})
                .tensor("norm", GgmlType.F32, new long[] {3}, out -> out.write(ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN)
                        .putFloat(1).putFloat(2).putFloat(3)))
                .tensor("m", GgmlType.Q8_0, new long[] {32, 2}, out -> {
                    ByteBuffer buf = ByteBuffer.allocate(34).order(ByteOrder.LITTLE_ENDIAN);
                    for (int row = 0; row < 2; row++) { // written in two pieces
                        float[] x = new float[32];
                        x[0] = 127 * (row + 1);
                        GgmlBlocks.encode(GgmlType.Q8_0, x, 0, 32, buf);
                        out.write(buf);
                    }
                });
        w.write(p);
        assertThat(Files.size(p)).isEqualTo(w.fileSize());
        assertThat(Files.exists(tmp.resolve("a.gguf.part"))).isFalse();

        Gguf g = read(p);
        assertThat(g.meta()).containsEntry("general.architecture", "llama").containsEntry("llama.block_count", 7L)
                .containsEntry("llama.rope.freq_base", 10000.5f).containsEntry("tokenizer.ggml.add_bos_token", true)
                .containsEntry("tokenizer.ggml.tokens", List.of("a", "ü", ""))
                .containsEntry("tokenizer.ggml.scores", List.of(0f, -1.5f, 2f))
                .containsEntry("tokenizer.ggml.token_type", List.of(1, 6, 3));
        assertThat(g.tensors()).containsOnlyKeys("norm", "m");
        assertThat(g.tensors().get("norm").dims()).containsExactly(3);
        assertThat(g.tensors().get("norm").type()).isZero();
        assertThat(g.tensors().get("m").dims()).containsExactly(32, 2);
        assertThat(g.tensors().get("m").type()).isEqualTo(8);
        assertThat(g.tensors().get("norm").offset()).isZero();
        assertThat(g.tensors().get("m").offset()).isEqualTo(32); // 12 bytes, padded to the alignment
        assertThat(g.dataStart() % 32).isZero();
        ByteBuffer norm = g.data("norm");
        assertThat(new float[] {norm.getFloat(), norm.getFloat(), norm.getFloat()}).containsExactly(1, 2, 3);
        ByteBuffer m = g.data("m");
        assertThat(m.getShort(0)).isEqualTo((short) 0x3C00); // row 0: d = 1
        assertThat(m.get(2)).isEqualTo((byte) 127);
        assertThat(m.getShort(34)).isEqualTo((short) 0x4000); // row 1: d = 2
        assertThat(Files.size(p)).isEqualTo(g.dataStart() + 32 + 68);
    }

    @Test
    void aTensorWithTheWrongByteCountFailsAndLeavesNoFile() {
        Path p = tmp.resolve("bad.gguf");
        GgufWriter w = new GgufWriter().tensor("m", GgmlType.BF16, new long[] {4, 2}, out -> out.write(ByteBuffer.allocate(10).position(10)));
        assertThatThrownBy(() -> w.write(p)).hasMessageContaining("tensor m").hasMessageContaining("10 bytes written").hasMessageContaining("16");
        assertThat(Files.exists(p)).isFalse();
        assertThat(Files.exists(tmp.resolve("bad.gguf.part"))).isFalse();
    }

    @Test
    void badDeclarationsAreNamed() {
        assertThatThrownBy(() -> new GgufWriter().tensor("q", GgmlType.Q4_0, new long[] {48, 2}, out -> { }))
                .hasMessageContaining("multiple of 32");
        assertThatThrownBy(() -> new GgufWriter().tensor("z", GgmlType.F32, new long[] {0}, out -> { }))
                .hasMessageContaining("z").hasMessageContaining("positive");
        assertThatThrownBy(() -> new GgufWriter().putU32("k", 1).putU32("k", 2)).hasMessageContaining("k set twice");
        assertThatThrownBy(() -> new GgufWriter().putU32("k", -1)).hasMessageContaining("negative");
    }

    static LlmConfig tinyInternLm2() {
        return new LlmConfig("InternLM2ForCausalLM", 64, 4, 2, 2, 96, 300, 512, 1e6, null, false, 1e-5);
    }

    @Test
    @SuppressWarnings("unchecked")
    void randomGgufHasLlamaCppsInternLm2TableAndShapes() throws IOException {
        LlmConfig c = tinyInternLm2();
        for (GgmlType t : new GgmlType[] {GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0}) {
            Path p = tmp.resolve(t + ".gguf");
            RandomGguf.write(c, t, p, 7);
            Gguf g = read(p);
            assertThat(g.meta()).containsEntry("general.architecture", "internlm2").containsEntry("internlm2.embedding_length", 64L)
                    .containsEntry("internlm2.block_count", 2L).containsEntry("internlm2.feed_forward_length", 96L)
                    .containsEntry("internlm2.attention.head_count", 4L).containsEntry("internlm2.attention.head_count_kv", 2L)
                    .containsEntry("internlm2.rope.dimension_count", 16L).containsEntry("internlm2.rope.freq_base", 1e6f)
                    .containsEntry("tokenizer.ggml.model", "llama");
            assertThat((List<Object>) g.meta().get("tokenizer.ggml.tokens")).hasSize(300).startsWith("<unk>", "<s>", "</s>", "<0x00>")
                    .contains("<0x0A>", "<0xFF>", "t299");
            assertThat(g.tensors()).hasSize(3 + 2 * 9);
            assertThat(g.tensors().get("token_embd.weight").dims()).containsExactly(64, 300);
            assertThat(g.tensors().get("output.weight").dims()).containsExactly(64, 300);
            assertThat(g.tensors().get("blk.1.attn_q.weight").dims()).containsExactly(64, 64);
            assertThat(g.tensors().get("blk.1.attn_k.weight").dims()).containsExactly(64, 32);
            assertThat(g.tensors().get("blk.1.attn_v.weight").dims()).containsExactly(64, 32);
            assertThat(g.tensors().get("blk.1.attn_output.weight").dims()).containsExactly(64, 64);
            assertThat(g.tensors().get("blk.0.ffn_gate.weight").dims()).containsExactly(64, 96);
            assertThat(g.tensors().get("blk.0.ffn_up.weight").dims()).containsExactly(64, 96);
            assertThat(g.tensors().get("blk.0.ffn_down.weight").dims()).containsExactly(96, 64);
            assertThat(g.tensors().get("blk.0.ffn_down.weight").type()).isEqualTo(t.id);
            assertThat(g.tensors().get("blk.0.ffn_norm.weight").type()).isZero();
            ByteBuffer norm = g.data("blk.1.attn_norm.weight");
            for (int i = 0; i < 64; i++) assertThat(norm.getFloat()).isEqualTo(1f);
            long end = 0;
            for (TensorInfo ti : g.tensors().values()) {
                assertThat(ti.offset() % 32).isZero();
                assertThat(ti.offset()).isGreaterThanOrEqualTo(end);
                long rows = ti.dims().length > 1 ? ti.dims()[1] : 1;
                end = ti.offset() + GgmlType.values()[typeIndex(ti.type())].rowBytes(ti.dims()[0]) * rows;
            }
            assertThat(Files.size(p)).isEqualTo(g.dataStart() + end);
        }
    }

    @Test
    void randomWeightsLieWithinOneOverRootOfTheRowLength() throws IOException {
        Path p = tmp.resolve("q8.gguf");
        RandomGguf.write(tinyInternLm2(), GgmlType.Q8_0, p, 3);
        ByteBuffer m = read(p).data("blk.0.ffn_down.weight"); // rows of 96: |x| <= 1/sqrt(96) = 0.10206, plus the fp16 rounding of d
        double maxAbs = 0;
        for (int block = 0; block < 64 * 96 / 32; block++) {
            float d = Float.float16ToFloat(m.getShort(block * 34));
            for (int j = 0; j < 32; j++) maxAbs = Math.max(maxAbs, Math.abs(d * m.get(block * 34 + 2 + j)));
        }
        assertThat(maxAbs).isBetween(0.05, 0.1025);
    }

    @Test
    void onlyShapesTheLlamaCppTablesCoverAreWritten() {
        LlmConfig biased = new LlmConfig("InternLM2ForCausalLM", 64, 4, 2, 2, 96, 300, 512, 1e6, null, true, 1e-5);
        assertThatThrownBy(() -> RandomGguf.architecture(biased)).hasMessageContaining("biases");
        LlmConfig qwen = new LlmConfig("Qwen2ForCausalLM", 64, 4, 2, 2, 96, 300, 512, 1e6, null, false, 1e-5);
        assertThatThrownBy(() -> RandomGguf.architecture(qwen)).hasMessageContaining("InternLM2 and Llama").hasMessageContaining("Qwen2");
        assertThat(RandomGguf.fileName(tinyInternLm2(), GgmlType.Q4_0)).isEqualTo("random-internlm2-d64-l2-h4-kv2-ff96-v300-q4_0.gguf");
    }

    @Test
    void aCachedFileOfTheRightSizeIsReused() throws IOException {
        List<String> log = new ArrayList<>();
        Path first = RandomGguf.cached(tinyInternLm2(), GgmlType.Q4_0, tmp, log::add);
        long written = Files.getLastModifiedTime(first).toMillis();
        Path second = RandomGguf.cached(tinyInternLm2(), GgmlType.Q4_0, tmp, log::add);
        assertThat(second).isEqualTo(first);
        assertThat(Files.getLastModifiedTime(second).toMillis()).isEqualTo(written);
        assertThat(log).hasSize(2);
        assertThat(log.get(0)).startsWith("writing");
        assertThat(log.get(1)).startsWith("reusing");
        Files.write(first, new byte[] {1, 2, 3}); // a truncated file is written again
        RandomGguf.cached(tinyInternLm2(), GgmlType.Q4_0, tmp, log::add);
        assertThat(log.get(2)).startsWith("writing");
        assertThat(Files.size(first)).isGreaterThan(3);
    }

    private static int typeIndex(int id) {
        for (GgmlType t : GgmlType.values()) if (t.id == id) return t.ordinal();
        throw new AssertionError("ggml type " + id);
    }
}
