package org.internvl4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Encoding and decoding speed on a long mixed English/Chinese text (a benchmark, not a test).
 *
 * <pre>
 * java -cp "internvl4j-cli/target/lib/*" org.internvl4j.tokenizer.TokenizerBenchmark TOKENIZER_DIR [MB] [--write-text FILE]
 * </pre>
 * TOKENIZER_DIR holds tokenizer.model (+ the HF JSON files), or tokenizer.json (byte-level BPE; see
 * {@link Tokenizer#load}). Single thread; prints the load time, then the median of 7 runs
 * after warm-up. --write-text saves the text so a peer (scripts/bench/tokenizer_peer.py) can time the same bytes.
 */
public final class TokenizerBenchmark {
    private TokenizerBenchmark() {
    }

    private static final String[] ENGLISH = {
        "The quick brown fox jumps over the lazy dog while the cat watches from the window sill.",
        "Vision-language models read an image as a grid of patches and answer questions about it.",
        "Please describe the picture in detail, including the colours, the objects and their positions.",
        "In 2024 the model was trained on 1,000,000 image-text pairs; it's faster than before.",
        "def tokenize(text: str) -> list[int]:\n    return [bos] + sp.encode(text)\n",
    };
    private static final String[] CHINESE = {
        "你是由上海人工智能实验室联合商汤科技开发的书生多模态大模型，英文名叫InternVL，是一个有用无害的人工智能助手。",
        "这张图片显示了一只坐在窗台上的猫，它正看着花园里的小鸟。",
        "请详细描述这张图片，包括颜色、物体以及它们的位置。",
        "多模态大模型能够理解图像和文本，并根据用户的问题给出回答。",
        "今天天气很好，我们去公园散步吧！",
    };

    /** Deterministic mixed text of about mb megabytes of UTF-8 (roughly half English, half Chinese bytes). */
    static String mixedText(double mb) {
        StringBuilder sb = new StringBuilder();
        long seed = 12345;
        int bytes = 0;
        while (bytes < mb * 1_000_000) {
            seed = seed * 6364136223846793005L + 1442695040888963407L;
            int k = (int) ((seed >>> 33) % 5);
            String s = ((seed >>> 20) & 1) == 0 ? ENGLISH[k] : CHINESE[k];
            sb.append(s).append(((seed >>> 40) & 3) == 0 ? "\n\n" : " ");
            bytes += s.getBytes(StandardCharsets.UTF_8).length + 1;
        }
        return sb.toString();
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: TokenizerBenchmark TOKENIZER_DIR [MB] [--write-text FILE]");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        double mb = args.length > 1 && !args[1].startsWith("--") ? Double.parseDouble(args[1]) : 1.0;
        long l0 = System.nanoTime();
        Tokenizer tok = Tokenizer.load(dir);
        System.out.printf("%s loaded in %.0f ms%n", tok.getClass().getSimpleName(), (System.nanoTime() - l0) / 1e6);
        String text = mixedText(mb);
        int n = text.getBytes(StandardCharsets.UTF_8).length;
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals("--write-text")) Files.writeString(Path.of(args[i + 1]), text);
        }
        List<String> lines = new ArrayList<>(Arrays.asList(text.split("(?<=[.。！!])\\s*")));
        lines.removeIf(String::isEmpty);
        int[] ids = tok.encode(text);
        System.out.printf("text: %.2f MB UTF-8, %d chars, %d tokens (%.2f bytes/token), %d sentences%n",
                n / 1e6, text.length(), ids.length, (double) n / ids.length, lines.size());

        double whole = median(7, () -> tok.encode(text));
        double perLine = median(7, () -> {
            for (String l : lines) tok.encode(l);
        });
        double dec = median(7, () -> tok.decode(ids, true));
        double stream = median(7, () -> {
            Detokenizer d = tok.newStreamingDetokenizer(true);
            for (int id : ids) d.push(id);
            d.flush();
        });
        System.out.printf("encode, one string:           %7.2f MB/s  (%.0f ms)%n", n / 1e6 / whole, whole * 1e3);
        System.out.printf("encode, sentence by sentence: %7.2f MB/s  (%.0f ms)%n", n / 1e6 / perLine, perLine * 1e3);
        System.out.printf("decode (skip special):        %7.2f MB/s  (%.0f ms, %.2f M tokens/s)%n", n / 1e6 / dec, dec * 1e3, ids.length / dec / 1e6);
        System.out.printf("streaming detokenizer:        %7.2f MB/s  (%.0f ms, %.2f M tokens/s)%n", n / 1e6 / stream, stream * 1e3, ids.length / stream / 1e6);
    }

    private static double median(int runs, Runnable r) {
        for (int i = 0; i < 3; i++) r.run(); // warm-up
        double[] t = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            r.run();
            t[i] = (System.nanoTime() - t0) / 1e9;
        }
        Arrays.sort(t);
        return t[runs / 2];
    }
}
