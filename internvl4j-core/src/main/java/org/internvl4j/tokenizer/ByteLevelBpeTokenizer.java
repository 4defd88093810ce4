package org.internvl4j.tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.internvl4j.util.Json;

/**
 * A Hugging Face fast tokenizer ({@code tokenizer.json}) with a byte-level BPE model: Qwen2/2.5/3 and
 * Llama 3. Encoding follows the Rust tokenizers library: added tokens are split out of the raw text
 * first (longest match at the leftmost position; {@code lstrip}/{@code rstrip} swallow neighbouring
 * white space; {@code normalized} tokens are looked for again after normalization), the rest is
 * normalized (NFC ...), cut by the pre-tokenizer's Split regex as written in the file (see
 * {@link OnigRegex}), each piece's UTF-8 bytes are merged by {@link BpeModel}, and the post-processor
 * adds its template tokens (none for Qwen2; {@code <|begin_of_text|>} when a Llama 3 file's
 * TemplateProcessing asks for it). Decoding maps tokens back to bytes (the ByteLevel decoder), reads them
 * as UTF-8 with one U+FFFD per maximal invalid subsequence, and applies transformers'
 * clean_up_tokenization when tokenizer_config.json asks for it.
 *
 * <p>An unpaired surrogate in the input is encoded as U+FFFD, as transformers.js does (Python refuses such
 * strings). Immutable and safe to share between threads.
 */
public final class ByteLevelBpeTokenizer implements Tokenizer {
    private final BpeModel model;
    private final java.text.Normalizer.Form[] normalizers;
    /** The Split regexes, applied in order, each cutting the pieces of the previous. */
    private final List<Pattern> splits;
    /** Added tokens matched in the text as given, and those matched after normalizing (normalized: true). */
    private final AddedTokenSplitter rawAdded;
    private final AddedTokenSplitter normalizedAdded;
    /** Added token content -> settings, and id -> content. */
    private final Map<String, AddedToken> added;
    private final Map<Integer, AddedToken> addedById = new HashMap<>();
    private final int[] prefix;
    private final int[] suffix;
    /** The bytes each id decodes to (ByteLevel decoder rules), null for unused ids. */
    private final byte[][] tokenBytes;
    private final boolean[] special;
    /** The slow Qwen2Tokenizer layout: NFC over the whole text before the added tokens are split out. */
    private final boolean normalizeFirst;
    private final boolean cleanUpSpaces;
    private final int bosId;
    private final int eosId;
    private final int vocabSize;

    record AddedToken(int id, String content, boolean lstrip, boolean rstrip, boolean normalized, boolean special) {
    }

    /** The standard GPT-2 pattern of the ByteLevel pre-tokenizer with use_regex=true. */
    static final String GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    private ByteLevelBpeTokenizer(BpeModel model, java.text.Normalizer.Form[] normalizers, List<Pattern> splits,
                                  List<AddedToken> addedTokens, int[] prefix, int[] suffix, boolean cleanUpSpaces,
                                  String bosToken, String eosToken, java.util.Set<String> slowSpecialTokens, String where) {
        this.model = model;
        this.normalizeFirst = slowSpecialTokens != null;
        this.normalizers = normalizers;
        this.splits = splits;
        this.prefix = prefix;
        this.suffix = suffix;
        this.cleanUpSpaces = cleanUpSpaces;
        Map<String, AddedToken> byContent = new LinkedHashMap<>();
        List<String> raw = new ArrayList<>(), norm = new ArrayList<>();
        for (AddedToken t : addedTokens) {
            byContent.put(t.content(), t);
            addedById.put(t.id(), t);
            if (t.normalized() && normalizers.length > 0) {
                String n = normalize(t.content());
                byContent.putIfAbsent(n, t);
                norm.add(n);
            } else {
                raw.add(t.content());
            }
        }
        this.added = byContent;
        this.rawAdded = new AddedTokenSplitter(raw, t -> byContent.get(t).lstrip(), t -> byContent.get(t).rstrip(),
                ByteLevelBpeTokenizer::stripEnd, ByteLevelBpeTokenizer::stripStart);
        this.normalizedAdded = new AddedTokenSplitter(norm, t -> byContent.get(t).lstrip(), t -> byContent.get(t).rstrip(),
                ByteLevelBpeTokenizer::stripEnd, ByteLevelBpeTokenizer::stripStart);
        int size = model.size();
        for (AddedToken t : addedTokens) size = Math.max(size, t.id() + 1);
        tokenBytes = new byte[size][];
        special = new boolean[size];
        int distinct = 0;
        for (int id = 0; id < size; id++) {
            AddedToken a = addedById.get(id);
            String tok = a != null ? a.content() : model.token(id);
            if (tok == null) continue;
            distinct++;
            tokenBytes[id] = byteLevelDecode(tok);
            special[id] = slowSpecialTokens == null ? a != null && a.special() : slowSpecialTokens.contains(tok);
        }
        this.vocabSize = distinct;
        this.bosId = bosToken == null ? -1 : idOf(bosToken, where + ": bos_token");
        this.eosId = eosToken == null ? -1 : idOf(eosToken, where + ": eos_token");
    }

