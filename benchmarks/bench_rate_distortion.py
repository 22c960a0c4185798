"""Benchmark of sklearn_focal.rate_distortion (Dytso & Cardone, Example 2).

Prints timings against their goals, then the table of converse (17),
optimized code, (28), (22) and (23) for the Binomial(100, 0.5) source.

Memory (issue #17), peak of the call measured with tracemalloc in a fresh
subprocess (and that process's maximum resident size):

- the greedy code (``max_iter=0``) of a 1e5-symbol Dirichlet source, M = 16;
- with ``--large``: the optimized code of Binomial(1000, 0.5), M = 4
  (goal < 1 GB; minutes: its swap search is O(k**3) time).

Run: ``python benchmarks/bench_rate_distortion.py [--large]``
"""
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import subprocess
import sys
import time

import numpy as np
from _machine import describe
from scipy.stats import binom

from sklearn_focal import rate_distortion as rd
from sklearn_focal.rate_distortion._entropy import _max_gamma_entropy_nats

GAMMAS = [0.1, 1.0, 2.0, 4.0]


def binomial_pmf(k=100, p=0.5):
    pmf = binom.pmf(np.arange(k + 1), k, p)
    return pmf / pmf.sum()


def timed(func, *args, **kwargs):
    start = time.perf_counter()
    out = func(*args, **kwargs)
    return out, time.perf_counter() - start


def bound_curves(pmf, n_codewords, gammas):
    mm, gg = np.meshgrid(n_codewords, gammas)
    conv = rd.converse_bound(pmf, mm, gg)
    ach = rd.achievability_bounds(pmf, mm, gg)
    asym = rd.asymptotic_distortion(pmf, np.log2(n_codewords))
    return conv, ach, asym


def report(task, seconds, goal=None):
    verdict = "" if goal is None else (" ok" if seconds <= goal else " MISSED")
    goal_text = "report" if goal is None else f"<= {goal:g} s"
    print(f"{task:<58} {seconds:8.3f} s   goal {goal_text}{verdict}")


_MEMORY_SCRIPT = """
import resource, sys, time, tracemalloc
import numpy as np
from scipy.stats import binom
from sklearn_focal import rate_distortion as rd
kind = sys.argv[1]
if kind == "greedy":
    pmf, m, kwargs = np.random.default_rng(0).dirichlet(np.ones(100_000)), 16, {
        "max_iter": 0}
else:
    pmf = binom.pmf(np.arange(1001), 1000, 0.5)
    pmf, m, kwargs = pmf / pmf.sum(), 4, {}
rd.optimized_code([0.5, 0.3, 0.2], 2, 1.0)  # kernels loaded
tracemalloc.start()
start = time.perf_counter()
code = rd.optimized_code(pmf, m, 1.0, **kwargs)
seconds = time.perf_counter() - start
peak = tracemalloc.get_traced_memory()[1]
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(f"{seconds:.1f} {peak} {rss} {code.distortion!r} {code.n_iter}")
"""


def memory(kind, label, goal_bytes=None):
    """Time and peak memory of one optimized code, in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", _MEMORY_SCRIPT, kind],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    seconds, peak, rss = float(out[0]), int(out[1]), int(out[2])
    verdict = ""
    if goal_bytes is not None:
        verdict = " ok" if rss < goal_bytes else " MISSED"
    print(
        f"{label:<58} {seconds:8.1f} s   tracemalloc peak {peak / 2**20:7.1f} MiB, "
        f"max RSS {rss / 2**20:7.1f} MiB{verdict} (distortion {out[3]} bits, "
        f"{out[4]} moves)"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true")
    args = parser.parse_args()
    print(describe())
    memory("greedy", "optimized_code(max_iter=0), Dirichlet 1e5 symbols, M=16")
    if args.large:
        memory(
            "binomial",
            "optimized_code Binomial(1000, 0.5), M=4 (goal < 1 GB)",
            goal_bytes=2**30,
        )
    # Warm up the compiled focal-minimizer kernels (numba, cached on disk).
    rd.exact_distortion([0.5, 0.3, 0.2], 2, 1.0)
    print("task" + " " * 55 + "time       goal")

    n_codewords = np.arange(2, 42, 2)  # 20 values of M
    for p in (0.5, 0.1):
        _max_gamma_entropy_nats.cache_clear()
        _, seconds = timed(bound_curves, binomial_pmf(100, p), n_codewords, GAMMAS)
        report(f"Binomial(100, {p}) bound curves, 20 M x 4 gamma (cold)", seconds, 1.0)

    pmf12 = np.random.default_rng(0).dirichlet(np.ones(12))
    for gamma in (0.5, 1.0, 4.0):
        d_star, seconds = timed(rd.exact_distortion, pmf12, 3, gamma)
        report(f"exact_distortion |X|=12, M=3, gamma={gamma}", seconds, 10.0)
    pmf15 = np.random.default_rng(1).dirichlet(np.ones(rd.EXACT_MAX_SUPPORT))
    _, seconds = timed(rd.exact_distortion, pmf15, 3, 1.0)
    report(f"exact_distortion |X|={rd.EXACT_MAX_SUPPORT} (the limit), M=3", seconds)

    pmf = binomial_pmf(100, 0.5)
    rows = []
    total = 0.0
    for gamma in GAMMAS:
        for m in (2, 4, 8, 16):
            code, seconds = timed(rd.optimized_code, pmf, m, gamma)
            total += seconds
            ach = rd.achievability_bounds(pmf, m, gamma)
            conv = rd.converse_bound(pmf, m, gamma)
            rows.append((gamma, m, conv, code.distortion, ach, seconds, code.n_iter))
            report(f"optimized_code Binomial(100, 0.5), M={m}, gamma={gamma}", seconds)
    report("optimized_code Binomial(100, 0.5), all 16 (M, gamma)", total)

    print()
    print("Binomial(100, 0.5), in bits:")
    print("converse (17) <= d* <= optimized <= (28) <= (22) <= (23)")
    print(
        f"| {'gamma':>5} | {'M':>3} | {'converse':>9} | {'optimized':>9} | "
        f"{'(28)':>9} | {'(22)':>9} | {'(23)':>9} | {'gain vs (28)':>12} |"
    )
    print("|" + "|".join("-" * w for w in (7, 5, 11, 11, 11, 11, 11, 14)) + "|")
    for gamma, m, conv, opt, ach, _, _ in rows:
        gain = ach["eq28"] - opt
        print(
            f"| {gamma:5g} | {m:3d} | {conv:9.4f} | {opt:9.4f} | {ach['eq28']:9.4f} | "
            f"{ach['eq22']:9.4f} | {ach['eq23']:9.4f} | {gain:12.2e} |"
        )
        assert conv <= opt <= ach["eq28"] <= ach["eq22"] <= ach["eq23"]


if __name__ == "__main__":
    main()
