"""focal_regimes on many rows: one threshold solve per distinct lambda.

The thresholds of every distinct lambda come from one compiled pass (issue
#17: the per-level loop over all rows was quadratic in rows). These tests pin
the result to the per-level scalar solver it replaced, transcribed below, and
to mpmath; none of them times anything.
"""

import mpmath
import numpy as np
import pytest
from mptestutils import mp_bracketed_root, mp_phi
from scipy.optimize import brentq

from sklearn_focal.theory import (
    FocalRegime,
    focal_minimizer,
    focal_regimes,
    phi,
    tau_oc,
)

EPS = np.finfo(float).eps
ROOT_OPTIONS = {"xtol": 1e-300, "rtol": 4 * EPS, "maxiter": 500}


# The scalar forms and the per-level solver of focal_regimes before #17,
# transcribed: brentq on phi(v) - level below the peak, and on
# phi(1 - u) - level in u above it.
def _phi_direct(v, gamma):
    if v <= 0:
        return 1.0
    log_one_minus = np.log1p(-v)
    return np.exp(gamma * log_one_minus) - gamma * np.exp(
        (gamma - 1) * log_one_minus
    ) * v * np.log(v)


def _phi_of_one_minus(u, gamma):
    log_u = np.log(u)
    return np.exp(gamma * log_u) - gamma * np.exp((gamma - 1) * log_u) * (
        1.0 - u
    ) * np.log1p(-u)


def _reference_thresholds(level, gamma, peak):
    if level >= _phi_direct(peak, gamma):
        return peak, peak
    smallest_gap = np.finfo(float).epsneg
    if _phi_of_one_minus(smallest_gap, gamma) >= level:
        high = 1.0 - smallest_gap
    else:
        gap = brentq(
            lambda u: _phi_of_one_minus(u, gamma) - level,
            smallest_gap,
            1.0 - peak,
            **ROOT_OPTIONS,
        )
        high = 1.0 - gap
    if level <= 1:
        return 0.0, high
    low = brentq(lambda v: _phi_direct(v, gamma) - level, 1e-300, peak, **ROOT_OPTIONS)
    return low, high


def _reference_regimes(p, gamma):
    """focal_regimes before #17: a mask over all rows for every lambda."""
    q, lam = focal_minimizer(p, gamma, return_lambda=True)
    thresholds = np.zeros((p.shape[0], 2))
    thresholds[:, 1] = 1.0
    peak = tau_oc(gamma)
    for level in np.unique(lam):
        if level <= 0:
            continue
        thresholds[lam == level] = _reference_thresholds(level, gamma, peak)
    relative = q - p
    tolerance = 8 * EPS * np.maximum(q, p)
    regime = np.zeros(p.shape, dtype=np.int8)
    regime[relative > tolerance] = FocalRegime.AMPLIFIED
    below = relative < -tolerance
    over = below & (q <= thresholds[:, :1])
    regime[below & ~over] = FocalRegime.SUPPRESSED
    regime[over] = FocalRegime.OVER_SUPPRESSED
    return regime, q, lam, thresholds


def _slope(function, x):
    """|f'(x)| by a central difference (for the conditioning of a root)."""
    step = 1e-7 * x
    return abs(function(x + step) - function(x - step)) / (2 * step)


def _assert_same_root(new, old, function, level):
    """Two roots of f = phi - level agree to f's rounding over its slope.

    phi is computed to a few ulps of max(1, level); where phi is flat (near
    its peak, or level near 1 for the lower crossing) the root is only
    determined to that rounding divided by the slope.
    """
    slope = _slope(function, old)
    bound = 64 * EPS * max(1.0, level) / slope + 8 * np.spacing(old)
    assert abs(new - old) <= bound, (new, old, level, bound)


def _rows(seed, n_rows, n_classes):
    rng = np.random.default_rng(seed)
    # Concentrations over three orders of magnitude: lambda below and above
    # one, tiny classes that are over-suppressed.
    concentration = 10.0 ** rng.uniform(-1.5, 1.5, size=(n_rows, 1))
    p = rng.gamma(concentration, size=(n_rows, n_classes))
    p[:, 0] += 1e-300  # no row is all zeros
    return p / p.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("gamma", [0.05, 0.5, 2.0, 50.0])
