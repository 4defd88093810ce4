package org.internvl4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** A decode step of several sequences: each token's outputs are bit for bit those of matVec on it alone. */
class BatchedDecodeTest {

    @Test
    void aFewTokensOfBf16WeightsGiveMatVecsOutputsExactly() {
        Random r = new Random(11);
        for (int cols : new int[] {64, 200, 1003}) {
            Weight w = TestData.weight(DType.BF16, r, 37, cols);
            float[] bias = TestData.gaussian(r, 37, 1);
            for (int n = 2; n <= MatMul.DECODE_MAX_TOKENS + 1; n++) {
                float[] x = TestData.gaussian(r, n * cols, 1);
                float[] y = new float[n * 37], yb = new float[n * 37];
                MatMul.matMul(w, x, n, y);
                MatMul.matMul(w, bias, x, n, yb);
                for (int t = 0; t < n; t++) {
                    float[] alone = new float[37];
                    MatMul.matVec(w, x, t * cols, alone, 0);
                    float[] row = java.util.Arrays.copyOfRange(y, t * 37, (t + 1) * 37);
                    if (n <= MatMul.DECODE_MAX_TOKENS) {
                        assertThat(row).as("cols %d, %d tokens, token %d", cols, n, t).containsExactly(alone);
                        for (int k = 0; k < 37; k++) assertThat(yb[t * 37 + k]).isEqualTo(alone[k] + bias[k]);
                    } else {
                        for (int k = 0; k < 37; k++) assertThat(row[k]).isCloseTo(alone[k], org.assertj.core.data.Offset.offset(1e-3f));
                    }
                }
            }
        }
    }
}
