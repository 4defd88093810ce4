package org.internvl4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class CpuInfoTest {
    @Test
    void namesTheProcessorItsExtensionsAndTheKernelsWidth() throws Exception {
        CpuInfo cpu = CpuInfo.current();
        assertThat(cpu.vectorBits()).isEqualTo(MatMul.vectorBits());
        assertThat(cpu.describe()).startsWith(cpu.name()).contains(cpu.model()).endsWith("kernels at " + cpu.vectorBits() + "-bit vectors");
        Path info = Path.of("/proc/cpuinfo");
        if (Files.isReadable(info)) {
            String text = Files.readString(info);
            assertThat(text).contains(cpu.model());
            assertThat(cpu.family()).isPositive();
            // the notable flags it reports are the first processor's flags
            String flags = text.lines().filter(l -> l.startsWith("flags")).findFirst().orElseThrow();
            for (String f : cpu.flags()) assertThat(flags).containsPattern("\\b" + f + "\\b");
            assertThat(cpu.flags().contains("avx512f")).isEqualTo(flags.contains(" avx512f"));
        }
    }
}
