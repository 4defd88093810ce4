package org.internvl4j.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.Proxy;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ids, patterns, cache locations, proxies and token lookup: the rules shared with huggingface_hub. */
class HubBasicsTest {

    @TempDir
    Path tmp;

    @Test
    void repoIdsParseWithAndWithoutRevision() {
        RepoId plain = RepoId.parse("OpenGVLab/InternVL2-8B-MPO");
        assertThat(plain.owner()).isEqualTo("OpenGVLab");
        assertThat(plain.name()).isEqualTo("InternVL2-8B-MPO");
        assertThat(plain.revision()).isNull();
        assertThat(plain.revisionOr("main")).isEqualTo("main");
        RepoId pinned = RepoId.parse("OpenGVLab/InternVL2-8B-MPO@v1.0");
        assertThat(pinned.revision()).isEqualTo("v1.0");
        assertThat(pinned.toString()).isEqualTo("OpenGVLab/InternVL2-8B-MPO@v1.0");
    }

    @Test
    void badRepoIdsSayWhatIsExpected() {
        for (String bad : List.of("InternVL2-8B", "a/b/c", "a//b", "/abs/path", "owner/name@", "own--er/name", "owner/..", "")) {
            assertThatThrownBy(() -> RepoId.parse(bad)).as(bad)
                    .isInstanceOfSatisfying(HubException.class, e -> assertThat(e.kind()).isEqualTo(HubException.Kind.INVALID_ID))
                    .hasMessageContaining(bad.isEmpty() ? "empty" : "");
        }
        assertThatThrownBy(() -> RepoId.parse("a/b/c")).hasMessageContaining("owner/name[@revision]");
    }

    @Test
    void globsFollowFnmatch() {
        assertThat(Globs.matchesAny(List.of("*.safetensors"), "model-00001-of-00004.safetensors")).isTrue();
        assertThat(Globs.matchesAny(List.of("*.safetensors"), "model.safetensors.index.json")).isFalse();
        // fnmatch's '*' crosses '/', as in huggingface_hub allow_patterns.
        assertThat(Globs.matchesAny(List.of("*.json"), "sub/dir/config.json")).isTrue();
        assertThat(Globs.matchesAny(List.of("config.json"), "sub/config.json")).isFalse();
        assertThat(Globs.matchesAny(List.of("examples/"), "examples/a.jpg")).isTrue();
        assertThat(Globs.matchesAny(List.of("model-0000?-of-*"), "model-00003-of-00004.safetensors")).isTrue();
        assertThat(Globs.matchesAny(List.of("[!m]*"), "model.py")).isFalse();
        assertThat(Globs.matchesAny(List.of("[!m]*"), "config.json")).isTrue();
        assertThat(Globs.matchesAny(List.of("a+b(c).json"), "a+b(c).json")).isTrue();
    }

    @Test
    void theDefaultSelectionIsWhatInferenceReads() {
        List<String> inc = HubOptions.INFERENCE_FILES;
        for (String wanted : List.of("config.json", "generation_config.json", "model-00001-of-00004.safetensors",
                "model.safetensors.index.json", "tokenizer.model", "tokenizer_config.json", "added_tokens.json",
                "special_tokens_map.json", "README.md")) {
            assertThat(Globs.matchesAny(inc, wanted)).as(wanted).isTrue();
        }
        for (String unwanted : List.of("modeling_internvl_chat.py", "conversation.py", "examples/image1.jpg",
                "pytorch_model.bin", ".gitattributes")) {
            assertThat(Globs.matchesAny(inc, unwanted)).as(unwanted).isFalse();
        }
    }

    @Test
    void cacheRootFollowsHuggingFaceHubPrecedence() {
        // constants.py: HF_HUB_CACHE > HUGGINGFACE_HUB_CACHE > $HF_HOME/hub > $XDG_CACHE_HOME/huggingface/hub > ~/.cache/huggingface/hub
        assertThat(HfCache.defaultRoot(Map.of("HOME", "/home/u"))).isEqualTo(Path.of("/home/u/.cache/huggingface/hub"));
        assertThat(HfCache.defaultRoot(Map.of("HOME", "/home/u", "XDG_CACHE_HOME", "/xdg"))).isEqualTo(Path.of("/xdg/huggingface/hub"));
        assertThat(HfCache.defaultRoot(Map.of("HOME", "/home/u", "XDG_CACHE_HOME", "/xdg", "HF_HOME", "~/hf")))
                .isEqualTo(Path.of("/home/u/hf/hub"));
        assertThat(HfCache.defaultRoot(Map.of("HF_HOME", "/hf", "HUGGINGFACE_HUB_CACHE", "/legacy"))).isEqualTo(Path.of("/legacy"));
        assertThat(HfCache.defaultRoot(Map.of("HF_HOME", "/hf", "HUGGINGFACE_HUB_CACHE", "/legacy", "HF_HUB_CACHE", "/new")))
                .isEqualTo(Path.of("/new"));
    }

    @Test
    void repoFolderNameMatchesHuggingFaceHub() {
        HfCache c = new HfCache(Path.of("/c"));
        // file_download.py repo_folder_name: "models--julien-c--EsperBERTo-small"
        assertThat(c.repoDir(RepoId.parse("julien-c/EsperBERTo-small"))).isEqualTo(Path.of("/c/models--julien-c--EsperBERTo-small"));
    }

