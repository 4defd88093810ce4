package org.internvl4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class StreamingDetokenizerTest {
    static InternLM2Tokenizer tinyA;
    static InternLM2Tokenizer tinyC;

    @BeforeAll
    static void load() {
        tinyA = InternLM2Tokenizer.load(TestFiles.testdata().resolve("hf/tiny-a"));
        tinyC = InternLM2Tokenizer.load(TestFiles.testdata().resolve("hf/tiny-c"));
    }

    private static int[] byteIds(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[b.length];
        for (int i = 0; i < b.length; i++) ids[i] = 3 + (b[i] & 0xFF); // <0x00> is id 3
        return ids;
    }

    @Test
    void multiByteCharactersCutBetweenTheirBytes() {
        for (boolean skip : new boolean[] {true, false}) {
            StreamingDetokenizer d = tinyA.newStreamingDetokenizer(skip);
            int[] ni = byteIds("你");           // 3 bytes
            int[] smile = byteIds("😀");        // 4 bytes
            assertThat(d.push(ni[0])).isEmpty();
            assertThat(d.push(ni[1])).isEmpty();
            String first = d.push(ni[2]);
            assertThat(d.push(smile[0])).isEmpty();
            assertThat(d.push(smile[1])).isEmpty();
            assertThat(d.push(smile[2])).isEmpty();
            String second = d.push(smile[3]);
            String rest = d.flush();
            if (skip) {
                assertThat(first).isEqualTo("你");
                assertThat(second).isEqualTo("😀");
                assertThat(rest).isEmpty();
            }
            // without skipping, text after the last special token waits (a special token would put a space before it)
            assertThat(first + second + rest).isEqualTo("你😀");
        }
    }

    @Test
    void incompleteAndInvalidBytesBecomeOneReplacementPerByte() {
        StreamingDetokenizer d = tinyA.newStreamingDetokenizer(true);
        int[] ni = byteIds("你");
        StringBuilder sb = new StringBuilder();
        sb.append(d.push(ni[0])).append(d.push(ni[1]));
        assertThat(sb).isEmpty();
        int a = tinyA.encode("a", false)[0];
        sb.append(d.push(a)); // the cut character can no longer complete
        assertThat(sb.toString()).isEqualTo("\uFFFD\uFFFDa");
        sb.append(d.push(3 + 0xFF)); // never valid: emitted at once
        assertThat(sb.toString()).isEqualTo("\uFFFD\uFFFDa\uFFFD");
        sb.append(d.flush());
        assertThat(sb.toString()).isEqualTo(tinyA.decode(new int[] {ni[0], ni[1], a, 3 + 0xFF}, true));
    }

    @Test
    void ordinaryTextIsEmittedPromptly() {
        StreamingDetokenizer d = tinyA.newStreamingDetokenizer(true);
        int[] ids = tinyA.encode("Hello world", false);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) sb.append(d.push(id));
        assertThat(sb.toString()).isEqualTo("Hello world");
        assertThat(d.flush()).isEmpty();
        // a trailing space waits: " ." would be cleaned up to "."
        StreamingDetokenizer e = tinyA.newStreamingDetokenizer(true);
        int[] space = tinyA.encode(" ", false);
        assertThat(space).hasSize(1);
        StringBuilder hi = new StringBuilder();
        for (int id : tinyA.encode("Hi", false)) hi.append(e.push(id));
        assertThat(hi.toString()).isEqualTo("Hi");
        assertThat(e.push(space[0])).isEmpty();
        assertThat(e.push(tinyA.encode(".", false)[0])).isEqualTo(".");
    }

    @Test
    void randomIdSequencesConcatenateToTheFullDecode() {
        for (InternLM2Tokenizer tok : List.of(tinyA, tinyC)) {
            Random rnd = new Random(7);
            int n = tok.vocabSize();
            List<Integer> interesting = new ArrayList<>();
            for (String t : List.of(" .", " ,", " ?", " !", " '", "'", "n't", "s", "m", "ve", "re", " ", "  ", "\n", "a", "你")) {
                for (int id : tok.encode(t, false)) interesting.add(id);
            }
            for (String t : List.of("<s>", "</s>", "<unk>", "<|im_end|>", "<|im_start|>", "<img>", "</img>", "<IMG_CONTEXT>", "<box>")) {
                interesting.add(tok.tokenId(t));
            }
            for (int iter = 0; iter < 3000; iter++) {
                int len = rnd.nextInt(40);
                int[] ids = new int[len];
                for (int i = 0; i < len; i++) {
                    double r = rnd.nextDouble();
                    ids[i] = r < 0.3 ? 3 + 128 + rnd.nextInt(128) : r < 0.7 ? interesting.get(rnd.nextInt(interesting.size())) : rnd.nextInt(n);
                }
                for (boolean skip : new boolean[] {false, true}) {
                    StreamingDetokenizer d = tok.newStreamingDetokenizer(skip);
                    StringBuilder sb = new StringBuilder();
                    for (int id : ids) sb.append(d.push(id));
                    sb.append(d.flush());
                    assertThat(sb.toString()).as("ids %s skip %s", java.util.Arrays.toString(ids), skip).isEqualTo(tok.decode(ids, skip));
                }
            }
        }
    }

    @Test
    void longGenerationIsLinear() {
        // 200k tokens through one detokenizer: it must not re-decode the whole history per token.
        int[] ids = tinyA.encode("The quick brown fox, 你好世界! It 's fine . ".repeat(10000), false);
        StreamingDetokenizer d = tinyA.newStreamingDetokenizer(true);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) sb.append(d.push(id));
        sb.append(d.flush());
        assertThat(sb.toString()).isEqualTo(tinyA.decode(ids, true));
    }
}
