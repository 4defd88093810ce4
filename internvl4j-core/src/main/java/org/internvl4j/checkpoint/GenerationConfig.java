package org.internvl4j.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * generation_config.json. Absent keys take the defaults of transformers' GenerationConfig
 * (do_sample false, temperature 1.0, top_k 50, top_p 1.0, repetition_penalty 1.0). When the file is
 * absent, the token ids come from config.json's llm_config, as GenerationConfig.from_model_config does.
 * InternVL2-8B's file holds eos_token_id [92542, 92543]; chat() overrides it with <|im_end|> alone.
 */
public record GenerationConfig(
        List<Integer> eosTokenIds,
        OptionalInt bosTokenId,
        OptionalInt padTokenId,
        OptionalInt maxNewTokens,
        boolean doSample,
        double temperature,
        int topK,
        double topP,
        double repetitionPenalty) {

    public GenerationConfig {
        eosTokenIds = List.copyOf(eosTokenIds);
    }

    public static final GenerationConfig DEFAULTS = new GenerationConfig(
            List.of(), OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty(), false, 1.0, 50, 1.0, 1.0);

    /** Reads DIR/generation_config.json, or falls back to the token ids in DIR/config.json's llm_config. */
    public static GenerationConfig read(Path dir) {
        Path file = dir.resolve(Checkpoint.GENERATION_CONFIG);
        if (Files.exists(file)) return fromJson(file.toString(), parse(file));
        Path config = dir.resolve(Checkpoint.CONFIG);
        if (!Files.exists(config)) return DEFAULTS;
        JsonNode llm = parse(config).path("llm_config");
        if (!llm.isObject()) return DEFAULTS;
        return fromJson(config + " llm_config", llm).withSamplingDefaults();
    }

    public static GenerationConfig fromJson(String where, JsonNode node) {
        if (node == null || !node.isObject()) throw new CheckpointException(where + ": must be a JSON object");
        ConfigReader r = new ConfigReader(where, node);
        GenerationConfig c = new GenerationConfig(
                eosIds(where, node.get("eos_token_id")),
                optionalInt(r, "bos_token_id"),
                optionalInt(r, "pad_token_id"),
                optionalInt(r, "max_new_tokens"),
                r.bool("do_sample", false),
                r.number("temperature", 1.0),
                r.integer("top_k", 50),
                r.number("top_p", 1.0),
                r.number("repetition_penalty", 1.0));
        r.require(c.temperature >= 0, "temperature " + c.temperature + " must be >= 0");
        r.require(c.topK >= 0, "top_k " + c.topK + " must be >= 0");
        r.require(c.topP > 0 && c.topP <= 1, "top_p " + c.topP + " must be in (0, 1]");
        r.require(c.repetitionPenalty > 0, "repetition_penalty " + c.repetitionPenalty + " must be > 0");
        r.require(c.maxNewTokens.orElse(1) > 0, "max_new_tokens must be positive");
        return c;
    }

    /** llm_config also carries sampling keys from PretrainedConfig; only its token ids count here. */
    private GenerationConfig withSamplingDefaults() {
        return new GenerationConfig(eosTokenIds, bosTokenId, padTokenId, OptionalInt.empty(), false, 1.0, 50, 1.0, 1.0);
    }

    /** eos_token_id is an int or a list of ints. */
    private static List<Integer> eosIds(String where, JsonNode v) {
        List<Integer> ids = new ArrayList<>();
        if (v == null || v.isNull()) return ids;
        if (v.isArray()) {
            for (JsonNode x : v) ids.add(tokenId(where, x, v));
        } else {
            ids.add(tokenId(where, v, v));
        }
        return ids;
    }

    private static int tokenId(String where, JsonNode x, JsonNode whole) {
        if (!x.isIntegralNumber() || !x.canConvertToInt() || x.intValue() < 0) {
            throw new CheckpointException(where + ": field 'eos_token_id' must be a token id or a list of token ids, got " + whole);
        }
        return x.intValue();
    }

    private static OptionalInt optionalInt(ConfigReader r, String key) {
        return r.has(key) ? OptionalInt.of(r.integer(key)) : OptionalInt.empty();
    }

    private static JsonNode parse(Path file) {
        return ConfigReader.readJson(file, "");
    }
}
