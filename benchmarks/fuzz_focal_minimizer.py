"""Fuzz ``focal_minimizer``: random rows, K in [2, 3000], gamma in [1e-19, 1e200].

Rows are drawn with numpy's RNG in four families (log-uniform entries spanning
up to 300 orders of magnitude, spiky and flat Dirichlet, one entry near 1 with
a tail down to 1e-300), with 5% exact zeros, in batches of one gamma and one K
(gamma log-uniform, K log-uniform). Every batch must solve without error; the
round trip ``psi(focal_minimizer(p)) - p`` is reported per range of gamma
(``psi`` is ill-conditioned for large gamma: its relative condition number
grows like ``gamma * q``, so only the rows with gamma <= 1e3 are held to the
1e-12 tolerance of the test suite).

Usage: ``python benchmarks/fuzz_focal_minimizer.py [n_rows] [seed]``.
"""

import sys
import time

import numpy as np

from sklearn_focal.theory import focal_minimizer, psi


def draw_rows(rng, n, k):
    kind = rng.integers(4)
    if kind == 0:
        rows = 10.0 ** rng.uniform(-300, 0, size=(n, k))
    elif kind == 1:
        rows = rng.dirichlet(np.full(k, rng.choice([0.01, 0.3, 3.0])), size=n)
    elif kind == 2:
        rows = 10.0 ** rng.uniform(-300, 0, size=(n, k))
        rows[:, 0] = 1.0
        rows[:, 1:] *= 1e-12 / rows[:, 1:].sum(axis=1, keepdims=True)
    else:
        spans = rng.uniform(0, 300, size=(n, 1))
        rows = 10.0 ** -rng.uniform(0, spans, size=(n, k))
    rows[rng.random((n, k)) < 0.05] = 0.0
    rows[rows.sum(axis=1) == 0, 0] = 1.0
    return rows / rows.sum(axis=1, keepdims=True)


def main(n_rows=100_000, seed=0, batch=20):
    rng = np.random.default_rng(seed)
    edges = [1e-19, 1e-3, 1.0, 1e3, 1e5, 1e20, 1e200]
    worst = np.zeros(len(edges) - 1)
    counts = np.zeros(len(edges) - 1, dtype=int)
    failures = []
    start = time.perf_counter()
    done = 0
    while done < n_rows:
        gamma = 10.0 ** rng.uniform(-19, 200)
        k = int(np.exp(rng.uniform(np.log(2), np.log(3000))))
        p = draw_rows(rng, batch, k)
        try:
            q = focal_minimizer(p, gamma)
        except Exception as exc:  # noqa: BLE001  (counted and reported)
            failures.append((gamma, k, repr(exc)))
            done += batch
            continue
        bad = ~np.isfinite(q).all(axis=1) | (np.abs(q.sum(axis=1) - 1) > 1e-12)
        if bad.any():
            failures.append((gamma, k, "q not a distribution"))
        error = float(np.max(np.abs(psi(q, gamma) - p)))
        slot = np.searchsorted(edges, gamma, side="right") - 1
        worst[slot] = max(worst[slot], error)
        counts[slot] += batch
        done += batch
    elapsed = time.perf_counter() - start
    print(f"rows: {done}, failures: {len(failures)}, time: {elapsed:.1f} s")
    for failure in failures[:20]:
        print("  failure:", failure)
    for low, high, n, error in zip(edges, edges[1:], counts, worst, strict=False):
        print(f"gamma in [{low:.0e}, {high:.0e}): {n} rows, ", end="")
        print(f"worst |psi(q) - p| {error:.2e}")
    return len(failures)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    sys.exit(1 if main(*args) else 0)
