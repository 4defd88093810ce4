package org.internvl4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bin/internvl with the built jar: hub ids for every model command, and stderr in order. */
class LauncherIT {
    static final String MODEL = Run.testdata("tiny-models/tiny-a").toString();

    /** An offline Hugging Face cache holding tiny-a as acme/tiny-a (the layout huggingface_hub writes). */
    static Path hubCache(Path tmp) throws Exception {
        String commit = "0123456789abcdef0123456789abcdef01234567";
        Path repo = Files.createDirectories(tmp.resolve("hub/models--acme--tiny-a"));
        Files.createDirectories(repo.resolve("refs"));
        Files.writeString(repo.resolve("refs/main"), commit);
        Path snapshot = Files.createDirectories(repo.resolve("snapshots").resolve(commit));
        try (Stream<Path> files = Files.list(Path.of(MODEL))) {
            for (Path f : files.toList()) Files.copy(f, snapshot.resolve(f.getFileName()));
        }
        return tmp.resolve("hub");
    }

    @Test
    void hubIdsWorkForInspectAndTokenize(@TempDir Path tmp) throws Exception {
        Map<String, String> env = Map.of("HF_HUB_CACHE", hubCache(tmp).toString(), "HF_HUB_OFFLINE", "1");
        Run local = Launcher.internvl(Map.of(), "inspect", "--json", "-m", MODEL);
        Run hub = Launcher.internvl(env, "inspect", "--json", "-m", "acme/tiny-a");
        assertThat(hub.code()).as(hub.err()).isZero();
        assertThat(hub.out().replaceAll("\"dir\" : \"[^\"]*\"", "")).isEqualTo(local.out().replaceAll("\"dir\" : \"[^\"]*\"", ""));

        Run tok = Launcher.bash(env, "printf '{\"text\": \"Hello world\"}\\n' | bin/internvl tokenize -m acme/tiny-a");
        Run tokLocal = Launcher.bash(Map.of(), "printf '{\"text\": \"Hello world\"}\\n' | bin/internvl tokenize --model " + MODEL);
        assertThat(tok.code()).as(tok.err()).isZero();
        assertThat(tok.out()).startsWith("{\"ids\":[1,").isEqualTo(tokLocal.out());
    }

    @Test
    void errorsArriveBeforeWhatComesNext() {
        // stderr used to pass through an asynchronous filter and could arrive after the shell's next output
        for (int i = 0; i < 3; i++) {
            Run r = Launcher.bash(Map.of(), "bin/internvl generate -m " + MODEL + " --max-new-tokens 0 hi 2>&1; echo AFTER");
            assertThat(r.out().lines().toList()).containsExactly("internvl generate: --max-new-tokens must be at least 1, got 0",
                    "see internvl generate --help", "AFTER");
        }
        Run warning = Launcher.internvl(Map.of(), "--version");
        assertThat(warning.err()).doesNotContain("incubator");
    }
}