    @Test
    void refsAndCommitsResolveToSnapshots() throws Exception {
        HfCache c = new HfCache(tmp);
        RepoId r = RepoId.parse("o/n");
        String commit = "a".repeat(40);
        assertThat(c.lookup(r, "main")).isEmpty();
        Files.createDirectories(c.snapshotDir(r, commit));
        c.writeRef(r, "main", commit);
        assertThat(Files.readString(c.repoDir(r).resolve("refs/main"))).isEqualTo(commit);
        assertThat(c.lookup(r, "main")).contains(c.snapshotDir(r, commit));
        assertThat(c.lookup(r, commit)).contains(c.snapshotDir(r, commit));
        assertThat(c.lookup(r, "b".repeat(40))).isEmpty();
        // Nested paths get relative links that climb out of their folder too.
        Files.createDirectories(c.blobsDir(r));
        Files.writeString(c.blob(r, "e".repeat(40)), "x");
        c.link(r, commit, "sub/dir/f.txt", "e".repeat(40));
        assertThat(Files.readSymbolicLink(c.snapshotFile(r, commit, "sub/dir/f.txt")).toString())
                .isEqualTo("../../../../blobs/" + "e".repeat(40));
        assertThat(Files.readString(c.snapshotFile(r, commit, "sub/dir/f.txt"))).isEqualTo("x");
    }

    @Test
    void proxiesComeFromTheEnvironmentAndNoProxyIsHonoured() {
        EnvProxySelector p = EnvProxySelector.fromEnvironment(Map.of(
                "HTTPS_PROXY", "http://proxy.corp:3128",
                "http_proxy", "proxy.corp:8080",
                "NO_PROXY", "localhost, .internal.example, mirror.example:443"));
        assertThat(p.select(URI.create("https://huggingface.co/api")).getFirst().address().toString())
                .contains("proxy.corp").contains("3128");
        assertThat(p.select(URI.create("http://huggingface.co/api")).getFirst().address().toString()).contains("8080");
        assertThat(p.select(URI.create("https://a.internal.example/x")).getFirst()).isEqualTo(Proxy.NO_PROXY);
        assertThat(p.select(URI.create("https://internal.example/x")).getFirst()).isEqualTo(Proxy.NO_PROXY);
        assertThat(p.select(URI.create("https://mirror.example/x")).getFirst()).isEqualTo(Proxy.NO_PROXY);
        assertThat(p.select(URI.create("http://localhost:8000/x")).getFirst()).isEqualTo(Proxy.NO_PROXY);
        assertThat(p.select(URI.create("https://notinternal.example/x")).getFirst()).isNotEqualTo(Proxy.NO_PROXY);
        assertThat(EnvProxySelector.fromEnvironment(Map.of("HTTPS_PROXY", "http://p:1", "NO_PROXY", "*"))
                .select(URI.create("https://huggingface.co")).getFirst()).isEqualTo(Proxy.NO_PROXY);
        assertThat(EnvProxySelector.fromEnvironment(Map.of()).select(URI.create("https://huggingface.co")).getFirst())
                .isEqualTo(Proxy.NO_PROXY);
        assertThatThrownBy(() -> EnvProxySelector.fromEnvironment(Map.of("HTTPS_PROXY", "socks5://p:1080")))
                .hasMessageContaining("HTTPS_PROXY").hasMessageContaining("only HTTP proxies");
    }

    @Test
    void environmentSetsEndpointTokenAndOffline() throws Exception {
        HubOptions o = HubOptions.fromEnvironment(Map.of("HF_ENDPOINT", "https://hf-mirror.com/", "HF_TOKEN", "hf_x",
                "HF_HUB_OFFLINE", "yes", "HF_HOME", tmp.toString()));
        assertThat(o.endpoint()).isEqualTo(URI.create("https://hf-mirror.com"));
        assertThat(o.token()).isEqualTo("hf_x");
        assertThat(o.offline()).isTrue();
        assertThat(o.cacheRoot()).isEqualTo(tmp.resolve("hub"));
        assertThat(HubOptions.fromEnvironment(Map.of("HF_HUB_OFFLINE", "0")).offline()).isFalse();
        // `huggingface-cli login` keeps the token in $HF_HOME/token.
        Files.writeString(tmp.resolve("token"), "hf_from_file\n");
        assertThat(HubOptions.fromEnvironment(Map.of("HF_HOME", tmp.toString())).token()).isEqualTo("hf_from_file");
        assertThat(HubOptions.fromEnvironment(Map.of("INTERNVL_HUB_SOURCE", "modelscope", "HOME", tmp.toString())).endpoint())
                .isEqualTo(URI.create("https://www.modelscope.cn"));
        assertThatThrownBy(() -> HubOptions.fromEnvironment(Map.of("HF_ENDPOINT", "hf-mirror.com")))
                .hasMessageContaining("HF_ENDPOINT").hasMessageContaining("hf-mirror.com");
    }

    @Test
    void unsafePathsInAListingAreRefused() {
        for (String p : List.of("../evil", "a/../../evil", "/etc/passwd", "a//b")) {
            assertThatThrownBy(() -> new RemoteFile(p, 1, "0123456789abcdef", null)).as(p)
                    .isInstanceOfSatisfying(HubException.class, e -> assertThat(e.kind()).isEqualTo(HubException.Kind.BAD_RESPONSE));
        }
        assertThatThrownBy(() -> new RemoteFile("ok.json", 1, "../../x", null)).hasMessageContaining("etag");
    }

    @Test
    void sizesAreDecimal() {
        assertThat(Sizes.human(999)).isEqualTo("999 B");
        assertThat(Sizes.human(16_150_730_752L)).isEqualTo("16.2 GB");
        assertThat(Sizes.human(1_477_754)).isEqualTo("1.5 MB");
    }
}
