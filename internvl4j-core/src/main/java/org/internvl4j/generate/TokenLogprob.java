package org.internvl4j.generate;

/** A token id and its log-probability, log_softmax of the raw fp32 logits of its step. */
public record TokenLogprob(int id, float logprob) {
}
