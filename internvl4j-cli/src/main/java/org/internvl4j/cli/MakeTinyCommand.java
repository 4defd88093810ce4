package org.internvl4j.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.internvl4j.checkpoint.InternVLConfig;
import org.internvl4j.checkpoint.TinyCheckpoint;
import org.internvl4j.tensor.DType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** `internvl make-tiny DIR`: a random-weight checkpoint in the real on-disk format, for tests and demos. */
@Command(name = "make-tiny", mixinStandardHelpOptions = true,
        description = {"Writes a tiny random-weight InternVL2 checkpoint in exactly the real on-disk format: config.json, "
                + "generation_config.json, two safetensors shards + model.safetensors.index.json (BF16 by default).",
            "Variants: a = InternVL2-8B structure scaled down; b = rms_norm + qk-norm vision, MHA, max_pos 64 (dynamic NTK); "
                + "c = 224 px vision (position interpolation), 1 kv head, plain RoPE, LLM biases.",
            "Same options, same bytes."})
public final class MakeTinyCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "DIR", description = "output directory (created; files of the same names are replaced)")
    Path dir;

    @Option(names = "--variant", defaultValue = "a", description = "a, b or c (default: ${DEFAULT-VALUE})")
    String variant;

    @Option(names = "--seed", description = "weight seed (default: 101, 202, 303 for a, b, c)")
    Long seed;

    @Option(names = "--dtype", defaultValue = "BF16", description = "BF16, F16 or F32 (default: ${DEFAULT-VALUE})")
    DType dtype;

    @Option(names = "--single-file", description = "write model.safetensors instead of two shards and an index")
    boolean singleFile;

    @Option(names = "--vocab-from", paramLabel = "FILE",
            description = "a SentencePiece tokenizer.model laid out like InternLM2's (last 6 pieces [UNUSED_TOKEN_141..146]); "
                    + "it is copied, its piece count + 9 InternVL tokens is the vocabulary, and the HF tokenizer files are written for it")
    Path vocabFrom;

    @Option(names = "--tokenizer-from", paramLabel = "DIR",
            description = "copy tokenizer.model, tokenizer_config.json, added_tokens.json and special_tokens_map.json from DIR")
    Path tokenizerFrom;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        TinyCheckpoint.Variant v = TinyCheckpoint.Variant.parse(variant);
        TinyCheckpoint.Options o = TinyCheckpoint.Options.of(v).withDtype(dtype).withSingleFile(singleFile)
                .withTokenizerModel(vocabFrom).withTokenizerDir(tokenizerFrom);
        if (seed != null) o = o.withSeed(seed);
        if (vocabFrom != null && !Files.isRegularFile(vocabFrom)) throw new IllegalArgumentException(vocabFrom + ": --vocab-from file not found");
        if (tokenizerFrom != null && !Files.isDirectory(tokenizerFrom)) throw new IllegalArgumentException(tokenizerFrom + ": --tokenizer-from directory not found");
        InternVLConfig c = TinyCheckpoint.write(dir, o);
        PrintWriter out = spec.commandLine().getOut();
        out.printf("wrote %s (variant %s, seed %d, %s, vocab %d, %s)%n", dir, v.name().toLowerCase(), o.seed(), dtype,
                c.llm().vocabSize(), singleFile ? "model.safetensors" : "2 shards + index");
        if (vocabFrom == null && tokenizerFrom == null) {
            out.println("no tokenizer files written: pass --vocab-from tokenizer.model or --tokenizer-from DIR for a checkpoint that can chat");
        }
        out.flush();
        return 0;
    }
}
