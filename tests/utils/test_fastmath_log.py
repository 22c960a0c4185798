"""The vectorizable log and exp of utils/_fastmath.py against mpmath.

Each is compiled as the kernels use it: plain, and with FMA contraction
(``fastmath={"contract"}``, the binary posterior map's fast pass), which may
round differently but must stay within one ulp.
"""

import mpmath
import numpy as np
import pytest
from numba import njit

from sklearn_focal.utils._fastmath import exp_nonpositive_accurate, log_normal_accurate


def _compiled(function, fastmath):
    @njit(cache=False, fastmath=fastmath)
    def apply(x):
        out = np.empty_like(x)
        for i in range(x.shape[0]):
            out[i] = function(x[i])
        return out

    return apply


FLAGS = pytest.mark.parametrize("fastmath", [False, {"contract"}], ids=["plain", "fma"])


@FLAGS
def test_within_one_ulp_of_mpmath_over_every_magnitude(fastmath):
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            10.0 ** rng.uniform(-307.5, 308, size=3000),
            rng.uniform(0.5, 2.0, size=3000),
            1.0 + rng.normal(0.0, 1e-9, size=500),
            1.0 - rng.uniform(0.0, 1e-15, size=200),
            [2.2250738585072014e-308, 1.7976931348623157e308, 1.0, 2.0, 0.5],
            [np.sqrt(2.0), np.nextafter(np.sqrt(2.0), 0), np.nextafter(1.0, 0)],
        ]
    )
    got = _compiled(log_normal_accurate, fastmath)(x)
    with mpmath.workdps(40):
        exact = [mpmath.log(mpmath.mpf(float(v))) for v in x]
    error = np.array(
        [abs(mpmath.mpf(float(g)) - e) for g, e in zip(got, exact, strict=True)],
        dtype=float,
    )
    ulp = np.spacing(np.abs(np.array([float(e) for e in exact])))
    ulp[ulp == 0] = np.spacing(0.0)
    assert np.all(error <= ulp), f"worst {np.max(error / ulp):.2f} ulp"


@FLAGS
def test_exp_within_one_ulp_of_mpmath_compiled_in_a_loop(fastmath):
    rng = np.random.default_rng(1)
    d = np.concatenate(
        [
            -np.logspace(-300, np.log10(760.0), 1500),
            -rng.uniform(0.0, 760.0, size=1500),
            -np.log(2.0) * np.arange(0, 1100) / 2,  # the reduction's boundaries
        ]
    )
    got = _compiled(exp_nonpositive_accurate, fastmath)(d)
    with mpmath.workdps(40):
        want = np.array([float(mpmath.exp(mpmath.mpf(float(v)))) for v in d])
    normal = want >= np.finfo(float).tiny
    assert np.all(np.abs(got - want)[normal] <= np.spacing(want[normal]))
    # Subnormal results: within one step of the smallest subnormal; 0 below.
    assert np.all(np.abs(got - want)[~normal] <= 2.0**-1074)
