package org.internvl4j.engine;

/**
 * A snapshot of an engine's counters (totals since start) and gauges (now).
 *
 * @param waiting          requests queued, not yet admitted
 * @param running          sequences admitted (prefilling or decoding)
 * @param kvBlocksTotal    blocks of the KV budget
 * @param kvBlocksUsed     blocks held by running sequences and the prefix cache
 * @param kvBlocksCached   of those, blocks held by the prefix cache (freed on demand)
 * @param prefixLookups    admissions that looked in the prefix cache
 * @param prefixHits       admissions that reused a cached prefix
 * @param prefixHitTokens  prompt tokens reused from the prefix cache
 * @param featureLookups   images looked up in the image-feature cache
 * @param featureHits      images whose features came from the cache
 * @param promptTokens     prompt tokens computed (prefilled), reused ones excluded
 * @param generatedTokens  tokens generated
 * @param preemptions      sequences preempted to free KV blocks (recomputed later)
 * @param steps            scheduler steps run
 * @param finished         sequences finished
 */
public record EngineStats(int waiting, int running, long kvBlocksTotal, long kvBlocksUsed, long kvBlocksCached,
                          long prefixLookups, long prefixHits, long prefixHitTokens, long featureLookups, long featureHits,
                          long promptTokens, long generatedTokens, long preemptions, long steps, long finished) {
}
