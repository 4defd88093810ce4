package org.internvl4j.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Downloads from a hub stand-in on 127.0.0.1 into a temporary cache. */
class HubDownloaderTest {

    static final String REPO = "OpenGVLab/Tiny-VL";
    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
    static final String TOKEN = "hf_test_token";

    // Independent expectations: `printf 'hello\n' | git hash-object --stdin` and `| sha256sum`.
    static final byte[] HELLO = "hello\n".getBytes(StandardCharsets.US_ASCII);
    static final String HELLO_GIT_ID = "ce013625030ba8dba906f756967f9e9ca394464a";
    static final String HELLO_SHA256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

    static final String SHARD1 = "model-00001-of-00002.safetensors";
    static final String SHARD2 = "model-00002-of-00002.safetensors";

    @TempDir
    Path tmp;

    FakeHub hub;
    Map<String, FakeHub.Entry> files;

    @BeforeEach
    void start() throws IOException {
        hub = new FakeHub();
        Random rnd = new Random(42);
        files = new LinkedHashMap<>();
        files.put("config.json", new FakeHub.Entry("{\"model_type\": \"internvl_chat\"}\n".getBytes(), false));
        files.put("README.md", new FakeHub.Entry(HELLO, false));
        files.put("model.safetensors.index.json", new FakeHub.Entry(
                ("{\"metadata\": {\"total_size\": 5000000}, \"weight_map\": {\"a.weight\": \"" + SHARD1
                        + "\", \"b.weight\": \"" + SHARD2 + "\"}}").getBytes(), false));
        files.put(SHARD1, new FakeHub.Entry(random(rnd, 3_000_017), true));
        files.put(SHARD2, new FakeHub.Entry(random(rnd, 2_000_000), true));
        files.put("tokenizer.model", new FakeHub.Entry(random(rnd, 300_000), true));
        files.put("modeling_internvl_chat.py", new FakeHub.Entry("import torch\n".getBytes(), false));
        files.put("examples/image1.jpg", new FakeHub.Entry(random(rnd, 50_000), true));
        hub.add(REPO, COMMIT, files);
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    static byte[] random(Random rnd, int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    HubOptions options() {
        return HubOptions.fromEnvironment(Map.of("HF_HOME", tmp.resolve("hf").toString()))
                .withEndpoint(hub.endpoint())
                .withTimeout(Duration.ofSeconds(10));
    }

    Path repoDir() {
        return tmp.resolve("hf/hub/models--OpenGVLab--Tiny-VL");
    }

    /** Records the listener calls, for assertions. */
    static final class Recorder implements DownloadListener {
        final List<String> events = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void retrying(RemoteFile file, String reason) {
            events.add("retry " + file.path() + ": " + reason);
        }

        @Override
        public void usingCache(Path snapshot, String reason) {
            events.add("cache " + snapshot.getFileName() + ": " + reason);
        }

        @Override
        public void finished(RemoteFile file) {
            events.add("done " + file.path());
        }
    }

    @Test
    void downloadsInferenceFilesIntoTheHuggingFaceCacheLayout() throws IOException {
        DownloadResult r = new HubDownloader(options().withToken(TOKEN)).download(RepoId.parse(REPO));

        Path snapshot = repoDir().resolve("snapshots").resolve(COMMIT);
        assertThat(r.snapshot()).isEqualTo(snapshot);
        assertThat(r.commit()).isEqualTo(COMMIT);
        // refs/main holds the bare commit hash, as huggingface_hub writes it.
        assertThat(Files.readString(repoDir().resolve("refs/main"))).isEqualTo(COMMIT);

        List<String> expected = List.of("config.json", "README.md", "model.safetensors.index.json", SHARD1, SHARD2, "tokenizer.model");
        assertThat(r.files()).isEqualTo(expected.size());
        for (String name : expected) {
            Path link = snapshot.resolve(name);
            assertThat(Files.isSymbolicLink(link)).as(name + " is a symlink").isTrue();
            Path target = Files.readSymbolicLink(link);
            assertThat(target.isAbsolute()).isFalse();
            assertThat(target.toString()).startsWith("../../blobs/");
            assertThat(Files.readAllBytes(link)).isEqualTo(files.get(name).content());
        }
        // Blob names: git blob id for files in git, sha256 for LFS files.
        assertThat(Files.readSymbolicLink(snapshot.resolve("README.md")).toString()).isEqualTo("../../blobs/" + HELLO_GIT_ID);
        assertThat(Files.readSymbolicLink(snapshot.resolve(SHARD1)).toString())
                .isEqualTo("../../blobs/" + FakeHub.sha256(files.get(SHARD1).content()));
        // Not needed for inference: never asked for.
        assertThat(snapshot.resolve("modeling_internvl_chat.py")).doesNotExist();
        assertThat(hub.requests("hub", "modeling_internvl_chat.py")).isEmpty();
        assertThat(hub.requests("cdn", FakeHub.sha256(files.get("examples/image1.jpg").content()))).isEmpty();
        // Nothing half-done is left behind.
        try (var s = Files.list(repoDir().resolve("blobs"))) {
            assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".incomplete"));
        }
        // The token went to the hub, never to the CDN the LFS files redirect to.
        assertThat(hub.requests("hub", "/resolve/")).isNotEmpty().allMatch(q -> ("Bearer " + TOKEN).equals(q.authorization()));
        assertThat(hub.requests("cdn", "/blobs/")).hasSize(3).allMatch(q -> q.authorization() == null);
        assertThat(r.downloadedBytes()).isEqualTo(expected.stream().mapToLong(n -> files.get(n).content().length).sum());
    }

