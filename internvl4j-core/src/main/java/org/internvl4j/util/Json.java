package org.internvl4j.util;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * Every ObjectMapper of the project comes from here, so that every JSON it parses (config.json, tokenizer files,
 * safetensors headers, hub answers, request bodies) has the same bounds: nesting depth and document length from
 * {@link Limits} (Jackson's StreamReadConstraints; beyond them parsing stops with a StreamConstraintsException that
 * names the limit), Jackson's own caps on string (20 M chars) and number (1000 digits) length.
 */
public final class Json {
    private Json() {
    }

    /** A mapper with the current {@link Limits}. */
    public static ObjectMapper mapper() {
        return builder().build();
    }

    /** A mapper builder with the current {@link Limits}, to add features to. */
    public static JsonMapper.Builder builder() {
        Limits l = Limits.current();
        return builder(l.jsonDepth(), l.jsonBytes());
    }

    /** A mapper builder with these bounds (the server passes its body limit as the document length). */
    public static JsonMapper.Builder builder(int maxDepth, long maxDocumentBytes) {
        return JsonMapper.builder(factory(maxDepth, maxDocumentBytes));
    }

    static JsonFactory factory(int maxDepth, long maxDocumentBytes) {
        return JsonFactory.builder().streamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(maxDepth).maxDocumentLength(maxDocumentBytes).build()).build();
    }
}