@pytest.mark.parametrize("n_classes", [3, 40])
def test_many_distinct_levels_match_the_per_level_solver(gamma, n_classes):
    p = _rows(int(gamma * 100) + n_classes, 300, n_classes)
    result = focal_regimes(p, gamma)
    regime, q, lam, thresholds = _reference_regimes(p, gamma)
    assert np.unique(lam).size > 250  # many distinct levels
    np.testing.assert_array_equal(result.q, q)
    np.testing.assert_array_equal(result.lam, lam)
    np.testing.assert_array_equal(result.regime, regime)
    peak = tau_oc(gamma)
    for level, (low, high), (old_low, old_high) in zip(
        lam, result.thresholds, thresholds, strict=True
    ):
        if old_low == old_high == peak:
            assert low == high == peak
            continue
        _assert_same_root(
            1.0 - high,
            1.0 - old_high,
            lambda u, level=level: _phi_of_one_minus(u, gamma) - level,
            level,
        )
        if level <= 1:
            assert low == old_low == 0.0
        else:
            _assert_same_root(
                low,
                old_low,
                lambda v, level=level: _phi_direct(v, gamma) - level,
                level,
            )


def test_the_old_solver_is_not_a_tautology():
    # The comparison above can fail: a threshold off by 1e-6 is refused.
    gamma, level = 2.0, 0.5
    _, high = _reference_thresholds(level, gamma, tau_oc(gamma))
    with pytest.raises(AssertionError):
        _assert_same_root(
            1.0 - high * (1 - 1e-6),
            1.0 - high,
            lambda u: _phi_of_one_minus(u, gamma) - level,
            level,
        )


@pytest.mark.parametrize("gamma", [0.5, 2.0, 20.0])
def test_thresholds_are_the_mpmath_crossings(gamma):
    p = _rows(7, 25, 12)
    result = focal_regimes(p, gamma)
    peak = float(tau_oc(gamma))
    with mpmath.workdps(40):
        for level, (low, high) in zip(result.lam, result.thresholds, strict=True):
            if level >= phi(peak, gamma):
                continue
            tolerance = mpmath.mpf(10) ** -38
            mp_high = mp_bracketed_root(
                lambda v, level=level: level - mp_phi(v, gamma), peak, 1, tolerance
            )
            # Relative accuracy in 1 - t: the conditioning of the root is the
            # slope of phi there.
            slope = float(abs(mpmath.diff(lambda v: mp_phi(v, gamma), mp_high)))
            error = abs(float((1 - high) - (1 - mp_high)))
            assert error <= 16 * EPS * max(1, level) / slope + 4 * EPS * float(
                1 - mp_high
            )
            if level > 1:
                mp_low = mp_bracketed_root(
                    lambda v, level=level: mp_phi(v, gamma) - level,
                    mpmath.mpf(10) ** -300,
                    peak,
                    tolerance,
                )
                slope = float(abs(mpmath.diff(lambda v: mp_phi(v, gamma), mp_low)))
                error = abs(float(low - mp_low))
                assert error <= 16 * EPS * level / slope + 4 * EPS * float(mp_low)
            else:
                assert low == 0.0


def test_repeated_rows_share_their_thresholds():
    # Rows with one lambda get the same thresholds; one-hot rows (lambda = 0)
    # keep (0, 1).
    base = _rows(3, 50, 6)
    p = np.concatenate([base, base[::-1], np.eye(6)[[0, 3]], base[:5]])
    result = focal_regimes(p, 2.0)
    np.testing.assert_array_equal(
        result.thresholds[:50], result.thresholds[50:100][::-1]
    )
    np.testing.assert_array_equal(result.thresholds[:5], result.thresholds[-5:])
    np.testing.assert_array_equal(result.thresholds[100:102], [[0.0, 1.0], [0.0, 1.0]])
    assert np.all(result.lam[100:102] == 0)
