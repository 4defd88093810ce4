package org.internvl4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.internvl4j.tokenizer.SentencePieceModel.ModelType;
import org.internvl4j.tokenizer.SentencePieceModel.Piece;
import org.internvl4j.tokenizer.SentencePieceModel.PieceType;

/**
 * SentencePiece BPE encoding and decoding, following sentencepiece v0.1.97:
 * model_interface.cc (piece tables), bpe_model.cc Model::Encode (merge loop),
 * sentencepiece_processor.cc Encode (byte fallback, unknown runs) and Decode.
 * Immutable and safe to share between threads.
 */
public final class SentencePieceProcessor {
    private final SentencePieceModel model;
    private final Piece[] pieces;
    private final float[] scores;
    private final PieceType[] types;
    /** NORMAL, USER_DEFINED and UNUSED pieces: the only ones BPE merges may produce. */
    private final PieceTable normalPieces;
    /** CONTROL, UNKNOWN and BYTE pieces; PieceToId looks here first. */
    private final PieceTable reservedPieces;
    private final Map<String, Integer> pieceIds = new HashMap<>();
    private final ByteTrie userDefined = new ByteTrie();
    private final Normalizer normalizer;
    private final int unkId;
    private final boolean byteFallback;
    private final int[] byteToId = new int[256];
    private final int[] idToByte;
    private final boolean addsDummyOrRemovesSpace;
    private final String unkSurface;

    public SentencePieceProcessor(SentencePieceModel model) {
        this.model = model;
        SentencePieceModel.TrainerSpec ts = model.trainerSpec();
        if (ts.modelType() != ModelType.BPE) {
            throw new TokenizerException("SentencePiece model_type " + ts.modelType()
                    + " is not supported: only BPE models are implemented (UNIGRAM may come later)");
        }
        if (ts.treatWhitespaceAsSuffix()) {
            throw new TokenizerException("SentencePiece trainer_spec.treat_whitespace_as_suffix=true is not supported");
        }
        List<Piece> list = model.pieces();
        int n = list.size();
        pieces = list.toArray(new Piece[0]);
        scores = new float[n];
        types = new PieceType[n];
        idToByte = new int[n];
        Arrays.fill(idToByte, -1);
        Arrays.fill(byteToId, -1);
        normalPieces = new PieceTable(n);
        reservedPieces = new PieceTable(64);
        Map<String, Integer> byteNames = new HashMap<>();
        for (int b = 0; b < 256; b++) byteNames.put(byteToPiece(b), b);
        byteFallback = ts.byteFallback();
        int unk = -1;
        for (int i = 0; i < n; i++) {
            Piece p = pieces[i];
            scores[i] = p.score();
            types[i] = p.type();
            byte[] key = p.piece().getBytes(StandardCharsets.UTF_8);
            boolean normal = p.type() == PieceType.NORMAL || p.type() == PieceType.USER_DEFINED || p.type() == PieceType.UNUSED;
            if (!(normal ? normalPieces : reservedPieces).putIfAbsent(key, i)) {
                throw new TokenizerException("malformed SentencePiece model: piece " + quote(p.piece()) + " (id " + i + ") is already defined");
            }
            pieceIds.putIfAbsent(p.piece(), i);
            if (p.type() == PieceType.USER_DEFINED) userDefined.add(key);
            if (p.type() == PieceType.UNKNOWN) {
                if (unk >= 0) throw new TokenizerException("malformed SentencePiece model: a second UNKNOWN piece at id " + i + " (first at " + unk + ")");
                unk = i;
            }
            if (p.type() == PieceType.BYTE) {
                if (!byteFallback) {
                    throw new TokenizerException("malformed SentencePiece model: byte piece " + p.piece() + " (id " + i + ") although byte_fallback is false");
                }
                Integer b = byteNames.get(p.piece());
                if (b == null) throw new TokenizerException("malformed SentencePiece model: byte piece " + quote(p.piece()) + " (id " + i + ") is not of the form <0xXX>");
                byteToId[b] = i;
                idToByte[i] = b;
            }
        }
        if (unk < 0) throw new TokenizerException("malformed SentencePiece model: no UNKNOWN piece (unk is not defined)");
        unkId = unk;
        if (byteFallback) {
            for (int b = 0; b < 256; b++) {
                if (byteToId[b] < 0) throw new TokenizerException("malformed SentencePiece model: byte_fallback is true but piece " + byteToPiece(b) + " is missing");
            }
        }
        normalizer = new Normalizer(model.normalizerSpec(), userDefined);
        addsDummyOrRemovesSpace = model.normalizerSpec().addDummyPrefix() || model.normalizerSpec().removeExtraWhitespaces();
        unkSurface = ts.unkSurface();
    }

