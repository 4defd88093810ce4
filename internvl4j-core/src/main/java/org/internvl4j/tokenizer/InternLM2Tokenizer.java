package org.internvl4j.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.internvl4j.util.Json;

/**
 * The tokenizer InternVL2 uses: Hugging Face's slow {@code InternLM2Tokenizer} (transformers 4.37,
 * {@code use_fast=False}) on top of SentencePiece. Encoding splits out the added tokens first,
 * SentencePiece-encodes each remaining segment separately and puts {@code <s>} in front; decoding
 * follows {@code PreTrainedTokenizer._decode} and {@code InternLM2Tokenizer.convert_tokens_to_string},
 * quirks included (space before special tokens, legacy added tokens joined by one space, clean-up of
 * " ." and friends). Immutable and safe to share between threads.
 */
public final class InternLM2Tokenizer implements Tokenizer {
    private final SentencePieceProcessor sp;
    /** Added token content -> its settings, from added_tokens_decoder then added_tokens.json. */
    private final Map<String, AddedToken> added;
    private final Map<Integer, String> idToAdded = new HashMap<>();
    private final AddedTokenSplitter splitter;
    /** bos/eos/unk/pad then additional_special_tokens: the tokens emitted literally and skipped on request. */
    private final List<String> specialTokens;
    private final Set<String> specialTokenSet;
    private final Set<Integer> specialIds = new HashSet<>();
    /** transformers' "legacy added tokens": decoded as separate parts joined with one space. */
    private final Set<String> legacyAdded = new HashSet<>();
    /** SentencePiece id -> id after HF's token lookup (added tokens win over pieces of the same text). */
    private final int[] spIdRemap;
    private final boolean addBosToken;
    private final boolean addEosToken;
    private final int bosId;
    private final int eosId;
    private final int vocabSize;

    record AddedToken(int id, boolean lstrip, boolean rstrip, boolean special) {
    }

    private InternLM2Tokenizer(SentencePieceProcessor sp, Map<String, AddedToken> added, List<String> specialTokens,
                               List<String> additionalSpecial, boolean addBosToken, boolean addEosToken) {
        this.sp = sp;
        this.added = added;
        this.addBosToken = addBosToken;
        this.addEosToken = addEosToken;
        this.bosId = sp.bosId();
        this.eosId = sp.eosId();
        for (var e : added.entrySet()) idToAdded.put(e.getValue().id(), e.getKey());
        this.splitter = new AddedTokenSplitter(added.keySet(), t -> added.get(t).lstrip(), t -> added.get(t).rstrip(),
                PythonStrings::rstrip, PythonStrings::lstrip);
        this.specialTokens = List.copyOf(specialTokens);
        this.specialTokenSet = new HashSet<>(specialTokens);
        for (String t : specialTokens) specialIds.add(tokenIdOrUnk(t));
        for (String t : added.keySet()) {
            if (!specialTokenSet.contains(t)) legacyAdded.add(t);
        }
        for (String t : additionalSpecial) {
            if (tokenIdOrUnk(t) >= sp.size()) legacyAdded.add(t);
        }
        spIdRemap = new int[sp.size()];
        for (int i = 0; i < sp.size(); i++) {
            AddedToken a = added.get(sp.idToPiece(i));
            spIdRemap[i] = a == null ? i : a.id();
        }
        Set<String> vocab = new HashSet<>(added.keySet());
        for (int i = 0; i < sp.size(); i++) vocab.add(idToToken(i));
        this.vocabSize = vocab.size();
        if (addBosToken && bosId < 0) {
            throw new TokenizerException("add_bos_token is true but the SentencePiece model has no CONTROL piece "
                    + sp.model().trainerSpec().bosPiece() + " to use as BOS");
        }
    }

    /**
     * Loads a tokenizer folder: tokenizer.model (required) plus tokenizer_config.json, added_tokens.json
     * and special_tokens_map.json when present. Model weights are not read.
     */
    public static InternLM2Tokenizer load(Path dir) {
        return load(dir.resolve("tokenizer.model"), dir);
    }

