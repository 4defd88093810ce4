package org.internvl4j.tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;

/**
 * The processor the kernels run on, from /proc/cpuinfo (Linux), for benchmark reports: its name,
 * family, the vector extensions that matter to the kernels, and the vector width the kernels took.
 */
public record CpuInfo(String model, int family, Set<String> flags, int vectorBits) {

    /** Flags worth naming in a report (the kernels' paths depend on them). */
    private static final Set<String> NOTABLE = Set.of("avx2", "fma", "avx512f", "avx512bw", "avx512_bf16", "avx512_vnni", "avx_vnni", "f16c");

    /** This machine's processor (unknown fields when /proc/cpuinfo cannot be read). */
    public static CpuInfo current() {
        String model = System.getProperty("os.arch");
        int family = -1;
        Set<String> flags = new TreeSet<>();
        try {
            boolean sawFlags = false;
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.isBlank() && sawFlags) break; // the first processor is enough
                int colon = line.indexOf(':');
                if (colon < 0) continue;
                String key = line.substring(0, colon).trim(), value = line.substring(colon + 1).trim();
                switch (key) {
                    case "model name" -> model = value;
                    case "cpu family" -> family = Integer.parseInt(value);
                    case "flags" -> {
                        sawFlags = true;
                        for (String f : value.split("\\s+")) if (NOTABLE.contains(f)) flags.add(f);
                    }
                    default -> {
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or an unusual file: report what is known
        }
        return new CpuInfo(model, family, Set.copyOf(flags), MatMul.vectorBits());
    }

    /** The processor's name with its family where known, e.g. "AMD EPYC (family 26)". */
    public String name() {
        return model + (family >= 0 ? " (family " + family + ")" : "");
    }

    /** A one-line description, e.g. "AMD EPYC (family 26), avx2 avx512f avx512_bf16 ..., kernels at 512-bit vectors". */
    public String describe() {
        return name() + ", " + String.join(" ", new TreeSet<>(flags)) + ", kernels at " + vectorBits + "-bit vectors";
    }
}
