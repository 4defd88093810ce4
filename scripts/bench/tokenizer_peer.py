#!/usr/bin/python3
"""The peer for TokenizerBenchmark: Python sentencepiece (C++) encoding the same text file.

    /usr/bin/python3 scripts/bench/tokenizer_peer.py TOKENIZER_MODEL TEXT_FILE

Times sp.encode on the whole text and sentence by sentence (the same split as the Java benchmark),
single thread, median of 7 runs after 3 warm-up runs.
"""
import re, sys, time
import sentencepiece as spm

sp = spm.SentencePieceProcessor()
sp.Load(sys.argv[1])
text = open(sys.argv[2], encoding='utf-8').read()
n = len(text.encode('utf-8'))
lines = [l for l in re.split(r'(?<=[.。！!])\s*', text) if l]


def median(f):
    for _ in range(3):
        f()
    ts = []
    for _ in range(7):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return sorted(ts)[3]


w = median(lambda: sp.encode(text))
p = median(lambda: [sp.encode(l) for l in lines])
print('sentencepiece %s: %d tokens' % (spm.__version__, len(sp.encode(text))))
print('encode, one string:           %7.2f MB/s' % (n / 1e6 / w))
print('encode, sentence by sentence: %7.2f MB/s' % (n / 1e6 / p))
