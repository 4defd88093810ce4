package org.internvl4j.server;

import java.util.List;

/**
 * Raw completion text cut at the first stop string, released piece by piece: a tail that may still become a stop
 * string is held back until it cannot, so the streamed pieces add up to the final text. Unlike the chat response
 * nothing is stripped.
 */
final class StopText {
    private final List<String> stops;
    private final StringBuilder text = new StringBuilder();
    private String pending = "";
    private boolean stopped;

    StopText(List<String> stops) {
        this.stops = List.copyOf(stops);
    }

    String push(String piece) {
        if (stopped || piece.isEmpty()) return "";
        String buf = pending + piece;
        int cut = -1;
        for (String s : stops) {
            int i = buf.indexOf(s);
            if (i >= 0 && (cut < 0 || i < cut)) cut = i;
        }
        if (cut >= 0) {
            stopped = true;
            pending = "";
            return emit(buf.substring(0, cut));
        }
        int hold = buf.length();
        for (String s : stops) {
            for (int len = Math.min(s.length() - 1, buf.length()); len > 0; len--) {
                if (buf.regionMatches(buf.length() - len, s, 0, len)) {
                    hold = Math.min(hold, buf.length() - len);
                    break;
                }
            }
        }
        pending = buf.substring(hold);
        return emit(buf.substring(0, hold));
    }

    String finish() {
        if (stopped) return "";
        stopped = true;
        String last = pending;
        pending = "";
        return emit(last);
    }

    boolean stopped() {
        return stopped;
    }

    String text() {
        return text.toString();
    }

    private String emit(String s) {
        text.append(s);
        return s;
    }
}
