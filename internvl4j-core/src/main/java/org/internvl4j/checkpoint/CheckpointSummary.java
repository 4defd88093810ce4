package org.internvl4j.checkpoint;

import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Parameter counts, bytes and dtypes per part of the model (vision tower, projector, language model),
 * computed from the tensor list alone: no weight is read.
 */
public record CheckpointSummary(Map<InternVLTensors.Part, PartSummary> parts, PartSummary total, int files) {

    /** One part: how many tensors, parameters and bytes, and parameters per dtype. */
    public record PartSummary(int tensors, long parameters, long bytes, Map<String, Long> parametersByDtype) {
    }

    public static CheckpointSummary of(Checkpoint checkpoint) {
        Map<InternVLTensors.Part, Acc> acc = new EnumMap<>(InternVLTensors.Part.class);
        Acc all = new Acc();
        for (TensorInfo t : checkpoint.tensors().values()) {
            acc.computeIfAbsent(InternVLTensors.Part.of(t.name()), p -> new Acc()).add(t);
            all.add(t);
        }
        Map<InternVLTensors.Part, PartSummary> parts = new EnumMap<>(InternVLTensors.Part.class);
        for (InternVLTensors.Part p : InternVLTensors.Part.values()) {
            if (p != InternVLTensors.Part.OTHER || acc.containsKey(p)) parts.put(p, acc.getOrDefault(p, new Acc()).done());
        }
        return new CheckpointSummary(parts, all.done(), checkpoint.files().size());
    }

    private static final class Acc {
        int tensors;
        long parameters;
        long bytes;
        final Map<String, Long> byDtype = new TreeMap<>();

        void add(TensorInfo t) {
            tensors++;
            parameters += t.elementCount();
            bytes += t.byteSize();
            byDtype.merge(t.dtype().safetensorsName(), t.elementCount(), Long::sum);
        }

        PartSummary done() {
            return new PartSummary(tensors, parameters, bytes, java.util.Collections.unmodifiableMap(new TreeMap<>(byDtype)));
        }
    }
}
