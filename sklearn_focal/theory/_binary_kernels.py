"""Compiled elementwise kernels of the sigmoid (binary) focal posterior map.

:func:`binary_psi_rows` maps sigmoid outputs ``q`` to posteriors and
:func:`binary_minimizer_rows` inverts it. Both work on C-contiguous float64
arrays of shape (n, L), the labels on the last axis, with one log-odds offset
``log(B_j / A_j)`` per label (``A`` the weight of positives, ``B`` of
negatives); each comes as a parallel and a ``_serial`` twin for
:func:`sklearn_focal.utils._parallel.dispatch`. Inputs are validated by
:mod:`sklearn_focal.theory._binary_map`; entries outside [0, 1] are counted,
not computed. numba is imported when this module is first used, never at
package import.
"""
# SPDX-License-Identifier: BSD-3-Clause

import math

import numpy as np
from numba import njit, prange

from sklearn_focal.theory._kernels import _log_h_logit
from sklearn_focal.utils import _numba_cache  # noqa: F401  (caches outside the package)
from sklearn_focal.utils._fastmath import power_by_mode

__all__ = [
    "binary_minimizer_rows",
    "binary_minimizer_rows_serial",
    "binary_psi_rows",
    "binary_psi_rows_serial",
]

# The linear-space odds are used only inside this range (full precision, no
# subnormal rounding); outside, the element is redone in log space.
_ODDS_LOW = 1e-280
_ODDS_HIGH = 1e280

_MAX_ITERATIONS = 200
# |t| beyond which min(q, 1 - q) < 1e-100: G(t) = (1 + gamma) t -+ log(1 + gamma)
# to double precision (the corrections are O(gamma q log q)).
_T_FAR = 231.0


@njit(cache=True, inline="always")
def _sigmoid(x):
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@njit(cache=True, inline="always")
def _binary_psi_rows(q, ratio, offset, gamma, mode, m, out):
    """eta for every entry of ``q``; returns the number of entries outside [0, 1].

    With ``u = 1 - q``, ``h(q) / h(1 - q) = q^gamma core_pos / (u^gamma core_neg)``
    where ``core_pos = q - gamma u log(1 - q)`` and ``core_neg = u - gamma q log q``
    (the linear form of the Psi kernel, ``h(v) = v / ((1 - v)^(gamma - 1)
    (1 - v - gamma v log v))``, at ``v = q`` and ``v = 1 - q``): all terms are
    positive, nothing cancels. ``core_pos = q (1 + gamma u (-log(1 - q) / q))``
    keeps a subnormal product out of the log-space form.
    """
    n, k = q.shape
    bad = 0
    for r in prange(n):
        for j in range(k):
            v = q[r, j]
            if not (0.0 <= v <= 1.0):
                out[r, j] = np.nan
                bad += 1
                continue
            if v == 0.0 or v == 1.0:
                out[r, j] = v
                continue
            u = 1.0 - v
            log_v = math.log(v)
            log_u = math.log1p(-v)
            pos_over_v = 1.0 + gamma * u * (-log_u / v)
            core_neg = u - gamma * v * log_v
            pw = power_by_mode(v / u, gamma, mode, m)
            odds = ratio[j] * pw * (v * pos_over_v / core_neg)
            if _ODDS_LOW <= pw <= _ODDS_HIGH and _ODDS_LOW <= odds <= _ODDS_HIGH:
                out[r, j] = odds / (1.0 + odds)
            else:
                log_odds = (
                    offset[j]
                    + gamma * (log_v - log_u)
                    + log_v
                    + math.log(pos_over_v)
                    - math.log(core_neg)
                )
                out[r, j] = _sigmoid(log_odds)
    return bad


@njit(cache=True, parallel=True)
def binary_psi_rows(q, ratio, offset, gamma, mode, m, out):
    """:func:`_binary_psi_rows`, parallel over rows."""
    return _binary_psi_rows(q, ratio, offset, gamma, mode, m, out)