    private int idOf(String token, String where) {
        AddedToken a = added.get(token);
        if (a != null) return a.id();
        Integer id = model.id(token);
        if (id == null) throw new TokenizerException(where + " " + token + " is neither an added token nor in the vocabulary");
        return id;
    }

    /**
     * The ByteLevel decoder's rule for one token: its characters as bytes when every character stands
     * for a byte, else the token's own UTF-8 (added tokens such as {@code <|im_end|>} are plain text).
     */
    static byte[] byteLevelDecode(String token) {
        byte[] out = new byte[token.length()];
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            int b = c < BpeModel.CHAR_BYTE.length ? BpeModel.CHAR_BYTE[c] : -1;
            if (b < 0) return token.getBytes(StandardCharsets.UTF_8);
            out[i] = (byte) b;
        }
        return out;
    }

    // ---------------------------------------------------------------- loading

    /** Loads tokenizer.json (or tokenizer.json.gz) and, when present, tokenizer_config.json from a folder. */
    public static ByteLevelBpeTokenizer load(Path dir) {
        Path json = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(json) && Files.isRegularFile(dir.resolve("tokenizer.json.gz"))) json = dir.resolve("tokenizer.json.gz");
        return load(json, dir.resolve("tokenizer_config.json"));
    }

    /** Loads a tokenizer.json (gzip'ed when the name ends in .gz) with an optional tokenizer_config.json. */
    public static ByteLevelBpeTokenizer load(Path tokenizerJson, Path tokenizerConfig) {
        if (!Files.isRegularFile(tokenizerJson)) throw new TokenizerException("tokenizer.json not found: " + tokenizerJson);
        ObjectMapper mapper = Json.mapper();
        JsonNode cfg = Files.isRegularFile(tokenizerConfig) ? readJson(mapper, tokenizerConfig) : mapper.createObjectNode();
        String where = tokenizerJson.toString();
        try (InputStream raw = Files.newInputStream(tokenizerJson);
             InputStream in = tokenizerJson.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
             JsonParser p = mapper.createParser(in)) {
            // The vocabulary and merges are streamed straight into their tables (a tree of them takes seconds
            // to build); the rest of the file is read as a tree.
            if (p.nextToken() != JsonToken.START_OBJECT) throw new TokenizerException(where + ": expected a JSON object");
            ObjectNode root = mapper.createObjectNode();
            Map<String, Integer> vocab = null;
            List<String[]> merges = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                if (!field.equals("model") || t != JsonToken.START_OBJECT) {
                    root.set(field, p.readValueAsTree());
                    continue;
                }
                ObjectNode model = root.putObject("model");
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String key = p.currentName();
                    JsonToken v = p.nextToken();
                    if (key.equals("vocab") && v == JsonToken.START_OBJECT) {
                        vocab = new HashMap<>(1 << 18);
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String token = p.currentName();
                            if (p.nextToken() != JsonToken.VALUE_NUMBER_INT) {
                                throw new TokenizerException(where + ": model.vocab[\"" + token + "\"] is not an integer id");
                            }
                            vocab.put(token, p.getIntValue());
                        }
                    } else if (key.equals("merges") && v == JsonToken.START_ARRAY) {
                        merges = new ArrayList<>(1 << 18);
                        while (p.nextToken() != JsonToken.END_ARRAY) {
                            if (p.currentToken() == JsonToken.VALUE_STRING) {
                                merges.add(splitMerge(p.getText(), merges.size(), where));
                            } else if (p.currentToken() == JsonToken.START_ARRAY) {
                                String a = p.nextToken() == JsonToken.VALUE_STRING ? p.getText() : null;
                                String b = p.nextToken() == JsonToken.VALUE_STRING ? p.getText() : null;
                                if (a == null || b == null || p.nextToken() != JsonToken.END_ARRAY) {
                                    throw new TokenizerException(where + ": model.merges[" + merges.size() + "] must be \"left right\" or [left, right]");
                                }
                                merges.add(new String[] {a, b});
                            } else {
                                throw new TokenizerException(where + ": model.merges[" + merges.size() + "] must be \"left right\" or [left, right]");
                            }
                        }
                    } else {
                        model.set(key, p.readValueAsTree());
                    }
                }
            }
            return build(root, vocab, merges == null ? null : merges.toArray(new String[0][]), cfg, where);
        } catch (IOException e) {
            throw new TokenizerException(where + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    private static JsonNode readJson(ObjectMapper mapper, Path file) {
        try {
            JsonNode n = mapper.readTree(file.toFile());
            if (n == null || !n.isObject()) throw new TokenizerException(file + ": expected a JSON object");
            return n;
        } catch (IOException e) {
            throw new TokenizerException(file + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    private static String[] splitMerge(String s, int i, String where) {
        int sp = s.indexOf(' ');
        if (sp <= 0 || sp != s.lastIndexOf(' ') || sp == s.length() - 1) {
            throw new TokenizerException(where + ": model.merges[" + i + "] \"" + s + "\" is not \"left right\"");
        }
        return new String[] {s.substring(0, sp), s.substring(sp + 1)};
    }

    /** transformers' Qwen2Tokenizer PRETOKENIZE_REGEX (the same as in Qwen2's tokenizer.json). */
    static final String QWEN2_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /**
     * Loads the slow {@code Qwen2Tokenizer} layout (vocab.json, merges.txt, tokenizer_config.json with
     * added_tokens_decoder; no tokenizer.json), which InternVL's Qwen2-based checkpoints load with
     * {@code use_fast=False}. Encoding is the fast pipeline with Qwen2's regex, NFC over the whole text
     * first (prepare_for_tokenization) and no post-processor. decode(ids, true) skips what transformers'
     * slow tokenizers skip: the bos/eos/unk/pad tokens and additional_special_tokens (special_tokens_map.json
     * over tokenizer_config.json), not every added token flagged special.
     */
    public static ByteLevelBpeTokenizer loadVocabAndMerges(Path dir) {
        ObjectMapper mapper = Json.mapper();
        Path cfgFile = dir.resolve("tokenizer_config.json");
        if (!Files.isRegularFile(cfgFile)) throw new TokenizerException("tokenizer_config.json not found: " + cfgFile);
        JsonNode cfg = readJson(mapper, cfgFile);
        String cls = cfg.path("tokenizer_class").asText("");
        if (!cls.equals("Qwen2Tokenizer") && !cls.equals("Qwen2TokenizerFast")) {
            throw new TokenizerException(cfgFile + ": tokenizer_class is \"" + cls + "\"; vocab.json + merges.txt without"
                    + " tokenizer.json are read for Qwen2Tokenizer only");
        }
        Path vocabFile = dir.resolve("vocab.json"), mergesFile = dir.resolve("merges.txt");
        Map<String, Integer> vocab = new HashMap<>(1 << 18);
        try (JsonParser p = mapper.createParser(vocabFile.toFile())) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw new TokenizerException(vocabFile + ": expected an object of token -> id");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String token = p.currentName();
                if (p.nextToken() != JsonToken.VALUE_NUMBER_INT) throw new TokenizerException(vocabFile + ": the id of \"" + token + "\" is not an integer");
                vocab.put(token, p.getIntValue());
            }
        } catch (IOException e) {
            throw new TokenizerException(vocabFile + ": cannot be read as JSON: " + e.getMessage(), e);
        }
        List<String[]> merges = new ArrayList<>(1 << 18);
        try {
            List<String> lines = Files.readAllLines(mergesFile, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                String l = lines.get(i);
                if ((i == 0 && l.startsWith("#version")) || l.isEmpty()) continue;
                merges.add(splitMerge(l, merges.size(), mergesFile.toString()));
            }
        } catch (IOException e) {
            throw new TokenizerException(mergesFile + ": cannot be read: " + e.getMessage(), e);
        }
        ObjectNode root = mapper.createObjectNode();
        root.putObject("model").put("type", "BPE");
        root.putObject("normalizer").put("type", "NFC");
        ObjectNode pre = root.putObject("pre_tokenizer").put("type", "Sequence");
        ArrayNode list = pre.putArray("pretokenizers");
        ObjectNode split = list.addObject().put("type", "Split").put("behavior", "Isolated").put("invert", false);
        split.putObject("pattern").put("Regex", QWEN2_PATTERN);
        list.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("use_regex", false);
        root.putObject("decoder").put("type", "ByteLevel");
        ArrayNode added = root.putArray("added_tokens");
        JsonNode decoder = cfg.path("added_tokens_decoder");
        for (var e : decoder.properties()) {
            ObjectNode t = e.getValue().deepCopy();
            try {
                t.put("id", Integer.parseInt(e.getKey()));
            } catch (NumberFormatException ex) {
                throw new TokenizerException(cfgFile + ": added_tokens_decoder key \"" + e.getKey() + "\" is not an integer id");
            }
            added.add(t);
        }
        // Special tokens as transformers' slow tokenizers see them (special_tokens_map.json wins).
        JsonNode stm = Files.isRegularFile(dir.resolve("special_tokens_map.json"))
                ? readJson(mapper, dir.resolve("special_tokens_map.json")) : mapper.createObjectNode();
        java.util.Set<String> special = new java.util.HashSet<>();
        for (String key : List.of("bos_token", "eos_token", "unk_token", "pad_token")) {
            String t = tokenText(stm.has(key) ? stm.get(key) : cfg.path(key));
            if (t != null) special.add(t);
        }
        JsonNode extra = stm.has("additional_special_tokens") ? stm.get("additional_special_tokens") : cfg.path("additional_special_tokens");
        for (JsonNode t : extra) if (tokenText(t) != null) special.add(tokenText(t));
        return build(root, vocab, merges.toArray(new String[0][]), cfg, special, vocabFile.toString());
    }

    /** From a parsed tokenizer.json tree (and tokenizer_config.json tree). */
    static ByteLevelBpeTokenizer fromJson(JsonNode root, JsonNode cfg, String where) {
        JsonNode m = root.path("model");
        Map<String, Integer> vocab = null;
        if (m.path("vocab").isObject()) {
            vocab = new HashMap<>(m.path("vocab").size() * 2);
            for (var e : m.path("vocab").properties()) {
                if (!e.getValue().canConvertToInt()) throw new TokenizerException(where + ": model.vocab[\"" + e.getKey() + "\"] is not an integer id");
                vocab.put(e.getKey(), e.getValue().asInt());
            }
        }
        String[][] merges = null;
        JsonNode mergesNode = m.path("merges");
        if (mergesNode.isArray()) {
            merges = new String[mergesNode.size()][];
            for (int i = 0; i < merges.length; i++) {
                JsonNode mg = mergesNode.get(i);
                if (mg.isTextual()) {
                    merges[i] = splitMerge(mg.asText(), i, where);
                } else if (mg.isArray() && mg.size() == 2 && mg.get(0).isTextual() && mg.get(1).isTextual()) {
                    merges[i] = new String[] {mg.get(0).asText(), mg.get(1).asText()};
                } else {
                    throw new TokenizerException(where + ": model.merges[" + i + "] must be \"left right\" or [left, right]");
                }
            }
        }
        return build(root, vocab, merges, cfg, where);
    }

    private static ByteLevelBpeTokenizer build(JsonNode root, Map<String, Integer> vocab, String[][] merges, JsonNode cfg, String where) {
        return build(root, vocab, merges, cfg, null, where);
    }

    private static ByteLevelBpeTokenizer build(JsonNode root, Map<String, Integer> vocab, String[][] merges, JsonNode cfg,
                                               java.util.Set<String> slowSpecialTokens, String where) {
        JsonNode m = root.path("model");
        String type = m.path("type").asText("");
        if (!type.equals("BPE")) {
            throw new TokenizerException(where + ": model.type is \"" + type + "\"; only byte-level \"BPE\" tokenizer.json files are supported"
                    + " (SentencePiece checkpoints load from tokenizer.model)");
        }
        if (m.path("byte_fallback").asBoolean(false)) {
            throw new TokenizerException(where + ": model.byte_fallback=true is a SentencePiece-style BPE, not byte-level BPE; not supported");
        }
        for (String k : List.of("continuing_subword_prefix", "end_of_word_suffix")) {
            if (!m.path(k).asText("").isEmpty()) throw new TokenizerException(where + ": model." + k + " is not supported");
        }
        if (!m.path("dropout").isNull() && !m.path("dropout").isMissingNode() && m.path("dropout").asDouble() != 0) {
            throw new TokenizerException(where + ": model.dropout (BPE dropout) is not supported");
        }
        if (vocab == null) throw new TokenizerException(where + ": model.vocab must be an object of token -> id");
        if (merges == null) throw new TokenizerException(where + ": model.merges must be a list");
        BpeModel model = new BpeModel(vocab, merges, m.path("ignore_merges").asBoolean(false), where);

        java.text.Normalizer.Form[] normalizers = normalizers(root.path("normalizer"), where);
        List<Pattern> splits = new ArrayList<>();
        preTokenizer(root.path("pre_tokenizer"), where, splits, true);
        checkDecoder(root.path("decoder"), where);

        List<AddedToken> addedTokens = new ArrayList<>();
        JsonNode addedNode = root.path("added_tokens");
        if (!addedNode.isMissingNode() && !addedNode.isNull() && !addedNode.isArray()) {
            throw new TokenizerException(where + ": added_tokens must be a list");
        }
        for (JsonNode t : addedNode) {
            String w = where + ": added_tokens[" + addedTokens.size() + "]";
            if (!t.path("id").canConvertToInt()) throw new TokenizerException(w + ": \"id\" must be an integer");
            if (!t.path("content").isTextual() || t.path("content").asText().isEmpty()) {
                throw new TokenizerException(w + ": \"content\" must be a non-empty string");
            }
            if (t.path("single_word").asBoolean(false)) throw new TokenizerException(w + ": single_word=true is not supported");
            boolean isSpecial = t.path("special").asBoolean(false);
            addedTokens.add(new AddedToken(t.get("id").asInt(), t.get("content").asText(), t.path("lstrip").asBoolean(false),
                    t.path("rstrip").asBoolean(false), t.path("normalized").asBoolean(!isSpecial), isSpecial));
        }

        List<Integer> pre = new ArrayList<>(), post = new ArrayList<>();
        postProcessor(root.path("post_processor"), where, pre, post);

        JsonNode clean = cfg.path("clean_up_tokenization_spaces");
        if (!clean.isMissingNode() && !clean.isNull() && !clean.isBoolean()) {
            throw new TokenizerException("tokenizer_config.json: clean_up_tokenization_spaces must be true or false");
        }
        return new ByteLevelBpeTokenizer(model, normalizers, splits, addedTokens,
                pre.stream().mapToInt(Integer::intValue).toArray(), post.stream().mapToInt(Integer::intValue).toArray(),
                clean.asBoolean(false), tokenText(cfg.path("bos_token")), tokenText(cfg.path("eos_token")), slowSpecialTokens,
                "tokenizer_config.json");
    }

    private static String tokenText(JsonNode v) {
        if (v.isTextual()) return v.asText();
        if (v.isObject() && v.path("content").isTextual()) return v.get("content").asText();
        return null;
    }

    private static java.text.Normalizer.Form[] normalizers(JsonNode n, String where) {
        if (n.isMissingNode() || n.isNull()) return new java.text.Normalizer.Form[0];
        String type = n.path("type").asText("");
        if (type.equals("Sequence")) {
            List<java.text.Normalizer.Form> all = new ArrayList<>();
            for (JsonNode c : n.path("normalizers")) all.addAll(List.of(normalizers(c, where)));
            return all.toArray(new java.text.Normalizer.Form[0]);
        }
        return switch (type) {
            case "NFC", "NFD", "NFKC", "NFKD" -> new java.text.Normalizer.Form[] {java.text.Normalizer.Form.valueOf(type)};
            default -> throw new TokenizerException(where + ": normalizer \"" + type + "\" is not supported (NFC, NFD, NFKC, NFKD or a Sequence of them are)");
        };
    }

    private static void preTokenizer(JsonNode p, String where, List<Pattern> splits, boolean top) {
        String type = p.path("type").asText("");
        switch (type) {
            case "Sequence" -> {
                if (!top) throw new TokenizerException(where + ": nested pre_tokenizer Sequence is not supported");
                JsonNode list = p.path("pretokenizers");
                boolean byteLevel = false;
                for (JsonNode c : list) {
                    if (byteLevel) throw new TokenizerException(where + ": a pre-tokenizer after ByteLevel is not supported");
                    byteLevel = c.path("type").asText("").equals("ByteLevel");
                    preTokenizer(c, where, splits, false);
                }
                if (!byteLevel) throw new TokenizerException(where + ": the pre_tokenizer Sequence must end with ByteLevel for byte-level BPE");
            }
            case "Split" -> {
                String behavior = p.path("behavior").asText("");
                if (!behavior.equals("Isolated") || p.path("invert").asBoolean(false)) {
                    throw new TokenizerException(where + ": Split pre-tokenizer with behavior " + behavior + (p.path("invert").asBoolean(false)
                            ? " and invert=true" : "") + " is not supported (only Isolated, invert=false)");
                }
                JsonNode pat = p.path("pattern");
                if (pat.path("Regex").isTextual()) splits.add(OnigRegex.compile(pat.get("Regex").asText()));
                else if (pat.path("String").isTextual()) splits.add(Pattern.compile(Pattern.quote(pat.get("String").asText())));
                else throw new TokenizerException(where + ": Split pattern must be {\"Regex\": ...} or {\"String\": ...}");
            }
            case "ByteLevel" -> {
                if (p.path("add_prefix_space").asBoolean(false)) {
                    throw new TokenizerException(where + ": ByteLevel pre-tokenizer with add_prefix_space=true is not supported");
                }
                if (p.path("use_regex").asBoolean(true)) splits.add(OnigRegex.compile(GPT2_PATTERN));
            }
            default -> throw new TokenizerException(where + ": pre_tokenizer \"" + type + "\" is not supported"
                    + " (byte-level BPE needs ByteLevel, optionally after Split regexes in a Sequence)");
        }
    }

    private static void checkDecoder(JsonNode d, String where) {
        String type = d.path("type").asText("");
        if (!type.equals("ByteLevel")) {
            throw new TokenizerException(where + ": decoder \"" + (type.isEmpty() ? "none" : type) + "\" is not supported (byte-level BPE needs ByteLevel)");
        }
    }

    /** Collects the ids a post-processor puts before and after a single sequence. */
    private static void postProcessor(JsonNode p, String where, List<Integer> pre, List<Integer> post) {
        if (p.isMissingNode() || p.isNull()) return;
        String type = p.path("type").asText("");
        switch (type) {
            case "ByteLevel" -> {
                // Only trims offsets; adds no tokens.
            }
            case "Sequence" -> {
                for (JsonNode c : p.path("processors")) postProcessor(c, where, pre, post);
            }
            case "TemplateProcessing" -> {
                if (!pre.isEmpty() || !post.isEmpty()) throw new TokenizerException(where + ": more than one TemplateProcessing post-processor");
                JsonNode specials = p.path("special_tokens");
                boolean seenA = false;
                for (JsonNode piece : p.path("single")) {
                    if (piece.has("Sequence")) {
                        if (!piece.get("Sequence").path("id").asText("").equals("A")) {
                            throw new TokenizerException(where + ": TemplateProcessing single template refers to sequence "
                                    + piece.get("Sequence").path("id").asText() + "; only A is supported");
                        }
                        if (seenA) throw new TokenizerException(where + ": TemplateProcessing single template has $A twice");
                        seenA = true;
                    } else if (piece.has("SpecialToken")) {
                        String name = piece.get("SpecialToken").path("id").asText();
                        JsonNode ids = specials.path(name).path("ids");
                        if (!ids.isArray() || ids.isEmpty()) {
                            throw new TokenizerException(where + ": TemplateProcessing special token " + name + " has no ids in special_tokens");
                        }
                        for (JsonNode id : ids) (seenA ? post : pre).add(id.asInt());
                    } else {
                        throw new TokenizerException(where + ": TemplateProcessing single template has an unknown piece " + piece);
                    }
                }
                if (!seenA) throw new TokenizerException(where + ": TemplateProcessing single template has no $A");
            }
            default -> throw new TokenizerException(where + ": post_processor \"" + type
                    + "\" is not supported (ByteLevel, TemplateProcessing or a Sequence of them are)");
        }
    }

    // ---------------------------------------------------------------- encode

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        text = replaceUnpairedSurrogates(text);
        if (normalizeFirst) text = normalize(text);
        BpeModel.IntList out = new BpeModel.IntList(text.length() / 3 + 8);
        if (addSpecialTokens) out.addAll(prefix);
        List<String> parts = rawAdded.split(text);
        for (int i = 0; i < parts.size(); i++) {
            String part = parts.get(i);
            if (i % 2 == 1) {
                out.add(added.get(part).id());
            } else if (!part.isEmpty()) {
                String normalized = normalize(part);
                List<String> sub = normalizedAdded.split(normalized);
                for (int k = 0; k < sub.size(); k++) {
                    if (k % 2 == 1) out.add(added.get(sub.get(k)).id());
                    else if (!sub.get(k).isEmpty()) preTokenizeAndEncode(sub.get(k), 0, out);
                }
            }
        }
        if (addSpecialTokens) out.addAll(suffix);
        return out.toArray();
    }

    private String normalize(String s) {
        for (java.text.Normalizer.Form f : normalizers) s = java.text.Normalizer.normalize(s, f);
        return s;
    }

    /** Cuts text with splits[level] (Isolated: matches and the text between them) and encodes each piece. */
    private void preTokenizeAndEncode(String text, int level, BpeModel.IntList out) {
        if (level == splits.size()) {
            model.encodeWord(text, out);
            return;
        }
        Matcher mt = splits.get(level).matcher(text);
        int last = 0;
        while (mt.find()) {
            if (mt.end() == mt.start()) continue;
            if (mt.start() > last) preTokenizeAndEncode(text.substring(last, mt.start()), level + 1, out);
            preTokenizeAndEncode(text.substring(mt.start(), mt.end()), level + 1, out);
            last = mt.end();
        }
        if (last < text.length()) preTokenizeAndEncode(text.substring(last), level + 1, out);
    }

    static String replaceUnpairedSurrogates(String s) {
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!Character.isSurrogate(c)) continue;
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
                continue;
            }
            if (sb == null) sb = new StringBuilder(s);
            sb.setCharAt(i, '\uFFFD');
        }
        return sb == null ? s : sb.toString();
    }

    /** Rust's char::is_whitespace: the Unicode White_Space property. */
    static boolean isWhiteSpace(int c) {
        return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680
                || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
    }

    private static String stripEnd(String s) {
        int i = s.length();
        while (i > 0 && isWhiteSpace(s.charAt(i - 1))) i--;
        return s.substring(0, i);
    }

    private static String stripStart(String s) {
        int i = 0;
        while (i < s.length() && isWhiteSpace(s.charAt(i))) i++;
        return s.substring(i);
    }

    // ---------------------------------------------------------------- decode

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        int n = 0;
        for (int id : ids) n += bytesOf(id).length;
        byte[] all = new byte[n];
        int pos = 0;
        for (int id : ids) {
            if (skipSpecialTokens && special[id]) continue;
            byte[] b = tokenBytes[id];
            System.arraycopy(b, 0, all, pos, b.length);
            pos += b.length;
        }
        String s = Utf8.decodeLossy(all, 0, pos);
        return cleanUpSpaces ? InternLM2Tokenizer.cleanUpTokenization(s) : s;
    }

    /** The bytes of an id; throws IllegalArgumentException for an id the tokenizer does not have. */
    byte[] bytesOf(int id) {
        if (id < 0 || id >= tokenBytes.length || tokenBytes[id] == null) {
            throw new IllegalArgumentException("token id " + id + " is not in the vocabulary (size " + tokenBytes.length + ")");
        }
        return tokenBytes[id];
    }

    boolean cleansUpSpaces() {
        return cleanUpSpaces;
    }

    @Override
    public Detokenizer newStreamingDetokenizer(boolean skipSpecialTokens) {
        return new BpeDetokenizer(this, skipSpecialTokens);
    }

    // ---------------------------------------------------------------- vocabulary

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
        Integer id = model.id(tokenText);
        if (id == null) throw new IllegalArgumentException("unknown token " + tokenText + ": it is neither an added token nor in the vocabulary");
        return id;
    }

    @Override
    public String idToToken(int id) {
        bytesOf(id);
        AddedToken a = addedById.get(id);
        return a != null ? a.content() : model.token(id);
    }

    @Override
    public boolean isSpecial(int id) {
        return id >= 0 && id < special.length && special[id];
    }

    @Override
    public Map<String, Integer> addedTokens() {
        Map<Integer, String> sorted = new TreeMap<>();
        addedById.forEach((id, t) -> sorted.put(id, t.content()));
        Map<String, Integer> out = new LinkedHashMap<>();
        sorted.forEach((id, c) -> out.put(c, id));
        return Collections.unmodifiableMap(out);
    }

    /** The ids the post-processor puts before the text when special tokens are added. */
    public int[] prefixIds() {
        return prefix.clone();
    }

    /** The ids the post-processor puts after the text when special tokens are added. */
    public int[] suffixIds() {
        return suffix.clone();
    }
}
