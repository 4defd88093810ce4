package org.internvl4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

import org.internvl4j.tokenizer.SentencePieceModel.ModelType;
import org.internvl4j.tokenizer.SentencePieceModel.NormalizerSpec;
import org.internvl4j.tokenizer.SentencePieceModel.Piece;
import org.internvl4j.tokenizer.SentencePieceModel.PieceType;
import org.internvl4j.tokenizer.SentencePieceModel.TrainerSpec;

/**
 * A small deterministic BPE trainer for test checkpoints. It is not SentencePiece's trainer, but it
 * produces a real {@code ModelProto} with the InternLM2 layout that SentencePiece loads:
 * {@code <unk>}=0, {@code <s>}=1, {@code </s>}=2, byte pieces {@code <0x00>}..{@code <0xFF>} at 3..258,
 * learned merges and then the corpus characters as NORMAL pieces with descending scores, and the
 * last 6 pieces USER_DEFINED {@code [UNUSED_TOKEN_141]}..{@code [UNUSED_TOKEN_146]} (the chat tokens).
 */
public final class TinyBpeTrainer {
    /** The SentencePiece names of the 6 chat tokens, in id order (HF renames them, see {@link HfTokenizerFiles}). */
    public static final List<String> CHAT_PIECES = List.of("[UNUSED_TOKEN_141]", "[UNUSED_TOKEN_142]",
            "[UNUSED_TOKEN_143]", "[UNUSED_TOKEN_144]", "[UNUSED_TOKEN_145]", "[UNUSED_TOKEN_146]");
    private static final int MAX_PIECE_CHARS = 16;
    private static final int FIXED = 3 + 256 + 6;

    private TinyBpeTrainer() {
    }

    /** Trains with the real InternLM2 normalizer spec: identity, no dummy prefix, whitespace kept, spaces as U+2581. */
    public static SentencePieceModel train(String corpus, int vocabSize) {
        return train(corpus, vocabSize, NormalizerSpec.identity(false, false, true));
    }

    /**
     * Trains a BPE model of exactly {@code vocabSize} pieces. Every corpus line is normalized with
     * {@code normalizer} first; words are a run of U+2581 followed by other characters, or one
     * other whitespace character. Merges pick the most frequent pair, ties broken by the smaller
     * merged string, so the result depends only on the arguments.
     */
    public static SentencePieceModel train(String corpus, int vocabSize, NormalizerSpec normalizerSpec) {
        List<Piece> fixedHead = new ArrayList<>();
        fixedHead.add(new Piece("<unk>", 0f, PieceType.UNKNOWN));
        fixedHead.add(new Piece("<s>", 0f, PieceType.CONTROL));
        fixedHead.add(new Piece("</s>", 0f, PieceType.CONTROL));
        for (int b = 0; b < 256; b++) fixedHead.add(new Piece(SentencePieceProcessor.byteToPiece(b), 0f, PieceType.BYTE));
        TrainerSpec trainerSpec = TrainerSpec.defaults().withModel(ModelType.BPE, vocabSize, true);

        // Normalize each line with the very normalizer the encoder will use.
        Normalizer normalizer = new Normalizer(normalizerSpec, new ByteTrie());
        Map<String, Long> wordFreq = new LinkedHashMap<>();
        Map<Integer, Long> charFreq = new HashMap<>();
        for (String line : corpus.split("\n", -1)) {
            byte[] raw = Utf8.encode(line);
            Normalizer.Bytes n = normalizer.normalize(raw, raw.length);
            String norm = new String(n.a, 0, n.n, StandardCharsets.UTF_8);
            for (String w : words(norm)) wordFreq.merge(w, 1L, Long::sum);
            norm.codePoints().forEach(cp -> charFreq.merge(cp, 1L, Long::sum));
        }
        long newlines = corpus.chars().filter(c -> c == '\n').count();
        if (newlines > 0) charFreq.put((int) '\n', newlines);
        List<Integer> chars = new ArrayList<>(charFreq.keySet());
        chars.sort((a, b) -> charFreq.get(b).equals(charFreq.get(a)) ? Integer.compare(a, b) : Long.compare(charFreq.get(b), charFreq.get(a)));
        int merges = vocabSize - FIXED - chars.size();
        if (merges < 0) {
            throw new IllegalArgumentException("vocab size " + vocabSize + " is too small for this corpus: it needs at least "
                    + (FIXED + chars.size()) + " pieces (" + FIXED + " fixed + " + chars.size() + " distinct characters)");
        }
        java.util.Set<String> reserved = new HashSet<>();
        fixedHead.forEach(p -> reserved.add(p.piece()));
        reserved.addAll(CHAT_PIECES);
        List<String> learned = learnMerges(wordFreq, merges, reserved);
        if (learned.size() < merges) {
            throw new IllegalArgumentException("the corpus supports only " + learned.size() + " merges; vocab size " + vocabSize
                    + " needs " + merges + " (use a larger corpus or at most " + (FIXED + chars.size() + learned.size()) + " pieces)");
        }
        List<Piece> pieces = new ArrayList<>(fixedHead);
        float score = 0f;
        for (String m : learned) pieces.add(new Piece(m, score--, PieceType.NORMAL));
        for (int cp : chars) pieces.add(new Piece(new String(Character.toChars(cp)), score--, PieceType.NORMAL));
        for (String p : CHAT_PIECES) pieces.add(new Piece(p, 0f, PieceType.USER_DEFINED));
        return new SentencePieceModel(pieces, trainerSpec, normalizerSpec);
    }

