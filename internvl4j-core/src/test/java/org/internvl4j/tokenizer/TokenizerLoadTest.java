package org.internvl4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Tokenizer#load(Path)} picks the implementation from the folder's files. */
class TokenizerLoadTest {
    @Test
    void sentencePieceFolderGivesTheInternLM2Tokenizer() {
        Path dir = TestFiles.testdata().resolve("hf/tiny-a");
        Tokenizer tok = Tokenizer.load(dir);
        assertThat(tok).isInstanceOf(InternLM2Tokenizer.class);
        InternLM2Tokenizer direct = InternLM2Tokenizer.load(dir);
        String text = "<|im_start|>user\nHello <img><IMG_CONTEXT></img> 你好<|im_end|>";
        assertThat(tok.encode(text)).containsExactly(direct.encode(text));
        assertThat(tok.encode(text, false)).containsExactly(direct.encode(text, false));
        assertThat(tok.addedTokens()).containsEntry("<IMG_CONTEXT>", direct.tokenId("<IMG_CONTEXT>"));
        assertThat(java.util.List.copyOf(tok.addedTokens().values())).isSorted();
        int[] ids = direct.encode(text);
        Detokenizer d = tok.newStreamingDetokenizer(false);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) sb.append(d.push(id));
        assertThat(sb.append(d.flush()).toString()).isEqualTo(direct.decode(ids, false)).isEqualTo(tok.decode(ids));
    }

    @Test
    void folderWithoutTokenizerFilesIsRefused(@TempDir Path dir) {
        assertThatThrownBy(() -> Tokenizer.load(dir)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("tokenizer.model not found").hasMessageContaining("tokenizer.json");
        assertThatThrownBy(() -> Tokenizer.load(dir.resolve("absent"))).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("tokenizer.model not found");
    }
}
