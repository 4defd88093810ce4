package org.internvl4j.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.internvl4j.util.AtomicFiles;

/**
 * Serializes a {@link SentencePieceModel} as a {@code ModelProto} that SentencePiece itself loads.
 * Modelled fields are written in field-number order, then the fields kept raw by the reader.
 */
public final class SentencePieceModelWriter {
    private SentencePieceModelWriter() {
    }

    public static void write(SentencePieceModel model, Path file) {
        try {
            AtomicFiles.write(file, toBytes(model));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write SentencePiece model " + file, e);
        }
    }

    public static byte[] toBytes(SentencePieceModel model) {
        ProtoWriter w = new ProtoWriter();
        for (SentencePieceModel.Piece p : model.pieces()) {
            ProtoWriter pw = new ProtoWriter();
            pw.string(1, p.piece());
            pw.float32(2, p.score());
            if (p.type() != SentencePieceModel.PieceType.NORMAL) {
                pw.int32(3, p.type().number);
            }
            w.message(1, pw);
        }
        w.message(2, trainerSpec(model.trainerSpec()));
        w.message(3, normalizerSpec(model.normalizerSpec()));
        if (model.denormalizerSpec() != null) {
            w.message(5, normalizerSpec(model.denormalizerSpec()));
        }
        byte[] head = w.toByteArray();
        byte[] tail = model.unknownFields();
        byte[] out = java.util.Arrays.copyOf(head, head.length + tail.length);
        System.arraycopy(tail, 0, out, head.length, tail.length);
        return out;
    }

    private static ProtoWriter trainerSpec(SentencePieceModel.TrainerSpec t) {
        ProtoWriter w = new ProtoWriter();
        w.int32(3, t.modelType().number);
        w.int32(4, t.vocabSize());
        w.bool(24, t.treatWhitespaceAsSuffix());
        w.bool(35, t.byteFallback());
        w.int32(40, t.unkId());
        w.int32(41, t.bosId());
        w.int32(42, t.eosId());
        w.int32(43, t.padId());
        w.string(44, t.unkSurface());
        w.string(45, t.unkPiece());
        w.string(46, t.bosPiece());
        w.string(47, t.eosPiece());
        w.string(48, t.padPiece());
        return withRaw(w, t.unknownFields());
    }

    private static ProtoWriter normalizerSpec(SentencePieceModel.NormalizerSpec n) {
        ProtoWriter w = new ProtoWriter();
        w.string(1, n.name());
        w.bytes(2, n.precompiledCharsmap());
        w.bool(3, n.addDummyPrefix());
        w.bool(4, n.removeExtraWhitespaces());
        w.bool(5, n.escapeWhitespaces());
        if (!n.normalizationRuleTsv().isEmpty()) {
            w.string(6, n.normalizationRuleTsv());
        }
        return withRaw(w, n.unknownFields());
    }

    private static ProtoWriter withRaw(ProtoWriter w, byte[] raw) {
        w.raw(raw);
        return w;
    }
}
