package org.internvl4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `internvl make-tiny` and `internvl inspect`, run as a user runs them. */
class CheckpointCommandsTest {
    @TempDir
    Path tmp;

    static Run run(String... args) {
        return Run.internvl(args);
    }

    /**
     * Parameter counts from the config dims alone, written out by hand for the InternVL2 structure
     * (independent of InternVLTensors): variant b has rms_norm, qk-norm and no biases in vision.
     */
    @Test
    void inspectCountsMatchTheArchitectureFormulas() throws IOException {
        Path dir = tmp.resolve("tiny-b");
        Run made = run("make-tiny", dir.toString(), "--variant", "b", "--seed", "5");
        assertThat(made.code()).as(made.err()).isZero();
        assertThat(made.out()).contains("variant b, seed 5, BF16, vocab 1545", "tokenizer trained on the built-in corpus");

        Run r = run("inspect", "--json", dir.toString());
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        // variant b: vision D=96, 2 layers, mlp 192, 448 px (32x32 patches), rms_norm + q/k norm, no qkv bias
        long d = 96, i = 192, layers = 2;
        long visionLayer = 3 * d * d /* qkv */ + 2 * d /* q_norm, k_norm */ + d * d + d /* proj */
                + i * d + i + d * i + d /* fc1, fc2 */ + 2 * d /* norm1, norm2 (no bias) */ + 2 * d /* ls1, ls2 */;
        long vision = d /* cls */ + d * 3 * 14 * 14 + d /* patch conv */ + (1 + 32 * 32) * d /* positions */ + layers * visionLayer;
        // projector: LayerNorm(4D), Linear(4D -> Dl), Linear(Dl -> Dl)
        long dl = 96, il = 224, vocab = 1536 + 9; // the trained tokenizer's pieces + the 9 InternVL tokens
        long projector = 2 * 4 * d + 4 * d * dl + dl + dl * dl + dl;
        // LLM: 6 heads, 6 kv heads, head dim 16, no bias
        long llmLayer = (6 + 2 * 6) * 16 * dl + dl * dl + 2 * dl + 3 * il * dl;
        long llm = vocab * dl * 2 + dl + 2 * llmLayer;

        assertThat(j.at("/parts/vision/parameters").asLong()).isEqualTo(vision);
        assertThat(j.at("/parts/projector/parameters").asLong()).isEqualTo(projector);
        assertThat(j.at("/parts/language_model/parameters").asLong()).isEqualTo(llm);
        assertThat(j.at("/total/parameters").asLong()).isEqualTo(vision + projector + llm);
        assertThat(j.at("/total/bytes").asLong()).isEqualTo(2 * (vision + projector + llm));
        assertThat(j.at("/total/dtypes/BF16").asLong()).isEqualTo(vision + projector + llm);
        long dataBytes = Files.size(dir.resolve("model-00001-of-00002.safetensors")) + Files.size(dir.resolve("model-00002-of-00002.safetensors"));
        assertThat(j.at("/total/bytes").asLong()).isLessThan(dataBytes); // the rest is the two headers
        assertThat(j.at("/files").asInt()).isEqualTo(2);
        assertThat(j.at("/complete").asBoolean()).isTrue();
        assertThat(j.at("/llm/architecture").asText()).isEqualTo("InternLM2ForCausalLM");
        assertThat(j.at("/projector/image_tokens_per_tile").asInt()).isEqualTo(256);

        Run text = run("inspect", dir.toString());
        assertThat(text.code()).isZero();
        assertThat(text.out()).contains("internvl_chat", "InternLM2ForCausalLM", "vision tower", "projector", "language model",
                String.format("%,d", vision), String.format("%,d", llm), "2 safetensors files", "complete");
    }

    @Test
    void inspectReportsAnIncompleteCheckpointAndExitsOne() throws IOException {
        Path dir = tmp.resolve("tiny-c");
        assertThat(run("make-tiny", dir.toString(), "--variant", "c", "--single-file", "--dtype", "f32").code()).isZero();
        Path config = dir.resolve("config.json");
        Files.writeString(config, Files.readString(config).replaceFirst("\"num_hidden_layers\" : 2", "\"num_hidden_layers\" : 3"));
        Run r = run("inspect", dir.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).contains("INCOMPLETE", "language_model.model.layers.2.attention.wqkv.weight is missing", "F32", "1 safetensors file");
    }

