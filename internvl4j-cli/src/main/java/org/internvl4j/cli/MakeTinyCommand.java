package org.internvl4j.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.internvl4j.checkpoint.ByteLevelTokenizerFiles;
import org.internvl4j.checkpoint.InternVLConfig;
import org.internvl4j.checkpoint.TinyCheckpoint;
import org.internvl4j.checkpoint.TinyTokenizer;
import org.internvl4j.tensor.DType;
import org.internvl4j.tokenizer.LlamaTokenizerFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** `internvl make-tiny DIR`: a random-weight checkpoint in the real on-disk format, for tests and demos. */
@Command(name = "make-tiny", mixinStandardHelpOptions = true,
        header = "Writes a tiny random-weight checkpoint for tests and demos.",
        description = {"Writes a tiny random-weight InternVL2 checkpoint in exactly the real on-disk format: config.json, "
                + "generation_config.json, two safetensors shards + model.safetensors.index.json (BF16 by default), "
                + "and a tokenizer (tokenizer.model + HF files) trained on a built-in corpus.",
            "Variants: a = InternVL2-8B structure scaled down; b = rms_norm + qk-norm vision, MHA, max_pos 64 (dynamic NTK); "
                + "c = 224 px vision (position interpolation), 1 kv head, plain RoPE, LLM biases.",
            "Same options, same bytes."})
