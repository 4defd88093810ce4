package org.internvl4j.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ResponseTextTest {
    private static final List<String> IM_END = List.of("<|im_end|>");

    /** Python: text.split('<|im_end|>')[0].strip() */
    private static String python(String text) {
        int i = text.indexOf("<|im_end|>");
        return PyStrings.strip(i < 0 ? text : text.substring(0, i));
    }

    @Test
    void cutAtImEndThenPythonStrip() {
        assertThat(ResponseText.of("  Hello world \u00a0<|im_end|> more", IM_END)).isEqualTo("Hello world");
        assertThat(ResponseText.of("\u0085answer\u2028", IM_END)).isEqualTo("answer");
        assertThat(ResponseText.of(" <|im_end|>x", IM_END)).isEmpty();
        assertThat(ResponseText.of("a <|im_e", IM_END)).isEqualTo("a <|im_e");
        assertThat(ResponseText.of("stop here. STOP and more<|im_end|>", List.of("<|im_end|>", "STOP"))).isEqualTo("stop here.");
    }

    /** Any split of the text into pieces streams exactly the one-shot response. */
    @Test
    void streamedPiecesAddUpToTheResponse() {
        Random rnd = new Random(7);
        String alphabet = "ab <|im_end|>\n\u00a0\u3000é😀STOP";
        for (int trial = 0; trial < 3000; trial++) {
            StringBuilder sb = new StringBuilder();
            int len = rnd.nextInt(30);
            for (int i = 0; i < len; i++) {
                if (rnd.nextInt(8) == 0) sb.append(rnd.nextBoolean() ? "<|im_end|>" : "STOP");
                else sb.appendCodePoint(alphabet.codePointAt(alphabet.offsetByCodePoints(0, rnd.nextInt(alphabet.codePointCount(0, alphabet.length())))));
            }
            String text = sb.toString();
            List<String> stops = trial % 2 == 0 ? IM_END : List.of("<|im_end|>", "STOP");
            String expected = trial % 2 == 0 ? python(text) : ResponseText.of(text, stops);
            if (trial % 2 == 0) assertThat(ResponseText.of(text, stops)).isEqualTo(expected);
            ResponseText r = new ResponseText(stops);
            StringBuilder streamed = new StringBuilder();
            int at = 0;
            while (at < text.length()) {
                int end = Math.min(text.length(), at + 1 + rnd.nextInt(4));
                if (end < text.length() && Character.isHighSurrogate(text.charAt(end - 1))) end++;
                streamed.append(r.push(text.substring(at, end)));
                assertThat(expected).startsWith(streamed.toString());
                at = end;
            }
            streamed.append(r.finish());
            assertThat(streamed.toString()).as("text %s", text).isEqualTo(expected);
            assertThat(r.text()).isEqualTo(expected);
        }
    }
}
