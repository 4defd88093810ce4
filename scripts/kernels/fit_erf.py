#!/usr/bin/env python3
"""Fits the float erf/erfc coefficients used by tensor/Activations.java.

  erf(z)  = z * P(z^2)            for |z| <= 1
  erfc(z) = exp(-z^2) * Q(1/z)    for 1 < z <= 6

Weighted least squares on Chebyshev nodes, reweighted toward the largest relative error
(a cheap approach to minimax). Reference values from Python's math.erf/erfc (double).
Run: python3 scripts/kernels/fit_erf.py   (needs numpy)
"""
import math
import numpy as np


def fit(xs, ys, deg, rounds=30):
    a = np.stack([xs ** k for k in range(deg + 1)], axis=1)
    w = 1 / np.abs(ys)  # relative error
    c, *_ = np.linalg.lstsq(a * w[:, None], ys * w, rcond=None)
    for _ in range(rounds):
        err = np.abs(a @ c - ys) / np.abs(ys)
        w = w * (1 + 50 * err / err.max())
        c, *_ = np.linalg.lstsq(a * w[:, None], ys * w, rcond=None)
    return c


def main():
    n = 4000
    erf = np.vectorize(math.erf)
    erfc = np.vectorize(math.erfc)

    u = (1 - np.cos(np.linspace(0, np.pi, n))) / 2  # z^2 on [0, 1]
    u[0] = 1e-12
    z = np.sqrt(u)
    p = fit(u, erf(z) / z, 6)
    zz = np.linspace(1e-6, 1, 200001)
    print("P", list(p), "max rel err", np.max(np.abs(zz * np.polyval(p[::-1], zz * zz) - erf(zz)) / erf(zz)))

    t = (1 / 6 + 1) / 2 - (1 - 1 / 6) / 2 * np.cos(np.linspace(0, np.pi, n))  # 1/z on [1/6, 1]
    zt = 1 / t
    q = fit(t, erfc(zt) * np.exp(zt * zt), 9)
    zz = np.linspace(1, 6, 200001)
    approx = np.exp(-zz * zz) * np.polyval(q[::-1], 1 / zz)
    print("Q", list(q), "max rel err", np.max(np.abs(approx - erfc(zz)) / erfc(zz)))


if __name__ == "__main__":
    main()
