package org.internvl4j.tokenizer;

/** A small fixed multilingual corpus for trainer tests. */
final class TinyCorpus {
    private TinyCorpus() {
    }

    static final String TEXT = String.join("\n",
            "The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs away.",
            "A cat is sitting on the window sill, looking at the birds in the garden.",
            "Describe the image in detail. What is shown in this picture?",
            "def greet(name: str) -> str:",
            "    return f\"Hello, {name}!\"",
            "for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; }",
            "你好，世界。这是一个测试。图片里有一只猫。",
            "こんにちは、世界。猫が窓辺に座っています。",
            "3.14159 2.71828 1,000,000 2024-07-19 12:30:45",
            "The the the then there their these those this that.").repeat(3);
}
