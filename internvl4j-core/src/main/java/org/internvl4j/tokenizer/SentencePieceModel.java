package org.internvl4j.tokenizer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A SentencePiece {@code ModelProto} (sentencepiece_model.proto): the pieces with their scores and
 * types, the trainer spec and the normalizer spec. Fields this class does not model are kept as raw
 * wire bytes so that {@link SentencePieceModelWriter} writes them back unchanged.
 */
public record SentencePieceModel(List<Piece> pieces, TrainerSpec trainerSpec, NormalizerSpec normalizerSpec,
                                 NormalizerSpec denormalizerSpec, byte[] unknownFields) {

    public SentencePieceModel {
        pieces = List.copyOf(pieces);
        unknownFields = unknownFields == null ? new byte[0] : unknownFields;
    }

    public SentencePieceModel(List<Piece> pieces, TrainerSpec trainerSpec, NormalizerSpec normalizerSpec) {
        this(pieces, trainerSpec, normalizerSpec, null, null);
    }

    /** ModelProto.SentencePiece.Type; the numbers are the proto's. */
    public enum PieceType {
        NORMAL(1), UNKNOWN(2), CONTROL(3), USER_DEFINED(4), UNUSED(5), BYTE(6);

        final int number;

        PieceType(int number) {
            this.number = number;
        }

        static PieceType of(int number, ProtoReader r) {
            for (PieceType t : values()) {
                if (t.number == number) return t;
            }
            throw r.error("ModelProto.pieces.type has unknown value " + number + " (expected 1..6)");
        }
    }

    /** TrainerSpec.ModelType; the numbers are the proto's. */
    public enum ModelType {
        UNIGRAM(1), BPE(2), WORD(3), CHAR(4);

        final int number;

        ModelType(int number) {
            this.number = number;
        }

        static ModelType of(int number, ProtoReader r) {
            for (ModelType t : values()) {
                if (t.number == number) return t;
            }
            throw r.error("TrainerSpec.model_type has unknown value " + number + " (expected 1..4)");
        }
    }

    public record Piece(String piece, float score, PieceType type) {
    }

    /** The TrainerSpec fields an encoder needs; the rest stay in {@code unknownFields}. Defaults are the proto's. */
    public record TrainerSpec(ModelType modelType, int vocabSize, boolean byteFallback, boolean treatWhitespaceAsSuffix,
                              int unkId, int bosId, int eosId, int padId,
                              String unkPiece, String bosPiece, String eosPiece, String padPiece, String unkSurface,
                              byte[] unknownFields) {
        public static TrainerSpec defaults() {
            return new TrainerSpec(ModelType.UNIGRAM, 8000, false, false, 0, 1, 2, -1,
                    "<unk>", "<s>", "</s>", "<pad>", " \u2047 ", new byte[0]);
        }

        public TrainerSpec withModel(ModelType type, int vocabSize, boolean byteFallback) {
            return new TrainerSpec(type, vocabSize, byteFallback, treatWhitespaceAsSuffix, unkId, bosId, eosId, padId,
                    unkPiece, bosPiece, eosPiece, padPiece, unkSurface, unknownFields);
        }
    }

    /** NormalizerSpec; defaults are the proto's (add_dummy_prefix, remove_extra_whitespaces and escape_whitespaces true). */
    public record NormalizerSpec(String name, byte[] precompiledCharsmap, boolean addDummyPrefix,
                                 boolean removeExtraWhitespaces, boolean escapeWhitespaces, String normalizationRuleTsv,
                                 byte[] unknownFields) {
        public static NormalizerSpec defaults() {
            return new NormalizerSpec("", new byte[0], true, true, true, "", new byte[0]);
        }

        /** The identity rule with the given whitespace flags (the InternLM2 tokenizer uses false, false, true). */
        public static NormalizerSpec identity(boolean addDummyPrefix, boolean removeExtraWhitespaces, boolean escapeWhitespaces) {
            return new NormalizerSpec("identity", new byte[0], addDummyPrefix, removeExtraWhitespaces, escapeWhitespaces, "", new byte[0]);
        }
    }

    public int size() {
        return pieces.size();
    }

    public static SentencePieceModel read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new TokenizerException("cannot read SentencePiece model " + file + ": " + e.getMessage(), e);
        }
        try {
            return parse(bytes);
        } catch (TokenizerException e) {
            throw new TokenizerException(file + ": " + e.getMessage(), e);
        }
    }

    /** Parses a serialized ModelProto; a malformed message gets a TokenizerException naming the field and offset. */
    public static SentencePieceModel parse(byte[] bytes) {
        ProtoReader r = new ProtoReader(bytes, 0, bytes.length, "ModelProto");
        List<Piece> pieces = new ArrayList<>();
        TrainerSpec trainer = TrainerSpec.defaults();
        NormalizerSpec normalizer = NormalizerSpec.defaults();
        NormalizerSpec denormalizer = null;
        ByteArrayOutputStream unknown = new ByteArrayOutputStream();
        while (r.hasMore()) {
            int start = r.position();
            int tag = r.readTag();
            switch (tag >>> 3) {
                case 1 -> {
                    r.expect(tag, ProtoReader.LEN, "pieces");
                    pieces.add(parsePiece(r.readMessage("ModelProto.pieces[" + pieces.size() + "]")));
                }
                case 2 -> {
                    r.expect(tag, ProtoReader.LEN, "trainer_spec");
                    trainer = parseTrainerSpec(r.readMessage("ModelProto.trainer_spec"));
                }
                case 3 -> {
                    r.expect(tag, ProtoReader.LEN, "normalizer_spec");
                    normalizer = parseNormalizerSpec(r.readMessage("ModelProto.normalizer_spec"));
                }
                case 5 -> {
                    r.expect(tag, ProtoReader.LEN, "denormalizer_spec");
                    denormalizer = parseNormalizerSpec(r.readMessage("ModelProto.denormalizer_spec"));
                }
                default -> {
                    r.skip(tag);
                    unknown.write(bytes, start, r.position() - start);
                }
            }
        }
        if (pieces.isEmpty()) {
            throw new TokenizerException("malformed ModelProto: it has no pieces (is this a SentencePiece model file?)");
        }
        return new SentencePieceModel(pieces, trainer, normalizer, denormalizer, unknown.toByteArray());
    }

    private static Piece parsePiece(ProtoReader r) {
        String piece = null;
        float score = 0f;
        PieceType type = PieceType.NORMAL;
        while (r.hasMore()) {
            int tag = r.readTag();
            switch (tag >>> 3) {
                case 1 -> {
                    r.expect(tag, ProtoReader.LEN, "piece");
                    piece = r.readString("piece");
                }
                case 2 -> {
                    r.expect(tag, ProtoReader.FIXED32, "score");
                    score = r.readFloat();
                }
                case 3 -> {
                    r.expect(tag, ProtoReader.VARINT, "type");
                    type = PieceType.of(r.readInt32(), r);
                }
                default -> r.skip(tag);
            }
        }
        if (piece == null || piece.isEmpty()) {
            throw r.error("the piece string is missing or empty");
        }
        return new Piece(piece, score, type);
    }

    private static TrainerSpec parseTrainerSpec(ProtoReader r) {
        TrainerSpec d = TrainerSpec.defaults();
        ModelType modelType = d.modelType();
        int vocabSize = d.vocabSize(), unkId = d.unkId(), bosId = d.bosId(), eosId = d.eosId(), padId = d.padId();
        boolean byteFallback = false, suffix = false;
        String unkPiece = d.unkPiece(), bosPiece = d.bosPiece(), eosPiece = d.eosPiece(), padPiece = d.padPiece();
        String unkSurface = d.unkSurface();
        ByteArrayOutputStream unknown = new ByteArrayOutputStream();
        while (r.hasMore()) {
            int start = r.position();
            int tag = r.readTag();
            int field = tag >>> 3;
            switch (field) {
                case 3 -> { r.expect(tag, ProtoReader.VARINT, "model_type"); modelType = ModelType.of(r.readInt32(), r); }
                case 4 -> { r.expect(tag, ProtoReader.VARINT, "vocab_size"); vocabSize = r.readInt32(); }
                case 35 -> { r.expect(tag, ProtoReader.VARINT, "byte_fallback"); byteFallback = r.readBool(); }
                case 24 -> { r.expect(tag, ProtoReader.VARINT, "treat_whitespace_as_suffix"); suffix = r.readBool(); }
                case 40 -> { r.expect(tag, ProtoReader.VARINT, "unk_id"); unkId = r.readInt32(); }
                case 41 -> { r.expect(tag, ProtoReader.VARINT, "bos_id"); bosId = r.readInt32(); }
                case 42 -> { r.expect(tag, ProtoReader.VARINT, "eos_id"); eosId = r.readInt32(); }
                case 43 -> { r.expect(tag, ProtoReader.VARINT, "pad_id"); padId = r.readInt32(); }
                case 44 -> { r.expect(tag, ProtoReader.LEN, "unk_surface"); unkSurface = r.readString("unk_surface"); }
                case 45 -> { r.expect(tag, ProtoReader.LEN, "unk_piece"); unkPiece = r.readString("unk_piece"); }
                case 46 -> { r.expect(tag, ProtoReader.LEN, "bos_piece"); bosPiece = r.readString("bos_piece"); }
                case 47 -> { r.expect(tag, ProtoReader.LEN, "eos_piece"); eosPiece = r.readString("eos_piece"); }
                case 48 -> { r.expect(tag, ProtoReader.LEN, "pad_piece"); padPiece = r.readString("pad_piece"); }
                default -> {
                    r.skip(tag);
                    unknown.writeBytes(rawCopy(r, start));
                }
            }
        }
        return new TrainerSpec(modelType, vocabSize, byteFallback, suffix, unkId, bosId, eosId, padId,
                unkPiece, bosPiece, eosPiece, padPiece, unkSurface, unknown.toByteArray());
    }

    private static NormalizerSpec parseNormalizerSpec(ProtoReader r) {
        NormalizerSpec d = NormalizerSpec.defaults();
        String name = d.name(), tsv = d.normalizationRuleTsv();
        byte[] charsmap = d.precompiledCharsmap();
        boolean dummy = true, removeWs = true, escapeWs = true;
        ByteArrayOutputStream unknown = new ByteArrayOutputStream();
        while (r.hasMore()) {
            int start = r.position();
            int tag = r.readTag();
            switch (tag >>> 3) {
                case 1 -> { r.expect(tag, ProtoReader.LEN, "name"); name = r.readString("name"); }
                case 2 -> { r.expect(tag, ProtoReader.LEN, "precompiled_charsmap"); charsmap = r.readBytes(); }
                case 3 -> { r.expect(tag, ProtoReader.VARINT, "add_dummy_prefix"); dummy = r.readBool(); }
                case 4 -> { r.expect(tag, ProtoReader.VARINT, "remove_extra_whitespaces"); removeWs = r.readBool(); }
                case 5 -> { r.expect(tag, ProtoReader.VARINT, "escape_whitespaces"); escapeWs = r.readBool(); }
                case 6 -> { r.expect(tag, ProtoReader.LEN, "normalization_rule_tsv"); tsv = r.readString("normalization_rule_tsv"); }
                default -> {
                    r.skip(tag);
                    unknown.writeBytes(rawCopy(r, start));
                }
            }
        }
        return new NormalizerSpec(name, charsmap, dummy, removeWs, escapeWs, tsv, unknown.toByteArray());
    }

    private static byte[] rawCopy(ProtoReader r, int start) {
        return r.slice(start, r.position());
    }
}
