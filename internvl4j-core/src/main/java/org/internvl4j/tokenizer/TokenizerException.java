package org.internvl4j.tokenizer;

/** A tokenizer file is malformed or asks for something this implementation does not support. */
public final class TokenizerException extends RuntimeException {
    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
