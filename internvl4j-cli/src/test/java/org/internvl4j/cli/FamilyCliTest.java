package org.internvl4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line on the other language models of the family (Qwen2, Phi-3, Llama with Yi's tokenizer), against
 * testdata/model/{q,p,l}_* from the references.
 */
class FamilyCliTest {
    static final String QWEN2 = Run.testdata("tiny-models/tiny-qwen2").toString();

    static JsonNode fixture(String name) throws Exception {
        return new ObjectMapper().readTree(Files.readString(Run.testdata("model").resolve(name).resolve("case.json")));
    }

    static void assertMatches(Run r, JsonNode fx) throws Exception {
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.get("prompt_token_ids")).isEqualTo(fx.get("prompt_ids"));
        assertThat(j.get("token_ids")).isEqualTo(fx.get("generated_ids"));
        assertThat(j.get("text").asText()).isEqualTo(fx.get("response").asText());
    }

    @Test
    void generateJsonOnQwen2MatchesTheReference() throws Exception {
        JsonNode fx = fixture("q_text");
        assertMatches(Run.internvl("generate", "--model", QWEN2, "--prompt", fx.get("question").asText(),
                "--max-new-tokens", "32", "--json"), fx);
    }

    @Test
    void generateJsonWithHistoryOnQwen2MatchesTheReference(@TempDir Path tmp) throws Exception {
        JsonNode fx = fixture("q_history");
        Path history = tmp.resolve("history.json");
        Files.writeString(history, fx.get("history").toString());
        assertMatches(Run.internvl("generate", "--model", QWEN2, "--prompt", fx.get("question").asText(), "--history",
                history.toString(), "--max-new-tokens", "32", "--json"), fx);
    }

    @Test
    void generateJsonOnPhi3MatchesTheReference() throws Exception {
        JsonNode fx = fixture("p_chat");
        assertMatches(Run.internvl("generate", "--model", Run.testdata("tiny-models/tiny-phi3").toString(), "--prompt",
                fx.get("question").asText(), "--max-new-tokens", "32", "--json"), fx);
    }

    @Test
    void generateJsonWithHistoryOnLlamaMatchesTheReference(@TempDir Path tmp) throws Exception {
        JsonNode fx = fixture("l_chat");
        Path history = tmp.resolve("history.json");
        Files.writeString(history, fx.get("history").toString());
        assertMatches(Run.internvl("generate", "--model", Run.testdata("tiny-models/tiny-llama").toString(), "--prompt",
                fx.get("question").asText(), "--history", history.toString(), "--max-new-tokens", "32", "--json"), fx);
    }

    @Test
    void generateJsonWithHistoryOnLlama3MatchesTheReference(@TempDir Path tmp) throws Exception {
        JsonNode fx = fixture("l3_chat");
        Path history = tmp.resolve("history.json");
        Files.writeString(history, fx.get("history").toString());
        assertMatches(Run.internvl("generate", "--model", Run.testdata("tiny-models/tiny-llama3").toString(), "--prompt",
                fx.get("question").asText(), "--history", history.toString(), "--max-new-tokens", "32", "--json"), fx);
        Run inspect = Run.internvl("inspect", Run.testdata("tiny-models/tiny-llama3").toString());
        assertThat(inspect.out()).contains("LlamaForCausalLM");
    }

    /** Logprob entries read Phi-3's and Yi's SentencePiece pieces as SentencePiece: "▁" is a space, <0xE4> one byte. */
    @Test
    void logprobTokenTextOfLlamaSentencePieceTokenizers() {
        org.internvl4j.tokenizer.Tokenizer tok = org.internvl4j.tokenizer.Tokenizer.load(Run.testdata("tiny-models/tiny-phi3"));
        assertThat(TokenText.of(tok, tok.tokenId("\u2581")).bytes()).containsExactly((byte) ' ');
        assertThat(TokenText.of(tok, tok.tokenId("\u2581")).token()).isEqualTo(" ");
        assertThat(TokenText.of(tok, tok.tokenId("<0xE4>")).bytes()).containsExactly((byte) 0xE4);
        assertThat(TokenText.of(tok, tok.tokenId("<|end|>")).token()).isEqualTo("<|end|>");
    }

    @Test
    void makeTinyQwen2WritesACheckpointThatInspectNames(@TempDir Path tmp) {
        Path dir = tmp.resolve("q");
        Run made = Run.internvl("make-tiny", "--arch", "qwen2", dir.toString());
        assertThat(made.code()).as(made.err()).isZero();
        assertThat(made.out()).contains("vocab 268").contains("byte-level tokenizer.json (qwen2)");
        Run inspect = Run.internvl("inspect", dir.toString());
        assertThat(inspect.code()).as(inspect.err()).isZero();
        assertThat(inspect.out()).contains("Qwen2ForCausalLM").contains("all 64 tensors");
        Run phi3 = Run.internvl("make-tiny", "--arch", "phi3", tmp.resolve("p").toString());
        assertThat(phi3.code()).as(phi3.err()).isZero();
        assertThat(Run.internvl("inspect", tmp.resolve("p").toString()).out()).contains("Phi3ForCausalLM")
                .contains("LongRoPE (su, original 64)");
        Run six = Run.internvl("make-tiny", "--arch", "llama", "--vision", "6b", tmp.resolve("y").toString());
        assertThat(six.code()).as(six.err()).isZero();
        assertThat(six.out()).contains("with an InternViT-6B-like tower").contains("Llama-style tokenizer.model (yi)");
        assertThat(Run.internvl("inspect", tmp.resolve("y").toString()).out()).contains("LlamaForCausalLM").contains("rms_norm");
        Run badVision = Run.internvl("make-tiny", "--vision", "1b", tmp.resolve("v").toString());
        assertThat(badVision.code()).isNotZero();
        assertThat(badVision.err()).contains("--vision '1b' is not supported (supported: 300m, 6b)");
        Run bad = Run.internvl("make-tiny", "--arch", "mamba", tmp.resolve("m").toString());
        assertThat(bad.code()).isNotZero();
        assertThat(bad.err()).contains("--arch 'mamba' is not supported (supported: internlm2, qwen2, phi3, llama, llama3)");
    }
}
