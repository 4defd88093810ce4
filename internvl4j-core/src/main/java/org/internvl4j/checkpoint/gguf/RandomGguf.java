package org.internvl4j.checkpoint.gguf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.internvl4j.checkpoint.LlmArchitecture;
import org.internvl4j.checkpoint.LlmConfig;

/**
 * A GGUF file with random weights and the shapes of a checkpoint's language model, for timing llama.cpp on
 * the same matrices as ours (bench model's peer run). Its numbers mean nothing; its shapes, types and
 * byte counts are those of a real conversion.
 *
 * <p>Layout: llama.cpp's names and shapes for the {@code internlm2} (InternLM2, whose fused wqkv llama.cpp's
 * converter splits into attn_q/k/v) and {@code llama} architectures, which share one tensor table
 * (llama.cpp src/llama-arch.cpp). Every matrix, the embedding and output head included, is in the chosen
 * type; the norms are F32, as a converter writes them. The vocabulary is synthetic: a SentencePiece-style
 * list ({@code tokenizer.ggml.model = "llama"}) of the checkpoint's size with the 256 byte tokens llama.cpp
 * looks up, so that the model loads and the output head has its real width.
 */
public final class RandomGguf {
    private RandomGguf() {
    }

    /** llama.cpp's {@code llama_ftype} for a file whose matrices are all of one type (llama.h). */
    private static int fileType(GgmlType t) {
        return switch (t) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q8_0 -> 7;
            case BF16 -> 32;
        };
    }

    /** The llama.cpp architecture name for this language model; throws for shapes the peer run does not cover. */
    public static String architecture(LlmConfig c) {
        LlmArchitecture a = c.arch();
        String name;
        if (a == LlmArchitecture.INTERNLM2) {
            name = "internlm2";
        } else if (a == LlmArchitecture.LLAMA) {
            name = "llama";
        } else {
            throw new IllegalArgumentException("a random GGUF can be written for InternLM2 and Llama language models; this one is "
                    + c.architecture());
        }
        if (c.bias()) throw new IllegalArgumentException("a random GGUF can be written for language models without attention biases; this "
                + c.architecture() + " has them");
        if (c.tieWordEmbeddings()) throw new IllegalArgumentException("a random GGUF can be written for untied output heads only");
        return name;
    }

    /** A file name that says the shapes and the type, so that a cached file is reused only for the same model. */
    public static String fileName(LlmConfig c, GgmlType type) {
        return String.format("random-%s-d%d-l%d-h%d-kv%d-ff%d-v%d-%s.gguf", architecture(c), c.hiddenSize(), c.numHiddenLayers(),
                c.numAttentionHeads(), c.numKeyValueHeads(), c.intermediateSize(), c.vocabSize(), type.userName());
    }

    /**
     * The file for (c, type) in dir: reused when one of the expected size is there, else written.
     *
     * @param log told what happens (one line before writing, a few while writing a large file)
     */
    public static Path cached(LlmConfig c, GgmlType type, Path dir, java.util.function.Consumer<String> log) throws IOException {
        Files.createDirectories(dir);
        Path path = dir.resolve(fileName(c, type));
        GgufWriter w = writer(c, type, 1, log);
        if (Files.isRegularFile(path) && Files.size(path) == w.fileSize()) {
            log.accept("reusing " + path + " (" + String.format("%.2f GB", w.fileSize() / 1e9) + ")");
            return path;
        }
        log.accept("writing " + path + " (" + String.format("%.2f GB", w.fileSize() / 1e9) + ", random " + type.userName() + " weights)");
        w.write(path);
        return path;
    }

    /** Writes the file for (c, type) to path. */
    public static void write(LlmConfig c, GgmlType type, Path path, long seed) throws IOException {
        writer(c, type, seed, s -> { }).write(path);
    }

    private record Spec(String name, GgmlType type, long[] dims) {
        long elements() {
            long n = 1;
            for (long d : dims) n *= d;
            return n;
        }
    }

    static GgufWriter writer(LlmConfig c, GgmlType type, long seed, java.util.function.Consumer<String> log) {
        String arch = architecture(c);
        if (type != GgmlType.BF16 && type != GgmlType.F16 && type != GgmlType.F32 && type != GgmlType.Q8_0 && type != GgmlType.Q4_0) {
            throw new IllegalArgumentException("unsupported type " + type);
        }
        long d = c.hiddenSize(), hd = c.headDim(), q = c.numAttentionHeads() * hd, kv = c.numKeyValueHeads() * hd;
        long ff = c.intermediateSize(), vocab = c.vocabSize();
        GgufWriter w = new GgufWriter()
                .put("general.architecture", arch)
                .put("general.name", "random weights with the shapes of " + c.architecture() + " (InternVL4j bench peer)")
                .putU32("general.file_type", fileType(type))
                .putU32("general.quantization_version", 2) // GGML_QNT_VERSION: the Q4_0/Q8_0 layout of today
                .putU32(arch + ".context_length", c.maxPositionEmbeddings())
                .putU32(arch + ".embedding_length", c.hiddenSize())
                .putU32(arch + ".block_count", c.numHiddenLayers())
                .putU32(arch + ".feed_forward_length", c.intermediateSize())
                .putU32(arch + ".rope.dimension_count", c.headDim())
                .putF32(arch + ".rope.freq_base", (float) c.ropeTheta())
                .putU32(arch + ".attention.head_count", c.numAttentionHeads())
                .putU32(arch + ".attention.head_count_kv", c.numKeyValueHeads())
                .putF32(arch + ".attention.layer_norm_rms_epsilon", (float) c.rmsNormEps());
        vocabulary(w, c.vocabSize());

        long[] total = {0};
        long all = 0;
        SplittableRandom seeds = new SplittableRandom(seed);
        List<Spec> specs = new ArrayList<>();
        specs.add(new Spec("token_embd.weight", type, new long[] {d, vocab}));
        specs.add(new Spec("output_norm.weight", GgmlType.F32, new long[] {d}));
        specs.add(new Spec("output.weight", type, new long[] {d, vocab}));
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String b = "blk." + i + ".";
            specs.add(new Spec(b + "attn_norm.weight", GgmlType.F32, new long[] {d}));
            specs.add(new Spec(b + "attn_q.weight", type, new long[] {d, q}));
            specs.add(new Spec(b + "attn_k.weight", type, new long[] {d, kv}));
            specs.add(new Spec(b + "attn_v.weight", type, new long[] {d, kv}));
            specs.add(new Spec(b + "attn_output.weight", type, new long[] {q, d}));
            specs.add(new Spec(b + "ffn_norm.weight", GgmlType.F32, new long[] {d}));
            specs.add(new Spec(b + "ffn_gate.weight", type, new long[] {d, ff}));
            specs.add(new Spec(b + "ffn_up.weight", type, new long[] {d, ff}));
            specs.add(new Spec(b + "ffn_down.weight", type, new long[] {ff, d}));
        }
        for (Spec s : specs) all += s.elements();
        long allElements = all;
        for (Spec s : specs) {
            long[] dims = s.dims;
            GgmlType t = s.type;
            long tensorSeed = seeds.nextLong();
            w.tensor(s.name, t, dims, out -> {
                if (dims.length == 1) { // a norm's gain: ones, as a fresh model has
                    float[] ones = new float[(int) dims[0]];
                    java.util.Arrays.fill(ones, 1f);
                    out.write(encoded(t, ones, ones.length));
                    return;
                }
                fill(t, dims[0], dims[1], new SplittableRandom(tensorSeed), out);
                long before = total[0] * 10 / allElements;
                total[0] += dims[0] * dims[1];
                if (total[0] * 10 / allElements > before && allElements > 100_000_000L) {
                    log.accept(String.format("  %d%% of %.2f G weights written", total[0] * 100 / allElements, allElements / 1e9));
                }
            });
        }
        return w;
    }

    /** Uniform values in ±1/sqrt(cols), rows at a time, encoded in chunks of about 4 MiB. */
    private static void fill(GgmlType t, long cols, long rows, SplittableRandom r, GgufWriter.Sink out) throws IOException {
        int n = Math.toIntExact(cols);
        int rowsPerChunk = (int) Math.max(1, Math.min(rows, (4L << 20) / t.rowBytes(n)));
        float[] x = new float[n];
        float scale = (float) (1 / Math.sqrt(cols)) / (1 << 15);
        ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(t.rowBytes(n) * rowsPerChunk)).order(ByteOrder.LITTLE_ENDIAN);
        for (long row = 0; row < rows; row++) {
            for (int i = 0; i < n; i += 4) { // four 16-bit draws per random long: generation stays cheaper than encoding
                long bits = r.nextLong();
                for (int k = 0; k < 4 && i + k < n; k++) x[i + k] = (short) (bits >>> (16 * k)) * scale;
            }
            GgmlBlocks.encode(t, x, 0, n, buf);
            if (!buf.hasRemaining()) out.write(buf);
        }
        if (buf.position() > 0) out.write(buf);
    }

    private static ByteBuffer encoded(GgmlType t, float[] x, int n) {
        ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(t.rowBytes(n))).order(ByteOrder.LITTLE_ENDIAN);
        GgmlBlocks.encode(t, x, 0, n, buf);
        return buf;
    }

    /**
     * A synthetic SentencePiece vocabulary of n entries: &lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;, the 256 byte tokens
     * &lt;0x00&gt;..&lt;0xFF&gt; (llama.cpp finds the newline through them), then "t3", "t4", ... as normal
     * tokens. Token types are llama.cpp's: 1 normal, 2 unknown, 3 control, 6 byte.
     */
    static void vocabulary(GgufWriter w, int n) {
        if (n < 3 + 256 + 1) throw new IllegalArgumentException("vocab_size " + n + " is too small for a synthetic vocabulary (need at least 260)");
        List<String> tokens = new ArrayList<>(n);
        float[] scores = new float[n];
        int[] types = new int[n];
        tokens.add("<unk>");
        types[0] = 2;
        tokens.add("<s>");
        types[1] = 3;
        tokens.add("</s>");
        types[2] = 3;
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
            types[3 + b] = 6;
        }
        for (int i = tokens.size(); i < n; i++) {
            tokens.add("t" + i);
            types[i] = 1;
            scores[i] = -i;
        }
        w.put("tokenizer.ggml.model", "llama")
                .putStrings("tokenizer.ggml.tokens", tokens)
                .putF32s("tokenizer.ggml.scores", scores)
                .putI32s("tokenizer.ggml.token_type", types)
                .putU32("tokenizer.ggml.unknown_token_id", 0)
                .putU32("tokenizer.ggml.bos_token_id", 1)
                .putU32("tokenizer.ggml.eos_token_id", 2)
                .putBool("tokenizer.ggml.add_bos_token", false);
    }
}
