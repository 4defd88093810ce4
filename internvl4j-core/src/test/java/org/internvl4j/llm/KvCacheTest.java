package org.internvl4j.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.internvl4j.checkpoint.LlmConfig;
import org.junit.jupiter.api.Test;

/** Block accounting of KvCache and KvBlockPool: growth without copies, shared prefixes, reference counts. */
class KvCacheTest {
    static final LlmConfig CONFIG = RopeStateTest.config(null, 4096); // 4 layers, 1 kv head of 68
    static final int KV = 68;

    /** Appends n positions whose key rows hold their position (layer 0), as forward would write them. */
    static void append(KvCache c, int n) {
        c.ensureCapacity(n);
        for (int p = c.length(); p < c.length() + n; p++) c.keyBlock(0, p / c.blockTokens())[p % c.blockTokens() * KV] = p;
        c.commit(new int[n], n);
    }

    static float keyAt(KvCache c, int p) {
        return c.keyBlock(0, p / c.blockTokens())[p % c.blockTokens() * KV];
    }

    @Test
    void growingTakesBlocksAndNeverMovesWhatItHolds() {
        KvBlockPool pool = new KvBlockPool(CONFIG, 4, 10);
        KvCache c = pool.newCache();
        append(c, 3);
        assertThat(c.blockCount()).isEqualTo(1);
        float[] first = c.keyBlock(0, 0);
        append(c, 10); // 13 positions: 4 blocks
        assertThat(c.blockCount()).isEqualTo(4);
        assertThat(c.keyBlock(0, 0)).isSameAs(first); // no copy on growth
        for (int p = 0; p < 13; p++) assertThat(keyAt(c, p)).isEqualTo(p);
        assertThat(pool.used()).isEqualTo(4);
        assertThat(pool.allocated()).isEqualTo(4);
        assertThat(pool.available()).isEqualTo(6);
        c.release();
        assertThat(pool.used()).isZero();
        assertThat(pool.allocated()).isEqualTo(4); // kept for reuse
        append(c, 16);
        assertThat(pool.allocated()).isEqualTo(4); // reused, not made again
    }

    @Test
    void aForkSharesFullBlocksAndCopiesThePartialOne() {
        KvBlockPool pool = new KvBlockPool(CONFIG, 4, 10);
        KvCache c = pool.newCache();
        append(c, 10); // blocks 0 and 1 full, block 2 holds 2 positions
        KvCache f = c.tryFork(10);
        assertThat(f.block(0)).isSameAs(c.block(0));
        assertThat(f.block(1)).isSameAs(c.block(1));
        assertThat(f.block(2)).isNotSameAs(c.block(2));
        assertThat(pool.refs((KvBlockPool.Block) c.block(0))).isEqualTo(2);
        assertThat(pool.used()).isEqualTo(4); // 3 + the copied partial block
        for (int p = 0; p < 10; p++) assertThat(keyAt(f, p)).isEqualTo(p);
        // both go on writing their own partial block
        append(f, 1);
        c.ensureCapacity(1);
        c.keyBlock(0, 2)[2 * KV] = -1;
        c.commit(new int[1], 1);
        assertThat(keyAt(f, 10)).isEqualTo(10);
        assertThat(keyAt(c, 10)).isEqualTo(-1);
        c.release();
        assertThat(pool.used()).isEqualTo(3); // the shared blocks stay for the fork
        assertThat(pool.refs((KvBlockPool.Block) f.block(0))).isEqualTo(1);
        f.release();
        assertThat(pool.used()).isZero();
    }

    @Test
    void truncatingIntoASharedBlockCopiesItFirst() {
        KvBlockPool pool = new KvBlockPool(CONFIG, 4, 10);
        KvCache c = pool.newCache();
        append(c, 8);
        KvCache f = c.tryFork(8); // shares both full blocks
        assertThat(pool.used()).isEqualTo(2);
        f.truncate(6);            // the next append writes position 6 of a shared block: f gets its own copy
        assertThat(f.block(1)).isNotSameAs(c.block(1));
        assertThat(pool.used()).isEqualTo(3);
        f.ensureCapacity(1);
        f.keyBlock(0, 1)[2 * KV] = -7;
        f.commit(new int[1], 1);
        assertThat(keyAt(c, 6)).isEqualTo(6);
        assertThat(keyAt(f, 6)).isEqualTo(-7);
        assertThat(keyAt(f, 5)).isEqualTo(5);
    }

    @Test
    void anExhaustedPoolSaysSoAndTrimGivesBlocksBack() {
        KvBlockPool pool = new KvBlockPool(CONFIG, 4, 2);
        KvCache c = pool.newCache();
        assertThat(c.tryReserve(9)).isFalse();
        assertThat(c.blockCount()).isEqualTo(2); // what it could take
        c.trim();
        assertThat(pool.used()).isZero();
        assertThatThrownBy(() -> c.ensureCapacity(9)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("exhausted").hasMessageContaining("of 2 blocks");
        KvCache other = pool.newCache();
        assertThat(other.tryReserve(1)).isFalse(); // c holds both blocks now
        c.release();
        assertThat(other.tryReserve(1)).isTrue();
        assertThatThrownBy(() -> new KvBlockPool(CONFIG, 0, 2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new KvBlockPool(CONFIG, 4, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> c.tryFork(1)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fork(1)");
    }
}
