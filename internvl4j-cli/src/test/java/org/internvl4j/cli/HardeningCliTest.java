package org.internvl4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.internvl4j.util.Faults;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a user sees of the limits and of a full disk: one line naming the flag or the cause. */
class HardeningCliTest {
    @Test
    void serveChecksItsHeaderLimit() {
        Run r = Run.internvl("serve", "-m", Run.testdata("tiny-models").resolve("tiny-a").toString(), "--max-header-kib", "0");
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("--max-header-kib must be in 1..1048576, got 0");
    }

    @Test
    @org.junit.jupiter.api.Timeout(120) // a server that started would wait for ever
    void serveRefusesAKvBudgetTheHeapCannotHold() {
        String tiny = Run.testdata("tiny-models").resolve("tiny-a").toString();
        Run r = Run.internvl("serve", "-m", tiny, "--port", "0", "--kv-cache-gib", "100000");
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("a KV cache budget of 100000.0 GiB (--kv-cache-gib) does not fit in the Java heap")
                .contains("INTERNVL_HEAP=-Xmx");
        Run zero = Run.internvl("serve", "-m", tiny, "--port", "0", "--kv-cache-gib", "0");
        assertThat(zero.code()).isNotZero();
        assertThat(zero.err()).contains("--kv-cache-gib must be > 0, got 0.0");
    }

    @Test
    void makeTinyOnAFullDiskSaysSoAndKeepsTheOldCheckpoint(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("t");
        assertThat(Run.internvl("make-tiny", out.toString()).code()).isZero();
        byte[] shard = Files.readAllBytes(out.resolve("model-00002-of-00002.safetensors"));
        System.setProperty(Faults.DISK_FULL_AFTER, "200000");
        try {
            Run r = Run.internvl("make-tiny", "--seed", "9", out.toString());
            assertThat(r.code()).isNotZero();
            assertThat(r.err()).contains("No space left on device");
        } finally {
            System.clearProperty(Faults.DISK_FULL_AFTER);
        }
        assertThat(Files.readAllBytes(out.resolve("model-00002-of-00002.safetensors"))).isEqualTo(shard);
        assertThat(Run.internvl("inspect", out.toString()).code()).isZero();
    }
}
