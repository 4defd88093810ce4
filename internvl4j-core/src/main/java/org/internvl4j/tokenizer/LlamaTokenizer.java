package org.internvl4j.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
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
 * Hugging Face's slow {@code LlamaTokenizer} on top of SentencePiece: the tokenizer of Phi-3-mini (InternVL2-4B) and
 * of Yi / Nous-Hermes-2-Yi-34B (InternVL2-40B), which InternVL loads with {@code use_fast=False}. Written from
 * transformers' {@code models/llama/tokenization_llama.py} and {@code tokenization_utils.py} at commit
 * 01b6c9cb45700190afcc77e7499c60187450d244. Where it differs from {@link InternLM2Tokenizer}:
 * <ul>
 *   <li>{@code legacy: false} (Phi-3): SentencePiece runs without its dummy prefix; one U+2581 goes in front of the
 *       whole text instead (not of every segment between added tokens), a segment that starts with a space is
 *       encoded behind the unk token's text and those pieces dropped (so its space survives), and a lone leading
 *       U+2581 before a special token is dropped. Literal U+2581 in the text becomes a space first.</li>
 *   <li>{@code legacy: true} (the default): every segment is encoded by SentencePiece as it is.</li>
 *   <li>Decode: the first token loses a leading U+2581 ({@code add_prefix_space}); a space goes before a special token
 *       only with {@code legacy}; {@code clean_up_tokenization_spaces} as the config says (default false).</li>
 * </ul>
 * Added tokens are split out first, with their {@code lstrip}/{@code rstrip} (Phi-3's chat tokens have rstrip, so
 * the newline after {@code <|user|>} is swallowed, as in the reference). Immutable and safe to share.
 */
public final class LlamaTokenizer implements Tokenizer {
    static final String SPIECE_UNDERLINE = "\u2581";

    private final SentencePieceProcessor sp;
    private final Map<String, AddedToken> added;
    private final Map<Integer, String> idToAdded = new HashMap<>();
    private final AddedTokenSplitter splitter;
    /** all_special_tokens: bos, eos, unk, pad, then additional_special_tokens. */
    private final Set<String> specialTokens;
    private final Set<Integer> specialIds = new HashSet<>();
    private final Set<String> legacyAdded = new HashSet<>();
    private final int[] spIdRemap;
    private final boolean legacy;
    private final boolean addPrefixSpace;
    private final boolean addBos;
    private final boolean addEos;
    private final boolean cleanUp;
    private final String unkToken;
    private final int unkTokenLength;
    private final int bosId;
    private final int eosId;
    private final int vocabSize;

    record AddedToken(int id, boolean lstrip, boolean rstrip, boolean special) {
    }

    private LlamaTokenizer(SentencePieceProcessor spOriginal, Map<String, AddedToken> added, List<String> special,
                           List<String> additional, String bosToken, String eosToken, String unkToken,
                           boolean legacy, boolean addPrefixSpace, boolean addBos, boolean addEos, boolean cleanUp) {
        this.sp = legacy ? spOriginal : spOriginal.withoutDummyPrefix();
        this.added = added;
        this.legacy = legacy;
        this.addPrefixSpace = addPrefixSpace;
        this.addBos = addBos;
        this.addEos = addEos;
        this.cleanUp = cleanUp;
        this.unkToken = unkToken;
        for (var e : added.entrySet()) idToAdded.put(e.getValue().id(), e.getKey());
        this.splitter = new AddedTokenSplitter(added.keySet(), t -> added.get(t).lstrip(), t -> added.get(t).rstrip(),
                PythonStrings::rstrip, PythonStrings::lstrip);
        this.specialTokens = new HashSet<>(special);
        for (String t : special) specialIds.add(tokenIdOrUnk(t));
        for (String t : added.keySet()) if (!specialTokens.contains(t)) legacyAdded.add(t);
        for (String t : additional) if (tokenIdOrUnk(t) >= sp.size()) legacyAdded.add(t);
        spIdRemap = new int[sp.size()];
        for (int i = 0; i < sp.size(); i++) {
            AddedToken a = added.get(sp.idToPiece(i));
            spIdRemap[i] = a == null ? i : a.id();
        }
        Set<String> vocab = new HashSet<>(added.keySet());
        for (int i = 0; i < sp.size(); i++) vocab.add(idToToken(i));
        this.vocabSize = vocab.size();
        this.unkTokenLength = sp.encode(unkToken).length;
        this.bosId = bosToken == null ? -1 : tokenIdOrUnk(bosToken);
        this.eosId = eosToken == null ? -1 : tokenIdOrUnk(eosToken);
        if (addBos && bosId < 0) throw new TokenizerException("add_bos_token is true but there is no bos_token");
    }

