package org.internvl4j.tokenizer;

/**
 * Open-addressing hash map from a UTF-8 byte range to a piece id, so the BPE loop can look up the
 * concatenation of two adjacent symbols without building a String.
 */
final class PieceTable {
    private byte[][] keys;
    private int[] ids;
    private int mask;
    private int count;
    private int maxKeyLength;

    PieceTable(int expected) {
        int cap = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
        keys = new byte[cap][];
        ids = new int[cap];
        mask = cap - 1;
    }

    private static int hash(byte[] s, int off, int len) {
        int h = 0x811C9DC5;
        for (int i = off; i < off + len; i++) {
            h = (h ^ (s[i] & 0xFF)) * 0x01000193; // FNV-1a
        }
        return h ^ (h >>> 15);
    }

    /** Adds key -> id unless the key is present; returns false when it was. */
    boolean putIfAbsent(byte[] key, int id) {
        if (2 * (count + 1) > keys.length) grow();
        int slot = hash(key, 0, key.length) & mask;
        while (keys[slot] != null) {
            if (java.util.Arrays.equals(keys[slot], key)) return false;
            slot = (slot + 1) & mask;
        }
        keys[slot] = key;
        ids[slot] = id;
        count++;
        maxKeyLength = Math.max(maxKeyLength, key.length);
        return true;
    }

    /** Doubles the table so it stays at most half full (open addressing needs free slots to terminate). */
    private void grow() {
        byte[][] oldKeys = keys;
        int[] oldIds = ids;
        keys = new byte[oldKeys.length * 2][];
        ids = new int[oldKeys.length * 2];
        mask = keys.length - 1;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] == null) continue;
            int slot = hash(oldKeys[i], 0, oldKeys[i].length) & mask;
            while (keys[slot] != null) slot = (slot + 1) & mask;
            keys[slot] = oldKeys[i];
            ids[slot] = oldIds[i];
        }
    }

    /** The id of s[off, off+len), or -1. */
    int get(byte[] s, int off, int len) {
        if (len > maxKeyLength) return -1;
        int slot = hash(s, off, len) & mask;
        byte[] k;
        while ((k = keys[slot]) != null) {
            if (k.length == len && java.util.Arrays.equals(k, 0, len, s, off, off + len)) return ids[slot];
            slot = (slot + 1) & mask;
        }
        return -1;
    }
}
