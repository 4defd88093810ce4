package org.internvl4j.image;

/** An image or video could not be read or preprocessed; the message names the input and what was expected. */
public class ImageException extends RuntimeException {

    public ImageException(String message) {
        super(message);
    }

    public ImageException(String message, Throwable cause) {
        super(message, cause);
    }
}