@njit(cache=True, error_model="numpy")
def binary_psi_rows_serial(q, ratio, offset, gamma, mode, m, out):
    """:func:`_binary_psi_rows` on one thread."""
    return _binary_psi_rows(q, ratio, offset, gamma, mode, m, out)


@njit(cache=True, inline="always")
def _log_h_ratio_logit(t, gamma):
    """``log h(q) - log h(1 - q)`` at ``q = sigmoid(t)`` and its slope in ``t``."""
    log_h, slope, _, _ = _log_h_logit(t, gamma)
    log_h_c, slope_c, _, _ = _log_h_logit(-t, gamma)
    return log_h - log_h_c, slope + slope_c


@njit(cache=True)
def _solve_logit(target, gamma):
    """The logit ``t`` with ``log h(sigmoid(t)) - log h(sigmoid(-t)) = target``.

    The left side ``G`` is increasing, ``G(0) = 0``, and
    ``G(t) = (1 + gamma) t -+ log(1 + gamma) + o(1)`` as ``t -> +-inf``: Newton's
    method from ``target / (1 + gamma)``, kept inside a bracket that every
    step tightens, with a bisection step whenever Newton leaves it.
    """
    slope_far = 1.0 + gamma
    log_slope = math.log1p(gamma)
    # Beyond |t| = _T_FAR, h(q) = q and h(1 - q) = 1 / ((1 + gamma) q^gamma)
    # (q the smaller of the pair) to double precision: G is linear there.
    far_low = (target - log_slope) / slope_far
    if far_low <= -_T_FAR:
        return far_low, 0
    far_high = (target + log_slope) / slope_far
    if far_high >= _T_FAR:
        return far_high, 0
    spread = log_slope + 1.0
    low = (target - spread) / slope_far
    high = (target + spread) / slope_far
    # Make sure of the bracket (G - (1 + gamma) t stays within log(1 + gamma)).
    for _ in range(60):
        if _log_h_ratio_logit(low, gamma)[0] <= target:
            break
        low -= spread
    for _ in range(60):
        if _log_h_ratio_logit(high, gamma)[0] >= target:
            break
        high += spread
    t = min(max(target / slope_far, low), high)
    for _ in range(_MAX_ITERATIONS):
        value, slope = _log_h_ratio_logit(t, gamma)
        excess = value - target
        if excess == 0.0:
            return t, 0
        if excess > 0.0:
            high = t
        else:
            low = t
        step = excess / slope if slope > 0.0 else np.inf
        candidate = t - step
        if not (low < candidate < high):
            candidate = 0.5 * (low + high)
        if abs(candidate - t) <= 4e-16 * max(1.0, abs(t)) or not (high - low > 0.0):
            return candidate, 0
        if high - low <= 4e-16 * max(1.0, abs(t)):
            return candidate, 0
        t = candidate
    return t, -1


@njit(cache=True, inline="always")
def _binary_minimizer_rows(eta, ratio, offset, gamma, out, status):
    n, k = eta.shape
    bad = 0
    for r in prange(n):
        status[r] = 0
        for j in range(k):
            p = eta[r, j]
            if not (0.0 <= p <= 1.0):
                out[r, j] = np.nan
                bad += 1
                continue
            if p == 0.0 or p == 1.0:
                out[r, j] = p
                continue
            target = math.log(p) - math.log1p(-p) - offset[j]
            t, code = _solve_logit(target, gamma)
            if code < 0:
                status[r] = code
            out[r, j] = _sigmoid(t)
    return bad


@njit(cache=True, parallel=True)
def binary_minimizer_rows(eta, ratio, offset, gamma, out, status):
    """:func:`_binary_minimizer_rows`, parallel over rows."""
    return _binary_minimizer_rows(eta, ratio, offset, gamma, out, status)


@njit(cache=True, error_model="numpy")
def binary_minimizer_rows_serial(eta, ratio, offset, gamma, out, status):
    """:func:`_binary_minimizer_rows` on one thread."""
    return _binary_minimizer_rows(eta, ratio, offset, gamma, out, status)
