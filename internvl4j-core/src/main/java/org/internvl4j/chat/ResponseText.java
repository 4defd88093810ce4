package org.internvl4j.chat;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns generated text into the response of {@code chat()}: {@code decode(ids, skip_special_tokens=True)} cut at
 * the first stop string (the template's, e.g. {@code <|im_end|>}, plus any the caller adds), then Python's
 * {@code str.strip()}. Used both at once ({@link #of}) and piece by piece for streaming: pieces are pushed as the
 * detokenizer yields them and the visible text is released only when it can no longer change — leading
 * whitespace is dropped, a trailing whitespace run and a tail that may start a stop string are held back — so
 * the streamed pieces add up to exactly the final response.
 */
public final class ResponseText {
    private final List<String> stops;
    private final StringBuilder text = new StringBuilder();
    private String pending = "";
    private boolean started;
    private boolean stopped;

    /** @param stops stop strings (non-empty); the response ends before the first one found */
    public ResponseText(List<String> stops) {
        for (String s : stops) if (s == null || s.isEmpty()) throw new IllegalArgumentException("a stop string must not be empty");
        this.stops = List.copyOf(stops);
    }

    /** The whole response at once. */
    public static String of(String decoded, List<String> stops) {
        ResponseText r = new ResponseText(stops);
        r.push(decoded);
        r.finish();
        return r.text();
    }

    /** Adds generated text; returns the part of the response that became final (possibly empty). */
    public String push(String piece) {
        if (stopped || piece.isEmpty()) return "";
        String buf = pending + piece;
        if (!started) {
            buf = lstrip(buf);
            if (buf.isEmpty()) {
                pending = "";
                return "";
            }
            started = true;
        }
        int cut = firstStop(buf);
        if (cut >= 0) {
            stopped = true;
            pending = "";
            return emit(rstrip(buf.substring(0, cut)));
        }
        // hold a possible stop-string start and the whitespace before it: both may yet be cut off
        int hold = trailingSpaceStart(buf.substring(0, stopPrefixStart(buf)));
        pending = buf.substring(hold);
        return emit(buf.substring(0, hold));
    }

    /** Ends the text; returns the last final part (the held tail without its trailing whitespace). */
    public String finish() {
        if (stopped) return "";
        String last = rstrip(pending);
        pending = "";
        stopped = true;
        return emit(last);
    }

    /** True once a stop string has been seen (further pushes are ignored). */
    public boolean stopped() {
        return stopped;
    }

    /** The response so far (all of it after {@link #finish}). */
    public String text() {
        return text.toString();
    }

    private String emit(String s) {
        text.append(s);
        return s;
    }

    private int firstStop(String buf) {
        int best = -1;
        for (String s : stops) {
            int i = buf.indexOf(s);
            if (i >= 0 && (best < 0 || i < best)) best = i;
        }
        return best;
    }

    /** Start of the longest suffix of buf that is a proper prefix of a stop string (buf.length() if none). */
    private int stopPrefixStart(String buf) {
        int start = buf.length();
        for (String s : stops) {
            for (int len = Math.min(s.length() - 1, buf.length()); len > 0; len--) {
                if (buf.regionMatches(buf.length() - len, s, 0, len)) {
                    start = Math.min(start, buf.length() - len);
                    break;
                }
            }
        }
        return start;
    }

    private static int trailingSpaceStart(String buf) {
        int end = buf.length();
        while (end > 0) {
            int cp = buf.codePointBefore(end);
            if (!PyStrings.isSpace(cp)) break;
            end -= Character.charCount(cp);
        }
        return end;
    }

    private static String lstrip(String s) {
        int start = 0;
        while (start < s.length()) {
            int cp = s.codePointAt(start);
            if (!PyStrings.isSpace(cp)) break;
            start += Character.charCount(cp);
        }
        return s.substring(start);
    }

    private static String rstrip(String s) {
        return s.substring(0, trailingSpaceStart(s));
    }

    /** The stop strings of a request: the template's first, then the caller's. */
    static List<String> stops(ConversationTemplate template, List<String> extra) {
        List<String> all = new ArrayList<>();
        all.add(template.stopString());
        if (extra != null) all.addAll(extra);
        return all;
    }
}
