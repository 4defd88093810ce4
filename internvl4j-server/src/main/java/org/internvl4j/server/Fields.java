package org.internvl4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** Typed, range-checked reads of request fields; a wrong type or value is a 400 naming the field. */
final class Fields {
    private Fields() {
    }

    static boolean absent(JsonNode body, String name) {
        JsonNode n = body.get(name);
        return n == null || n.isNull();
    }

    static boolean bool(JsonNode body, String name, boolean dflt) {
        if (absent(body, name)) return dflt;
        JsonNode n = body.get(name);
        if (!n.isBoolean()) throw ApiError.badRequest("'" + name + "' must be a boolean, got " + describe(n), name);
        return n.booleanValue();
    }

    static long integer(JsonNode body, String name, long dflt, long min, long max) {
        if (absent(body, name)) return dflt;
        JsonNode n = body.get(name);
        if (!n.isIntegralNumber() && !(n.isNumber() && n.asDouble() == Math.rint(n.asDouble()))) {
            throw ApiError.badRequest("'" + name + "' must be an integer, got " + describe(n), name);
        }
        if (!n.canConvertToLong()) throw ApiError.badRequest("'" + name + "' is out of range: " + n, name);
        long v = n.asLong();
        if (v < min || v > max) {
            throw ApiError.badRequest("'" + name + "' must be in [" + min + ", " + max + "], got " + v, name);
        }
        return v;
    }

    static double number(JsonNode body, String name, double dflt, double min, double max) {
        if (absent(body, name)) return dflt;
        JsonNode n = body.get(name);
        if (!n.isNumber()) throw ApiError.badRequest("'" + name + "' must be a number, got " + describe(n), name);
        double v = n.asDouble();
        if (!(v >= min && v <= max)) throw ApiError.badRequest("'" + name + "' must be in [" + min + ", " + max + "], got " + v, name);
        return v;
    }

    static String string(JsonNode body, String name) {
        if (absent(body, name)) return null;
        JsonNode n = body.get(name);
        if (!n.isTextual()) throw ApiError.badRequest("'" + name + "' must be a string, got " + describe(n), name);
        return n.textValue();
    }

    /** OpenAI's stop: a string or an array of up to 4 non-empty strings. */
    static List<String> stops(JsonNode body) {
        if (absent(body, "stop")) return List.of();
        JsonNode n = body.get("stop");
        List<String> out = new ArrayList<>();
        if (n.isTextual()) out.add(n.textValue());
        else if (n.isArray()) {
            if (n.size() > 4) throw ApiError.badRequest("'stop' takes at most 4 strings, got " + n.size(), "stop");
            for (JsonNode s : n) {
                if (!s.isTextual()) throw ApiError.badRequest("'stop' must be a string or an array of strings", "stop");
                out.add(s.textValue());
            }
        } else throw ApiError.badRequest("'stop' must be a string or an array of strings, got " + describe(n), "stop");
        for (String s : out) if (s.isEmpty()) throw ApiError.badRequest("'stop' strings must not be empty", "stop");
        return out;
    }

    static String describe(JsonNode n) {
        return switch (n.getNodeType()) {
            case STRING -> "a string";
            case NUMBER -> "the number " + n;
            case BOOLEAN -> "a boolean";
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case NULL -> "null";
            default -> n.getNodeType().toString().toLowerCase();
        };
    }
}
