package org.internvl4j.tokenizer;

import static org.internvl4j.testing.Fuzzing.expectOnly;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzzes the SentencePiece ModelProto reader (tokenizer.model) and the processor built from it.
 * Contract: a malformed or unsupported model throws {@link TokenizerException} with a message; a model that
 * loads can encode and decode a sample text without any other exception. Corpus: SentencePieceFuzzTestInputs/model.
 */
class SentencePieceFuzzTest {
    private static final String SAMPLE = "Hello wörld 你好 😀 <s> \t\n 12";

    @FuzzTest(maxDuration = "30s")
    void model(byte[] data) {
        expectOnly(() -> {
            SentencePieceProcessor sp = new SentencePieceProcessor(SentencePieceModel.parse(data));
            int[] ids = sp.encode(SAMPLE);
            sp.decode(ids);
            for (int id : ids) sp.idToPiece(id);
        }, TokenizerException.class);
    }
}
