package org.internvl4j.chat;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The response of one request as an iterator of text pieces, like the model card's {@code TextIteratorStreamer}:
 * the request runs on the model's engine (no thread of its own) and {@link #next} waits for the next piece.
 * {@link #result} gives the whole result once generation has ended; {@link #close} ends generation early.
 */
public final class ChatStream implements Iterator<String>, AutoCloseable {
    private final ArrayDeque<String> pieces = new ArrayDeque<>();
    private final ChatModel.Run run;
    private volatile boolean closed;
    private RuntimeException failure;

    ChatStream(ChatModel chat, ChatRequest request) {
        ChatModel.Run r = null;
        try {
            r = chat.start(List.of(chat.prepare(request, null)), (i, s) -> {
                pieces.add(s);
                return !closed;
            });
        } catch (RuntimeException e) {
            failure = e; // surfaces at the first hasNext(), as when generation ran on its own thread
        }
        this.run = r;
    }

    @Override
    public boolean hasNext() {
        if (failure != null) throw failure;
        try {
            while (pieces.isEmpty() && !run.done()) run.pump();
        } catch (RuntimeException e) {
            failure = e;
            throw e;
        }
        return !pieces.isEmpty();
    }

    @Override
    public String next() {
        if (!hasNext()) throw new NoSuchElementException("the response has ended");
        return pieces.poll();
    }

    /** The full result; waits for generation to end. */
    public ChatResult result() {
        while (hasNext()) next();
        return run.results().get(0);
    }

    /** Stops generation at the next token. */
    @Override
    public void close() {
        closed = true;
        if (run != null && !run.done()) run.cancel();
    }
}
