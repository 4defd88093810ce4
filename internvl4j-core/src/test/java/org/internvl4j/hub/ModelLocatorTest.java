package org.internvl4j.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelLocatorTest {

    static final String COMMIT = "fedcba9876543210fedcba9876543210fedcba98";

    @TempDir
    Path tmp;

    FakeHub hub;

    @BeforeEach
    void start() throws IOException {
        hub = new FakeHub();
        Map<String, FakeHub.Entry> files = new LinkedHashMap<>();
        files.put("config.json", new FakeHub.Entry("{}".getBytes(), false));
        files.put("model.safetensors.index.json", new FakeHub.Entry(
                "{\"weight_map\": {\"x\": \"model-00001-of-00001.safetensors\"}}".getBytes(), false));
        files.put("model-00001-of-00001.safetensors", new FakeHub.Entry(new byte[1000], true));
        hub.add("OpenGVLab/Tiny-VL", COMMIT, files);
        // A repository whose index names a shard it does not have.
        Map<String, FakeHub.Entry> broken = new LinkedHashMap<>(files);
        broken.put("model.safetensors.index.json", new FakeHub.Entry(
                "{\"weight_map\": {\"x\": \"model-00001-of-00001.safetensors\", \"y\": \"model-00002-of-00002.safetensors\"}}".getBytes(), false));
        hub.add("OpenGVLab/Broken-VL", COMMIT, broken);
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    HubOptions options() {
        return HubOptions.fromEnvironment(Map.of("HF_HOME", tmp.resolve("hf").toString()))
                .withEndpoint(hub.endpoint()).withTimeout(Duration.ofSeconds(10));
    }

    @Test
    void aDirectoryIsUsedAsItIs() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("my-model"));
        assertThat(ModelLocator.resolve(dir.toString(), options(), DownloadListener.NONE)).isEqualTo(dir.toAbsolutePath());
        assertThat(hub.requests).isEmpty();
    }

    @Test
    void aHubIdIsDownloadedOnceAndThenFoundOffline() {
        Path first = ModelLocator.resolve("OpenGVLab/Tiny-VL", options(), DownloadListener.NONE);
        assertThat(first).isEqualTo(tmp.resolve("hf/hub/models--OpenGVLab--Tiny-VL/snapshots/" + COMMIT));
        assertThat(first.resolve("model-00001-of-00001.safetensors")).hasSize(1000);
        hub.requests.clear();
        Path again = ModelLocator.resolve("OpenGVLab/Tiny-VL", options().withOffline(true), DownloadListener.NONE);
        assertThat(again).isEqualTo(first);
        assertThat(hub.requests).isEmpty();
    }

    @Test
    void aDownloadedTinyCheckpointOpensThroughTheSnapshotSymlinks() throws IOException {
        Path source = tmp.resolve("tiny-a");
        org.internvl4j.checkpoint.TinyCheckpoint.write(source);
        Map<String, FakeHub.Entry> files = new LinkedHashMap<>();
        try (var list = Files.list(source)) {
            for (Path f : list.sorted().toList()) {
                String name = f.getFileName().toString();
                files.put(name, new FakeHub.Entry(Files.readAllBytes(f), name.endsWith(".safetensors")));
            }
        }
        hub.add("OpenGVLab/Tiny-A", COMMIT, files);

        Path dir = ModelLocator.resolve("OpenGVLab/Tiny-A", options(), DownloadListener.NONE);
        assertThat(Files.isSymbolicLink(dir.resolve(org.internvl4j.checkpoint.TinyCheckpoint.SHARD_1))).isTrue();
        try (var downloaded = org.internvl4j.checkpoint.Checkpoint.open(dir);
                var original = org.internvl4j.checkpoint.Checkpoint.open(source)) {
            assertThat(downloaded.config()).isEqualTo(original.config());
        }
    }

    @Test
    void aFileOrAMissingPathIsNotTakenForAHubId() throws IOException {
        Path file = Files.writeString(tmp.resolve("config.json"), "{}");
        assertThatThrownBy(() -> ModelLocator.resolve(file.toString(), options(), DownloadListener.NONE))
                .hasMessageContaining("is a file").hasMessageContaining("config.json");
        assertThatThrownBy(() -> ModelLocator.resolve("./models/tiny", options(), DownloadListener.NONE))
                .hasMessageContaining("no such directory");
        assertThatThrownBy(() -> ModelLocator.resolve("models/tiny/v1", options(), DownloadListener.NONE))
                .hasMessageContaining("no such directory").hasMessageContaining("owner/name[@revision]");
        assertThat(hub.requests).isEmpty();
    }

    @Test
    void aSnapshotWithoutAllShardsIsReported() {
        assertThatThrownBy(() -> ModelLocator.resolve("OpenGVLab/Broken-VL", options(), DownloadListener.NONE))
                .isInstanceOfSatisfying(HubException.class, e -> assertThat(e.getMessage())
                        .contains("model-00002-of-00002.safetensors").doesNotContain("model-00001-of-00001.safetensors"));
    }

    @Test
    void anIncompleteCachedSnapshotOfflineSaysHowToComplete() throws IOException {
        ModelLocator.resolve("OpenGVLab/Tiny-VL", options(), DownloadListener.NONE);
        Path snap = tmp.resolve("hf/hub/models--OpenGVLab--Tiny-VL/snapshots/" + COMMIT);
        // Remove the blob under a link: the link dangles, as after a partial copy of a cache.
        Path blob = snap.resolve(Files.readSymbolicLink(snap.resolve("model-00001-of-00001.safetensors")));
        Files.delete(blob);
        assertThatThrownBy(() -> ModelLocator.resolve("OpenGVLab/Tiny-VL", options().withOffline(true), DownloadListener.NONE))
                .hasMessageContaining("model-00001-of-00001.safetensors").hasMessageContaining("internvl download OpenGVLab/Tiny-VL");
    }
}
