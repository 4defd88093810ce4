package org.internvl4j.util;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzzes the .npy reader. Contract: an array whose element count matches its shape, or an
 * IllegalArgumentException whose message starts with the input's name (so the user knows which file).
 * Corpus: NpyFuzzTestInputs/read (small reference arrays from testdata/model and hand-made headers).
 */
class NpyFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void read(byte[] data) {
        Npy.Array a;
        try {
            a = Npy.read(data, "fuzz.npy");
        } catch (IllegalArgumentException e) {
            assertThat(e.getMessage()).as("error message").startsWith("fuzz.npy: ");
            return;
        }
        long n = 1;
        for (int d : a.shape()) {
            assertThat(d).as("dimension").isNotNegative();
            n *= d;
        }
        assertThat(a.data()).hasSize((int) n);
    }
}