    public static SentencePieceProcessor load(Path file) {
        return new SentencePieceProcessor(SentencePieceModel.read(file));
    }

    /**
     * The same model with {@code normalizer_spec.add_dummy_prefix} false: what transformers' LlamaTokenizer loads
     * when {@code legacy} is false (get_spm_processor merges that one field into the proto).
     */
    public SentencePieceProcessor withoutDummyPrefix() {
        SentencePieceModel.NormalizerSpec n = model.normalizerSpec();
        if (!n.addDummyPrefix()) return this;
        SentencePieceModel.NormalizerSpec off = new SentencePieceModel.NormalizerSpec(n.name(), n.precompiledCharsmap(), false,
                n.removeExtraWhitespaces(), n.escapeWhitespaces(), n.normalizationRuleTsv(), n.unknownFields());
        return new SentencePieceProcessor(new SentencePieceModel(model.pieces(), model.trainerSpec(), off));
    }

    /** The byte a byte piece stands for, or -1 for any other piece. */
    public int byteValue(int id) {
        checkId(id);
        return idToByte[id];
    }

    static String byteToPiece(int b) {
        return String.format("<0x%02X>", b);
    }

    private static String quote(String s) {
        return "\"" + s.replace("\n", "\\n") + "\"";
    }

    public SentencePieceModel model() {
        return model;
    }

    public int size() {
        return pieces.length;
    }

    public String idToPiece(int id) {
        checkId(id);
        return pieces[id].piece();
    }

    public PieceType pieceType(int id) {
        checkId(id);
        return types[id];
    }

    public float score(int id) {
        checkId(id);
        return scores[id];
    }

    /** ModelInterface::PieceToId: reserved pieces first, then the others; unknown text gives the unk id. */
    public int pieceToId(String piece) {
        byte[] b = piece.getBytes(StandardCharsets.UTF_8);
        return pieceToId(b, 0, b.length);
    }

    private int pieceToId(byte[] s, int off, int len) {
        int id = reservedPieces.get(s, off, len);
        if (id >= 0) return id;
        id = normalPieces.get(s, off, len);
        return id >= 0 ? id : unkId;
    }

    /** True when the text is a piece of the vocabulary (PieceToId would not fall back to unk). */
    public boolean hasPiece(String piece) {
        byte[] b = piece.getBytes(StandardCharsets.UTF_8);
        return reservedPieces.get(b, 0, b.length) >= 0 || normalPieces.get(b, 0, b.length) >= 0;
    }

    public int unkId() {
        return unkId;
    }

    /** SentencePieceProcessor::bos_id: the id of trainer_spec.bos_piece if it is a CONTROL piece, else -1. */
    public int bosId() {
        return controlId(model.trainerSpec().bosPiece());
    }

    public int eosId() {
        return controlId(model.trainerSpec().eosPiece());
    }

    private int controlId(String piece) {
        int id = pieceToId(piece);
        return types[id] == PieceType.CONTROL ? id : -1;
    }

    private void checkId(int id) {
        if (id < 0 || id >= pieces.length) {
            throw new IllegalArgumentException("token id " + id + " is out of range [0, " + pieces.length + ")");
        }
    }

    // ---------------------------------------------------------------- encode

    /** Encodes text to piece ids (no BOS/EOS), exactly as {@code sp.encode(text)}. */
    public int[] encode(String text) {
        IntList out = new IntList(text.length() / 2 + 4);
        encodeTo(Utf8.encode(text), out);
        return out.toArray();
    }

    /** Normalizes and encodes UTF-8 text, appending the ids to out. */
    void encodeTo(byte[] utf8, IntList out) {
        Normalizer.Bytes norm = normalizer.normalize(utf8, utf8.length);
        encodeNormalized(norm.a, norm.n, out);
    }