    /** Splits normalized text into words: U+2581* followed by non-whitespace, or one other whitespace char. */
    private static List<String> words(String s) {
        List<String> out = new ArrayList<>();
        int i = 0;
        while (i < s.length()) {
            int j = i;
            while (j < s.length() && s.charAt(j) == '\u2581') j++;
            int k = j;
            while (k < s.length() && s.charAt(k) != '\u2581' && !Character.isWhitespace(s.charAt(k))) k++;
            if (k == i) k = i + Character.charCount(s.codePointAt(i)); // a lone whitespace character
            out.add(s.substring(i, k));
            i = k;
        }
        return out;
    }

    private record Candidate(long count, String merged, int a, int b) {
    }

    /** Classic BPE with incremental pair counts; returns the merged strings in merge order. */
    private static List<String> learnMerges(Map<String, Long> wordFreq, int wanted, Set<String> reserved) {
        List<String> symbols = new ArrayList<>();
        Map<String, Integer> symbolIds = new HashMap<>();
        List<int[]> words = new ArrayList<>();
        List<Long> freqs = new ArrayList<>();
        for (var e : wordFreq.entrySet()) {
            int[] w = e.getKey().codePoints().map(cp -> symbolIds.computeIfAbsent(new String(Character.toChars(cp)), k -> {
                symbols.add(k);
                return symbols.size() - 1;
            })).toArray();
            words.add(w);
            freqs.add(e.getValue());
        }
        Map<Long, Long> pairCount = new HashMap<>();
        Map<Long, Set<Integer>> pairWords = new HashMap<>();
        for (int wi = 0; wi < words.size(); wi++) countPairs(words.get(wi), freqs.get(wi), wi, pairCount, pairWords);
        PriorityQueue<Candidate> queue = new PriorityQueue<>((x, y) -> x.count != y.count ? Long.compare(y.count, x.count)
                : x.merged.compareTo(y.merged) != 0 ? x.merged.compareTo(y.merged) : Integer.compare(x.a, y.a));
        for (var e : pairCount.entrySet()) queue.add(candidate(e.getKey(), e.getValue(), symbols));
        List<String> learned = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        while (learned.size() < wanted && !queue.isEmpty()) {
            Candidate c = queue.poll();
            long key = pairKey(c.a, c.b);
            Long now = pairCount.get(key);
            if (now == null || now != c.count) continue; // stale entry
            if (c.merged.codePointCount(0, c.merged.length()) > MAX_PIECE_CHARS) {
                pairCount.remove(key);
                continue;
            }
            int merged = symbolIds.computeIfAbsent(c.merged, k -> {
                symbols.add(k);
                return symbols.size() - 1;
            });
            // A string reachable by two different merges, or equal to a fixed piece, is one piece only.
            if (!reserved.contains(c.merged) && seen.add(c.merged)) learned.add(c.merged);
            Map<Long, Long> delta = new HashMap<>(); // net change of each pair's count
            for (int wi : pairWords.getOrDefault(key, Set.of()).toArray(new Integer[0])) {
                int[] w = words.get(wi);
                int[] nw = mergeWord(w, c.a, c.b, merged, freqs.get(wi), wi, delta, pairWords);
                if (nw != w) words.set(wi, nw);
            }
            pairCount.remove(key);
            delta.remove(key);
            for (var d : delta.entrySet()) {
                if (d.getValue() == 0) continue;
                long cnt = pairCount.getOrDefault(d.getKey(), 0L) + d.getValue();
                if (cnt > 0) {
                    pairCount.put(d.getKey(), cnt);
                    queue.add(candidate(d.getKey(), cnt, symbols));
                } else {
                    pairCount.remove(d.getKey());
                }
            }
        }
        return learned;
    }

