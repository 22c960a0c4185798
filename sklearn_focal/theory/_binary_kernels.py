"""Compiled elementwise kernels of the sigmoid (binary) focal posterior map.

:func:`binary_psi_fast_pass` maps sigmoid outputs ``q`` (a 1-D float64 array
of one label's scores, one weight ratio ``B / A``) to posteriors in a
vectorized pass, and :func:`binary_psi_exact_pass` redoes the few entries
that need the exact form;
:func:`binary_minimizer_rows` inverts it on C-contiguous float64 arrays of
shape (n, L), the labels on the last axis, with one log-odds offset
``log(B_j / A_j)`` per label (``A`` the weight of positives, ``B`` of
negatives). Each comes as a parallel and a ``_serial`` twin for
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
from sklearn_focal.utils._fastmath import (
    POWER_BITS,
    exp_nonpositive_accurate,
    log_normal_accurate,
    power_by_bits,
)

__all__ = [
    "binary_minimizer_rows",
    "binary_minimizer_rows_serial",
    "binary_psi_exact_pass",
    "binary_psi_exact_pass_serial",
    "binary_psi_fast_pass",
    "binary_psi_fast_pass_serial",
]

# The fast pass's linear-space odds are used only inside this range (full
# precision, no subnormal rounding); outside, the exact pass redoes the element.
_ODDS_LOW = 1e-280
_ODDS_HIGH = 1e280

_MAX_ITERATIONS = 200
# Smallest normal double: below, the vectorized form's bit-level log does not
# apply (subnormals go to the exact form).
_NORMAL_MIN = 2.2250738585072014e-308
# |t| beyond which min(q, 1 - q) < 1e-100: G(t) = (1 + gamma) t -+ log(1 + gamma)
# to double precision (the corrections are O(gamma q log q)).
_T_FAR = 231.0


@njit(cache=True, inline="always")
def _sigmoid(x):
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@njit(cache=True)
def _binary_psi_exact(v, offset, gamma):
    """eta of one score ``v`` in [0, 1], every case, through the compiled h.

    ``log h(v) - log h(1 - v)`` at the logit ``t = log v - log(1 - v)`` is
    :func:`_log_h_ratio_logit`, the package's one log-space h
    (:func:`sklearn_focal.theory._kernels._log_h_logit`), exact for subnormal
    scores and odds out of any range; ``eta = sigmoid(offset + that)``.
    """
    if v == 0.0 or v == 1.0:
        return v
    t = math.log(v) - math.log1p(-v)
    return _sigmoid(offset + _log_h_ratio_logit(t, gamma)[0])


@njit(cache=True, inline="always")
def _binary_psi_fast(v, ratio, gamma):
    """:func:`_binary_psi_exact` without branches or libm calls, so that the
    loop calling it vectorizes; -1 where the element needs the exact form
    (0, 1, subnormal, outside [0, 1], NaN, or odds out of the safe range).

    This pass writes h's core again, in linear space, on purpose:
    ``core_neg = v exp(_log_inverse_h_core(v))`` and ``core_pos`` the same at
    ``1 - v`` (:mod:`sklearn_focal.theory._kernels`). The compiled log h
    (:func:`_log_h_logit`, used by the exact pass) branches on the sign of
    the logit and calls libm's exp, log and log1p, which keeps numba from
    vectorizing the loop; this branch-free form with the logs of
    :mod:`sklearn_focal.utils._fastmath` ran about 17x faster than the exact
    pass on 1e6 uniform scores (one thread, shared CPU), and agrees with it
    to ~1e-14 (tests/theory/test_binary_map.py checks both against mpmath).
    """
    interior = (v >= _NORMAL_MIN) & (v < 1.0)
    x = v if interior else 0.5
    u = 1.0 - x
    log_v = log_normal_accurate(x)
    log_u = log_normal_accurate(u) + ((1.0 - u) - x) / u
    core_pos = x - gamma * u * log_u
    core_neg = u - gamma * x * log_v
    d = gamma * (log_v - log_u)
    e = exp_nonpositive_accurate(-abs(d))
    num = ratio * core_pos * (e if d <= 0.0 else 1.0)
    den = core_neg * (1.0 if d <= 0.0 else e)
    good = (
        interior
        & (e >= _ODDS_LOW)
        & (num >= _ODDS_LOW * den)
        & (num <= _ODDS_HIGH * den)
    )
    return num / (num + den) if good else -1.0


@njit(cache=True, inline="always")
def _binary_psi_fast_power(v, ratio, gamma, m, half, small):
    """:func:`_binary_psi_fast` for ``gamma = m + half / 2`` (``m < 2**POWER_BITS``),
    the odds' factor ``(v / (1 - v))^gamma`` by multiplications, no exp.

    With ``u = 1 - v`` rounded and ``delta = (1 - v) - u`` (exact), to first
    order in ``delta / u < 2**-52``: ``(1 - v)^gamma = u^gamma (u + gamma delta) / u``,
    ``core_neg = u + delta - gamma v log v`` and
    ``core_pos = v - gamma u log u - gamma delta (1 + log u)``; the factor
    ``(u + gamma delta) / u`` enters the final quotient without a division.
    For a half-integer gamma, ``sqrt(v u)`` supplies both half powers.
    ``small`` (``m <= 2``, gamma up to 2.5) takes the powers by at most one
    product instead of :func:`power_by_bits`' fixed chain.
    """
    interior = (v >= _NORMAL_MIN) & (v < 1.0)
    x = v if interior else 0.5
    u = 1.0 - x
    delta = (1.0 - u) - x
    log_v = log_normal_accurate(x)
    log_u = log_normal_accurate(u)
    core_neg = (u - gamma * x * log_v) + delta
    core_pos = (x - gamma * u * log_u) - gamma * delta * (1.0 + log_u)
    if small:
        power_v = 1.0 if m == 0 else (x if m == 1 else x * x)
        power_u = 1.0 if m == 0 else (u if m == 1 else u * u)
    else:
        power_v = power_by_bits(x, m)
        power_u = power_by_bits(u, m)
    root = math.sqrt(x * u) if half else 1.0
    num = ratio * core_pos * (power_v * root) * u
    den = core_neg * (power_u * (u if half else 1.0)) * (u + gamma * delta)
    good = (
        interior
        & (num >= _ODDS_LOW)
        & (den >= _ODDS_LOW)
        & (num <= _ODDS_HIGH * den)
        & (den <= _ODDS_HIGH * num)
    )
    return num / (num + den) if good else -1.0


# contract lets LLVM fuse a * b + c into FMA instructions where the CPU has
# them (one rounding instead of two); it made the fast pass ~1.4x faster
# (AVX-512, one thread). The log and exp stay within one ulp with it
# (tests/utils/test_fastmath_log.py compiles them both ways). No
# reassociation: their reductions rely on the order of operations.
_FUSED_MATH = {"contract"}


# Entries per call of the chunk kernel (the parallel kernel's unit of work).
_CHUNK = 4096


@njit(cache=True, inline="always")
def _binary_psi_fast_loop(q, ratio, gamma, out, m, half, power, small):
    left = 0
    for i in range(q.shape[0]):  # vectorized
        if power:
            value = _binary_psi_fast_power(q[i], ratio, gamma, m, half, small)
        else:
            value = _binary_psi_fast(q[i], ratio, gamma)
        out[i] = value
        left += value < 0.0
    return left


@njit(cache=True, error_model="numpy", fastmath=_FUSED_MATH)
def _binary_psi_fast_chunk(q, ratio, gamma, out, start, stop):
    """:func:`_binary_psi_fast_loop` on ``q[start:stop]``, one loop per kind of
    gamma (integer and half-integer ones take powers by multiplications,
    others the exp). Compiled on its own with the kind fixed in each loop,
    so that every loop vectorizes (in a parallel loop's body the kind would
    be a runtime value)."""
    qb = q[start:stop]
    ob = out[start:stop]
    twice = 2.0 * gamma
    if twice == math.floor(twice) and gamma < (1 << POWER_BITS):
        m = int(math.floor(gamma))
        half = twice - 2.0 * m == 1.0
        if m <= 2:
            if half:
                return _binary_psi_fast_loop(qb, ratio, gamma, ob, m, True, True, True)
            return _binary_psi_fast_loop(qb, ratio, gamma, ob, m, False, True, True)
        if half:
            return _binary_psi_fast_loop(qb, ratio, gamma, ob, m, True, True, False)
        return _binary_psi_fast_loop(qb, ratio, gamma, ob, m, False, True, False)
    return _binary_psi_fast_loop(qb, ratio, gamma, ob, 0, False, False, False)


@njit(cache=True, inline="always")
def _binary_psi_fast_pass(q, ratio, gamma, out):
    n = q.shape[0]
    left = 0
    for c in prange((n + _CHUNK - 1) // _CHUNK):
        stop = min(n, (c + 1) * _CHUNK)
        left += _binary_psi_fast_chunk(q, ratio, gamma, out, c * _CHUNK, stop)
    return left


@njit(cache=True, parallel=True, fastmath=_FUSED_MATH)
def binary_psi_fast_pass(q, ratio, gamma, out):
    """eta of the 1-D ``q`` by :func:`_binary_psi_fast` (-1: redo), parallel.

    A kernel of its own: in one function with the exact pass, numba would
    fuse the two loops and the fused loop would not vectorize. Returns the
    number of entries left for the exact pass.
    """
    return _binary_psi_fast_pass(q, ratio, gamma, out)


@njit(cache=True, error_model="numpy", fastmath=_FUSED_MATH)
def binary_psi_fast_pass_serial(q, ratio, gamma, out):
    """:func:`binary_psi_fast_pass` on one thread."""
    return _binary_psi_fast_pass(q, ratio, gamma, out)


@njit(cache=True, inline="always")
def _binary_psi_exact_pass(q, offset, gamma, out):
    bad = 0
    for i in prange(q.shape[0]):
        if out[i] < 0.0:
            v = q[i]
            if 0.0 <= v <= 1.0:
                out[i] = _binary_psi_exact(v, offset, gamma)
            else:
                out[i] = np.nan
                bad += 1
    return bad


@njit(cache=True, parallel=True)
def binary_psi_exact_pass(q, offset, gamma, out):
    """The entries the fast pass left at -1, by :func:`_binary_psi_exact`;
    returns the number outside [0, 1] (they get NaN). Parallel."""
    return _binary_psi_exact_pass(q, offset, gamma, out)


@njit(cache=True, error_model="numpy")
def binary_psi_exact_pass_serial(q, offset, gamma, out):
    """:func:`binary_psi_exact_pass` on one thread."""
    return _binary_psi_exact_pass(q, offset, gamma, out)


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
