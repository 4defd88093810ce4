package org.internvl4j.tokenizer;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;

/**
 * Minimal protobuf wire-format reader (https://protobuf.dev/programming-guides/encoding/):
 * enough for sentencepiece_model.proto. Every error names the message being read and the byte offset.
 */
final class ProtoReader {
    static final int VARINT = 0, FIXED64 = 1, LEN = 2, FIXED32 = 5;

    private final byte[] buf;
    private final String what;
    private int pos;
    private final int end;

    ProtoReader(byte[] buf, int start, int end, String what) {
        this.buf = buf;
        this.pos = start;
        this.end = end;
        this.what = what;
    }

    boolean hasMore() {
        return pos < end;
    }

    int position() {
        return pos;
    }

    /** The raw bytes [from, to) of the underlying buffer, to keep fields this reader does not model. */
    byte[] slice(int from, int to) {
        return java.util.Arrays.copyOfRange(buf, from, to);
    }

    /** Reads a tag; returns field number << 3 | wire type. */
    int readTag() {
        long tag = readVarint();
        int field = (int) (tag >>> 3);
        if (field <= 0 || tag >>> 3 > 0x1FFFFFFFL) {
            throw error("invalid field number " + (tag >>> 3));
        }
        int type = (int) (tag & 7);
        if (type != VARINT && type != FIXED64 && type != LEN && type != FIXED32) {
            throw error("unsupported wire type " + type + " for field " + field);
        }
        return (int) tag;
    }

    long readVarint() {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= end) {
                throw error("truncated varint");
            }
            byte b = buf[pos++];
            result |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                return result;
            }
        }
        throw error("varint longer than 10 bytes");
    }

    int readInt32() {
        return (int) readVarint();
    }

    boolean readBool() {
        return readVarint() != 0;
    }

    float readFloat() {
        return Float.intBitsToFloat(readFixed32());
    }

    int readFixed32() {
        if (end - pos < 4) {
            throw error("truncated fixed32");
        }
        int v = (buf[pos] & 0xFF) | (buf[pos + 1] & 0xFF) << 8 | (buf[pos + 2] & 0xFF) << 16 | (buf[pos + 3] & 0xFF) << 24;
        pos += 4;
        return v;
    }

    /** Reads a length prefix and returns a reader over that many bytes, advancing past them. */
    ProtoReader readMessage(String childWhat) {
        int len = readLength();
        ProtoReader child = new ProtoReader(buf, pos, pos + len, childWhat);
        pos += len;
        return child;
    }

    byte[] readBytes() {
        int len = readLength();
        byte[] out = java.util.Arrays.copyOfRange(buf, pos, pos + len);
        pos += len;
        return out;
    }

    String readString(String field) {
        int len = readLength();
        try {
            String s = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(buf, pos, len)).toString();
            pos += len;
            return s;
        } catch (CharacterCodingException e) {
            throw error("field " + field + " is not valid UTF-8");
        }
    }

    private int readLength() {
        long len = readVarint();
        if (len < 0 || len > end - pos) {
            throw error("length " + len + " runs past the end of the message (" + (end - pos) + " bytes left)");
        }
        return (int) len;
    }

    void skip(int tag) {
        switch (tag & 7) {
            case VARINT -> readVarint();
            case FIXED64 -> {
                if (end - pos < 8) throw error("truncated fixed64");
                pos += 8;
            }
            case LEN -> {
                int len = readLength();
                pos += len;
            }
            case FIXED32 -> {
                if (end - pos < 4) throw error("truncated fixed32");
                pos += 4;
            }
            default -> throw error("unsupported wire type " + (tag & 7));
        }
    }

    /** Checks that a field arrived with the wire type its declaration needs. */
    void expect(int tag, int wireType, String field) {
        if ((tag & 7) != wireType) {
            throw error("field " + field + " has wire type " + (tag & 7) + ", expected " + wireType);
        }
    }

    TokenizerException error(String message) {
        return new TokenizerException("malformed " + what + " at byte " + pos + ": " + message);
    }
}