    /** bpe_model.cc Model::Encode plus the byte fallback / unknown merging of SentencePieceProcessor::Encode. */
    void encodeNormalized(byte[] s, int len, IntList out) {
        if (len == 0) return;
        // Symbols: contiguous byte ranges of s in a doubly linked list.
        int cap = len;
        int[] start = new int[cap], size = new int[cap], prev = new int[cap], next = new int[cap];
        boolean[] freeze = new boolean[cap];
        int count = 0;
        for (int pos = 0; pos < len; ) {
            int m = userDefined.isEmpty() ? 0 : userDefined.longestMatch(s, pos, len);
            boolean frozen = m > 0;
            if (!frozen) m = Math.min(len - pos, Utf8.oneCharLen(s[pos]));
            start[count] = pos;
            size[count] = m;
            freeze[count] = frozen;
            prev[count] = count - 1;
            pos += m;
            next[count] = pos < len ? count + 1 : -1;
            count++;
        }
        Agenda agenda = new Agenda(count);
        Map<String, int[]> revMerge = null;
        for (int i = 1; i < count; i++) {
            revMerge = maybeAddPair(i - 1, i, s, start, size, freeze, agenda, revMerge);
        }
        while (!agenda.isEmpty()) {
            int top = agenda.pop();
            int left = agenda.left[top], right = agenda.right[top];
            // The pair is stale when either side was merged away or has grown since it was queued.
            if (size[left] == 0 || size[right] == 0 || size[left] + size[right] != agenda.size[top]) continue;
            size[left] += size[right];
            next[left] = next[right];
            if (next[right] >= 0) prev[next[right]] = left;
            size[right] = 0;
            revMerge = maybeAddPair(prev[left], left, s, start, size, freeze, agenda, revMerge);
            revMerge = maybeAddPair(left, next[left], s, start, size, freeze, agenda, revMerge);
        }
        boolean prevUnk = false;
        for (int i = 0; i != -1; i = next[i]) {
            prevUnk = resegment(s, start[i], size[i], revMerge, out, prevUnk);
        }
    }

    private Map<String, int[]> maybeAddPair(int left, int right, byte[] s, int[] start, int[] size, boolean[] freeze,
                                            Agenda agenda, Map<String, int[]> revMerge) {
        if (left == -1 || right == -1 || freeze[left] || freeze[right]) return revMerge;
        int len = size[left] + size[right];
        int id = normalPieces.get(s, start[left], len);
        if (id < 0) return revMerge;
        agenda.push(left, right, scores[id], len);
        if (types[id] == PieceType.UNUSED) { // remember how to split it again (resegmentation)
            if (revMerge == null) revMerge = new HashMap<>();
            revMerge.put(new String(s, start[left], len, StandardCharsets.ISO_8859_1),
                    new int[] {start[left], size[left], start[right], size[right]});
        }
        return revMerge;
    }

    /** Emits the ids of one final symbol; returns whether it was an unknown piece. */
    private boolean resegment(byte[] s, int off, int len, Map<String, int[]> revMerge, IntList out, boolean prevUnk) {
        int id = pieceToId(s, off, len);
        if (types[id] == PieceType.UNUSED && revMerge != null) {
            int[] split = revMerge.get(new String(s, off, len, StandardCharsets.ISO_8859_1));
            if (split != null) {
                prevUnk = resegment(s, split[0], split[1], revMerge, out, prevUnk);
                return resegment(s, split[2], split[3], revMerge, out, prevUnk);
            }
        }
        if (id == unkId) {
            if (byteFallback) {
                for (int i = off; i < off + len; i++) out.add(byteToId[s[i] & 0xFF]);
                return false; // byte pieces are not unknown: the next unknown is not merged into them
            }
            if (!prevUnk) out.add(unkId); // a run of unknown pieces becomes one <unk>
            return true;
        }
        out.add(id);
        return false;
    }

    /**
     * The merge agenda: a binary max-heap of candidate pairs ordered like bpe_model.cc's
     * SymbolPairComparator (higher score first; on a tie the leftmost pair). Each heap slot holds a
     * long key (order-preserving score bits, then the inverted left index) next to the pair index,
     * so sifting compares adjacent longs instead of chasing the pair arrays. Entries with an equal
     * key can differ only in being stale, so their relative order does not matter.
     */
    private static final class Agenda {
        int[] left, right, size;
        long[] keys;
        int[] heap;
        int pairs, heapSize;

        Agenda(int capacity) {
            int c = Math.max(16, capacity * 2);
            left = new int[c];
            right = new int[c];
            size = new int[c];
            keys = new long[c];
            heap = new int[c];
        }

        boolean isEmpty() {
            return heapSize == 0;
        }

        private static long key(float score, int left) {
            if (score == 0f) score = 0f; // C++ compares -0.0 == 0.0
            int bits = Float.floatToIntBits(score);
            bits ^= (bits >> 31) & 0x7FFFFFFF; // float order as signed int order
            return (long) bits << 32 | (0xFFFFFFFFL - left);
        }

        void push(int l, int r, float sc, int sz) {
            if (pairs == left.length) {
                int c = pairs * 2;
                left = Arrays.copyOf(left, c);
                right = Arrays.copyOf(right, c);
                size = Arrays.copyOf(size, c);
            }
            if (heapSize == heap.length) {
                heap = Arrays.copyOf(heap, heapSize * 2);
                keys = Arrays.copyOf(keys, heapSize * 2);
            }
            int p = pairs++;
            left[p] = l;
            right[p] = r;
            size[p] = sz;
            long k = key(sc, l);
            int i = heapSize++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (keys[parent] >= k) break;
                heap[i] = heap[parent];
                keys[i] = keys[parent];
                i = parent;
            }
            heap[i] = p;
            keys[i] = k;
        }

