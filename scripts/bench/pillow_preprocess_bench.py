#!/usr/bin/python3
"""The peer for `internvl preprocess --bench`: the Python reference's load_image steps on one image, timed.

    taskset -c 1 /usr/bin/python3 scripts/bench/pillow_preprocess_bench.py ../shared/reference IMAGE [MAX_NUM]

Prints the median [min..max] in ms over 10 runs after one warm-up: decode (Image.open(f).convert('RGB')), then
tiles + resize + normalise (the reference's tile_image and pixel_values_from_u8, torch on 1 thread).
"""
import sys
import time

sys.path.insert(0, sys.argv[1])
import internvl_ref as R  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

torch.set_num_threads(1)
path = sys.argv[2]
max_num = int(sys.argv[3]) if len(sys.argv) > 3 else 12
ts = []
for i in range(11):
    t0 = time.perf_counter()
    img = Image.open(path).convert('RGB')
    t1 = time.perf_counter()
    tiles, info = R.tile_image(img, max_num=max_num)
    pv = R.pixel_values_from_u8(R.tiles_to_u8(tiles))
    t2 = time.perf_counter()
    if i:
        ts.append((t1 - t0, t2 - t1, t2 - t0))
out = []
for k, name in enumerate(['decode', 'tile+resize+normalise', 'total']):
    v = sorted(t[k] for t in ts)
    out.append('%s %.1f [%.1f..%.1f]' % (name, v[len(v) // 2] * 1e3, v[0] * 1e3, v[-1] * 1e3))
print('pillow reference over 10 runs (ms, median [min..max]): ' + ', '.join(out) + '; shape ' + str(tuple(pv.shape)))