    @Test
    void errorsAreOneLineWithoutAStackTrace() throws IOException {
        Run missing = run("inspect", tmp.resolve("nope").toString());
        assertThat(missing.code()).isEqualTo(2);   // neither a directory nor a hub id: a usage error
        assertThat(missing.err()).startsWith("internvl inspect: ").contains("nope", "no such directory");
        assertThat(missing.err().lines().count()).isEqualTo(1);
        assertThat(missing.err()).doesNotContain("\tat ", "Exception");

        Path dir = tmp.resolve("bad");
        assertThat(run("make-tiny", dir.toString()).code()).isZero();
        Files.writeString(dir.resolve("model-00001-of-00002.safetensors"), "garbage!");
        Run corrupt = run("inspect", dir.toString());
        assertThat(corrupt.code()).isEqualTo(1);
        assertThat(corrupt.err().lines().count()).isEqualTo(1);
        assertThat(corrupt.err()).contains("model-00001-of-00002.safetensors: header length", "not plausible");

        Run variant = run("make-tiny", tmp.resolve("x").toString(), "--variant", "z");
        assertThat(variant.code()).isEqualTo(1);
        assertThat(variant.err()).isEqualTo("internvl make-tiny: unknown variant 'z' (known: a, b, c)" + System.lineSeparator());
    }

    @Test
    void makeTinyOverridesConfigValues() throws IOException {
        Path dir = tmp.resolve("deep");
        Run made = run("make-tiny", dir.toString(), "--set", "llm.num_hidden_layers=4", "--set", "llm.rope_scaling=null",
                "--set", "vision.norm_type=\"rms_norm\"");
        assertThat(made.code()).as(made.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(run("inspect", "--json", dir.toString()).out());
        assertThat(j.at("/llm/num_hidden_layers").asInt()).isEqualTo(4);
        assertThat(j.at("/vision/norm_type").asText()).isEqualTo("rms_norm");
        assertThat(j.at("/complete").asBoolean()).isTrue();
        JsonNode config = new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        assertThat(config.at("/llm_config/rope_scaling").isNull()).isTrue();

        Run badKey = run("make-tiny", tmp.resolve("x").toString(), "--set", "llm.num_layers=4");
        assertThat(badKey.code()).isEqualTo(1);
        assertThat(badKey.err()).contains("override 'llm.num_layers=4': llm_config has no key 'num_layers' (known: ", "num_hidden_layers");
        Run badValue = run("make-tiny", tmp.resolve("x").toString(), "--set", "vision.norm_type=rms_norm");
        assertThat(badValue.err()).contains("the value is not JSON");
        Run inconsistent = run("make-tiny", tmp.resolve("x").toString(), "--set", "llm.num_attention_heads=5");
        assertThat(inconsistent.code()).isEqualTo(1);
        assertThat(inconsistent.err()).contains("hidden_size 128 must be a positive multiple of num_attention_heads 5");
    }

    @Test
    void makeTinyTokenizerChoices() throws IOException {
        Path none = tmp.resolve("none");
        Run r = run("make-tiny", none.toString(), "--variant", "c", "--no-tokenizer");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("vocab 2509", "no tokenizer files");
        assertThat(none.resolve("tokenizer.model")).doesNotExist();

        Path small = tmp.resolve("small");
        Path corpus = Files.writeString(tmp.resolve("corpus.txt"), "the cat sat on the mat\nthe dog sat on the log\n".repeat(5));
        r = run("make-tiny", small.toString(), "--corpus", corpus.toString(), "--pieces", "290");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("vocab 299");
        Path big = tmp.resolve("big");
        r = run("make-tiny", big.toString(), "--corpus", corpus.toString(), "--pieces", "5000");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("internvl make-tiny: " + corpus + ": ").contains("5000");

        Path copy = tmp.resolve("copy");
        r = run("make-tiny", copy.toString(), "--tokenizer-from", small.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("vocab 299");
        assertThat(Files.readAllBytes(copy.resolve("tokenizer.model"))).isEqualTo(Files.readAllBytes(small.resolve("tokenizer.model")));
        r = run("make-tiny", copy.toString(), "--vocab-from", small.resolve("tokenizer.model").toString(), "--variant", "b");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("vocab 299");

        r = run("make-tiny", copy.toString(), "--no-tokenizer", "--tokenizer-from", small.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("at most one of --vocab-from, --tokenizer-from and --no-tokenizer");
        r = run("make-tiny", copy.toString(), "--vocab-from", tmp.resolve("missing.model").toString());
        assertThat(r.err()).contains("missing.model: --vocab-from file not found");
    }

    @Test
    void makeTinyIsDeterministic() throws IOException {
        Path one = tmp.resolve("one");
        Path two = tmp.resolve("two");
        assertThat(run("make-tiny", one.toString(), "--seed", "9").code()).isZero();
        assertThat(run("make-tiny", two.toString(), "--seed", "9").code()).isZero();
        for (String f : new String[] {"config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
            "model.safetensors.index.json", "generation_config.json", "tokenizer.model", "tokenizer_config.json",
            "added_tokens.json", "special_tokens_map.json"}) {
            assertThat(Files.readAllBytes(two.resolve(f))).as(f).isEqualTo(Files.readAllBytes(one.resolve(f)));
        }
    }

    @Test
    void helpListsTheCommands() {
        Run r = run("--help");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("inspect", "make-tiny");
    }
}
