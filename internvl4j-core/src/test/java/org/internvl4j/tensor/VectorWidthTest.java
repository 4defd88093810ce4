package org.internvl4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * The build runs the kernel tests at several vector widths (internvl4j-core/pom.xml); each run names the
 * width it means in internvl.test.vectorBits, and this checks that the kernels really run at it, so a
 * lost JVM flag cannot silently repeat one path twice.
 */
class VectorWidthTest {
    @Test
    void kernelsRunAtTheWidthThisTestRunAskedFor() {
        String expected = System.getProperty("internvl.test.vectorBits");
        assumeTrue(expected != null, "the default test run uses the JVM's preferred width");
        assertThat(MatMul.vectorBits()).isEqualTo(Integer.parseInt(expected));
        assertThat(VectorLoads.L * 32).isEqualTo(MatMul.vectorBits());
    }

    @Test
    void withoutAnOverrideTheKernelsUseThePreferredSpecies() {
        assumeTrue(System.getProperty("internvl.vector.bits") == null, "the width is forced in this run");
        assertThat(MatMul.vectorBits()).isEqualTo(FloatVector.SPECIES_PREFERRED.vectorBitSize());
    }
}