    private static Candidate candidate(long key, long count, List<String> symbols) {
        int a = (int) (key / PAIR_BASE), b = (int) (key % PAIR_BASE);
        return new Candidate(count, symbols.get(a) + symbols.get(b), a, b);
    }

    /** a * prime + b: Long.hashCode of a shifted pair would collide (it is a ^ b). */
    private static final long PAIR_BASE = 1_000_003;

    private static long pairKey(int a, int b) {
        return a * PAIR_BASE + b;
    }

    private static void countPairs(int[] w, long f, int wi, Map<Long, Long> pairCount, Map<Long, Set<Integer>> pairWords) {
        for (int i = 0; i + 1 < w.length; i++) {
            long k = pairKey(w[i], w[i + 1]);
            pairCount.merge(k, f, Long::sum);
            if (pairWords != null) pairWords.computeIfAbsent(k, x -> new HashSet<>()).add(wi);
        }
    }

    /**
     * Replaces every (a, b) in w by m, left to right, and records the pair-count changes locally
     * around each replacement (the neighbours' pairs), as HF tokenizers' Word::merge does. Returns w
     * itself when nothing changed.
     */
    private static int[] mergeWord(int[] w, int a, int b, int m, long f, int wi, Map<Long, Long> delta,
                                   Map<Long, Set<Integer>> pairWords) {
        int[] out = null;
        int n = 0;
        for (int i = 0; i < w.length; i++) {
            if (i + 1 < w.length && w[i] == a && w[i + 1] == b) {
                if (out == null) {
                    out = new int[w.length];
                    System.arraycopy(w, 0, out, 0, i);
                    n = i;
                }
                delta.merge(pairKey(a, b), -f, Long::sum);
                if (n > 0) { // the left neighbour, possibly merged just before
                    int prev = out[n - 1];
                    delta.merge(pairKey(prev, a), -f, Long::sum);
                    addPair(pairKey(prev, m), f, wi, delta, pairWords);
                }
                if (i + 2 < w.length) {
                    int next = w[i + 2];
                    delta.merge(pairKey(b, next), -f, Long::sum);
                    addPair(pairKey(m, next), f, wi, delta, pairWords);
                }
                out[n++] = m;
                i++;
            } else if (out != null) {
                out[n++] = w[i];
            }
        }
        return out == null ? w : java.util.Arrays.copyOf(out, n);
    }

    private static void addPair(long k, long f, int wi, Map<Long, Long> delta, Map<Long, Set<Integer>> pairWords) {
        delta.merge(k, f, Long::sum);
        pairWords.computeIfAbsent(k, x -> new HashSet<>()).add(wi);
    }
}
