package org.internvl4j.tokenizer;

/**
 * Incremental {@link InternLM2Tokenizer#decode(int[], boolean)} for streaming generation. {@link #push}
 * returns the text that no later token can change, {@link #flush} the rest, and the concatenation of
 * everything returned equals the full decode of all pushed ids, exactly.
 *
 * <p>It runs decode's steps as a pipeline in O(1) amortized work per token:
 * <ul>
 *   <li>byte pieces wait until their UTF-8 character is complete (or proven invalid);</li>
 *   <li>text after the last special token waits while a special token may still follow, because
 *       decode then puts a space in front of that text (with {@code skipSpecialTokens} no special
 *       token can follow, so nothing waits);</li>
 *   <li>clean_up_tokenization runs as ten chained streaming replacers, each holding back the few
 *       characters that could still start a match;</li>
 *   <li>legacy added tokens ({@code <img>} and the other InternVL tokens when not skipped) end a part;
 *       parts are joined with one space, and an empty part before such a token is dropped.</li>
 * </ul>
 * Not thread-safe: one per sequence.
 */
public final class StreamingDetokenizer implements Detokenizer {
    private final InternLM2Tokenizer tokenizer;
    private final boolean skipSpecialTokens;
    /** Whether a literally emitted special token can still arrive (so text before it must wait). */
    private final boolean specialPossible;

    private int partsEmitted;          // parts of the ' '.join already started
    private boolean runOpen;           // a run (tokens since the last legacy token) has started
    private boolean runPartStarted;    // the joiner for the current run's part has been emitted
    private boolean prevSpecial;       // convert_tokens_to_string's prev_is_special, per run
    private StringBuilder subrun;      // decoded text of the pieces since the last special token
    private SentencePieceProcessor.Decoder spDecoder;
    private CleanUpChain cleanUp;
    private final StringBuilder out = new StringBuilder();

    StreamingDetokenizer(InternLM2Tokenizer tokenizer, boolean skipSpecialTokens) {
        this.tokenizer = tokenizer;
        this.skipSpecialTokens = skipSpecialTokens;
        this.specialPossible = tokenizer.specialTextPossible(skipSpecialTokens);
    }

    /** Adds one token; returns the newly completed text, possibly "". */
    @Override
    public String push(int id) {
        if (skipSpecialTokens && tokenizer.isSpecial(id)) return "";
        String token = tokenizer.idToToken(id); // validates the id
        if (tokenizer.isLegacyAdded(token)) {
            endRun(false);
            if (partsEmitted > 0) out.append(' ');
            out.append(token);
            partsEmitted++;
        } else {
            if (!runOpen) startRun();
            if (tokenizer.isSpecialToken(token)) {
                spDecoder.finish();
                String text = (prevSpecial ? "" : " ") + subrun + token;
                if (!specialPossible) {
                    throw new IllegalStateException("special token " + token + " (id " + id + ") survived skip_special_tokens");
                }
                feed(text);
                newSubrun();
                prevSpecial = true;
            } else {
                int before = subrun.length();
                spDecoder.accept(tokenizer.sentencePiece().pieceToId(token));
                prevSpecial = false;
                if (!specialPossible && subrun.length() > before) {
                    feed(subrun.substring(before));
                }
            }
        }
        return take();
    }

    /** Ends the stream: returns the text still held back. */
    @Override
    public String flush() {
        endRun(true);
        return take();
    }

    private void startRun() {
        runOpen = true;
        runPartStarted = false;
        prevSpecial = false;
        cleanUp = new CleanUpChain();
        newSubrun();
    }

    private void newSubrun() {
        subrun = new StringBuilder();
        spDecoder = tokenizer.sentencePiece().new Decoder(subrun);
    }

    /**
     * Closes the current run. Before a legacy token (atEnd false) an empty run is dropped; at the
     * end of the stream a run with any token is kept as a part even if its text is empty.
     */
    private void endRun(boolean atEnd) {
        if (!runOpen) return;
        int before = subrun.length();
        spDecoder.finish();
        if (specialPossible) feed(subrun.toString());
        else if (subrun.length() > before) feed(subrun.substring(before));
        String rest = cleanUp.finish();
        emitRunText(rest);
        if (atEnd && !runPartStarted) startPart();
        if (runPartStarted) partsEmitted++;
        runOpen = false;
    }

    private void feed(String raw) {
        emitRunText(cleanUp.push(raw));
    }

    private void emitRunText(String text) {
        if (text.isEmpty()) return;
        if (!runPartStarted) startPart();
        out.append(text);
    }

    private void startPart() {
        if (partsEmitted > 0) out.append(' ');
        runPartStarted = true;
    }

    private String take() {
        String s = out.toString();
        out.setLength(0);
        return s;
    }

    /**
     * clean_up_tokenization as a pipeline of streaming replacers. Python's str.replace scans left to
     * right for non-overlapping matches, so a replacer can pass on every character except a tail that
     * is a proper prefix of its pattern (at most 3 characters, starting with a space), which text not
     * seen yet may complete.
     */
    static final class CleanUpChain {
        private final StringBuilder[] pending = new StringBuilder[InternLM2Tokenizer.CLEAN_UP.length];

        CleanUpChain() {
            for (int i = 0; i < pending.length; i++) pending[i] = new StringBuilder();
        }

        String push(String s) {
            for (int i = 0; i < pending.length; i++) s = step(i, s, false);
            return s;
        }

        String finish() {
            String s = "";
            for (int i = 0; i < pending.length; i++) s = step(i, s, true);
            return s;
        }

        private String step(int i, String in, boolean last) {
            String pattern = InternLM2Tokenizer.CLEAN_UP[i][0], replacement = InternLM2Tokenizer.CLEAN_UP[i][1];
            StringBuilder buf = pending[i].append(in);
            StringBuilder done = new StringBuilder();
            int pos = 0;
            while (pos < buf.length()) {
                int rest = buf.length() - pos;
                if (rest >= pattern.length() && startsWith(buf, pattern, pos, pattern.length())) {
                    done.append(replacement);
                    pos += pattern.length();
                } else if (rest < pattern.length() && !last && startsWith(buf, pattern, pos, rest)) {
                    break; // the tail is a prefix of the pattern: more text may complete a match
                } else {
                    done.append(buf.charAt(pos++));
                }
            }
            buf.delete(0, pos);
            return done.toString();
        }

        /** Whether buf[pos, pos+n) equals the first n characters of pattern. */
        private static boolean startsWith(StringBuilder buf, String pattern, int pos, int n) {
            for (int k = 0; k < n; k++) {
                if (buf.charAt(pos + k) != pattern.charAt(k)) return false;
            }
            return true;
        }
    }
}