    @Test
    void aSecondRunFetchesNothing() {
        new HubDownloader(options()).download(RepoId.parse(REPO));
        hub.requests.clear();
        DownloadResult again = new HubDownloader(options()).download(RepoId.parse(REPO));
        assertThat(again.downloadedBytes()).isZero();
        assertThat(hub.requests).allMatch(q -> q.path().startsWith("/api/models/"));
    }

    @Test
    void resumesWithARangeRequestAfterTheConnectionIsCut() throws IOException {
        long cut = 1_234_567;
        hub.cutAt.put(SHARD1, cut);
        Recorder rec = new Recorder();
        DownloadResult r = new HubDownloader(options()).download(RepoId.parse(REPO), rec);

        assertThat(Files.readAllBytes(r.snapshot().resolve(SHARD1))).isEqualTo(files.get(SHARD1).content());
        var shardRequests = hub.requests("cdn", FakeHub.sha256(files.get(SHARD1).content()));
        assertThat(shardRequests).hasSize(2);
        assertThat(shardRequests.get(0).range()).isNull();
        // It asks for the rest from what arrived before the cut (the last bytes sent may be lost with the connection).
        assertThat(rangeStart(shardRequests.get(1).range())).isPositive().isLessThanOrEqualTo(cut);
        assertThat(rec.events).anyMatch(e -> e.startsWith("retry " + SHARD1));
        // Resumed, not restarted: each byte crossed the wire once.
        long total = r.totalBytes();
        assertThat(r.downloadedBytes()).isEqualTo(total);
    }

    @Test
    void aStalledConnectionIsDroppedAndResumed() throws IOException {
        long stall = 654_321;
        hub.stallAt.put(SHARD1, stall);
        Recorder rec = new Recorder();
        DownloadResult r = new HubDownloader(options().withTimeout(Duration.ofMillis(800))).download(RepoId.parse(REPO), rec);
        assertThat(Files.readAllBytes(r.snapshot().resolve(SHARD1))).isEqualTo(files.get(SHARD1).content());
        assertThat(rec.events).anyMatch(e -> e.startsWith("retry " + SHARD1) && e.contains("no data for"));
        assertThat(rangeStart(hub.requests("cdn", FakeHub.sha256(files.get(SHARD1).content())).getLast().range()))
                .isPositive().isLessThanOrEqualTo(stall);
    }