    /** Loads tokenizer.model with tokenizer_config.json, special_tokens_map.json and added_tokens.json when present. */
    public static LlamaTokenizer load(Path dir) {
        Path modelFile = dir.resolve("tokenizer.model");
        if (!Files.isRegularFile(modelFile)) throw new TokenizerException("tokenizer.model not found: " + modelFile);
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
            if (t.path("single_word").asBoolean(false)) throw new TokenizerException(where + ": single_word=true is not supported");
            added.put(t.get("content").asText(), new AddedToken(id, t.path("lstrip").asBoolean(false),
                    t.path("rstrip").asBoolean(false), t.path("special").asBoolean(false)));
        }
        if (!addedJson.isMissingNode() && !addedJson.isObject()) throw new TokenizerException(addedFile + ": must be an object of token -> id");
        for (var e : addedJson.properties()) {
            if (!e.getValue().isInt()) throw new TokenizerException(addedFile + ": the id of \"" + e.getKey() + "\" must be an integer");
            if (e.getKey().isEmpty()) throw new TokenizerException(addedFile + ": an added token is the empty string");
            added.putIfAbsent(e.getKey(), new AddedToken(e.getValue().asInt(), false, false, true));
        }
        // LlamaTokenizer's defaults: unk <unk>, bos <s>, eos </s>, pad none
        Map<String, String> defaults = new HashMap<>(Map.of("bos_token", "<s>", "eos_token", "</s>", "unk_token", "<unk>"));
        Map<String, String> named = new LinkedHashMap<>();
        List<String> special = new ArrayList<>();
        for (String key : List.of("bos_token", "eos_token", "unk_token", "pad_token")) {
            JsonNode v = stm.has(key) ? stm.get(key) : cfg.has(key) ? cfg.get(key) : null;
            String content = v == null ? defaults.get(key) : tokenContent(v, (stm.has(key) ? stmFile : cfgFile) + ": " + key);
            named.put(key, content);
            if (content != null && !special.contains(content)) special.add(content);
        }
        JsonNode extra = stm.has("additional_special_tokens") ? stm.get("additional_special_tokens") : cfg.path("additional_special_tokens");
        List<String> additional = new ArrayList<>();
        if (!extra.isMissingNode() && !extra.isNull()) {
            if (!extra.isArray()) throw new TokenizerException("additional_special_tokens must be a list (in " + stmFile + " or " + cfgFile + ")");
            for (JsonNode v : extra) additional.add(tokenContent(v, "additional_special_tokens"));
        }
        for (String t : additional) if (!special.contains(t)) special.add(t);
        if (named.get("unk_token") == null) throw new TokenizerException(cfgFile + ": unk_token must not be null for a LlamaTokenizer");
        return new LlamaTokenizer(sp, added, special, additional, named.get("bos_token"), named.get("eos_token"),
                named.get("unk_token"), booleanField(cfg, "legacy", true, cfgFile), booleanField(cfg, "add_prefix_space", true, cfgFile),
                booleanField(cfg, "add_bos_token", true, cfgFile), booleanField(cfg, "add_eos_token", false, cfgFile),
                booleanField(cfg, "clean_up_tokenization_spaces", false, cfgFile));
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

    public boolean legacy() {
        return legacy;
    }

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

    @Override
    public int tokenId(String tokenText) {
        AddedToken a = added.get(tokenText);
        if (a != null) return a.id();
        if (sp.hasPiece(tokenText)) return sp.pieceToId(tokenText);
        throw new IllegalArgumentException("unknown token " + tokenText + ": it is neither an added token nor a SentencePiece piece");
    }

    private int tokenIdOrUnk(String t) {
        AddedToken a = added.get(t);
        return a != null ? a.id() : sp.pieceToId(t);
    }

    @Override
    public String idToToken(int id) {
        String a = idToAdded.get(id);
        return a != null ? a : sp.idToPiece(id);
    }

    @Override
    public boolean isSpecial(int id) {
        return specialIds.contains(id);
    }

    @Override
    public Map<String, Integer> addedTokens() {
        Map<String, Integer> out = new LinkedHashMap<>();
        added.entrySet().stream().sorted(Map.Entry.comparingByValue((a, b) -> Integer.compare(a.id(), b.id())))
                .forEach(e -> out.put(e.getKey(), e.getValue().id()));
        return Collections.unmodifiableMap(out);
    }

    // ---------------------------------------------------------------- encode

