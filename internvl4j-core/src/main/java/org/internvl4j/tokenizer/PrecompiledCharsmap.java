package org.internvl4j.tokenizer;

/**
 * NormalizerSpec.precompiled_charsmap: a little-endian uint32 trie size, a Darts-clone double-array
 * trie mapping UTF-8 prefixes to offsets, then the NUL-terminated replacement strings
 * (normalizer.cc Normalizer::DecodePrecompiledCharsMap and NormalizePrefix).
 */
final class PrecompiledCharsmap {
    private final int[] units;
    private final byte[] normalized;

    PrecompiledCharsmap(byte[] blob) {
        if (blob.length < 4) {
            throw new TokenizerException("malformed NormalizerSpec.precompiled_charsmap: " + blob.length + " bytes, need at least 4");
        }
        long trieSize = le32(blob, 0) & 0xFFFFFFFFL;
        if (trieSize % 4 != 0 || trieSize > blob.length - 4 || trieSize == 0) {
            throw new TokenizerException("malformed NormalizerSpec.precompiled_charsmap: trie size " + trieSize
                    + " does not fit the " + blob.length + "-byte blob");
        }
        units = new int[(int) (trieSize / 4)];
        for (int i = 0; i < units.length; i++) {
            units[i] = le32(blob, 4 + 4 * i);
        }
        normalized = java.util.Arrays.copyOfRange(blob, 4 + (int) trieSize, blob.length);
    }

    private static int le32(byte[] b, int o) {
        return (b[o] & 0xFF) | (b[o + 1] & 0xFF) << 8 | (b[o + 2] & 0xFF) << 16 | (b[o + 3] & 0xFF) << 24;
    }

    /**
     * Darts-clone commonPrefixSearch keeping the longest hit: returns {length, valueOffset} or null.
     * Unit layout (darts.h DoubleArrayUnit): has_leaf bit 8, value = low 31 bits,
     * label = unit & (1<<31 | 0xFF), offset = (unit >>> 10) << ((unit & (1<<9)) >>> 6).
     */
    int[] longestMatch(byte[] s, int from, int to) {
        int nodePos = 0;
        int unit = unit(nodePos);
        nodePos ^= offset(unit);
        int[] best = null;
        for (int i = from; i < to; i++) {
            int c = s[i] & 0xFF;
            nodePos ^= c;
            unit = unit(nodePos);
            if ((unit & (0x80000000 | 0xFF)) != c) break;
            nodePos ^= offset(unit);
            if (((unit >>> 8) & 1) == 1) {
                int value = unit(nodePos) & 0x7FFFFFFF;
                best = new int[] {i + 1 - from, value};
            }
        }
        return best;
    }

    private int unit(int pos) {
        if (pos < 0 || pos >= units.length) {
            throw new TokenizerException("malformed NormalizerSpec.precompiled_charsmap: trie index " + pos + " out of range");
        }
        return units[pos];
    }

    private static int offset(int unit) {
        return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
    }

    /** The replacement string at a value offset: bytes up to the next NUL. */
    byte[] replacement(int offset) {
        if (offset < 0 || offset >= normalized.length) {
            throw new TokenizerException("malformed NormalizerSpec.precompiled_charsmap: replacement offset " + offset + " out of range");
        }
        int end = offset;
        while (end < normalized.length && normalized[end] != 0) end++;
        return java.util.Arrays.copyOfRange(normalized, offset, end);
    }
}
