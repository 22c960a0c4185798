"""Bit log-probabilities and their derivatives against mpmath and scipy.stats.

The log-probabilities must stay accurate where the probabilities underflow
float64 and where they are within an ulp of 1; the score and curvature used by
Newton's method must be the derivatives of the log-likelihood.
"""

import mpmath
import numpy as np
import pytest
from scipy import stats

from sklearn_focal.linear_model._families import (
    gaussian_bit_terms,
    gaussian_info_weight,
    poisson_bit_terms,
    poisson_info_weight,
    poisson_log_probs,
)

K_GRID = [0, 1, 3, 10, 100, 1000]
LAM_GRID = [1e-3, 0.1, 1.0, 5.0, 10.0, 50.0, 100.0, 1000.0, 1e4]


def mp_poisson_logs(k, lam):
    """(log P(X > k), log P(X <= k)) in mpmath; log1p of the small side."""
    with mpmath.workdps(60):
        a, x = mpmath.mpf(k) + 1, mpmath.mpf(lam)
        lower = mpmath.gammainc(a, 0, x, regularized=True)  # P(X > k)
        upper = mpmath.gammainc(a, x, mpmath.inf, regularized=True)
        log_one = mpmath.log1p(-upper) if upper < 0.5 else mpmath.log(lower)
        log_zero = mpmath.log1p(-lower) if lower < 0.5 else mpmath.log(upper)
        return log_one, log_zero


def test_poisson_log_probs_against_mpmath():
    k, lam = (np.array(v, dtype=float).ravel() for v in np.meshgrid(K_GRID, LAM_GRID))
    log_one, log_zero = poisson_log_probs(k, lam)
    for i in range(len(k)):
        for got, ref in zip(
            (log_one[i], log_zero[i]), mp_poisson_logs(k[i], lam[i]), strict=True
        ):
            if abs(ref) < 1e-307:  # 1 - tiny rounds to 1 in float64: log is -0
                assert abs(got) <= 1e-307
                continue
            assert abs(got - float(ref)) <= 1e-13 * abs(float(ref)), (k[i], lam[i])


def test_poisson_log_probs_beyond_underflow():
    # P(X = 0) = exp(-lambda) far below the smallest double; P(X > 1000) at
    # lambda = 1 near 1e-2568: both come back as finite logarithms
    _, log_zero = poisson_log_probs(np.array([0.0]), np.array([5000.0]))
    assert log_zero[0] == -5000.0
    log_one, _ = poisson_log_probs(np.array([1000.0]), np.array([1.0]))
    np.testing.assert_allclose(log_one[0], float(mp_poisson_logs(1000, 1.0)[0]))


@pytest.mark.parametrize("t", [-40.0, -10.0, -1.0, 0.0, 2.0, 9.0, 40.0])
def test_gaussian_terms_against_mpmath(t):
    # bit 1 with eta = t: log Phi(t), score phi(t)/Phi(t), curvature m (m + t)
    ll, score, curvature = gaussian_bit_terms(np.array([t]), np.array([1.0]))
    with mpmath.workdps(50):
        cdf = mpmath.ncdf(t)
        m = mpmath.npdf(t) / cdf
        expected = (mpmath.log(cdf), m, m * (m + t))
    for got, ref in zip((ll[0], score[0], curvature[0]), expected, strict=True):
        np.testing.assert_allclose(got, float(ref), rtol=1e-11)


def test_gaussian_info_weight_against_mpmath():
    for z in [-37.0, -8.0, -1.0, 0.0, 0.5, 3.0, 20.0]:
        with mpmath.workdps(50):
            ref = mpmath.npdf(z) ** 2 / (mpmath.ncdf(z) * mpmath.ncdf(-z))
        np.testing.assert_allclose(gaussian_info_weight(z), float(ref), rtol=1e-12)


def test_poisson_info_weight_against_mpmath():
    for k, lam in [(0, 1.0), (3, 0.01), (5, 40.0), (100, 120.0), (0, 800.0)]:
        with mpmath.workdps(60):
            x = mpmath.mpf(lam)
            pmf = x**k * mpmath.exp(-x) / mpmath.factorial(k)
            F = mpmath.gammainc(k + 1, x, mpmath.inf, regularized=True)
            ref = x**2 * pmf**2 / (F * (1 - F))
        np.testing.assert_allclose(
            poisson_info_weight(float(k), lam), float(ref), rtol=1e-11
        )


@pytest.mark.parametrize("bit", [0.0, 1.0])
def test_poisson_score_and_curvature_are_derivatives(bit):
    # central differences in eta = log lambda of scipy.stats' log sf / log cdf
    k = np.array([0.0, 2.0, 5.0, 30.0, 4.0])
    eta = np.array([0.3, -1.0, 2.0, 3.1, 1.4])
    bits = np.full(5, bit)

    def loglik(e):
        lam = np.exp(e)
        return stats.poisson.logsf(k, lam) if bit else stats.poisson.logcdf(k, lam)

    h = 1e-5
    ll, score, curvature = poisson_bit_terms(eta, k, bits)
    np.testing.assert_allclose(ll, loglik(eta), rtol=1e-12)
    np.testing.assert_allclose(
        score, (loglik(eta + h) - loglik(eta - h)) / (2 * h), rtol=1e-6
    )
    second = (loglik(eta + h) - 2 * loglik(eta) + loglik(eta - h)) / h**2
    np.testing.assert_allclose(curvature, -second, rtol=1e-4, atol=1e-6)
    assert np.all(curvature > 0)  # the log-likelihood is concave in eta


@pytest.mark.parametrize("bit", [0.0, 1.0])
def test_gaussian_score_and_curvature_are_derivatives(bit):
    eta = np.array([-3.0, -0.5, 0.0, 1.2, 4.0])

    def loglik(e):
        return stats.norm.logcdf(e) if bit else stats.norm.logsf(e)

    h = 1e-5
    ll, score, curvature = gaussian_bit_terms(eta, np.full(5, bit))
    np.testing.assert_allclose(ll, loglik(eta), rtol=1e-12)
    np.testing.assert_allclose(
        score, (loglik(eta + h) - loglik(eta - h)) / (2 * h), rtol=1e-6
    )
    second = (loglik(eta + h) - 2 * loglik(eta) + loglik(eta - h)) / h**2
    np.testing.assert_allclose(curvature, -second, rtol=1e-4, atol=1e-6)
