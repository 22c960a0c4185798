"""log_normal_accurate: the vectorizable log of the binary posterior map."""

import mpmath
import numpy as np
from numba import njit

from sklearn_focal.utils._fastmath import log_normal_accurate


@njit(cache=False)
def _logs(x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = log_normal_accurate(x[i])
    return out


def test_within_one_ulp_of_mpmath_over_every_magnitude():
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
    got = _logs(x)
    with mpmath.workdps(40):
        exact = [mpmath.log(mpmath.mpf(float(v))) for v in x]
    error = np.array(
        [abs(mpmath.mpf(float(g)) - e) for g, e in zip(got, exact, strict=True)],
        dtype=float,
    )
    ulp = np.spacing(np.abs(np.array([float(e) for e in exact])))
    ulp[ulp == 0] = np.spacing(0.0)
    assert np.all(error <= ulp), f"worst {np.max(error / ulp):.2f} ulp"
