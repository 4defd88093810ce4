package org.internvl4j.checkpoint;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.internvl4j.util.Limits;

/** Reads typed fields from a config JSON object, with defaults, naming the field in every error. */
final class ConfigReader {
    private final String where;
    private final JsonNode node;

    ConfigReader(String where, JsonNode node) {
        this.where = where;
        this.node = node;
    }

    /** Parses a JSON file; the error says whether it is missing, unreadable or malformed. */
    static JsonNode readJson(Path file, String missingHint) {
        byte[] bytes;
        try {
            long size = Files.size(file), limit = Limits.current().jsonBytes();
            if (size > limit) {
                throw new CheckpointException(file + ": " + Limits.count(size) + " bytes, above the limit of " + Limits.count(limit)
                        + " bytes for a JSON file (-D" + Limits.PREFIX + "jsonBytes)");
            }
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file + ": not found" + missingHint, e);
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read: " + e.getMessage(), e);
        }
        try {
            return SafeTensorsFile.JSON.readTree(bytes);
        } catch (JacksonException e) {
            var at = e.getLocation();
            if (e instanceof StreamConstraintsException) {
                throw new CheckpointException(file + ": JSON beyond a limit: " + e.getOriginalMessage()
                        + " (-D" + Limits.PREFIX + "jsonDepth / jsonBytes)", e);
            }
            throw new CheckpointException(file + ": malformed JSON: " + e.getOriginalMessage()
                    + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"), e);
        } catch (IOException e) {
            throw new CheckpointException(file + ": malformed JSON: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
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
