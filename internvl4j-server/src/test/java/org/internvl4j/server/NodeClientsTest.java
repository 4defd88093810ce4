package org.internvl4j.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.internvl4j.chat.ChatModel;
import org.internvl4j.chat.ChatRequest;
import org.internvl4j.image.ImagePreprocessor;
import org.internvl4j.image.PixelValues;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Node clients against the server on loopback: the OpenAI Node client ({@code openai} from npm) and the chat page in
 * headless Chromium driven by Playwright. Their scripts live in src/test/node; .ci/run installs node, the npm
 * packages and Debian's chromium. Where node_modules is missing the tests skip with a message (outside CI; in CI
 * they fail), and the page test skips where Chromium is not installed.
 */
class NodeClientsTest {
    static final String KEY = "sk-node";
    static final Path NODE_DIR = Path.of("src/test/node").toAbsolutePath();
    static ChatModel chat;
    static OpenAiServer server;
    static String expected;

    @BeforeAll
    static void start() {
        chat = ChatModel.load(Http.tinyModel());
        server = OpenAiServer.start(ServerOptions.defaults(Http.tinyModel()).withPort(0).withApiKeys(List.of(KEY))
                .withServedModelName("tiny").withMaxNum(2).withSessionLen(4096), chat);
        PixelValues img = ImagePreprocessor.builder().inputSize(chat.model().imageSize()).maxNum(2).build().load(Http.image("img_a.png"));
        expected = chat.chat(ChatRequest.of("describe", img).withMaxNewTokens(12)).response();
    }

    @AfterAll
    static void stop() {
        server.close();
        chat.close();
    }

    static void requireNodeModules() {
        boolean installed = Files.isDirectory(NODE_DIR.resolve("node_modules/openai"))
                && Files.isDirectory(NODE_DIR.resolve("node_modules/playwright-core"));
        if (!installed && System.getenv("CI") != null) {
            throw new AssertionError("CI must install the node clients: npm ci --prefix " + NODE_DIR);
        }
        assumeTrue(installed, "skipped: the node clients are not installed (run: npm ci --prefix internvl4j-server/src/test/node)");
    }

    static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(NODE_DIR.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).as("finished in time").isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    @Test
    void openAiNodeClient() throws Exception {
        requireNodeModules();
        String out = run("node", "openai-client.mjs", server.baseUrl(), KEY, Http.image("img_a.png").toString(), expected);
        assertThat(out).contains("all checks passed");
    }

    @Test
    void chatPageInHeadlessChromium() throws Exception {
        requireNodeModules();
        Path chromium = null;
        for (String c : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser")) {
            if (Files.isExecutable(Path.of(c))) chromium = Path.of(c);
        }
        assumeTrue(chromium != null, "skipped: Debian's chromium is not installed (apt-get install chromium)");
        List<String> cmd = new ArrayList<>(List.of("node", "chat-page.mjs", server.baseUrl(), KEY,
                Http.image("img_a.png").toString(), chromium.toString()));
        String out = run(cmd.toArray(String[]::new));
        assertThat(out).contains("all checks passed");
    }
}
