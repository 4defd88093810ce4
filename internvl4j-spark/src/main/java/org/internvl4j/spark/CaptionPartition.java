package org.internvl4j.spark;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.internvl4j.chat.ChatModel;
import org.internvl4j.chat.ChatRequest;
import org.internvl4j.chat.ChatResult;
import org.internvl4j.checkpoint.InternVLConfig;
import org.internvl4j.generate.Timings;
import org.internvl4j.image.ImagePreprocessor;

/**
 * Captions one partition on an executor: takes rows in groups of {@code batchSize}, decodes their images, and
 * generates for the group in one batch (one pass over the weights per step serves every row). A row whose image
 * or prompt is bad gets an error and no answer; the other rows go on. The output is a function of the row alone
 * (greedy, or sampling seeded per row), so a retried or speculative task writes the same answers.
 */
final class CaptionPartition implements MapPartitionsFunction<Row, Row> {
    private final CaptionSettings s;

    CaptionPartition(CaptionSettings settings) {
        this.s = settings;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        if (!rows.hasNext()) return rows;   // an empty partition loads no model
        ChatModel model = ExecutorModels.get(s.model(), s.quantize());
        ImagePreprocessor pre = preprocessor(model, s.maxNum());
        return new Iterator<>() {
            private Iterator<Row> batch = List.<Row>of().iterator();

            @Override
            public boolean hasNext() {
                if (!batch.hasNext() && rows.hasNext()) batch = captionBatch(model, pre, rows).iterator();
                return batch.hasNext();
            }

            @Override
            public Row next() {
                if (!hasNext()) throw new NoSuchElementException();
                return batch.next();
            }
        };
    }

    /** The model card's load_image settings for this checkpoint, as {@code Pipeline} builds them. */
    static ImagePreprocessor preprocessor(ChatModel model, int maxNum) {
        InternVLConfig c = model.model().config();
        return ImagePreprocessor.builder().inputSize(model.model().imageSize()).minNum(c.minDynamicPatch())
                .maxNum(maxNum == 0 ? c.maxDynamicPatch() : maxNum).useThumbnail(c.useThumbnail()).build();
    }

    private List<Row> captionBatch(ChatModel model, ImagePreprocessor pre, Iterator<Row> rows) {
        List<Row> in = new ArrayList<>();
        while (in.size() < s.batchSize() && rows.hasNext()) in.add(rows.next());
        Outcome[] out = new Outcome[in.size()];
        List<ChatRequest> requests = new ArrayList<>();
        List<Integer> requestRow = new ArrayList<>();
        for (int i = 0; i < in.size(); i++) {
            try {
                requests.add(request(in.get(i), pre));
                requestRow.add(i);
            } catch (RuntimeException e) {
                out[i] = Outcome.failed(e);
            }
        }
        if (!requests.isEmpty()) {
            List<ChatResult> results = null;
            try {
                results = model.batchChat(requests);
            } catch (RuntimeException batchFailed) {
                // One request can sink a batch (e.g. too long for the context): rerun alone so only it fails.
            }
            for (int k = 0; k < requests.size(); k++) {
                int row = requestRow.get(k);
                try {
                    out[row] = Outcome.of(results != null ? results.get(k) : model.chat(requests.get(k)));
                } catch (RuntimeException e) {
                    out[row] = Outcome.failed(e);
                }
            }
        }
        List<Row> result = new ArrayList<>(in.size());
        for (int i = 0; i < in.size(); i++) result.add(append(in.get(i), out[i]));
        return result;
    }

    private ChatRequest request(Row row, ImagePreprocessor pre) {
        String prompt = s.promptIndex() < 0 ? s.prompt() : row.getString(s.promptIndex());
        if (prompt == null) throw new IllegalArgumentException("the prompt column is null");
        Long seed = s.seedIndex() < 0 || row.isNullAt(s.seedIndex()) ? null : row.getLong(s.seedIndex());
        var image = ImageInputs.load(row.get(s.imageIndex()), s.imageKind(), pre);
        return ChatRequest.of(prompt, image).withParams(s.params(seed));
    }

    private static Row append(Row row, Outcome o) {
        Object[] values = new Object[row.length() + InternVLCaptioner.ADDED_COLUMNS];
        for (int i = 0; i < row.length(); i++) values[i] = row.get(i);
        int at = row.length();
        values[at] = o.answer;
        values[at + 1] = o.promptTokens;
        values[at + 2] = o.generatedTokens;
        values[at + 3] = o.finishReason;
        values[at + 4] = o.millis;
        values[at + 5] = o.error;
        return RowFactory.create(values);
    }

    private record Outcome(String answer, Integer promptTokens, Integer generatedTokens, String finishReason,
                           Double millis, String error) {
        static Outcome of(ChatResult r) {
            Timings t = r.timings();
            double ms = (t.visionNanos() + t.prefillNanos() + t.decodeNanos()) / 1e6;
            return new Outcome(r.response(), r.promptIds().length, r.tokenIds().length,
                    r.finishReason().name().toLowerCase(java.util.Locale.ROOT), ms, null);
        }

        static Outcome failed(RuntimeException e) {
            String m = e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getSimpleName() : e.getMessage();
            return new Outcome(null, null, null, null, null, e.getClass().getSimpleName() + ": " + m);
        }
    }
}
