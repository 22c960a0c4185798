"""OneBitGLM: Gaussian fit against statsmodels' Probit; Poisson time and iterations.

Run: ``python benchmarks/bench_onebit.py [--n 1000000] [--repeats 3]``.

Gaussian: n rows, p = 10 features, thresholds uniform on (-2, 3); the same
data go to ``statsmodels.discrete.discrete_model.Probit`` on the columns
``[X, 1, -tau]`` (its parameters are ``(beta / sigma, b / sigma, 1 / sigma)``),
fitted by its Newton method with ``tol=1e-12``, and to ``OneBitGLM()``,
interleaved repeat by repeat. The script prints the median of each, the
ratio statsmodels / ours, the number of iterations, and the largest relative
difference of the mapped estimates
(goal: ours at least as fast, estimates equal to 1e-8).

Poisson: n rows, p = 10, integer thresholds 1..8 and an offset; prints the
median time and Newton iterations of ``OneBitGLM("poisson")``.
"""
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import time

import numpy as np
from _machine import describe

from sklearn_focal.linear_model import OneBitGLM


def median_time(func, repeats):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def gaussian_data(n, p, rng):
    X = rng.normal(size=(n, p))
    coef = rng.normal(0, 0.5, size=p)
    tau = rng.uniform(-2.0, 3.0, size=n)
    y = (X @ coef + 0.5 + 1.3 * rng.normal(size=n) >= tau).astype(np.float64)
    return X, y, tau


def poisson_data(n, p, rng):
    X = rng.normal(size=(n, p))
    coef = rng.normal(0, 0.15, size=p)
    offset = rng.normal(0, 0.2, size=n)
    tau = rng.integers(1, 9, size=n).astype(np.float64)
    y = (rng.poisson(np.exp(X @ coef + 1.2 + offset)) >= tau).astype(np.float64)
    return X, y, tau, offset


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--p", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import statsmodels
    from statsmodels.discrete.discrete_model import Probit

    print(f"# {describe()}; statsmodels {statsmodels.__version__}")
    rng = np.random.default_rng(0)
    X, y, tau = gaussian_data(args.n, args.p, rng)

    columns = np.column_stack([X, np.ones(args.n), -tau])

    def fit_statsmodels(y, columns):
        return Probit(y, columns).fit(method="newton", tol=1e-12, maxiter=100, disp=0)

    # interleaved, so that both see the same load on a shared machine
    ours, theirs = [], []
    for _ in range(args.repeats):
        ours.append(median_time(lambda: OneBitGLM().fit(X, y, threshold=tau), 1))
        theirs.append(median_time(lambda: fit_statsmodels(y, columns), 1))
    ours_time = float(np.median([t for t, _ in ours]))
    sm_time = float(np.median([t for t, _ in theirs]))
    model, result = ours[-1][1], theirs[-1][1]
    params = result.params
    scale = 1.0 / params[-1]
    theirs = np.r_[params[:-1] * scale, scale]
    estimates = np.r_[model.coef_, model.intercept_, model.scale_]
    max_rel = float(np.max(np.abs(estimates - theirs) / np.abs(theirs)))
    print(f"gaussian n={args.n} p={args.p} repeats={args.repeats}")
    print(f"  OneBitGLM          median {ours_time:8.3f} s  iterations {model.n_iter_}")
    print(
        f"  statsmodels Probit median {sm_time:8.3f} s  iterations "
        f"{result.mle_retvals['iterations']}"
    )
    print(f"  ratio statsmodels / ours: {sm_time / ours_time:.2f}")
    print(f"  max relative difference of the estimates: {max_rel:.2e}")

    X, y, tau, offset = poisson_data(args.n, args.p, rng)
    pois_time, model = median_time(
        lambda: OneBitGLM("poisson").fit(X, y, threshold=tau, offset=offset),
        args.repeats,
    )
    print(f"poisson n={args.n} p={args.p} repeats={args.repeats}")
    print(f"  OneBitGLM          median {pois_time:8.3f} s  iterations {model.n_iter_}")


if __name__ == "__main__":
    main()
