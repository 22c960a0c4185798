"""Bit probabilities and per-sample information of the 1-bit GLM families.

The one home of the formulas of the 1-bit model (Shah, Cardone, Rush and
Dytso, 2025): the log-probabilities of a bit, the derivatives of the
log-likelihood of one bit in the linear predictor, and the per-sample Fisher
weights ``p (1 - p) d d'`` of Proposition 1 in closed form.

Gaussian
    ``X = mu + sigma Z``; ``B = 1{X >= tau}``; ``P(B = 1) = Phi(eta)`` with
    ``eta = (mu - tau) / sigma = -z``. The bit log-probabilities are
    ``log_ndtr(eta)`` and ``log_ndtr(-eta)``, accurate in both tails.
    The per-sample weight is ``r(z) = phi(z)**2 / (Phi(z) (1 - Phi(z)))``.
Poisson
    ``X ~ Poisson(lambda)``; with ``k = ceil(tau) - 1``,
    ``P(B = 1) = P(X > k) = gammainc(k + 1, lambda)`` and
    ``P(B = 0) = gammaincc(k + 1, lambda)``. Where either underflows, its
    logarithm comes from the series of ``P(a, x)`` or the continued fraction
    of ``Q(a, x)`` evaluated in log space. The per-sample weight in
    ``eta = log lambda`` is ``lambda**2 pmf(k)**2 / (F(k) (1 - F(k)))``.

Everything is vectorized over rows.
"""
# SPDX-License-Identifier: BSD-3-Clause

import math

import numpy as np
from scipy.special import gammainc, gammaincc, gammaln, log_ndtr, xlogy

__all__ = [
    "gaussian_bit_terms",
    "gaussian_info_weight",
    "gaussian_log_probs",
    "poisson_bit_terms",
    "poisson_info_weight",
    "poisson_log_probs",
    "poisson_log_pmf",
    "poisson_k",
]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
# Below this a regularized incomplete gamma value is recomputed in log space
# (float64 subnormals start at 2.2e-308; scipy is relative-accurate above).
_TINY = 1e-280
_EPS = np.finfo(np.float64).eps


def _log_norm_pdf(z):
    return -0.5 * z * z - _LOG_SQRT_2PI


# --------------------------------------------------------------------------
# Gaussian
# --------------------------------------------------------------------------


def gaussian_log_probs(eta):
    """``(log P(B = 1), log P(B = 0))`` with ``P(B = 1) = Phi(eta)``.

    Examples
    --------
    >>> from sklearn_focal.linear_model._families import gaussian_log_probs
    >>> [round(float(v), 6) for v in gaussian_log_probs(0.0)]
    [-0.693147, -0.693147]
    """
    eta = np.asarray(eta, dtype=np.float64)
    return log_ndtr(eta), log_ndtr(-eta)


def gaussian_bit_terms(eta, bits):
    """Log-likelihood, score and curvature of the bits in the probit predictor.

    For ``l = B log Phi(eta) + (1 - B) log Phi(-eta)`` and ``t = q eta`` with
    ``q = 2B - 1``: ``l = log Phi(t)``, ``dl/deta = q m(t)`` and
    ``-d2l/deta2 = m(t) (m(t) + t) > 0`` with the inverse Mills ratio
    ``m(t) = phi(t) / Phi(t)``, computed in log space (and ``m(t) + t`` by
    a continued fraction for ``t < -3``, where it cancels).

    Returns
    -------
    loglik, score, curvature : ndarray
        Per-row values; ``curvature`` is the negative second derivative.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.linear_model._families import gaussian_bit_terms
    >>> ll, s, c = gaussian_bit_terms(np.array([0.0]), np.array([1.0]))
    >>> round(float(s[0]), 6), round(float(c[0]), 6)
    (0.797885, 0.63662)
    """
    q = 2.0 * bits - 1.0
    t = q * eta
    log_cdf = log_ndtr(t)
    mills = np.exp(_log_norm_pdf(t) - log_cdf)
    excess = mills + t
    tail = t < _MILLS_TAIL
    if tail.any():
        excess[tail] = _mills_excess(-t[tail])
    return log_cdf, q * mills, mills * excess