    /** {@code tokenizer(text, add_special_tokens=...).input_ids}. */
    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        List<Integer> ids = new ArrayList<>();
        boolean firstIsLoneSpace = false;
        if (!legacy && !text.isEmpty()) {
            text = text.replace(SPIECE_UNDERLINE, " ");
            if (addPrefixSpace) text = SPIECE_UNDERLINE + text;
        }
        List<String> parts = split(text);
        for (int i = 0; i < parts.size(); i++) {
            String p = parts.get(i);
            if (p.isEmpty()) continue;
            if (i % 2 == 1) {
                ids.add(added.get(p).id());
            } else {
                int[] pieces = tokenizeSegment(p);
                if (ids.isEmpty() && pieces.length > 0 && sp.idToPiece(pieces[0]).equals(SPIECE_UNDERLINE)) firstIsLoneSpace = true;
                for (int id : pieces) ids.add(spIdRemap[id]);
            }
        }
        // tokenize(): a lone prefix "▁" before a special token is dropped (legacy=False only)
        if (!legacy && firstIsLoneSpace && ids.size() > 1 && specialTokens.contains(idToToken(ids.get(1)))) ids.remove(0);
        int n = ids.size() + (addSpecialTokens && addBos ? 1 : 0) + (addSpecialTokens && addEos ? 1 : 0);
        int[] out = new int[n];
        int k = 0;
        if (addSpecialTokens && addBos) out[k++] = bosId;
        for (int id : ids) out[k++] = id;
        if (addSpecialTokens && addEos) out[k] = eosId;
        return out;
    }

    /** _tokenize: SentencePiece as is, or (legacy false, text starting with a space) behind the unk token's text. */
    private int[] tokenizeSegment(String text) {
        if (legacy || !(text.startsWith(SPIECE_UNDERLINE) || text.startsWith(" "))) return sp.encode(text);
        int[] withUnk = sp.encode(unkToken + text);
        return withUnk.length >= unkTokenLength ? java.util.Arrays.copyOfRange(withUnk, unkTokenLength, withUnk.length) : withUnk;
    }

    /** The added-token split of PreTrainedTokenizer.tokenize: [text, token, text, ..., token, text]; lstrip/rstrip applied. */
    List<String> split(String text) {
        return splitter.split(text);
    }

    // ---------------------------------------------------------------- decode

    /** PreTrainedTokenizer._decode with LlamaTokenizer.convert_tokens_to_string. */
    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> parts = new ArrayList<>();
        List<String> run = new ArrayList<>();
        for (int id : ids) {
            if (id < 0 || (id >= sp.size() && !idToAdded.containsKey(id))) {
                throw new IllegalArgumentException("token id " + id + " is out of range [0, " + vocabSize + ")");
            }
            if (skipSpecialTokens && specialIds.contains(id)) continue;
            String t = idToToken(id);
            if (legacyAdded.contains(t)) {
                if (!run.isEmpty()) {
                    String s = tokensToString(run);
                    if (!s.isEmpty()) parts.add(s);
                    run = new ArrayList<>();
                }
                parts.add(t);
            } else {
                run.add(t);
            }
        }
        if (!run.isEmpty()) parts.add(tokensToString(run));
        String text = String.join(" ", parts);
        return cleanUp ? InternLM2Tokenizer.cleanUpTokenization(text) : text;
    }

    /** LlamaTokenizer.convert_tokens_to_string. */
    private String tokensToString(List<String> tokens) {
        if (tokens.get(0).startsWith(SPIECE_UNDERLINE) && addPrefixSpace) tokens.set(0, tokens.get(0).substring(1));
        StringBuilder out = new StringBuilder();
        List<String> sub = new ArrayList<>();
        boolean prevSpecial = false;
        for (int i = 0; i < tokens.size(); i++) {
            String t = tokens.get(i);
            if (specialTokens.contains(t)) {
                if (!prevSpecial && i != 0 && legacy) out.append(' ');
                out.append(sp.decodePieces(sub)).append(t);
                prevSpecial = true;
                sub.clear();
            } else {
                if (prevSpecial && i == 1 && addPrefixSpace && !t.startsWith(SPIECE_UNDERLINE)) out.append(' ');
                sub.add(t);
                prevSpecial = false;
            }
        }
        out.append(sp.decodePieces(sub));
        return out.toString();
    }

    // ---------------------------------------------------------------- streaming

    @Override
    public Detokenizer newStreamingDetokenizer(boolean skipSpecialTokens) {
        return new RedecodingDetokenizer(this, skipSpecialTokens);
    }

    /** The byte of a SentencePiece byte piece (its character may still be incomplete), or -1. */
    int byteValue(int id) {
        return id >= 0 && id < sp.size() && !idToAdded.containsKey(id) ? sp.byteValue(id) : -1;
    }

    /** Whether the token text is one of all_special_tokens (the ones the legacy decode puts a space before). */
    boolean isSpecialText(int id) {
        return specialTokens.contains(idToToken(id));
    }

    boolean cleansUp() {
        return cleanUp;
    }
}
