package org.internvl4j.testing;

/**
 * How close the engine must come to the PyTorch reference fixtures (fp32 on the same bf16 weights).
 * Each bound is the largest error measured over every parity case, on both vector widths, times a
 * margin of about 10-15x: loose enough for a change of summation order in a kernel, tight enough
 * that a wrong formula fails (docs/testing.md lists the planted bugs each bound catches).
 *
 * <p>Measured on an AMD EPYC Zen 5 (AVX-512), from the lines ModelParityTest and ChatModelTest print, with
 * {@code ./mvnw -B -ntp test -pl internvl4j-core -Dtest='ModelParityTest,ChatModelTest'}: with -Dtest the
 * build's three test runs (docs/testing.md) all run them, at 512, 256 and forced 512 bits. Re-measure
 * when a kernel changes its summation order; raise a bound only with a new measurement.
 */
public final class Tolerances {
    private Tolerances() {
    }

    /**
     * Logits: max |java - reference| / max |reference logit|. Measured at most 3.83e-6 (a_select_layer,
     * 512 bits; 3.5e-6 at 256): 13x margin. The reference itself moves by ~1e-6 between machines.
     */
    public static final double LOGITS_REL = 5e-5;

    /** Vision features (vit_embeds), max absolute difference. Measured at most 3.22e-6 (d_image, 512; 2.98e-6 at 256): 12x. */
    public static final double VISION_ABS = 4e-5;

    /**
     * Top-5 log-probabilities of every greedy step, absolute. Measured at most 3.53e-5 (a_two_images, 512;
     * 2.98e-5 at 256), 2.34e-5 through the chat API: 11x. The reference regenerated on another machine
     * moves by up to 1.2e-5.
     */
    public static final double LOGPROB_ABS = 4e-4;
}
