package org.internvl4j.chat;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The response of one request as an iterator of text pieces, like the model card's {@code TextIteratorStreamer}:
 * generation runs on its own thread and {@link #next} blocks for the next piece. {@link #result} gives the whole
 * result once the iterator is exhausted; {@link #close} ends generation early.
 */
public final class ChatStream implements Iterator<String>, AutoCloseable {
    private static final Object END = new Object();
    private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private final Thread worker;
    private volatile boolean closed;
    private volatile ChatResult result;
    private Object next;

    ChatStream(ChatModel chat, ChatRequest request) {
        worker = Thread.ofPlatform().daemon().name("internvl-chat-stream").start(() -> {
            try {
                result = chat.batchChat(java.util.List.of(request), (i, s) -> {
                    queue.add(s);
                    return !closed;
                }).get(0);
                queue.add(END);
            } catch (RuntimeException | Error e) {
                queue.add(e);
            }
        });
    }

    @Override
    public boolean hasNext() {
        if (next == null) {
            try {
                next = queue.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the next piece", e);
            }
        }
        if (next instanceof RuntimeException e) throw e;
        if (next instanceof Error e) throw e;
        return next != END;
    }

    @Override
    public String next() {
        if (!hasNext()) throw new NoSuchElementException("the response has ended");
        String s = (String) next;
        next = null;
        return s;
    }

    /** The full result; waits for generation to end. */
    public ChatResult result() {
        try {
            worker.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the result", e);
        }
        while (hasNext()) next();
        return result;
    }

    /** Stops generation at the next token. */
    @Override
    public void close() {
        closed = true;
    }
}