    @Test
    void twoDownloadsOfTheSameRepositoryAtOnceShareTheWork() throws Exception {
        var pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            var a = pool.submit(() -> new HubDownloader(options()).download(RepoId.parse(REPO)));
            var b = pool.submit(() -> new HubDownloader(options()).download(RepoId.parse(REPO)));
            Path sa = a.get().snapshot();
            Path sb = b.get().snapshot();
            assertThat(sa).isEqualTo(sb);
            assertThat(Files.readAllBytes(sa.resolve(SHARD1))).isEqualTo(files.get(SHARD1).content());
            assertThat(a.get().downloadedBytes() + b.get().downloadedBytes()).isEqualTo(a.get().totalBytes());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aCutWithNoRetriesLeavesOnlyAnIncompleteFileThatTheNextRunResumes() throws IOException {
        long cut = 777_777;
        hub.cutAt.put(SHARD2, cut);
        String sha = FakeHub.sha256(files.get(SHARD2).content());

        assertThatThrownBy(() -> new HubDownloader(options().withRetries(0)).download(RepoId.parse(REPO)))
                .isInstanceOfSatisfying(HubException.class, e -> {
                    assertThat(e.kind()).isEqualTo(HubException.Kind.NETWORK);
                    assertThat(e.getMessage()).contains(SHARD2).contains("resumes");
                });
        Path partial = repoDir().resolve("blobs").resolve(sha + ".incomplete");
        assertThat(partial).exists();
        byte[] got = Files.readAllBytes(partial);
        assertThat(got.length).isPositive().isLessThanOrEqualTo((int) cut);
        assertThat(got).isEqualTo(java.util.Arrays.copyOf(files.get(SHARD2).content(), got.length));
        // Nothing that looks finished: no blob, no snapshot link, no ref.
        assertThat(repoDir().resolve("blobs").resolve(sha)).doesNotExist();
        assertThat(repoDir().resolve("snapshots").resolve(COMMIT).resolve(SHARD2)).doesNotExist();
        assertThat(repoDir().resolve("refs/main")).doesNotExist();

        hub.requests.clear();
        DownloadResult r = new HubDownloader(options()).download(RepoId.parse(REPO));
        assertThat(Files.readAllBytes(r.snapshot().resolve(SHARD2))).isEqualTo(files.get(SHARD2).content());
        assertThat(hub.requests("cdn", sha)).singleElement().extracting(FakeHub.Request::range).isEqualTo("bytes=" + got.length + "-");
        assertThat(partial).doesNotExist();
    }

    @Test
    void aChecksumMismatchRemovesTheFileAndRetriesOnce() throws IOException {
        hub.corrupt.put("tokenizer.model", 1);
        hub.corrupt.put("config.json", 1); // a git-stored file: checked by its git blob id
        Recorder rec = new Recorder();
        DownloadResult r = new HubDownloader(options()).download(RepoId.parse(REPO), rec);

        assertThat(Files.readAllBytes(r.snapshot().resolve("tokenizer.model"))).isEqualTo(files.get("tokenizer.model").content());
        assertThat(Files.readAllBytes(r.snapshot().resolve("config.json"))).isEqualTo(files.get("config.json").content());
        assertThat(rec.events).anyMatch(e -> e.startsWith("retry tokenizer.model: verification failed (SHA256"));
        assertThat(rec.events).anyMatch(e -> e.startsWith("retry config.json: verification failed (GIT_SHA1"));
        assertThat(hub.requests("cdn", FakeHub.sha256(files.get("tokenizer.model").content()))).hasSize(2)
                .allMatch(q -> q.range() == null);
    }

    @Test
    void aSecondChecksumMismatchIsAnErrorAndLeavesNoFile() throws IOException {
        hub.corrupt.put(SHARD2, 2);
        String sha = FakeHub.sha256(files.get(SHARD2).content());
        assertThatThrownBy(() -> new HubDownloader(options()).download(RepoId.parse(REPO)))
                .isInstanceOfSatisfying(HubException.class, e -> {
                    assertThat(e.kind()).isEqualTo(HubException.Kind.CHECKSUM);
                    assertThat(e.getMessage()).contains(SHARD2).contains("twice").contains(sha);
                });
        assertThat(repoDir().resolve("blobs").resolve(sha)).doesNotExist();
        assertThat(repoDir().resolve("blobs").resolve(sha + ".incomplete")).doesNotExist();
    }

    @Test
    void anUnknownRepositoryIsAClearError() {
        assertThatThrownBy(() -> new HubDownloader(options()).download(RepoId.parse("OpenGVLab/No-Such-Model")))
                .isInstanceOfSatisfying(HubException.class, e -> {
                    assertThat(e.kind()).isEqualTo(HubException.Kind.REPO_NOT_FOUND);
                    assertThat(e.getMessage()).contains("OpenGVLab/No-Such-Model").contains("not found").contains("HF_TOKEN");
                });
    }

    @Test
    void anUnknownRevisionIsAClearError() {
        assertThatThrownBy(() -> new HubDownloader(options()).download(RepoId.parse(REPO + "@v9")))
                .isInstanceOfSatisfying(HubException.class, e -> {
                    assertThat(e.kind()).isEqualTo(HubException.Kind.REVISION_NOT_FOUND);
                    assertThat(e.getMessage()).contains("'v9'").contains(REPO);
                });
    }

    @Test
    void aGatedModelNeedsAToken() throws IOException {
        hub.addGated("OpenGVLab/Gated-VL", COMMIT, files, TOKEN);
        assertThatThrownBy(() -> new HubDownloader(options()).download(RepoId.parse("OpenGVLab/Gated-VL")))
                .isInstanceOfSatisfying(HubException.class, e -> {
                    assertThat(e.kind()).isEqualTo(HubException.Kind.GATED);
                    assertThat(e.getMessage()).contains("gated").contains("HF_TOKEN").contains(hub.endpoint() + "/OpenGVLab/Gated-VL");
                });
        assertThatThrownBy(() -> new HubDownloader(options().withToken("hf_wrong")).download(RepoId.parse("OpenGVLab/Gated-VL")))
                .isInstanceOfSatisfying(HubException.class, e -> assertThat(e.getMessage()).contains("your token has no access"));

        DownloadResult r = new HubDownloader(options().withToken(TOKEN)).download(RepoId.parse("OpenGVLab/Gated-VL"));
        assertThat(Files.readAllBytes(r.snapshot().resolve(SHARD1))).isEqualTo(files.get(SHARD1).content());
    }

    @Test
    void offlineModeUsesTheCacheAndNeverTheNetwork() {
        DownloadResult online = new HubDownloader(options()).download(RepoId.parse(REPO));
        hub.requests.clear();
        Recorder rec = new Recorder();
        DownloadResult offline = new HubDownloader(
                HubOptions.fromEnvironment(Map.of("HF_HOME", tmp.resolve("hf").toString(), "HF_HUB_OFFLINE", "1"))
                        .withEndpoint(hub.endpoint()))
                .download(RepoId.parse(REPO), rec);
        assertThat(offline.snapshot()).isEqualTo(online.snapshot());
        assertThat(offline.fromCache()).isTrue();
        assertThat(hub.requests).isEmpty();
        assertThat(rec.events).anyMatch(e -> e.contains("HF_HUB_OFFLINE"));
    }

    @Test
    void offlineWithoutACachedCopyTellsHowToGetOne() {
        assertThatThrownBy(() -> new HubDownloader(options().withOffline(true)).download(RepoId.parse(REPO)))
                .isInstanceOfSatisfying(HubException.class, e -> {
                    assertThat(e.kind()).isEqualTo(HubException.Kind.NOT_CACHED);
                    assertThat(e.getMessage()).contains("HF_HUB_OFFLINE").contains("internvl download " + REPO);
                });
        assertThat(hub.requests).isEmpty();
    }

    @Test
    void whenTheNetworkIsDownTheCachedSnapshotIsUsed() {
        DownloadResult online = new HubDownloader(options()).download(RepoId.parse(REPO));
        HubOptions down = options().withEndpoint(java.net.URI.create("http://127.0.0.1:" + closedPort()));
        Recorder rec = new Recorder();
        DownloadResult r = new HubDownloader(down).download(RepoId.parse(REPO), rec);
        assertThat(r.snapshot()).isEqualTo(online.snapshot());
        assertThat(r.fromCache()).isTrue();
        assertThat(rec.events).anyMatch(e -> e.contains("unreachable"));
    }

    @Test
    void whenTheNetworkIsDownAndNothingIsCachedTheErrorSaysBoth() {
        HubOptions down = options().withEndpoint(java.net.URI.create("http://127.0.0.1:" + closedPort()));
        assertThatThrownBy(() -> new HubDownloader(down).download(RepoId.parse(REPO)))
                .isInstanceOfSatisfying(HubException.class, e -> {
                    assertThat(e.kind()).isEqualTo(HubException.Kind.NOT_CACHED);
                    assertThat(e.getMessage()).contains("cannot reach http://127.0.0.1:").contains("not in the cache");
                });
    }

    @Test
    void notEnoughFreeSpaceStopsBeforeAnyFileIsFetched() {
        assertThatThrownBy(() -> new HubDownloader(options().withUsableSpace(p -> 1_000_000)).download(RepoId.parse(REPO)))
                .isInstanceOfSatisfying(HubException.class, e -> {
                    assertThat(e.kind()).isEqualTo(HubException.Kind.DISK_FULL);
                    assertThat(e.getMessage()).contains("5.3 MB").contains("1.0 MB").contains("HF_HUB_CACHE");
                });
        assertThat(hub.requests("hub", "/resolve/")).isEmpty();
        assertThat(hub.requests("cdn", "/")).isEmpty();
    }

    /** The shard's blob is absent, its snapshot link too; what was written waits as .incomplete for the next run. */
    void assertShardNotFinished() throws IOException {
        String blob = FakeHub.sha256(files.get(SHARD1).content());
        assertThat(repoDir().resolve("blobs/" + blob)).doesNotExist();
        assertThat(repoDir().resolve("snapshots/" + COMMIT + "/" + SHARD1)).doesNotExist();
        try (var s = Files.list(repoDir().resolve("blobs"))) {
            assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
        }
    }

    @Test
    void aDiskThatFillsMidDownloadLeavesNoFinishedLookingFileAndResumes() throws IOException {
        System.setProperty(org.internvl4j.util.Faults.DISK_FULL_AFTER, "1000000"); // injected: works on any machine
        try {
            assertThatThrownBy(() -> new HubDownloader(options()).download(RepoId.parse(REPO)))
                    .isInstanceOfSatisfying(HubException.class, e -> {
                        assertThat(e.kind()).isEqualTo(HubException.Kind.DISK_FULL);
                        assertThat(e.getMessage()).contains("the disk filled up").contains("the download resumes");
                    });
        } finally {
            System.clearProperty(org.internvl4j.util.Faults.DISK_FULL_AFTER);
        }
        assertShardNotFinished();
        DownloadResult r = new HubDownloader(options()).download(RepoId.parse(REPO));
        assertThat(Files.readAllBytes(r.snapshot().resolve(SHARD1))).isEqualTo(files.get(SHARD1).content());
    }

    @Test
    void aRealFullDiskMidDownload() throws Exception {
        try (org.internvl4j.testing.Tmpfs fs = org.internvl4j.testing.Tmpfs.mount(tmp.resolve("hf"), 2048)) {
            // the space check before downloading would refuse at once; pretend it passed, as when another writer
            // fills the disk during the download
            HubOptions o = options().withUsableSpace(p -> Long.MAX_VALUE);
            assertThatThrownBy(() -> new HubDownloader(o).download(RepoId.parse(REPO)))
                    .isInstanceOfSatisfying(HubException.class, e -> assertThat(e.kind()).isEqualTo(HubException.Kind.DISK_FULL));
            assertShardNotFinished();
        }
    }

    @Test
    void noSpaceLeftOnDeviceIsRecognised() {
        assertThat(HubDownloader.isDiskFull(new IOException("write", new IOException("No space left on device")))).isTrue();
        assertThat(HubDownloader.isDiskFull(new IOException("Connection reset"))).isFalse();
    }

    @Test
    void includePatternsReplaceTheDefaultSelection() {
        DownloadResult r = new HubDownloader(options().withIncludes(List.of("*.json", "examples/"))).download(RepoId.parse(REPO));
        assertThat(r.snapshot().resolve("config.json")).exists();
        assertThat(r.snapshot().resolve("model.safetensors.index.json")).exists();
        assertThat(r.snapshot().resolve("examples/image1.jpg")).exists();
        assertThat(r.snapshot().resolve(SHARD1)).doesNotExist();
        assertThat(r.files()).isEqualTo(3);
    }

    @Test
    void aPatternThatMatchesNothingListsWhatThereIs() {
        assertThatThrownBy(() -> new HubDownloader(options().withIncludes(List.of("*.gguf"))).download(RepoId.parse(REPO)))
                .isInstanceOfSatisfying(HubException.class, e -> {
                    assertThat(e.kind()).isEqualTo(HubException.Kind.ENTRY_NOT_FOUND);
                    assertThat(e.getMessage()).contains("*.gguf").contains("config.json");
                });
    }

    @Test
    void aCheckpointThatPythonDownloadedIsUsedAsItIs() throws IOException {
        // Lay out the cache as huggingface_hub's hf_hub_download does, by hand.
        Path repoDir = repoDir();
        Path blobs = Files.createDirectories(repoDir.resolve("blobs"));
        Path snap = Files.createDirectories(repoDir.resolve("snapshots").resolve(COMMIT));
        Files.createDirectories(repoDir.resolve("refs"));
        Files.writeString(repoDir.resolve("refs/main"), COMMIT);
        for (String name : List.of("config.json", "README.md", "model.safetensors.index.json", SHARD1, SHARD2, "tokenizer.model")) {
            FakeHub.Entry e = files.get(name);
            String etag = e.lfs() ? FakeHub.sha256(e.content()) : FakeHub.gitBlobId(e.content());
            Files.write(blobs.resolve(etag), e.content());
            Files.createSymbolicLink(snap.resolve(name), Path.of("../../blobs/" + etag));
        }
        DownloadResult r = new HubDownloader(options()).download(RepoId.parse(REPO));
        assertThat(r.snapshot()).isEqualTo(snap);
        assertThat(r.downloadedBytes()).isZero();
        assertThat(hub.requests("hub", "/resolve/")).isEmpty();
        assertThat(hub.requests("cdn", "/")).isEmpty();
    }

    @Test
    void aPinnedCommitNeedsNoRef() throws IOException {
        DownloadResult r = new HubDownloader(options()).download(RepoId.parse(REPO + "@" + COMMIT));
        assertThat(r.snapshot()).isEqualTo(repoDir().resolve("snapshots").resolve(COMMIT));
        assertThat(repoDir().resolve("refs")).doesNotExist();
        assertThat(hub.requests("hub", "/resolve/")).allMatch(q -> q.path().contains("/resolve/" + COMMIT + "/"));
    }

    @Test
    void requestsGoThroughTheProxyFromTheEnvironment() {
        // The stand-in answers absolute-form requests, so it can play the proxy for a hub that does not resolve.
        HubOptions viaProxy = HubOptions.fromEnvironment(Map.of(
                        "HF_HOME", tmp.resolve("hf").toString(),
                        "HF_ENDPOINT", "http://hub.example.invalid",
                        "HTTP_PROXY", "http://127.0.0.1:" + hub.hub.getAddress().getPort()))
                .withIncludes(List.of("config.json", "README.md"));
        DownloadResult r = new HubDownloader(viaProxy).download(RepoId.parse(REPO));
        assertThat(r.files()).isEqualTo(2);
        assertThat(hub.requests("hub", "/")).isNotEmpty().allMatch(q -> "hub.example.invalid".equals(q.host()));
    }

    @Test
    void modelScopeDownloadsIntoTheSameLayout() throws IOException {
        hub.corrupt.put("config.json", 1);
        HubOptions ms = HubOptions.forSource(Source.MODELSCOPE, Map.of("MODELSCOPE_CACHE", tmp.resolve("ms").toString()))
                .withEndpoint(hub.endpoint());
        Recorder rec = new Recorder();
        DownloadResult r = new HubDownloader(ms).download(RepoId.parse(REPO), rec);
        Path repoDir = tmp.resolve("ms/internvl4j/models--OpenGVLab--Tiny-VL");
        assertThat(r.snapshot()).isEqualTo(repoDir.resolve("snapshots/master"));
        for (String name : List.of("config.json", "README.md", SHARD1, SHARD2, "tokenizer.model")) {
            assertThat(Files.readAllBytes(r.snapshot().resolve(name))).isEqualTo(files.get(name).content());
        }
        // ModelScope gives sha256 for every file, so README.md is named by it here.
        assertThat(Files.readSymbolicLink(r.snapshot().resolve("README.md")).toString()).isEqualTo("../../blobs/" + HELLO_SHA256);
        assertThat(rec.events).anyMatch(e -> e.startsWith("retry config.json: verification failed (SHA256"));
        assertThat(hub.requests("hub", "/api/v1/models/OpenGVLab/Tiny-VL/repo/files")).singleElement()
                .extracting(FakeHub.Request::path).asString().contains("Revision=master").contains("Recursive=true");
    }

    @Test
    void modelScopeUnknownRepositoryIsAClearError() {
        HubOptions ms = HubOptions.forSource(Source.MODELSCOPE, Map.of("MODELSCOPE_CACHE", tmp.resolve("ms").toString()))
                .withEndpoint(hub.endpoint());
        assertThatThrownBy(() -> new HubDownloader(ms).download(RepoId.parse("nobody/nothing")))
                .isInstanceOfSatisfying(HubException.class, e -> {
                    assertThat(e.kind()).isEqualTo(HubException.Kind.REPO_NOT_FOUND);
                    assertThat(e.getMessage()).contains("nobody/nothing").contains("model not exist");
                });
    }

    static long rangeStart(String range) {
        assertThat(range).matches("bytes=\\d+-");
        return Long.parseLong(range.substring(6, range.length() - 1));
    }

    static int closedPort() {
        try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- faults of the server: error statuses, and resumes answered wrongly ----

    @Test
    void serverErrorsRateLimitsAndTimeoutsAreRetriedUntilTheFileArrives() throws IOException {
        hub.failNext(SHARD1, new FakeHub.Status(503, null), new FakeHub.Status(429, "1"), new FakeHub.Status(408, null));
        hub.failNext("config.json", new FakeHub.Status(500, null)); // a git-stored file, answered by the hub itself
        Recorder rec = new Recorder();
        DownloadResult r = new HubDownloader(options()).download(RepoId.parse(REPO), rec);

        assertThat(Files.readAllBytes(r.snapshot().resolve(SHARD1))).isEqualTo(files.get(SHARD1).content());
        assertThat(Files.readAllBytes(r.snapshot().resolve("config.json"))).isEqualTo(files.get("config.json").content());
        // three error answers, then the file: the default 3 retries are just enough
        assertThat(hub.requests("cdn", FakeHub.sha256(files.get(SHARD1).content()))).hasSize(4);
        for (int code : new int[] {503, 429, 408}) {
            assertThat(rec.events).anyMatch(e -> e.startsWith("retry " + SHARD1) && e.contains("answered " + code));
        }
        assertThat(rec.events).anyMatch(e -> e.startsWith("retry config.json") && e.contains("answered 500"));
        assertThat(r.downloadedBytes()).isEqualTo(r.totalBytes());
    }

    @Test
    void persistentServerErrorsExhaustTheRetriesWithAClearError() {
        FakeHub.Status busy = new FakeHub.Status(503, "1");
        hub.failNext("tokenizer.model", busy, busy, busy, busy, busy);
        String sha = FakeHub.sha256(files.get("tokenizer.model").content());
        assertThatThrownBy(() -> new HubDownloader(options().withRetries(2)).download(RepoId.parse(REPO)))
                .isInstanceOfSatisfying(HubException.class, e -> {
                    assertThat(e.kind()).isEqualTo(HubException.Kind.NETWORK);
                    assertThat(e.getMessage()).contains("tokenizer.model").contains("failed after 3 attempts").contains("503");
                });
        assertThat(hub.requests("cdn", sha)).hasSize(3);
        assertThat(repoDir().resolve("blobs").resolve(sha)).doesNotExist();
        assertThat(repoDir().resolve("refs/main")).doesNotExist();
    }

    @Test
    void aServerThatIgnoresRangeOnResumeGetsTheWholeFileWrittenFromTheStart() throws IOException {
        long cut = 1_234_567;
        hub.cutAt.put(SHARD1, cut);
        hub.ignoreRange.put(SHARD1, 1);
        DownloadResult r = new HubDownloader(options()).download(RepoId.parse(REPO));

        // appended after the partial file, the 200's body would duplicate the prefix and fail the checks
        assertThat(Files.readAllBytes(r.snapshot().resolve(SHARD1))).isEqualTo(files.get(SHARD1).content());
        var shard = hub.requests("cdn", FakeHub.sha256(files.get(SHARD1).content()));
        assertThat(shard).hasSize(2);
        assertThat(rangeStart(shard.get(1).range())).isPositive().isLessThanOrEqualTo(cut);
        assertThat(r.downloadedBytes()).isGreaterThan(r.totalBytes()); // the prefix crossed the wire twice
    }

    @Test
    void aMismatchedContentRangeOnResumeRestartsTheFileFromScratch() throws IOException {
        hub.cutAt.put(SHARD2, 777_777L);
        hub.wrongContentRange.put(SHARD2, 1);
        Recorder rec = new Recorder();
        DownloadResult r = new HubDownloader(options()).download(RepoId.parse(REPO), rec);

        assertThat(Files.readAllBytes(r.snapshot().resolve(SHARD2))).isEqualTo(files.get(SHARD2).content());
        var shard = hub.requests("cdn", FakeHub.sha256(files.get(SHARD2).content()));
        assertThat(shard).extracting(FakeHub.Request::range).hasSize(3).first().isNull();
        assertThat(shard.get(1).range()).startsWith("bytes=");
        assertThat(shard.get(2).range()).as("after a wrong Content-Range the partial file is dropped").isNull();
        assertThat(rec.events).anyMatch(e -> e.startsWith("retry " + SHARD2) && e.contains("Content-Range 'bytes 0-"));
    }

    @Test
    void a416OnResumeRestartsTheFileFromScratch() throws IOException {
        hub.cutAt.put(SHARD2, 777_777L);
        hub.refuseRange.put(SHARD2, 1);
        Recorder rec = new Recorder();
        DownloadResult r = new HubDownloader(options()).download(RepoId.parse(REPO), rec);

        assertThat(Files.readAllBytes(r.snapshot().resolve(SHARD2))).isEqualTo(files.get(SHARD2).content());
        var shard = hub.requests("cdn", FakeHub.sha256(files.get(SHARD2).content()));
        assertThat(shard).hasSize(3);
        assertThat(shard.get(1).range()).startsWith("bytes=");
        assertThat(shard.get(2).range()).isNull();
        assertThat(rec.events).anyMatch(e -> e.startsWith("retry " + SHARD2) && e.contains("refused range"));
        assertThat(repoDir().resolve("blobs").resolve(FakeHub.sha256(files.get(SHARD2).content()) + ".incomplete")).doesNotExist();
    }

    @Test
    void modelScopeRetriesServerErrorsAndRateLimitsToo() throws IOException {
        hub.failNext("README.md", new FakeHub.Status(502, null), new FakeHub.Status(429, "2"));
        hub.failNext(SHARD1, new FakeHub.Status(503, null));
        HubOptions ms = HubOptions.forSource(Source.MODELSCOPE, Map.of("MODELSCOPE_CACHE", tmp.resolve("ms").toString()))
                .withEndpoint(hub.endpoint());
        Recorder rec = new Recorder();
        DownloadResult r = new HubDownloader(ms).download(RepoId.parse(REPO), rec);
        assertThat(Files.readAllBytes(r.snapshot().resolve("README.md"))).isEqualTo(HELLO);
        assertThat(Files.readAllBytes(r.snapshot().resolve(SHARD1))).isEqualTo(files.get(SHARD1).content());
        assertThat(rec.events).anyMatch(e -> e.startsWith("retry README.md") && e.contains("ModelScope answered 502"));
        assertThat(rec.events).anyMatch(e -> e.startsWith("retry README.md") && e.contains("ModelScope answered 429"));
        assertThat(rec.events).anyMatch(e -> e.startsWith("retry " + SHARD1) && e.contains("ModelScope answered 503"));
    }

    @Test
    void modelScopeResumesPastAServerThatIgnoresRange() throws IOException {
        hub.cutAt.put(SHARD2, 500_000L);
        hub.ignoreRange.put(SHARD2, 1);
        HubOptions ms = HubOptions.forSource(Source.MODELSCOPE, Map.of("MODELSCOPE_CACHE", tmp.resolve("ms").toString()))
                .withEndpoint(hub.endpoint());
        DownloadResult r = new HubDownloader(ms).download(RepoId.parse(REPO));
        assertThat(Files.readAllBytes(r.snapshot().resolve(SHARD2))).isEqualTo(files.get(SHARD2).content());
        assertThat(hub.requests("cdn", FakeHub.sha256(files.get(SHARD2).content()))).hasSize(2);
    }
}
