"""Benchmark of sklearn_focal.theory: psi and focal_minimizer on 1e6 x 10 rows.

A plain script, not a timed test. Prints ratios measured in the same run,
from interleaved repeats (medians), so that machine load affects every
timing alike:

- psi / np.log on the same array (goal <= 1.5);
- naive numpy transcription of eqs. 12-13 / psi (goal >= 3);
- focal_minimizer / psi (goal <= 10);
- rows per second of focal_minimizer;
- focal_regimes / focal_minimizer on the same rows (goal <= 3, issue #17:
  linear in rows); these run with numba and numpy on 1 thread, then on 2
  (``--threads``, labelled);
- binary_psi on 1e7 float64 sigmoid outputs (alpha = 0.25): against np.log
  on the same array (goal <= 2) and against a naive numpy transcription of
  ``eta / (1 - eta) = (1 - alpha) h(q) / (alpha h(1 - q))`` (goal >= 3).

Run: ``python benchmarks/bench_theory.py [--rows N] [--repeats R]``;
``--only-psi`` times psi, np.log and the naive transcription only (and
binary_psi), ``--only-binary`` binary_psi only. For an AVX2 machine on an
AVX-512 one: ``NPY_DISABLE_CPU_FEATURES="AVX512F AVX512CD AVX512_SKX"
NUMBA_CPU_NAME=haswell`` (the first line printed names the emulation).
"""
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import os
import time

import numpy as np
from _machine import describe, threads

from sklearn_focal.theory import binary_psi, focal_minimizer, focal_regimes, psi


def naive_psi(q, gamma):
    """Eqs. 12-13 written directly: h = v / phi, psi = h / sum(h)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        h = q / ((1 - q) ** gamma - gamma * (1 - q) ** (gamma - 1) * q * np.log(q))
    return h / h.sum(axis=1, keepdims=True)


def naive_binary_psi(q, gamma, alpha):
    """The sigmoid map written directly: h = v / phi, odds ratio of h's."""

    def h(v):
        return v / ((1 - v) ** gamma - gamma * (1 - v) ** (gamma - 1) * v * np.log(v))

    with np.errstate(divide="ignore", invalid="ignore"):
        odds = (1 - alpha) * h(q) / (alpha * h(1 - q))
        return odds / (1 + odds)


def bench_binary_psi(size, repeats):
    """binary_psi against np.log and the naive transcription, same array."""
    rng = np.random.default_rng(1)
    p = rng.uniform(size=size)
    print(f"\nbinary_psi on {size:.0e} float64 values, alpha = 0.25")
    for gamma in (2.0, 0.5):
        binary_psi(p[:1000], gamma, alpha=0.25)  # JIT / cache load
        functions = {
            "np.log": lambda: np.log(p),
            "binary_psi": lambda g=gamma: binary_psi(p, g, alpha=0.25),
            "naive": lambda g=gamma: naive_binary_psi(p, g, 0.25),
        }
        times = {name: [] for name in functions}
        for _ in range(repeats):
            for name, function in functions.items():
                start = time.perf_counter()
                function()
                times[name].append(time.perf_counter() - start)
        median = {name: float(np.median(values)) for name, values in times.items()}
        print(f"gamma = {gamma}")
        for name, value in median.items():
            print(f"  {name:16s} median {value * 1e3:9.1f} ms")
        ratio = median["binary_psi"] / median["np.log"]
        print(f"  binary_psi / np.log        {ratio:6.2f}  (goal <= 2)")
        ratio = median["naive"] / median["binary_psi"]
        print(f"  naive / binary_psi         {ratio:6.2f}  (goal >= 3)")
        interior = (p > 1e-3) & (p < 1 - 1e-3)
        naive = naive_binary_psi(p[interior], gamma, 0.25)
        fast = binary_psi(p[interior], gamma, alpha=0.25)
        error = np.max(np.abs(fast - naive) / naive)
        print(f"  max rel |binary_psi - naive| on [1e-3, 1 - 1e-3] = {error:.2e}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--binary-size", type=int, default=10_000_000)
    parser.add_argument(
        "--only-binary", action="store_true", help="run the binary_psi part only"
    )
    parser.add_argument(
        "--only-psi",
        action="store_true",
        help="psi, np.log and the naive psi only (then binary_psi)",
    )
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    import numba

    cpu_name = os.environ.get("NUMBA_CPU_NAME")
    print(describe() + (f", NUMBA_CPU_NAME={cpu_name}" if cpu_name else ""))
    if args.only_binary:
        bench_binary_psi(args.binary_size, args.repeats)
        return

    rng = np.random.default_rng(0)
    q = rng.dirichlet(np.ones(args.classes), size=args.rows)
    print(
        f"array {q.shape} float64, repeats {args.repeats} (interleaved, medians); "
        f"numba {numba.__version__}"
    )
    for n_threads in args.threads:
        with threads(n_threads):
            label = f"[{n_threads} thread{'s' if n_threads > 1 else ''} each]"
            for gamma in (2.0, 0.5):
                _bench_gamma(q, gamma, args.repeats, label, args.only_psi)
    bench_binary_psi(args.binary_size, args.repeats)


def _bench_gamma(q, gamma, repeats, label, only_psi=False):
    # Warm up the JIT (and the numba cache) outside the timings.
    psi(q[:1000], gamma)
    functions = {
        "np.log": lambda: np.log(q),
        "psi": lambda: psi(q, gamma),
        "naive": lambda: naive_psi(q, gamma),
    }
    if not only_psi:
        focal_minimizer(q[:1000], gamma)
        focal_regimes(q[:1000], gamma)
        functions["focal_minimizer"] = lambda: focal_minimizer(q, gamma)
        functions["focal_regimes"] = lambda: focal_regimes(q, gamma)
    for function in functions.values():  # warm: page faults, thread pool
        function()
    times = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    median = {name: float(np.median(values)) for name, values in times.items()}
    print(f"\n{label} gamma = {gamma}")
    for name, value in median.items():
        print(f"  {name:16s} median {value * 1e3:9.1f} ms")
    ratios = {
        "psi / np.log": (median["psi"] / median["np.log"], "<= 1.5"),
        "naive / psi": (median["naive"] / median["psi"], ">= 3"),
    }
    if only_psi:
        for name, (ratio, goal) in ratios.items():
            print(f"  {name:32s} {ratio:6.2f}  (goal {goal})")
        return
    ratios["focal_minimizer / psi"] = (
        median["focal_minimizer"] / median["psi"],
        "<= 10",
    )
    ratios["focal_regimes / focal_minimizer"] = (
        median["focal_regimes"] / median["focal_minimizer"],
        "<= 3",
    )
    for name, (ratio, goal) in ratios.items():
        print(f"  {name:32s} {ratio:6.2f}  (goal {goal})")
    rate = q.shape[0] / median["focal_minimizer"]
    print(f"  focal_minimizer rows/s           {rate:,.0f}")
    error = np.max(np.abs(psi(focal_minimizer(q, gamma), gamma) - q))
    print(f"  max |psi(focal_minimizer(q)) - q| = {error:.2e}")


if __name__ == "__main__":
    main()