# Below this t, m(t) + t cancels (m(t) ~ -t); its continued fraction is used.
_MILLS_TAIL = -3.0


def _mills_excess(x):
    """``m(-x) - x`` for ``x >= 3``, without cancellation.

    The Mills ratio ``R(x) = (1 - Phi(x)) / phi(x) = 1 / (x + c)`` with
    ``c = 1 / (x + 2 / (x + 3 / (x + ...)))``, so ``m(-x) - x = 1 / R - x =
    c``; 60 terms give full precision for ``x >= 3``.
    """
    acc = np.zeros_like(x)
    for n in range(60, 1, -1):
        acc = n / (x + acc)
    return 1.0 / (x + acc)


def gaussian_info_weight(z):
    """``r(z) = phi(z)**2 / (Phi(z) (1 - Phi(z)))``, in log space.

    The Fisher information about the mean of one bit, per unit of the
    uncensored information ``1 / sigma**2``; ``r(0) = 2 / pi``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.linear_model._families import gaussian_info_weight
    >>> bool(np.isclose(gaussian_info_weight(0.0), 2 / np.pi))
    True
    """
    z = np.asarray(z, dtype=np.float64)
    return np.exp(2.0 * _log_norm_pdf(z) - log_ndtr(z) - log_ndtr(-z))


# --------------------------------------------------------------------------
# Poisson
# --------------------------------------------------------------------------


def poisson_k(threshold):
    """``k = ceil(tau) - 1``: ``B = 1{X >= tau} = 1{X > k}`` for integer X.

    Examples
    --------
    >>> from sklearn_focal.linear_model._families import poisson_k
    >>> poisson_k([1.0, 1.5, 3.0]).tolist()
    [0.0, 1.0, 2.0]
    """
    return np.ceil(np.asarray(threshold, dtype=np.float64)) - 1.0


def poisson_log_pmf(k, lam):
    """``log P(X = k)`` for ``X ~ Poisson(lam)``, ``lam > 0``.

    Examples
    --------
    >>> import math
    >>> from sklearn_focal.linear_model._families import poisson_log_pmf
    >>> bool(math.isclose(poisson_log_pmf(0.0, 2.0), -2.0))
    True
    """
    return xlogy(k, lam) - lam - gammaln(k + 1.0)


def _log_lower_series(a, x):
    """``log P(a, x)`` by its series, for ``x`` well below ``a``.

    ``P(a, x) = x**a e**-x / Gamma(a + 1) * sum_n x**n / ((a+1)...(a+n))``;
    the terms fall at least as fast as ``(x / (a + 1))**n``.
    """
    term = np.ones_like(x)
    total = np.ones_like(x)
    n = 0
    active = np.ones(x.shape, dtype=bool)
    while active.any():
        n += 1
        term = np.where(active, term * x / (a + n), term)
        total = np.where(active, total + term, total)
        active = term > _EPS * total
    return a * np.log(x) - x - gammaln(a + 1.0) + np.log(total)


