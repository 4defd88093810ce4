package org.internvl4j.tokenizer;

import static org.internvl4j.testing.Fuzzing.expectOnly;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Files;
import java.nio.file.Path;
import org.internvl4j.testing.Fuzzing;

/**
 * Fuzzes the byte-level BPE loader with a tokenizer.json and a tokenizer_config.json, given as one input
 * split at {@link Fuzzing#SEPARATOR} (an input without one has no tokenizer_config.json). Contract: the
 * loader returns a tokenizer or throws {@link TokenizerException} with a message; a tokenizer that loads
 * encodes and decodes a sample text. Corpus: BpeTokenizerFuzzTestInputs/load.
 */
class BpeTokenizerFuzzTest {
    private static final String SAMPLE = "Hello wörld 你好 😀 <|im_start|> \t\n 12's";

    @FuzzTest(maxDuration = "30s")
    void load(byte[] data) throws Exception {
        byte[][] parts = Fuzzing.split(data, 2);
        Path dir = Fuzzing.scratchDir("bpe");
        Path json = dir.resolve("tokenizer.json");
        Path config = dir.resolve("tokenizer_config.json");
        Files.write(json, parts[0]);
        if (data.length > parts[0].length) Files.write(config, parts[1]);
        else Files.deleteIfExists(config);
        expectOnly(() -> {
            ByteLevelBpeTokenizer t = ByteLevelBpeTokenizer.load(json, config);
            int[] ids = t.encode(SAMPLE, true);
            t.decode(ids, false);
            t.decode(ids, true);
        }, TokenizerException.class);
    }
}
