package org.internvl4j.tokenizer;

/**
 * SentencePiece's normalizer (normalizer.cc Normalizer::Normalize, v0.1.97) over UTF-8 bytes:
 * user-defined symbols pass through untouched, the precompiled charsmap (if any) rewrites the
 * longest matching prefix, then the whitespace rules of the spec (remove_extra_whitespaces,
 * add_dummy_prefix, escape_whitespaces: ' ' becomes U+2581).
 */
final class Normalizer {
    static final byte[] SPACE_SYMBOL = {(byte) 0xE2, (byte) 0x96, (byte) 0x81}; // U+2581 '▁'
    private static final byte[] REPLACEMENT = {(byte) 0xEF, (byte) 0xBF, (byte) 0xBD};

    private final boolean addDummyPrefix;
    private final boolean removeExtraWhitespaces;
    private final boolean escapeWhitespaces;
    private final ByteTrie userDefined;
    private final PrecompiledCharsmap charsmap;

    Normalizer(SentencePieceModel.NormalizerSpec spec, ByteTrie userDefined) {
        this.addDummyPrefix = spec.addDummyPrefix();
        this.removeExtraWhitespaces = spec.removeExtraWhitespaces();
        this.escapeWhitespaces = spec.escapeWhitespaces();
        this.userDefined = userDefined.isEmpty() ? null : userDefined;
        this.charsmap = spec.precompiledCharsmap().length == 0 ? null : new PrecompiledCharsmap(spec.precompiledCharsmap());
        if (!spec.normalizationRuleTsv().isEmpty() && charsmap == null) {
            throw new TokenizerException("NormalizerSpec.normalization_rule_tsv is set but precompiled_charsmap is empty;"
                    + " a model with an uncompiled rule TSV is not supported");
        }
    }

    /** A growable byte buffer; the normalizer and encoder share it to avoid copies. */
    static final class Bytes {
        byte[] a;
        int n;

        Bytes(int capacity) {
            a = new byte[Math.max(16, capacity)];
        }

        void add(byte b) {
            if (n == a.length) a = java.util.Arrays.copyOf(a, a.length * 2);
            a[n++] = b;
        }

        void add(byte[] src, int off, int len) {
            if (n + len > a.length) a = java.util.Arrays.copyOf(a, Math.max(a.length * 2, n + len));
            System.arraycopy(src, off, a, n, len);
            n += len;
        }

        boolean endsWith(byte[] suffix) {
            if (n < suffix.length) return false;
            for (int i = 0; i < suffix.length; i++) {
                if (a[n - suffix.length + i] != suffix[i]) return false;
            }
            return true;
        }
    }

    /** Normalizes s[0, len); returns the normalized UTF-8 bytes. */
    Bytes normalize(byte[] s, int len) {
        Bytes out = new Bytes(len + len / 2 + 8);
        // Fast path of the InternLM2 spec: identity rule, no dummy prefix, no whitespace removal.
        if (charsmap == null && !addDummyPrefix && !removeExtraWhitespaces) {
            for (int i = 0; i < len; i++) {
                byte b = s[i];
                if (b == ' ' && escapeWhitespaces) out.add(SPACE_SYMBOL, 0, 3);
                else out.add(b);
            }
            return out;
        }
        int[] piece = new int[3]; // {source kind, offset, length} of the normalized prefix
        int pos = 0;
        if (removeExtraWhitespaces) { // ignores heading spaces
            while (pos < len) {
                byte[] src = normalizePrefix(s, pos, len, piece);
                if (!(piece[2] == 1 && src[piece[1]] == ' ')) break;
                pos += piece[0];
            }
        }
        if (pos == len) return out;
        if (addDummyPrefix) appendSpace(out);
        boolean isPrevSpace = removeExtraWhitespaces;
        while (pos < len) {
            byte[] src = normalizePrefix(s, pos, len, piece);
            int off = piece[1], n = piece[2];
            if (isPrevSpace) {
                while (n > 0 && src[off] == ' ') {
                    off++;
                    n--;
                }
            }
            if (n > 0) {
                for (int i = off; i < off + n; i++) {
                    if (escapeWhitespaces && src[i] == ' ') out.add(SPACE_SYMBOL, 0, 3);
                    else out.add(src[i]);
                }
                isPrevSpace = src[off + n - 1] == ' ';
            }
            pos += piece[0];
            if (!removeExtraWhitespaces) isPrevSpace = false;
        }
        if (removeExtraWhitespaces) { // ignores trailing spaces
            byte[] space = escapeWhitespaces ? SPACE_SYMBOL : new byte[] {' '};
            while (out.endsWith(space)) out.n -= space.length;
        }
        return out;
    }

    private void appendSpace(Bytes out) {
        if (escapeWhitespaces) out.add(SPACE_SYMBOL, 0, 3);
        else out.add((byte) ' ');
    }

    /**
     * Normalizer::NormalizePrefix: fills r with {consumed input bytes, offset, length} of the output
     * and returns the array the output lies in.
     */
    private byte[] normalizePrefix(byte[] s, int pos, int len, int[] r) {
        if (userDefined != null) {
            int m = userDefined.longestMatch(s, pos, len);
            if (m > 0) {
                r[0] = m;
                r[1] = pos;
                r[2] = m;
                return s;
            }
        }
        if (charsmap != null) {
            int[] hit = charsmap.longestMatch(s, pos, len);
            if (hit != null) {
                byte[] rep = charsmap.replacement(hit[1]);
                r[0] = hit[0];
                r[1] = 0;
                r[2] = rep.length;
                return rep;
            }
        }
        int m = Utf8.validCharLength(s, pos, len);
        if (m == 0) { // malformed UTF-8: one byte becomes U+FFFD
            r[0] = 1;
            r[1] = 0;
            r[2] = 3;
            return REPLACEMENT;
        }
        r[0] = m;
        r[1] = pos;
        r[2] = m;
        return s;
    }
}
