package org.internvl4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ModelCommandsTest {
    @Test
    void makeSyntheticThenBenchModelPrintsEveryMeasurement(@TempDir Path dir) {
        StringWriter out = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out));
        assertThat(cl.execute("make-synthetic", "--tiny", dir.toString())).isZero();
        assertThat(out.toString()).contains("wrote");
        CommandLine bench = Main.commandLine();
        StringWriter b = new StringWriter();
        bench.setOut(new PrintWriter(b));
        assertThat(bench.execute("bench", "model", "--model", dir.toString(), "--tiles", "1", "--prompt-tokens", "8", "--decode-tokens", "2")).isZero();
        assertThat(b.toString()).contains("load:").contains("ms per tile").contains("prefill:").contains("decode:").contains("peak resident");
    }

    @Test
    void benchModelJsonHasEveryKeyOfTheContract(@TempDir Path dir) throws Exception {
        assertThat(Main.commandLine().execute("make-synthetic", "--tiny", dir.toString())).isZero();
        CommandLine bench = Main.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        bench.setOut(new PrintWriter(out));
        bench.setErr(new PrintWriter(err));
        assertThat(bench.execute("bench", "model", "--model", dir.toString(), "--tiles", "1", "--prompt-tokens", "8",
                "--decode-tokens", "2", "--weights", "mmap", "--json")).isZero();
        // stdout is one JSON object; the human-readable lines went to stderr
        com.fasterxml.jackson.databind.JsonNode j = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.toString());
        assertThat(j.isObject()).isTrue();
        assertThat(err.toString()).contains("prefill:").contains("decode:");
        assertThat(j.get("cpu").asText()).isNotBlank();
        assertThat(j.get("vector_bits").asInt()).isEqualTo(org.internvl4j.tensor.MatMul.vectorBits());
        assertThat(j.get("threads").asInt()).isEqualTo(org.internvl4j.tensor.Parallel.threads());
        assertThat(j.get("weights").asText()).isEqualTo("mmap");
        assertThat(j.get("format").asText()).as("the linear layers' format").isEqualTo("bf16");
        for (String k : new String[] {"fma_peak_gflops", "bandwidth_gbs", "vision_s_per_tile", "prefill_tokens_per_s",
            "decode_tokens_per_s", "vision_share_of_fma_peak", "prefill_share_of_fma_peak", "decode_share_of_bandwidth", "peak_rss_gib"}) {
            assertThat(j.get(k)).as(k).isNotNull();
            assertThat(j.get(k).isNumber()).as(k).isTrue();
            assertThat(j.get(k).asDouble()).as(k).isPositive();
        }
        // shares are fractions of the probes, not percentages
        assertThat(j.get("prefill_share_of_fma_peak").asDouble()).isLessThan(2);
        assertThat(j.get("decode_share_of_bandwidth").asDouble()).isLessThan(2);
        // quantized at load: the format is the one the kernels ran in (the peer's default format follows it)
        StringWriter q4 = new StringWriter();
        bench.setOut(new PrintWriter(q4));
        assertThat(bench.execute("bench", "model", "--model", dir.toString(), "--tiles", "0", "--prompt-tokens", "8",
                "--decode-tokens", "2", "--quantize", "q4", "--json")).isZero();
        assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(q4.toString()).get("format").asText()).isEqualTo("q4_0");
    }

    @Test
    void benchModelRejectsAMissingDirectory() {
        CommandLine bench = Main.commandLine();
        StringWriter err = new StringWriter();
        bench.setErr(new PrintWriter(err));
        assertThat(bench.execute("bench", "model", "--model", "./no/such/dir")).isNotZero();
        assertThat(err.toString()).contains("./no/such/dir").contains("no such directory");
        assertThat(bench.execute("bench", "model", "--model", ".", "--prompt-tokens", "0")).isEqualTo(2);
        assertThat(err.toString()).contains("--prompt-tokens must be at least 1");
        assertThat(bench.execute("bench", "model", "--model", ".", "--weights", "ram")).isEqualTo(2);
        assertThat(err.toString()).contains("--weights must be auto, copy or mmap, got 'ram'");
    }
}
