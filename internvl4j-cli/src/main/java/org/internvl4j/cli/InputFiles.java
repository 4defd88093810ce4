package org.internvl4j.cli;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.internvl4j.util.Json;

/** Files the user names on the command line, read with errors that name the file and what is wrong. */
final class InputFiles {
    private InputFiles() {}

    /** The text of a file; "no such file" or "is a directory" otherwise. what: e.g. "--history". */
    static String read(String what, Path file) {
        if (Files.isDirectory(file)) throw new IllegalArgumentException(what + " " + file + ": is a directory, not a file");
        if (!Files.exists(file)) throw new IllegalArgumentException(what + " " + file + ": no such file");
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new IllegalArgumentException(what + " " + file + ": cannot read it (" + e.getMessage() + ")", e);
        }
    }

    /** A JSON file; a syntax error says the line and column, not the parser's internals. */
    static JsonNode readJson(String what, Path file) {
        String text = read(what, file);
        try {
            JsonNode n = Json.mapper().readTree(text);
            if (n == null || n.isMissingNode()) throw new IllegalArgumentException(what + " " + file + ": the file is empty, expected JSON");
            return n;
        } catch (JacksonException e) {
            throw new IllegalArgumentException(what + " " + file + ": " + jsonError(e), e);
        }
    }

    /** "line 3, column 7: unexpected character ']'" from a Jackson error. */
    static String jsonError(JacksonException e) {
        JsonLocation at = e.getLocation();
        String msg = e.getOriginalMessage();
        msg = msg.lines().findFirst().orElse("").replaceAll(" \\(code \\d+\\)", "")
                .replaceAll("\\s*\\(for [^)]*\\)", "").replaceAll("\\s*at \\[Source.*", "");
        if (!msg.isEmpty()) msg = Character.toLowerCase(msg.charAt(0)) + msg.substring(1);
        return at == null || at.getLineNr() < 1 ? "not valid JSON: " + msg
                : "not valid JSON at line " + at.getLineNr() + ", column " + at.getColumnNr() + ": " + msg;
    }
}
