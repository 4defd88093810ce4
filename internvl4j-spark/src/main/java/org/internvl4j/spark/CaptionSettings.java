package org.internvl4j.spark;

import java.io.Serializable;
import java.util.Set;
import org.internvl4j.generate.SamplingParams;

/**
 * What an executor needs to caption a partition: the {@link InternVLCaptioner}'s params resolved against the
 * input schema. Plain values only, so it serializes into the task closure without the transformer.
 *
 * @param model          model directory or hub id, resolved on the executor
 * @param quantize       q8 or q4: the language model's linear weights quantized as the executor loads the model;
 *                       none: as stored; null (unset): as stored, or as the executor JVM's {@code internvl.quantize}
 * @param imageIndex     field index of the image column
 * @param imageKind      how that column holds an image
 * @param promptIndex    field index of the prompt column, or -1 for the fixed prompt
 * @param seedIndex      field index of the per-row seed column, or -1 for the fixed seed
 * @param maxNum         tiles per image at most; 0 takes the checkpoint's max_dynamic_patch
 * @param batchSize      rows decoded together in one pass over the weights
 */
record CaptionSettings(String model, String quantize, int imageIndex, ImageKind imageKind, int promptIndex, String prompt,
                       int seedIndex, int maxNewTokens, int maxNum, int batchSize, boolean doSample,
                       double temperature, int topK, double topP, double repetitionPenalty, long seed)
        implements Serializable {

    /** The three shapes of image column Spark users have. */
    enum ImageKind {
        /** encoded bytes, e.g. the {@code content} column of the {@code binaryFile} source */
        BYTES,
        /** a path or URI: a local path, {@code file:}, any Hadoop file system URI, http(s) or a data URI */
        PATH,
        /** the struct of Spark's {@code image} data source (origin, height, width, nChannels, mode, data) */
        SPARK_IMAGE
    }

    /** Generation settings of one row; a seed column overrides the fixed seed. */
    SamplingParams params(Long rowSeed) {
        long s = rowSeed == null ? seed : rowSeed;
        return new SamplingParams(maxNewTokens, doSample, (float) temperature, topK, (float) topP,
                (float) repetitionPenalty, s, Set.of(), 0);
    }
}