    /** Like {@link #load(Path)} with tokenizer.model and the JSON files in different places. */
    public static InternLM2Tokenizer load(Path modelFile, Path dir) {
        if (!Files.isRegularFile(modelFile)) {
            throw new TokenizerException("tokenizer.model not found: " + modelFile);
        }
        SentencePieceProcessor sp = SentencePieceProcessor.load(modelFile);
        ObjectMapper json = Json.mapper();
        Path cfgFile = dir.resolve("tokenizer_config.json");
        Path stmFile = dir.resolve("special_tokens_map.json");
        Path addedFile = dir.resolve("added_tokens.json");
        JsonNode cfg = readJson(json, cfgFile);
        JsonNode stm = readJson(json, stmFile);
        JsonNode addedJson = readJson(json, addedFile);

        Map<String, AddedToken> added = new LinkedHashMap<>();
        JsonNode decoder = cfg.path("added_tokens_decoder");
        if (!decoder.isMissingNode() && !decoder.isObject()) {
            throw new TokenizerException(cfgFile + ": added_tokens_decoder must be an object of id -> token");
        }
        for (var e : decoder.properties()) {
            String where = cfgFile + ": added_tokens_decoder[\"" + e.getKey() + "\"]";
            int id;
            try {
                id = Integer.parseInt(e.getKey());
            } catch (NumberFormatException ex) {
                throw new TokenizerException(where + ": the key must be an integer token id");
            }
            JsonNode t = e.getValue();
            if (!t.path("content").isTextual() || t.path("content").asText().isEmpty()) {
                throw new TokenizerException(where + ": \"content\" must be a non-empty string");
            }
            if (t.path("single_word").asBoolean(false)) {
                throw new TokenizerException(where + ": single_word=true is not supported");
            }
            added.put(t.get("content").asText(), new AddedToken(id, t.path("lstrip").asBoolean(false),
                    t.path("rstrip").asBoolean(false), t.path("special").asBoolean(false)));
        }
        if (!addedJson.isMissingNode() && !addedJson.isObject()) {
            throw new TokenizerException(addedFile + ": must be an object of token -> id");
        }
        for (var e : addedJson.properties()) {
            if (!e.getValue().isInt()) {
                throw new TokenizerException(addedFile + ": the id of \"" + e.getKey() + "\" must be an integer");
            }
            if (e.getKey().isEmpty()) throw new TokenizerException(addedFile + ": an added token is the empty string");
            added.putIfAbsent(e.getKey(), new AddedToken(e.getValue().asInt(), false, false, true));
        }
        // special tokens: special_tokens_map.json wins over tokenizer_config.json, then the class defaults
        Map<String, String> defaults = Map.of("bos_token", "<s>", "eos_token", "</s>", "unk_token", "<unk>", "pad_token", "</s>");
        List<String> special = new ArrayList<>();
        for (String key : List.of("bos_token", "eos_token", "unk_token", "pad_token")) {
            JsonNode v = stm.has(key) ? stm.get(key) : cfg.has(key) ? cfg.get(key) : null;
            String content = v == null ? defaults.get(key) : tokenContent(v, (stm.has(key) ? stmFile : cfgFile) + ": " + key);
            if (content != null && !special.contains(content)) special.add(content);
        }
        JsonNode extra = stm.has("additional_special_tokens") ? stm.get("additional_special_tokens")
                : cfg.path("additional_special_tokens");
        List<String> additional = new ArrayList<>();
        if (!extra.isMissingNode() && !extra.isNull()) {
            if (!extra.isArray()) throw new TokenizerException("additional_special_tokens must be a list (in " + stmFile + " or " + cfgFile + ")");
            for (JsonNode v : extra) additional.add(tokenContent(v, "additional_special_tokens"));
        }
        for (String t : additional) {
            if (!special.contains(t)) special.add(t);
        }
        boolean addBos = booleanField(cfg, "add_bos_token", true, cfgFile);
        boolean addEos = booleanField(cfg, "add_eos_token", false, cfgFile);
        return new InternLM2Tokenizer(sp, added, special, additional, addBos, addEos);
    }

