package org.internvl4j.tensor;

/**
 * Where the bytes of a block-quantized weight ({@link Q8Weight}, {@link Q4Weight}) lie.
 *
 * <p>Rows go in panels of {@value #PANEL}. A panel holds its rows' blocks column block by column block:
 * for block k, the 16 rows' fp16 scales (32 bytes), then their quants interleaved by row: byte
 * {@code 16 j + i} is row i's byte j of the block (Q8_0: the int8 q of column j; Q4_0: the low nibble
 * of column j and the high one of column j + 16, as in llama.cpp's block). Rows after the last whole
 * panel keep llama.cpp's row layout (each row cols / 32 blocks of scale then quants). Either way a
 * block takes the same bytes, so a weight has the same size, and any row's bytes start at row * rowBytes.
 *
 * <p>Why: decode multiplies every weight once. With 16 rows side by side one vector load gives a
 * column of 16 rows, one load gives their 16 scales, and the 16 sums build up in the lanes with no
 * horizontal sum and no scalar scale per row and block. On Zen 5 this ran Q8_0 at 1.5x and Q4_0 at
 * about 2.5x the row layout's weights per second on one thread (docs/PERFORMANCE.md).
 */
public final class QuantLayout {
    /** Rows per panel. */
    public static final int PANEL = 16;

    private QuantLayout() {
    }

    /** Rows that lie in whole panels: the first {@code rows - rows % 16}. */
    public static int panelRows(int rows) {
        return rows - rows % PANEL;
    }

    /** Bytes of block k of a 16-row panel (its scales and quants). */
    static long panelBlockBytes(DType t) {
        return (long) PANEL * t.blockBytes();
    }

    /** Byte offset of the fp16 scale of row r's block k in a weight of {@code rows} rows and {@code cols} columns. */
    public static long scaleAt(DType t, int rows, int cols, int r, int k) {
        long rowBytes = (long) (cols / 32) * t.blockBytes();
        if (r >= panelRows(rows)) return r * rowBytes + (long) k * t.blockBytes();
        int i = r % PANEL;
        return (r - i) * rowBytes + k * panelBlockBytes(t) + 2L * i;
    }

    /** Byte offset of byte j (0..31 for Q8_0, 0..15 for Q4_0) of row r's block k's quants. */
    public static long quantAt(DType t, int rows, int cols, int r, int k, int j) {
        long rowBytes = (long) (cols / 32) * t.blockBytes();
        if (r >= panelRows(rows)) return r * rowBytes + (long) k * t.blockBytes() + 2 + j;
        int i = r % PANEL;
        return (r - i) * rowBytes + k * panelBlockBytes(t) + 2L * PANEL + (long) PANEL * j + i;
    }
}
