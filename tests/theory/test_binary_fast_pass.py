"""binary_psi's vectorized pass to a few ulps (issue #17).

Integer and half-integer gammas take powers by multiplications with a
first-order correction for the rounding of 1 - q, other gammas the exp; both
against the mpmath stationary point of the binary focal risk, densely where
1 - q rounds (q < 1/2) and near 1, much tighter than the suite's 1e-12.
"""

import mpmath
import numpy as np
import pytest

from sklearn_focal.theory import binary_psi
from tests.theory.test_binary_map import mp_posterior_of_minimizer


def _scores():
    rng = np.random.default_rng(11)
    return np.concatenate(
        [
            rng.uniform(0.0, 0.5, size=300),  # 1 - q rounded: the correction
            10.0 ** rng.uniform(-12, -0.3, size=200),
            1.0 - 10.0 ** rng.uniform(-15, -1, size=200),
            rng.uniform(0.5, 1.0, size=100),
        ]
    )


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0, 3.5, 5.0, 0.3, 2.7])
@pytest.mark.parametrize("alpha", [None, 0.25])
def test_fast_pass_within_a_few_ulps_of_mpmath(gamma, alpha):
    q = _scores()
    got = binary_psi(q, gamma, alpha=alpha)
    desired = [mp_posterior_of_minimizer(v, gamma, alpha, None) for v in q]
    error = [
        float(abs(mpmath.mpf(float(g)) - d) / d)
        for g, d in zip(got, desired, strict=True)
    ]
    # Powers by multiplications: a few roundings, within 2e-15 relative. The
    # exp of d = gamma (log q - log(1 - q)) (other gammas) carries the
    # rounding of d, |d| eps relative, up to ~100 eps here.
    bound = 2e-15 if float(2 * gamma).is_integer() else 5e-14
    assert max(error) <= bound, (
        f"worst {max(error):.2e} at q={q[int(np.argmax(error))]!r}"
    )