public final class MakeTinyCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "DIR", description = "Output directory (created; files of the same names are replaced).")
    Path dir;

    @Option(names = "--variant", defaultValue = "a", paramLabel = "a|b|c",
            description = "Which tiny InternLM2 model: a, b or c (default: ${DEFAULT-VALUE}).")
    String variant;

    @Option(names = "--arch", defaultValue = "internlm2", paramLabel = "ARCH",
            description = "Language model: internlm2 (the --variant), qwen2 (InternVL2-1B scaled down: Qwen2, tied head, Hermes-2, "
                    + "a byte-level BPE tokenizer.json without merges) or phi3 (InternVL2-4B scaled down: packed qkv and gate_up, "
                    + "LongRoPE, phi3-chat, Phi-3's SentencePiece tokenizer layout) or llama (InternVL2-40B scaled down: Llama, Hermes-2, "
                    + "Yi's SentencePiece tokenizer layout) or llama3 (InternVL2-76B scaled down: Llama 3, theta 500000, Hermes-2, "
                    + "a Llama-3-style byte-level tokenizer.json without merges) "
                    + "(default: ${DEFAULT-VALUE}).")
    String arch;

    @Option(names = "--vision", defaultValue = "300m", paramLabel = "300m|6b",
            description = "Vision tower: 300m (InternViT-300M-like: LayerNorm, qkv bias; the variant's own) or 6b "
                    + "(InternViT-6B-like, as in InternVL2-26B/40B/76B: RMSNorm, qk-normalization, no qkv bias) (default: ${DEFAULT-VALUE}).")
    String vision;

    @Option(names = "--seed", paramLabel = "N", description = "Weight seed (default: 101, 202, 303 for a, b, c).")
    Long seed;

    @Option(names = "--dtype", defaultValue = "BF16", paramLabel = "DTYPE", description = "BF16, F16 or F32 (default: ${DEFAULT-VALUE}).")
    DType dtype;

    @Option(names = "--single-file", description = "Write model.safetensors instead of two shards and an index.")
    boolean singleFile;

    @Option(names = "--pieces", paramLabel = "N",
            description = "SentencePiece pieces of the trained tokenizer (default " + TinyTokenizer.DEFAULT_PIECES
                    + "; with --no-tokenizer: 4096, or 2500 for c); the vocabulary is N + 9.")
    Integer pieces;

    @Option(names = "--corpus", paramLabel = "FILE", description = "UTF-8 text to train the tokenizer on (default: a built-in multilingual text).")
    Path corpus;

    @Option(names = "--vocab-from", paramLabel = "FILE",
            description = "Use this SentencePiece tokenizer.model instead of training one (its last 6 pieces must be "
                    + "[UNUSED_TOKEN_141..146], like InternLM2's); the HF tokenizer files are written for it.")
    Path vocabFrom;

    @Option(names = "--tokenizer-from", paramLabel = "DIR",
            description = "Copy tokenizer.model, tokenizer_config.json, added_tokens.json and special_tokens_map.json from DIR.")
    Path tokenizerFrom;

    @Option(names = "--no-tokenizer", description = "Write no tokenizer files (the vocabulary is that of the reference's tiny tokenizers).")
    boolean noTokenizer;

    @Option(names = "--set", paramLabel = "SECTION.KEY=JSON",
            description = "Override a config.json value of vision_config or llm_config (repeatable), e.g. --set llm.num_hidden_layers=4 "
                    + "--set llm.rope_scaling=null --set llm.max_position_embeddings=128.")
    List<String> overrides = new ArrayList<>();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        TinyCheckpoint.Variant v = switch (arch.toLowerCase(java.util.Locale.ROOT)) {
            case "internlm2" -> TinyCheckpoint.Variant.parse(variant);
            case "qwen2" -> {
                if (spec.commandLine().getParseResult().hasMatchedOption("--variant")) {
                    throw new IllegalArgumentException("--variant chooses among the InternLM2 variants; it does not go with --arch qwen2");
                }
                yield TinyCheckpoint.Variant.QWEN2;
            }
            case "llama3" -> {
                if (spec.commandLine().getParseResult().hasMatchedOption("--variant")) {
                    throw new IllegalArgumentException("--variant chooses among the InternLM2 variants; it does not go with --arch llama3");
                }
                yield TinyCheckpoint.Variant.LLAMA3;
            }
            case "phi3", "llama" -> {
                if (spec.commandLine().getParseResult().hasMatchedOption("--variant")) {
                    throw new IllegalArgumentException("--variant chooses among the InternLM2 variants; it does not go with --arch " + arch);
                }
                yield arch.equalsIgnoreCase("phi3") ? TinyCheckpoint.Variant.PHI3 : TinyCheckpoint.Variant.LLAMA;
            }
            default -> throw new IllegalArgumentException("--arch '" + arch + "' is not supported (supported: internlm2, qwen2, phi3, llama, llama3)");
        };
        List<String> all = new ArrayList<>();
        switch (vision.toLowerCase(java.util.Locale.ROOT)) {
            case "300m" -> { }
            case "6b" -> all.addAll(TinyCheckpoint.VISION_6B);
            default -> throw new IllegalArgumentException("--vision '" + vision + "' is not supported (supported: 300m, 6b)");
        }
        all.addAll(overrides);
        TinyCheckpoint.Options o = TinyCheckpoint.Options.of(v).withDtype(dtype).withSingleFile(singleFile)
                .withTokenizer(tokenizer(v)).withOverrides(all);
        if (seed != null) o = o.withSeed(seed);
        InternVLConfig c = TinyCheckpoint.write(dir, o);
        PrintWriter out = spec.commandLine().getOut();
        out.printf("wrote %s (variant %s%s, seed %d, %s, vocab %d, %s, %s)%n", dir, v.name().toLowerCase(), vision.equalsIgnoreCase("6b") ? " with an InternViT-6B-like tower" : "", o.seed(), dtype,
                c.llm().vocabSize(), singleFile ? "model.safetensors" : "2 shards + index", describe(o.tokenizer()));
        out.flush();
        return 0;
    }

    private TinyTokenizer tokenizer(TinyCheckpoint.Variant v) {
        if (v == TinyCheckpoint.Variant.PHI3 || v == TinyCheckpoint.Variant.LLAMA) {
            if (vocabFrom != null || tokenizerFrom != null) {
                throw new IllegalArgumentException("--arch " + arch + " trains its own Llama-style tokenizer; only --pieces, --corpus and --no-tokenizer go with it");
            }
            if (noTokenizer) {
                if (corpus != null) throw new IllegalArgumentException("--corpus shapes a trained tokenizer; it does not go with --no-tokenizer");
                return new TinyTokenizer.None(pieces != null ? pieces : v.defaultPieces());
            }
            if (corpus != null && !Files.isRegularFile(corpus)) throw new IllegalArgumentException(corpus + ": --corpus file not found");
            return new TinyTokenizer.Llama(v == TinyCheckpoint.Variant.PHI3 ? LlamaTokenizerFiles.Flavor.PHI3 : LlamaTokenizerFiles.Flavor.YI,
                    pieces != null ? pieces : TinyTokenizer.DEFAULT_PIECES, corpus);
        }
        if (v == TinyCheckpoint.Variant.QWEN2 || v == TinyCheckpoint.Variant.LLAMA3) {
            if (vocabFrom != null || tokenizerFrom != null || corpus != null || pieces != null) {
                throw new IllegalArgumentException("--arch " + arch + " writes its own byte-level tokenizer; only --no-tokenizer goes with it");
            }
            return noTokenizer ? new TinyTokenizer.None(v.defaultPieces())
                    : new TinyTokenizer.ByteLevel(v == TinyCheckpoint.Variant.LLAMA3 ? ByteLevelTokenizerFiles.Flavor.LLAMA3 : ByteLevelTokenizerFiles.Flavor.QWEN2);
        }
        int sources = (vocabFrom != null ? 1 : 0) + (tokenizerFrom != null ? 1 : 0) + (noTokenizer ? 1 : 0);
        if (sources > 1) throw new IllegalArgumentException("give at most one of --vocab-from, --tokenizer-from and --no-tokenizer");
        if ((sources > 0 && corpus != null) || (pieces != null && (vocabFrom != null || tokenizerFrom != null))) {
            throw new IllegalArgumentException("--corpus and --pieces shape a trained tokenizer; they do not go with --vocab-from or --tokenizer-from"
                    + (noTokenizer && corpus != null ? " or --no-tokenizer" : ""));
        }
        if (vocabFrom != null) {
            if (!Files.isRegularFile(vocabFrom)) throw new IllegalArgumentException(vocabFrom + ": --vocab-from file not found");
            return new TinyTokenizer.FromModel(vocabFrom);
        }
        if (tokenizerFrom != null) {
            if (!Files.isDirectory(tokenizerFrom)) throw new IllegalArgumentException(tokenizerFrom + ": --tokenizer-from directory not found");
            return new TinyTokenizer.FromDir(tokenizerFrom);
        }
        if (noTokenizer) return new TinyTokenizer.None(pieces != null ? pieces : v.defaultPieces());
        if (corpus != null && !Files.isRegularFile(corpus)) throw new IllegalArgumentException(corpus + ": --corpus file not found");
        return new TinyTokenizer.Trained(pieces != null ? pieces : TinyTokenizer.DEFAULT_PIECES, corpus);
    }

    private static String describe(TinyTokenizer t) {
        return switch (t) {
            case TinyTokenizer.Trained tr -> "tokenizer trained on " + (tr.corpus() == null ? "the built-in corpus" : tr.corpus());
            case TinyTokenizer.None n -> "no tokenizer files";
            case TinyTokenizer.ByteLevel b -> "byte-level tokenizer.json (" + b.flavor().name().toLowerCase() + ")";
            case TinyTokenizer.Llama l -> "Llama-style tokenizer.model (" + l.flavor().name().toLowerCase() + ") trained on "
                    + (l.corpus() == null ? "the built-in corpus" : l.corpus());
            case TinyTokenizer.FromModel m -> "tokenizer.model from " + m.model();
            case TinyTokenizer.FromDir d -> "tokenizer files from " + d.source();
        };
    }
}
