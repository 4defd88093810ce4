package org.internvl4j.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Minimal protobuf wire-format writer, the counterpart of {@link ProtoReader}. */
final class ProtoWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    byte[] toByteArray() {
        return out.toByteArray();
    }

    private void tag(int field, int wireType) {
        varint((long) field << 3 | wireType);
    }

    private void varint(long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    /** int32 fields are sign-extended to 64 bits on the wire, as protobuf does. */
    void int32(int field, int value) {
        tag(field, ProtoReader.VARINT);
        varint(value);
    }

    void bool(int field, boolean value) {
        tag(field, ProtoReader.VARINT);
        varint(value ? 1 : 0);
    }

    void float32(int field, float value) {
        tag(field, ProtoReader.FIXED32);
        int bits = Float.floatToRawIntBits(value);
        out.write(bits);
        out.write(bits >>> 8);
        out.write(bits >>> 16);
        out.write(bits >>> 24);
    }

    void bytes(int field, byte[] value) {
        tag(field, ProtoReader.LEN);
        varint(value.length);
        out.writeBytes(value);
    }

    void string(int field, String value) {
        bytes(field, value.getBytes(StandardCharsets.UTF_8));
    }

    /** Appends already-encoded fields. */
    void raw(byte[] encoded) {
        out.writeBytes(encoded);
    }

    void message(int field, ProtoWriter child) {
        bytes(field, child.toByteArray());
    }
}
