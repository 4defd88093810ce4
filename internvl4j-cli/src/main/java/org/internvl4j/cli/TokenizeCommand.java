package org.internvl4j.cli;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.internvl4j.tokenizer.Tokenizer;
import org.internvl4j.tokenizer.TokenizerException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import org.internvl4j.util.Json;

/** {@code internvl tokenize}: JSON lines in, JSON lines out, with the checkpoint's tokenizer. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        header = "Tokenizes or decodes JSON lines with a model's tokenizer.",
        description = {"Tokenizes JSON lines {\"text\": ...} from stdin into {\"ids\": [...]} lines (with the special "
                + "tokens the tokenizer adds: InternLM2's <s>, or what tokenizer.json's post-processor says), or with "
                + "--decode turns {\"ids\": [...]} lines into {\"text\": ...} lines.",
            "Only the tokenizer files of the model are read (tokenizer.model, tokenizer_config.json, added_tokens.json, "
                + "special_tokens_map.json; or tokenizer.json and tokenizer_config.json for byte-level BPE); for a hub id "
                + "only they are downloaded, not the weights."})
public final class TokenizeCommand implements Callable<Integer> {
    @Mixin
    ModelOption model;

    @Option(names = "--decode", description = "Decode {\"ids\": [...]} lines instead of encoding text.")
    boolean decode;

    @Option(names = "--keep-special-tokens", description = "With --decode: keep special tokens (skip_special_tokens=False).")
    boolean keepSpecial;

    @Option(names = "--no-bos", description = "Encode without the special tokens such as <s> (add_special_tokens=False).")
    boolean noBos;

    InputStream in = System.in;
    OutputStream out = System.out;
    PrintStream err = System.err;

    @Override
    public Integer call() throws Exception {
        Tokenizer tok;
        try {
            tok = Tokenizer.load(model.resolveTokenizer());
        } catch (TokenizerException | org.internvl4j.hub.HubException e) {
            err.println("internvl tokenize: " + e.getMessage());
            return 1;
        }
        ObjectMapper json = Json.mapper();
        PrintStream o = new PrintStream(out, false, StandardCharsets.UTF_8);
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        String line;
        int lineNo = 0;
        while ((line = r.readLine()) != null) {
            lineNo++;
            if (line.isBlank()) continue;
            try {
                JsonNode rec = json.readTree(line);
                ObjectNode result = json.createObjectNode();
                if (decode) {
                    JsonNode ids = rec == null ? null : rec.get("ids");
                    if (ids == null || !ids.isArray()) throw new IllegalArgumentException("expected {\"ids\": [int, ...]}");
                    int[] arr = new int[ids.size()];
                    for (int i = 0; i < arr.length; i++) {
                        if (!ids.get(i).canConvertToInt() || !ids.get(i).isIntegralNumber()) {
                            throw new IllegalArgumentException("ids[" + i + "] is not an integer");
                        }
                        arr[i] = ids.get(i).asInt();
                    }
                    result.put("text", tok.decode(arr, !keepSpecial));
                } else {
                    JsonNode text = rec == null ? null : rec.get("text");
                    if (text == null || !text.isTextual()) throw new IllegalArgumentException("expected {\"text\": string}");
                    ArrayNode a = result.putArray("ids");
                    for (int id : tok.encode(text.asText(), !noBos)) a.add(id);
                }
                o.println(json.writeValueAsString(result));
            } catch (IllegalArgumentException | com.fasterxml.jackson.core.JacksonException e) {
                o.flush();
                String why = e instanceof com.fasterxml.jackson.core.JacksonException j ? InputFiles.jsonError(j) : e.getMessage();
                err.println("internvl tokenize: stdin line " + lineNo + ": " + why);
                return 1;
            }
        }
        o.flush();
        return 0;
    }
}
