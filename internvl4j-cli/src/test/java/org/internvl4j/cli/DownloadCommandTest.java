package org.internvl4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class DownloadCommandTest {

    static final String COMMIT = "1111111111222222222233333333334444444444";
    // `printf '{}' | git hash-object --stdin`
    static final String EMPTY_OBJECT_GIT_ID = "9e26dfeeb6e641a33dae4961196235bdb965b21b";
    // `printf 'weights' | sha256sum`
    static final String WEIGHTS_SHA256 = "9a129038d9a00aed0cf6a7ea059ca50a813449061ab87848cf1a13eafdf33b2c";

    @TempDir
    Path tmp;

    Run run(Map<String, String> env, String... args) {
        DownloadCommand cmd = new DownloadCommand();
        cmd.env = env;
        return Run.of(new CommandLine(cmd), args);
    }

    @Test
    void isRegisteredInMain() {
        assertThat(Main.commandLine().getSubcommands()).containsKey("download");
    }

    @Test
    void downloadsFromAHubAndPrintsTheSnapshotFolder() throws IOException {
        byte[] config = "{}".getBytes(StandardCharsets.US_ASCII);
        byte[] weights = "weights".getBytes(StandardCharsets.US_ASCII);
        String weightsSha = WEIGHTS_SHA256;
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/api/models/o/m/revision/main", ex -> {
            byte[] body = ("{\"sha\":\"" + COMMIT + "\",\"siblings\":["
                    + "{\"rfilename\":\"config.json\",\"size\":2,\"blobId\":\"" + EMPTY_OBJECT_GIT_ID + "\"},"
                    + "{\"rfilename\":\"model.safetensors\",\"size\":7,\"blobId\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
                    + "\"lfs\":{\"sha256\":\"" + weightsSha + "\",\"size\":7,\"pointerSize\":130}},"
                    + "{\"rfilename\":\"modeling.py\",\"size\":1,\"blobId\":\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}]}")
                    .getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.createContext("/o/m/resolve/" + COMMIT + "/", ex -> {
            String file = ex.getRequestURI().getPath().substring(("/o/m/resolve/" + COMMIT + "/").length());
            byte[] body = file.equals("config.json") ? config : weights;
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
        try {
            Run r = run(Map.of("HF_HOME", tmp.toString()), "o/m", "--endpoint",
                    "http://127.0.0.1:" + server.getAddress().getPort(), "--quiet");
            assertThat(r.code()).as(r.err()).isZero();
            Path snapshot = tmp.resolve("hub/models--o--m/snapshots/" + COMMIT);
            assertThat(r.out().strip()).isEqualTo(snapshot.toString());
            assertThat(Files.readAllBytes(snapshot.resolve("model.safetensors"))).isEqualTo(weights);
            assertThat(Files.readSymbolicLink(snapshot.resolve("config.json")).toString()).isEqualTo("../../blobs/" + EMPTY_OBJECT_GIT_ID);
            assertThat(snapshot.resolve("modeling.py")).doesNotExist();
            assertThat(r.err()).isEmpty();
        } finally {
            server.stop(0);
        }
    }

    @Test
    void offlineUsesACacheThatPythonLaidOut() throws IOException {
        Path repo = tmp.resolve("hub/models--o--m");
        Path snap = Files.createDirectories(repo.resolve("snapshots").resolve(COMMIT));
        Files.createDirectories(repo.resolve("blobs"));
        Files.createDirectories(repo.resolve("refs"));
        Files.writeString(repo.resolve("refs/main"), COMMIT);
        Files.writeString(repo.resolve("blobs").resolve(EMPTY_OBJECT_GIT_ID), "{}");
        Files.createSymbolicLink(snap.resolve("config.json"), Path.of("../../blobs/" + EMPTY_OBJECT_GIT_ID));

        Run r = run(Map.of("HF_HOME", tmp.toString(), "HF_HUB_OFFLINE", "1"), "o/m");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().strip()).isEqualTo(snap.toString());
        assertThat(r.err()).contains("using the cached copy").contains("HF_HUB_OFFLINE");
    }

    @Test
    void offlineWithNothingCachedFailsWithAClearMessage() {
        Run r = run(Map.of("HF_HOME", tmp.toString()), "OpenGVLab/InternVL2-8B-MPO", "--offline");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("internvl download: ").contains("not in the cache")
                .contains("internvl download OpenGVLab/InternVL2-8B-MPO");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void aBadIdOrSourceIsAUsageError() {
        Run r = run(Map.of("HF_HOME", tmp.toString()), "InternVL2-8B-MPO");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("owner/name[@revision]");
        Run s = run(Map.of("HF_HOME", tmp.toString()), "o/m", "--source", "github");
        assertThat(s.code()).isEqualTo(2);
        assertThat(s.err()).contains("unknown source 'github'");
        Run t = run(Map.of("HF_HOME", tmp.toString()), "o/m@v1", "--revision", "v2");
        assertThat(t.code()).isEqualTo(2);
        assertThat(t.err()).contains("two revisions");
    }

    @Test
    void plainProgressLinesWhenNotATerminal() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        TerminalProgress p = new TerminalProgress(new PrintStream(buf, true, StandardCharsets.UTF_8), false);
        var f = new org.internvl4j.hub.RemoteFile("model.safetensors", 2_000_000, "a".repeat(64), null);
        p.started(f, 500_000);
        p.progress(f, 1_000_000);
        p.retrying(f, "connection closed after 1000000 of 2000000 bytes");
        p.finished(f);
        String text = buf.toString(StandardCharsets.UTF_8);
        assertThat(text).contains("resuming model.safetensors at 500 kB (2.0 MB)")
                .contains("retrying model.safetensors: connection closed")
                .contains("done model.safetensors")
                .doesNotContain("\033[");
    }

    @Test
    void barsShowFractionAndSizes() {
        assertThat(TerminalProgress.line("shard", 500, 1000, -1))
                .contains("[############------------]").contains(" 50%").contains("500 B/1.0 kB");
        assertThat(TerminalProgress.line("total", 1000, 1000, -1)).contains("[########################]").contains("100%");
        assertThat(TerminalProgress.line("total", 0, 10_000_000, 1_000_000)).contains("1.0 MB/s").contains("0:00:10 left");
    }

    @Test
    void terminalBarsRedrawInPlace() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        long[] now = {0};
        TerminalProgress p = new TerminalProgress(new PrintWriter(buf, true, StandardCharsets.UTF_8), true, () -> now[0]);
        var f = new org.internvl4j.hub.RemoteFile("model-00001-of-00004.safetensors", 4_000_000, "a".repeat(64), null);
        var listing = new org.internvl4j.hub.RepoListing(org.internvl4j.hub.RepoId.parse("o/m"), "main",
                "c".repeat(40), java.util.List.of(f));
        p.planned(listing, listing.files(), 4_000_000, 0);
        p.started(f, 0);
        now[0] = 1_000_000_000L;
        p.progress(f, 1_000_000);
        p.finished(f);
        p.close();
        String text = buf.toString(StandardCharsets.UTF_8);
        assertThat(text).contains("o/m@main (cccccccccccc): 1 files, 4.0 MB")
                .contains("model-00001-of-00004.safetensors")
                .contains(" 25% 1.0 MB/4.0 MB")     // the file at 1 s
                .contains("1.0 MB/s")                // the total line's rate
                .contains("\033[2A");               // moved up over the two lines to redraw them
    }

    @Test
    void hubErrorsFromAnyCommandAreOneLine() {
        @CommandLine.Command(name = "probe")
        class Probe implements Runnable {
            @CommandLine.Mixin
            ModelOption model;

            @Override
            public void run() {
                model.resolve(org.internvl4j.hub.DownloadListener.NONE);
            }
        }
        CommandLine cl = Main.commandLine();
        cl.addSubcommand("probe", new Probe());
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        int code = cl.execute("probe", "--model", "no/such/dir");
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).startsWith("internvl probe: --model no/such/dir: no such directory")
                .doesNotContain("Exception");
    }
}
