package org.internvl4j.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;

/** Reads typed fields from a config JSON object, with defaults, naming the field in every error. */
final class ConfigReader {
    private final String where;
    private final JsonNode node;

    ConfigReader(String where, JsonNode node) {
        this.where = where;
        this.node = node;
    }

    JsonNode node() {
        return node;
    }

    boolean has(String key) {
        return node.hasNonNull(key);
    }

    int integer(String key) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) throw new CheckpointException(where + ": missing required field '" + key + "'");
        if (!v.canConvertToInt() || !v.isIntegralNumber()) throw new CheckpointException(where + ": field '" + key + "' must be an integer, got " + v);
        return v.intValue();
    }

    int integer(String key, int dflt) {
        return has(key) ? integer(key) : dflt;
    }

    double number(String key, double dflt) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.isNumber()) throw new CheckpointException(where + ": field '" + key + "' must be a number, got " + v);
        return v.doubleValue();
    }

    boolean bool(String key, boolean dflt) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.isBoolean()) throw new CheckpointException(where + ": field '" + key + "' must be true or false, got " + v);
        return v.booleanValue();
    }

    String text(String key, String dflt) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.isTextual()) throw new CheckpointException(where + ": field '" + key + "' must be a string, got " + v);
        return v.textValue();
    }

    void require(boolean ok, String message) {
        if (!ok) throw new CheckpointException(where + ": " + message);
    }
}
