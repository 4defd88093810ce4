package org.internvl4j.engine;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.internvl4j.image.PixelValues;

/**
 * Image features by a SHA-256 of the image's pixel values (the decoded, tiled and normalised pixels: the same
 * picture at the same max_num gives the same key whatever its file bytes), least recently used first out when
 * the byte budget is exceeded. Only the engine thread uses it.
 */
final class FeatureCache {
    private final long maxBytes;
    private final LinkedHashMap<String, float[]> map = new LinkedHashMap<>(16, 0.75f, true);
    private long bytes;

    FeatureCache(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    static String key(PixelValues p) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(p.tiles()).putInt(p.size()).putInt(p.gridCols()).putInt(p.gridRows());
            for (float f : p.data()) {
                if (b.remaining() < 4) {
                    md.update(b.flip());
                    b.clear();
                }
                b.putFloat(f);
            }
            md.update(b.flip());
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    float[] get(String key) {
        return map.get(key);
    }

    void put(String key, float[] features) {
        long size = 4L * features.length;
        if (size > maxBytes) return;
        float[] old = map.put(key, features);
        if (old != null) bytes -= 4L * old.length;
        bytes += size;
        for (Iterator<Map.Entry<String, float[]>> it = map.entrySet().iterator(); bytes > maxBytes && it.hasNext(); ) {
            bytes -= 4L * it.next().getValue().length;
            it.remove();
        }
    }
}
