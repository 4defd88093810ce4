package org.internvl4j.spark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.internvl4j.chat.ChatModel;
import org.internvl4j.chat.ChatRequest;
import org.internvl4j.chat.ChatResult;
import org.internvl4j.generate.SamplingParams;
import org.internvl4j.tensor.DType;

/** Fixtures shared by the Spark tests: the tiny checkpoint, a folder of test images, and ChatModel's own answers. */
final class SparkTestSupport {
    private SparkTestSupport() {}

    static final String PROMPT = "What is in the picture?";
    static final int MAX_NEW_TOKENS = 12;
    static final int MAX_NUM = 2;
    static final List<String> IMAGES = List.of("img_a.png", "img_b.png", "frame_0.png", "frame_1.png", "frame_2.png",
            "frame_3.png");

    /** testdata/SUB, found by walking up from the module directory. */
    static Path testdata(String sub) {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path d = p.resolve("testdata").resolve(sub);
            if (Files.isDirectory(d)) return d;
        }
        throw new IllegalStateException("testdata/" + sub + " not found above " + Path.of("").toAbsolutePath());
    }

    static Path tinyModel() {
        return testdata("tiny-models/tiny-a");
    }

    /** Copies the test images into dir, plus {@code broken.png}: a PNG signature followed by garbage. */
    static void writeImages(Path dir, boolean withBroken) throws IOException {
        Files.createDirectories(dir);
        for (String name : IMAGES) Files.copy(testdata("chat").resolve(name), dir.resolve(name));
        if (withBroken) {
            byte[] bad = new byte[200];
            byte[] sig = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
            System.arraycopy(sig, 0, bad, 0, sig.length);
            Files.write(dir.resolve("broken.png"), bad);
        }
    }

    /** file name -> ChatModel's answer for that image alone, with the same prompt and settings, greedy. */
    static Map<String, ChatResult> expected(Path imageDir, String prompt) throws IOException {
        try (ChatModel chat = ChatModel.load(tinyModel())) {
            return expected(chat, imageDir, prompt);
        }
    }

    /** The same answers from the model loaded in this JVM with its linear weights quantized at load to format. */
    static Map<String, ChatResult> expected(Path imageDir, String prompt, DType format) throws IOException {
        try (ChatModel chat = ChatModel.load(tinyModel(), format)) {
            return expected(chat, imageDir, prompt);
        }
    }

    private static Map<String, ChatResult> expected(ChatModel chat, Path imageDir, String prompt) throws IOException {
        Map<String, ChatResult> out = new LinkedHashMap<>();
        var pre = CaptionPartition.preprocessor(chat, MAX_NUM);
        for (String name : IMAGES) {
            var px = pre.load(Files.readAllBytes(imageDir.resolve(name)));
            out.put(name, chat.chat(ChatRequest.of(prompt, px)
                    .withParams(SamplingParams.greedy(MAX_NEW_TOKENS, java.util.Set.of()))));
        }
        return out;
    }

    static String fileName(String pathOrUri) {
        return pathOrUri.substring(pathOrUri.lastIndexOf('/') + 1);
    }
}
