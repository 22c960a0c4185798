"""Benchmark of sklearn_focal.theory: psi and focal_minimizer on 1e6 x 10 rows.

A plain script, not a timed test. Prints ratios measured in the same run,
from interleaved repeats (medians), so that machine load affects every
timing alike:

- psi / np.log on the same array (goal <= 1.5);
- naive numpy transcription of eqs. 12-13 / psi (goal >= 3);
- focal_minimizer / psi (goal <= 10);
- rows per second of focal_minimizer.

Run: ``python benchmarks/bench_theory.py [--rows N] [--repeats R]``.
"""
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import os
import platform
import time

import numpy as np

from sklearn_focal.theory import focal_minimizer, psi


def naive_psi(q, gamma):
    """Eqs. 12-13 written directly: h = v / phi, psi = h / sum(h)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        h = q / ((1 - q) ** gamma - gamma * (1 - q) ** (gamma - 1) * q * np.log(q))
    return h / h.sum(axis=1, keepdims=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    q = rng.dirichlet(np.ones(args.classes), size=args.rows)
    import numba

    print(
        f"array {q.shape} float64, repeats {args.repeats} (interleaved, medians); "
        f"{os.cpu_count()} CPUs, numba {numba.__version__} with "
        f"{numba.get_num_threads()} threads, numpy {np.__version__}, "
        f"{platform.machine()}"
    )
    for gamma in (2.0, 0.5):
        # Warm up the JIT (and the numba cache) outside the timings.
        psi(q[:1000], gamma)
        focal_minimizer(q[:1000], gamma)
        functions = {
            "np.log": lambda: np.log(q),
            "psi": lambda g=gamma: psi(q, g),
            "naive": lambda g=gamma: naive_psi(q, g),
            "focal_minimizer": lambda g=gamma: focal_minimizer(q, g),
        }
        times = {name: [] for name in functions}
        for _ in range(args.repeats):
            for name, function in functions.items():
                start = time.perf_counter()
                function()
                times[name].append(time.perf_counter() - start)
        median = {name: float(np.median(values)) for name, values in times.items()}
        print(f"\ngamma = {gamma}")
        for name, value in median.items():
            print(f"  {name:16s} median {value * 1e3:9.1f} ms")
        print(
            f"  psi / np.log               {median['psi'] / median['np.log']:6.2f}"
            "  (goal <= 1.5)"
        )
        print(
            f"  naive / psi                {median['naive'] / median['psi']:6.2f}"
            "  (goal >= 3)"
        )
        ratio = median["focal_minimizer"] / median["psi"]
        print(f"  focal_minimizer / psi      {ratio:6.2f}  (goal <= 10)")
        rate = args.rows / median["focal_minimizer"]
        print(f"  focal_minimizer rows/s     {rate:,.0f}")
        error = np.max(np.abs(psi(focal_minimizer(q, gamma), gamma) - q))
        print(f"  max |psi(focal_minimizer(q)) - q| = {error:.2e}")


if __name__ == "__main__":
    main()