def _log_upper_cf(a, x):
    """``log Q(a, x)`` by its continued fraction (modified Lentz), ``x > a``.

    ``Q(a, x) = e**-x x**a / Gamma(a) * 1 / (x + 1 - a - 1 (1 - a) / (x + 3 - a
    - 2 (2 - a) / (x + 5 - a - ...)))``.
    """
    tiny = 1e-300
    b = x + 1.0 - a
    c = np.full_like(x, 1.0 / tiny)
    d = 1.0 / b
    h = d.copy()
    active = np.ones(x.shape, dtype=bool)
    i = 0
    while active.any():
        i += 1
        an = -i * (i - a)
        b = b + 2.0
        d = an * d + b
        d = np.where(np.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        d = 1.0 / d
        delta = d * c
        h = np.where(active, h * delta, h)
        active = active & (np.abs(delta - 1.0) > _EPS)
    return a * np.log(x) - x - gammaln(a) + np.log(h)


def poisson_log_probs(k, lam):
    """``(log P(X > k), log P(X <= k))`` for ``X ~ Poisson(lam)``.

    Each is accurate to a few ulps relative to its own value, including where
    the probability underflows float64 and where it is close to 1.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.linear_model._families import poisson_log_probs
    >>> one, zero = poisson_log_probs(np.array([0.0]), np.array([1000.0]))
    >>> float(zero[0])  # log P(X = 0) = -lambda, far below float64's range
    -1000.0
    """
    k = np.asarray(k, dtype=np.float64)
    lam = np.asarray(lam, dtype=np.float64)
    shape = np.broadcast_shapes(k.shape, lam.shape)
    k, lam = (np.array(v, ndmin=1) for v in np.broadcast_arrays(k, lam))
    a = k + 1.0
    # One special function per row: the smaller probability is computed, the
    # other is its complement (no cancellation above 1/2).
    upper = np.array(gammaincc(a, lam), ndmin=1)  # P(X <= k)
    lower = 1.0 - upper  # P(X > k), accurate where upper <= 1/2
    big = upper > 0.5
    if big.any():
        lower[big] = gammainc(a[big], lam[big])
        upper[big] = 1.0 - lower[big]
    with np.errstate(divide="ignore"):
        log_one = np.where(big, np.log(lower), np.log1p(-upper))
        log_zero = np.where(big, np.log1p(-lower), np.log(upper))
    small = lower < _TINY
    if small.any():
        log_one = log_one.copy()
        log_one[small] = _log_lower_series(a[small], lam[small])
    small = upper < _TINY
    if small.any():
        log_zero = log_zero.copy()
        log_zero[small] = _log_upper_cf(a[small], lam[small])
    return log_one.reshape(shape), log_zero.reshape(shape)


def poisson_bit_terms(eta, k, bits):
    """Log-likelihood, score and curvature of the bits in ``eta = log lambda``.

    With ``h1 = lambda pmf(k) / P(X > k)`` and ``h0 = lambda pmf(k) / P(X <= k)``
    (``lambda pmf(k)`` is ``-dF(k) / d eta``): the score is ``B h1 - (1 - B) h0``
    and the negative second derivative
    ``B h1 (h1 + lambda - k - 1) + (1 - B) h0 (h0 + k + 1 - lambda)``.

    Returns
    -------
    loglik, score, curvature : ndarray
        Per-row values; ``curvature`` is the negative second derivative.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.linear_model._families import poisson_bit_terms
    >>> ll, s, c = poisson_bit_terms(np.array([0.0]), np.array([0.0]), np.array([0.0]))
    >>> [round(float(v[0]), 12) for v in (ll, s, c)]  # log P(X = 0) = -lambda
    [-1.0, -1.0, 1.0]
    """
    lam = np.exp(eta)
    log_one, log_zero = poisson_log_probs(k, lam)
    log_density = eta + poisson_log_pmf(k, lam)  # log(lambda pmf(k))
    one = bits == 1.0
    h = np.exp(log_density - np.where(one, log_one, log_zero))
    loglik = np.where(one, log_one, log_zero)
    score = np.where(one, h, -h)
    curvature = np.where(one, h * (h + lam - k - 1.0), h * (h + k + 1.0 - lam))
    return loglik, score, curvature


def poisson_info_weight(k, lam):
    """Fisher information of one bit about ``eta = log lambda``.

    ``lambda**2 pmf(k)**2 / (F(k) (1 - F(k)))``; at ``lambda = 1, k = 0``
    it is ``1 / (e - 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.linear_model._families import poisson_info_weight
    >>> bool(np.isclose(poisson_info_weight(0.0, 1.0), 1 / (np.e - 1)))
    True
    """
    k = np.asarray(k, dtype=np.float64)
    lam = np.asarray(lam, dtype=np.float64)
    log_one, log_zero = poisson_log_probs(k, lam)
    log_density = np.log(lam) + poisson_log_pmf(k, lam)
    return np.exp(2.0 * log_density - log_one - log_zero)