        int pop() {
            int top = heap[0];
            int n = --heapSize;
            int lastPair = heap[n];
            long lastKey = keys[n];
            int i = 0;
            while (true) {
                int c = 2 * i + 1;
                if (c >= n) break;
                if (c + 1 < n && keys[c + 1] > keys[c]) c++;
                if (keys[c] <= lastKey) break;
                heap[i] = heap[c];
                keys[i] = keys[c];
                i = c;
            }
            if (n > 0) {
                heap[i] = lastPair;
                keys[i] = lastKey;
            }
            return top;
        }
    }

    // ---------------------------------------------------------------- decode

    /**
     * SentencePieceProcessor::Decode: control pieces vanish, unknown pieces become unk_surface,
     * runs of byte pieces are read as UTF-8 (one U+FFFD per bad byte), U+2581 becomes a space, and
     * with add_dummy_prefix or remove_extra_whitespaces a leading U+2581 is dropped while the output is still empty.
     */
    public String decode(int[] ids) {
        return decode(ids, 0, ids.length);
    }

    public String decode(int[] ids, int from, int to) {
        StringBuilder out = new StringBuilder();
        Decoder d = new Decoder(out);
        for (int i = from; i < to; i++) d.accept(ids[i]);
        d.finish();
        return out.toString();
    }

    /**
     * {@code sp.decode(pieces)} on piece strings (DecodePieces): a string that is no piece of the vocabulary is kept as
     * it is (SentencePiece's decoder returns an unknown piece's own text unless it is the unk piece itself).
     */
    public String decodePieces(List<String> pieceTexts) {
        StringBuilder out = new StringBuilder();
        Decoder d = new Decoder(out);
        for (String p : pieceTexts) {
            if (hasPiece(p)) {
                d.accept(pieceToId(p));
            } else {
                d.acceptRaw(p);
            }
        }
        d.finish();
        return out.toString();
    }

    /** Incremental form of {@link #decode(int[])}: text is appended as pieces arrive; bytes wait for their character. */
    final class Decoder {
        private final StringBuilder out;
        private final int outStart;
        private byte[] bytes = new byte[8];
        private int nBytes;

        Decoder(StringBuilder out) {
            this.out = out;
            this.outStart = out.length();
        }

        void accept(int id) {
            checkId(id);
            if (idToByte[id] >= 0) {
                if (nBytes == bytes.length) bytes = Arrays.copyOf(bytes, nBytes * 2);
                bytes[nBytes++] = (byte) idToByte[id];
                drainCompleteBytes();
                return;
            }
            flushBytes();
            switch (types[id]) {
                case CONTROL -> { }
                case UNKNOWN -> out.append(unkSurface);
                default -> {
                    String piece = pieces[id].piece();
                    if (addsDummyOrRemovesSpace && out.length() == outStart && piece.startsWith("\u2581")) {
                        piece = piece.substring(1);
                    }
                    out.append(piece.replace('\u2581', ' '));
                }
            }
        }

        /** A piece string that is not in the vocabulary: its own text, unchanged. */
        void acceptRaw(String text) {
            flushBytes();
            out.append(text);
        }

        /** Emits the characters at the front of the byte buffer that more bytes cannot change. */
        private void drainCompleteBytes() {
            int pos = 0;
            while (pos < nBytes) {
                int need = Utf8.neededLength(bytes[pos]);
                if (nBytes - pos < need) break; // may still complete
                int m = Utf8.validCharLength(bytes, pos, nBytes);
                if (m == 0) {
                    out.append('\uFFFD');
                    pos++;
                } else {
                    out.append(new String(bytes, pos, m, StandardCharsets.UTF_8));
                    pos += m;
                }
            }
            System.arraycopy(bytes, pos, bytes, 0, nBytes - pos);
            nBytes -= pos;
        }

        private void flushBytes() {
            if (nBytes > 0) {
                Utf8.decodeBytes(bytes, 0, nBytes, out);
                nBytes = 0;
            }
        }

        /** True when bytes are waiting for the rest of their character. */
        boolean hasPendingBytes() {
            return nBytes > 0;
        }

        void finish() {
            flushBytes();
        }
    }

    /** A growable int array. */
    static final class IntList {
        int[] a;
        int n;

        IntList(int capacity) {
            a = new int[Math.max(4, capacity)];
        }

        void add(int v) {
            if (n == a.length) a = Arrays.copyOf(a, n * 2);
            a[n++] = v;
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
