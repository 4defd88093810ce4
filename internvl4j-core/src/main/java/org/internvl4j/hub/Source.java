package org.internvl4j.hub;

import java.util.Locale;

/** Where model files come from. Both land in the same Hugging Face cache layout. */
public enum Source {
    /** huggingface.co, or a mirror through {@code HF_ENDPOINT}. */
    HUGGING_FACE("huggingface", "https://huggingface.co", "main"),
    /** modelscope.cn, or another host through {@code MODELSCOPE_ENDPOINT}. */
    MODELSCOPE("modelscope", "https://www.modelscope.cn", "master");

    private final String label;
    private final String defaultEndpoint;
    private final String defaultRevision;

    Source(String label, String defaultEndpoint, String defaultRevision) {
        this.label = label;
        this.defaultEndpoint = defaultEndpoint;
        this.defaultRevision = defaultRevision;
    }

    public String label() {
        return label;
    }

    public String defaultEndpoint() {
        return defaultEndpoint;
    }

    /** The branch used when a model id names no revision. */
    public String defaultRevision() {
        return defaultRevision;
    }

    public static Source parse(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        return switch (t) {
            case "huggingface", "hf", "hugging-face" -> HUGGING_FACE;
            case "modelscope", "ms" -> MODELSCOPE;
            default -> throw new HubException(HubException.Kind.INVALID_ID,
                    "unknown source '" + text + "': expected huggingface or modelscope");
        };
    }
}
