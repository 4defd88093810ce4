package org.internvl4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Argument handling only: the benchmark itself is run by hand (docs/PERFORMANCE.md), never timed in tests. */
class BenchCommandTest {
    private static String[] run(String... args) {
        Run r = Run.internvl(args);
        return new String[] {String.valueOf(r.code()), r.out(), r.err()};
    }

    @Test
    void benchListsTheKernelsSubcommand() {
        String[] r = run("bench", "--help");
        assertThat(r[0]).isEqualTo("0");
        assertThat(r[1]).contains("kernels");
    }

    @Test
    void badArgumentsAreNamedErrors() {
        String[] r = run("bench", "kernels", "--threads", "1,0");
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[2]).contains("--threads").contains("at least 1");
        r = run("bench", "kernels", "--seconds", "0");
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[2]).contains("--seconds");
        r = run("bench", "kernels", "--threads", "two");
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[2]).contains("two");
    }

    @Test
    void peerOptionsAreCheckedBeforeAnyWork() {
        String model = Run.testdata("model").toString(); // never loaded: the options fail first
        String[] r = run("bench", "model", "--model", model, "--peer", "vllm");
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[2]).contains("--peer").contains("vllm").contains("llama.cpp");
        r = run("bench", "model", "--model", model, "--peer", "llama.cpp", "--peer-format", "q5_k");
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[2]).contains("--peer-format").contains("q5_k").contains("bf16, q8_0, q4_0");
        r = run("bench", "model", "--model", model, "--peer-format", "q4_0");
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[2]).contains("need --peer llama.cpp");
    }

    @Test
    void thePeersJsonLineBecomesFiguresWithStableKeys() throws Exception {
        String line = "{\"peer\":\"llama.cpp\",\"llama_cpp_release\":\"v0.4.0\",\"node_llama_cpp\":\"3.21.1\",\"system_info\":\"CPU : AVX512 = 1 |\","
                + "\"model\":\"m.gguf\",\"threads\":2,\"load_s\":1.5,\"prompt_tokens\":512,\"prefill_s\":20,\"prefill_tokens_per_s\":25.6,"
                + "\"decode_tokens\":16,\"decode_s\":4,\"decode_tokens_per_s\":4.0,\"decode_step_ms_min\":200,\"decode_step_ms_median\":250,\"decode_step_ms_max\":900}";
        LlamaCppPeer.Figures f = LlamaCppPeer.parse(new com.fasterxml.jackson.databind.ObjectMapper().readTree(line), "q8_0");
        assertThat(f.prefillTokensPerS()).isEqualTo(25.6);
        assertThat(f.decodeTokensPerS()).isEqualTo(4.0);
        assertThat(f.json()).containsEntry("name", "llama.cpp").containsEntry("llama_cpp_release", "v0.4.0").containsEntry("format", "q8_0")
                .containsEntry("threads", 2).containsEntry("prompt_tokens", 512).containsEntry("prefill_tokens_per_s", 25.6)
                .containsEntry("decode_tokens", 16).containsEntry("decode_tokens_per_s", 4.0).containsEntry("gguf", "m.gguf")
                .containsEntry("decode_step_ms_median", 250.0);
    }
}
