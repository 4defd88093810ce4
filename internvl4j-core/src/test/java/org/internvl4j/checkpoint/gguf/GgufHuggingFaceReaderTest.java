package org.internvl4j.checkpoint.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.internvl4j.testing.TestData;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A second, independent reader: Hugging Face's GGUF parser (npm {@code @huggingface/gguf}, which .ci/run installs
 * into target/gguf-npm) reads a random GGUF written by RandomGguf and reports its metadata and tensor infos.
 * Skipped, with a message, where node or the package is missing.
 */
class GgufHuggingFaceReaderTest {
    @TempDir
    Path tmp;

    static Path npmDir() {
        String explicit = System.getProperty("internvl.ggufNpm");
        return explicit != null ? Path.of(explicit) : TestData.dir("tokenizer").getParent().getParent().resolve("target/gguf-npm");
    }

    @Test
    void huggingFacesParserReadsOurFile() throws Exception {
        Path npm = npmDir();
        Assumptions.assumeTrue(Files.isDirectory(npm.resolve("node_modules/@huggingface/gguf")),
                "@huggingface/gguf not found in " + npm + " (.ci/run installs it with npm; or set -Dinternvl.ggufNpm=DIR); skipping");
        Path gguf = tmp.resolve("tiny-q4_0.gguf");
        RandomGguf.write(GgufWriterTest.tinyInternLm2(), GgmlType.Q4_0, gguf, 5);
        // The script must sit beside node_modules for node to resolve the package.
        Path script = npm.resolve("read-gguf-" + ProcessHandle.current().pid() + ".mjs");
        Files.writeString(script, """
                import { gguf } from "@huggingface/gguf";
                const { metadata, tensorInfos } = await gguf(process.argv[2], { allowLocalFile: true });
                const big = (k, v) => typeof v === "bigint" ? Number(v) : v;
                const m = { ...metadata };
                m["tokenizer.ggml.tokens"] = metadata["tokenizer.ggml.tokens"].length;
                delete m["tokenizer.ggml.scores"]; delete m["tokenizer.ggml.token_type"];
                console.log(JSON.stringify({ metadata: m, tensors: tensorInfos }, big));
                """);
        try {
            Process p = new ProcessBuilder("node", script.toString(), gguf.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(out).isZero();
            JsonNode j = new ObjectMapper().readTree(out.lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElseThrow());
            JsonNode m = j.get("metadata");
            assertThat(m.get("version").asInt()).isEqualTo(3);
            assertThat(m.get("tensor_count").asInt()).isEqualTo(21);
            assertThat(m.get("general.architecture").asText()).isEqualTo("internlm2");
            assertThat(m.get("general.file_type").asInt()).isEqualTo(2); // llama.cpp's MOSTLY_Q4_0
            assertThat(m.get("internlm2.attention.head_count_kv").asInt()).isEqualTo(2);
            assertThat(m.get("internlm2.attention.layer_norm_rms_epsilon").asDouble()).isCloseTo(1e-5, org.assertj.core.data.Offset.offset(1e-9));
            assertThat(m.get("tokenizer.ggml.tokens").asInt()).isEqualTo(300);
            JsonNode down = null;
            for (JsonNode t : j.get("tensors")) if (t.get("name").asText().equals("blk.1.ffn_down.weight")) down = t;
            assertThat(down).isNotNull();
            assertThat(down.get("shape").toString()).isEqualTo("[96,64]");
            assertThat(down.get("dtype").asInt()).isEqualTo(2);
            assertThat(down.get("offset").asLong() % 32).isZero();
        } finally {
            Files.deleteIfExists(script);
        }
    }
}
