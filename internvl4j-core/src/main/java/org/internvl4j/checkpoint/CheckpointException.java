package org.internvl4j.checkpoint;

/** A checkpoint that cannot be used as it is: the message names the file, tensor or field. */
public class CheckpointException extends RuntimeException {
    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