    private static JsonNode readJson(ObjectMapper json, Path file) {
        if (!Files.isRegularFile(file)) return json.createObjectNode();
        try {
            JsonNode n = json.readTree(file.toFile());
            if (n == null || !n.isObject()) throw new TokenizerException(file + ": expected a JSON object");
            return n;
        } catch (IOException e) {
            throw new TokenizerException(file + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    private static String tokenContent(JsonNode v, String where) {
        if (v.isNull()) return null;
        if (v.isTextual()) return v.asText();
        if (v.isObject() && v.path("content").isTextual()) return v.get("content").asText();
        throw new TokenizerException(where + ": expected a string or an object with \"content\"");
    }

    private static boolean booleanField(JsonNode cfg, String key, boolean dflt, Path file) {
        JsonNode v = cfg.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.isBoolean()) throw new TokenizerException(file + ": " + key + " must be true or false");
        return v.asBoolean();
    }

    public SentencePieceProcessor sentencePiece() {
        return sp;
    }

    /** len(tokenizer): the pieces plus the added tokens that are not pieces (92553 for InternVL2-8B). */
    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public int bosId() {
        return bosId;
    }

    @Override
    public int eosId() {
        return eosId;
    }

    /** The id of an added token or a piece; throws if the text is neither. */
    @Override
    public int tokenId(String tokenText) {
        AddedToken a = added.get(tokenText);
        if (a != null) return a.id();
        if (sp.hasPiece(tokenText)) return sp.pieceToId(tokenText);
        throw new IllegalArgumentException("unknown token " + tokenText + ": it is neither an added token nor a SentencePiece piece");
    }

    /** The added tokens (added_tokens_decoder, then added_tokens.json): content -> id, in id order. */
    @Override
    public Map<String, Integer> addedTokens() {
        Map<String, Integer> out = new LinkedHashMap<>();
        added.entrySet().stream().sorted(Map.Entry.comparingByValue((a, b) -> Integer.compare(a.id(), b.id())))
                .forEach(e -> out.put(e.getKey(), e.getValue().id()));
        return java.util.Collections.unmodifiableMap(out);
    }

    private int tokenIdOrUnk(String t) {
        AddedToken a = added.get(t);
        return a != null ? a.id() : sp.pieceToId(t);
    }

    /** The token text of an id: the added token's content, else the SentencePiece piece. */
    @Override
    public String idToToken(int id) {
        String a = idToAdded.get(id);
        return a != null ? a : sp.idToPiece(id);
    }

    @Override
    public boolean isSpecial(int id) {
        return specialIds.contains(id);
    }

    // ---------------------------------------------------------------- encode

    /** {@code tokenizer(text).input_ids}: with {@code <s>} in front. */
    @Override
    public int[] encode(String text) {
        return encode(text, true);
    }

    /** With addBos false this is {@code add_special_tokens=False}: no BOS and no EOS. */
    @Override
    public int[] encode(String text, boolean addBos) {
        SentencePieceProcessor.IntList out = new SentencePieceProcessor.IntList(text.length() / 2 + 4);
        if (addBos && addBosToken) out.add(bosId);
        List<String> parts = split(text);
        for (int i = 0; i < parts.size(); i++) {
            String p = parts.get(i);
            if (p.isEmpty()) continue;
            if (i % 2 == 1) {
                out.add(added.get(p).id());
            } else {
                int from = out.n;
                sp.encodeTo(Utf8.encode(p), out);
                for (int k = from; k < out.n; k++) out.a[k] = spIdRemap[out.a[k]];
            }
        }
        if (addBos && addEosToken) out.add(eosId);
        return out.toArray();
    }

    /**
     * Trie.split as the reference does it: [text, token, text, ..., token, text], cutting at the
     * earliest added token (longest at that position); lstrip/rstrip trim the neighbouring text.
     */
    List<String> split(String text) {
        return splitter.split(text);
    }

    // ---------------------------------------------------------------- decode

    /** {@code tokenizer.decode(ids, skip_special_tokens=...)} with InternVL2's tokenizer_config. */
    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> parts = new ArrayList<>();
        List<String> run = new ArrayList<>();
        for (int id : ids) {
            if (skipSpecialTokens && specialIds.contains(id)) continue;
            String t = idToToken(id);
            if (legacyAdded.contains(t)) {
                if (!run.isEmpty()) {
                    String s = tokensToString(run);
                    if (!s.isEmpty()) parts.add(s);
                    run.clear();
                }
                parts.add(t);
            } else {
                run.add(t);
            }
        }
        if (!run.isEmpty()) parts.add(tokensToString(run));
        return String.join(" ", parts);
    }

    /** InternLM2Tokenizer.convert_tokens_to_string, then clean_up_tokenization (always applied there). */
    private String tokensToString(List<String> tokens) {
        StringBuilder out = new StringBuilder();
        List<String> sub = new ArrayList<>();
        boolean prevSpecial = false;
        for (String t : tokens) {
            if (specialTokenSet.contains(t)) {
                if (!prevSpecial) out.append(' ');
                out.append(spDecode(sub)).append(t);
                sub.clear();
                prevSpecial = true;
            } else {
                sub.add(t);
                prevSpecial = false;
            }
        }
        out.append(spDecode(sub));
        return cleanUpTokenization(out.toString());
    }

    private String spDecode(List<String> pieces) {
        int[] ids = new int[pieces.size()];
        for (int i = 0; i < ids.length; i++) ids[i] = sp.pieceToId(pieces.get(i));
        return sp.decode(ids);
    }

    /** transformers' clean_up_tokenization: these replacements, in this order. */
    static final String[][] CLEAN_UP = {{" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
        {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};

    static String cleanUpTokenization(String s) {
        for (String[] r : CLEAN_UP) s = s.replace(r[0], r[1]);
        return s;
    }

    // ---------------------------------------------------------------- streaming

    /** A detokenizer for streaming whose pieces concatenate to exactly {@link #decode(int[], boolean)}. */
    @Override
    public StreamingDetokenizer newStreamingDetokenizer(boolean skipSpecialTokens) {
        return new StreamingDetokenizer(this, skipSpecialTokens);
    }

    boolean isLegacyAdded(String token) {
        return legacyAdded.contains(token);
    }

    boolean isSpecialToken(String token) {
        return specialTokenSet.contains(token);
    }

    /** Whether a token that is emitted literally as special text can still appear after skipping. */
    boolean specialTextPossible(boolean skipSpecialTokens) {
        if (!skipSpecialTokens) return true;
        for (String t : specialTokens) {
            // Another id with the same text would survive the skip (never the case for InternLM2).
            AddedToken a = added.get(t);
            if (a != null && !specialIds.contains(a.id())) return true;
            if (sp.hasPiece(t) && !specialIds.contains(sp.pieceToId(t)) && idToToken(sp.pieceToId(t)).equals(t)) return true;
        }
        return false;
    }
}
