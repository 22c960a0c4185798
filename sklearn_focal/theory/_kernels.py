"""Compiled row kernels for :mod:`sklearn_focal.theory`.

Psi^gamma of probability rows (:func:`psi_rows`, which checks each row in
the same pass with the codes of :mod:`sklearn_focal.utils._row_kernels`) and
the focal-risk minimizer (:func:`focal_minimizer_rows`), and the crossings
of ``phi(t) = lambda`` for many levels at once (:func:`phi_level_crossings`,
for ``focal_regimes``). The row kernels work on
C-contiguous float64 arrays of shape (n, K) and are parallel over rows; each
comes as a parallel and a ``_serial`` twin, and callers pick one with
:func:`sklearn_focal.utils._parallel.dispatch`. Inputs are validated by the
callers in ``theory``. numba is imported when this module is first used,
never at package import.
"""
# SPDX-License-Identifier: BSD-3-Clause

import math

import numpy as np
from numba import njit, prange

from sklearn_focal.utils import _numba_cache  # noqa: F401  (caches outside the package)
from sklearn_focal.utils._fastmath import (
    POWER_BITS,
    POWER_GENERAL,
    POWER_HALF_INTEGER,
    POWER_INTEGER,
    exp_nonpositive_accurate,
    log_normal_accurate,
    power_by_bits,
    power_by_mode,
    power_mode,
)
from sklearn_focal.utils._parallel import PARALLEL_MIN_SIZE, dispatch
from sklearn_focal.utils._row_kernels import (
    ROW_BAD_SUM,
    ROW_NEGATIVE,
    ROW_NOT_FINITE,
    ROW_OK,
)

__all__ = [
    "PARALLEL_MIN_SIZE",
    "TABLE_MIN_ROWS",
    "dispatch",
    "focal_minimizer_rows",
    "focal_minimizer_rows_serial",
    "inverse_table",
    "phi_level_crossings",
    "phi_level_crossings_serial",
    "power_mode",
    "psi_rows",
    "psi_rows_serial",
]

# Below this value h(v) = v to double precision: h(v) = v (1 + O(v log v)).
_H_IS_IDENTITY_BELOW = 1e-100
# The linear-space power (1 - v)^(gamma - 1) must stay inside this range,
# otherwise the row is recomputed in log space.
_POWER_LOW = 1e-280
_POWER_HIGH = 1e280


@njit(cache=True, inline="always")
def _log_inverse_h_core(v, gamma):
    # log((1 - v)/v - gamma log v) for 0 < v < 1: a sum of positive terms.
    return math.log((1.0 - v) / v - gamma * math.log(v))


# Rows per block of the vectorized path: about this many entries, so that
# a block of q and of out stays in the L1/L2 cache between its two passes.
_BLOCK_ENTRIES = 2048


@njit(cache=True, inline="always")
def _h_over_alpha(v, inv_alpha, gamma, m, half, small, general):
    """``h(v) / alpha`` of one entry without branches or calls (vectorizable).

    The exponent is ``gamma - 1 = m + half / 2`` (``half``, ``small``:
    ``|m| <= 1``, and ``general`` are loop-invariant: each is fixed in its own
    copy of the loop): ``(1 - v)^(gamma - 1)`` is ``num / den`` with ``num``,
    ``den`` products of powers of ``1 - v`` (:func:`power_by_bits`, or one
    factor when ``small``) and its square root. For other exponents
    (``general``) the power is ``exp(-|y|)`` or its reciprocal,
    ``y = (gamma - 1) log(1 - v)``, by the package's vectorizable log and
    exp: relative error about ``|y|`` ulps, below 3e-13 inside the power's
    range (libm's pow is within one ulp; the 1e-12 of the mpmath tests
    holds). Then ``h(v) = v / ((1 - v)^(gamma - 1) (1 - v - gamma v log v))``,
    the log by
    :func:`sklearn_focal.utils._fastmath.log_normal_accurate`. Returns -1 for
    an entry that needs the exact row path (``1 - v <= 0``, the power outside
    [_POWER_LOW, _POWER_HIGH], NaN); ``v < 1e-100`` gives ``v / alpha``.
    """
    tiny = v < _H_IS_IDENTITY_BELOW
    x = 0.5 if tiny else v  # a harmless value in the lanes not used
    one_minus = 1.0 - x
    if general:
        exponent = gamma - 1.0
        # 1 - v >= 2**-53 is normal (v < 1; the others are flagged below).
        y = exponent * log_normal_accurate(one_minus)
        pos = exp_nonpositive_accurate(-abs(y))
        num = pos if exponent < 0.0 else 1.0
        den = 1.0 if exponent < 0.0 else pos
    else:
        if small:  # gamma in [0.5, 2.5]: the usual ones, 10% faster
            pos = one_minus if m != 0 else 1.0
        else:
            pos = power_by_bits(one_minus, abs(m))
        root = math.sqrt(one_minus) if half else 1.0
        num = pos if m < 0 else 1.0
        den = root if m < 0 else pos * root
    value = (
        inv_alpha * x * num / (den * (one_minus - gamma * x * log_normal_accurate(x)))
    )
    usable = (one_minus > 0.0) & (den >= _POWER_LOW * num) & (den <= _POWER_HIGH * num)
    value = value if usable else -1.0
    return v * inv_alpha if tiny else value


@njit(cache=True, inline="always")
def _h_over_alpha_flat(qb, ob, tile, gamma, m, half, small, general):
    """:func:`_h_over_alpha` over a contiguous stretch; returns the count of -1s
    and of negative entries (either sends the block to the careful row pass)."""
    flagged = 0
    for j in range(qb.shape[0]):
        value = _h_over_alpha(qb[j], tile[j], gamma, m, half, small, general)
        ob[j] = value
        flagged += value < 0.0
    return flagged


@njit(cache=True, error_model="numpy")
def _psi_block(
    q, gamma, tile, log_alpha, m, half, general, tolerance, codes, out, r0, r1
):
    """Rows ``r0:r1`` of :func:`_psi_rows` (exponent ``m + half / 2``, or any
    when ``general``).

    First ``h(v) / alpha`` of the whole block as one flat stretch (a loop
    LLVM vectorizes: a row of K entries is too short), then row by row the
    validation codes, and the normalization, or the exact
    :func:`_psi_row_special` for rows with a flagged entry. A call, not
    inlined: the flat loop is vectorized on its own.
    """
    k = q.shape[1]
    qb = q.reshape(q.size)[r0 * k : r1 * k]
    ob = out.reshape(out.size)[r0 * k : r1 * k]
    if general:
        flagged = _h_over_alpha_flat(qb, ob, tile, gamma, 0, False, False, True)
    elif abs(m) <= 1:
        if half:
            flagged = _h_over_alpha_flat(qb, ob, tile, gamma, m, True, True, False)
        else:
            flagged = _h_over_alpha_flat(qb, ob, tile, gamma, m, False, True, False)
    elif half:
        flagged = _h_over_alpha_flat(qb, ob, tile, gamma, m, True, False, False)
    else:
        flagged = _h_over_alpha_flat(qb, ob, tile, gamma, m, False, False, False)
    for r in range(r0, r1):
        row_sum = 0.0
        total = 0.0
        for i in range(k):
            row_sum += q[r, i]
            total += out[r, i]
        smallest = 0.0
        lowest = 0.0
        if flagged:  # negative entries or entries for the exact path
            smallest = np.inf
            lowest = np.inf
            for i in range(k):
                smallest = min(smallest, q[r, i])
                lowest = min(lowest, out[r, i])
        if not np.isfinite(row_sum):
            codes[r] = ROW_NOT_FINITE
        elif smallest < 0:
            codes[r] = ROW_NEGATIVE
        elif abs(row_sum - 1.0) > tolerance:
            codes[r] = ROW_BAD_SUM
        else:
            codes[r] = ROW_OK
            if lowest < 0.0:
                _psi_row_special(q[r], gamma, log_alpha, out[r])
            else:
                scale = 1.0 / total
                for i in range(k):
                    out[r, i] *= scale


@njit(cache=True, inline="always")
def _psi_rows(q, gamma, inv_alpha, log_alpha, mode, tolerance, codes, out):
    """Psi^gamma of every row of ``q`` (gamma > 0), weights ``1/alpha``.

    Linear space first: ``h(v) = v / ((1 - v)^(gamma - 1) (1 - v - gamma v log v))``
    (all factors positive). Rows where the power leaves the safe range are
    redone in log space (:func:`_psi_row_special`). The rows are validated
    in the same pass: ``codes`` receives each row's first defect (the codes of
    :func:`sklearn_focal.utils._row_kernels.row_defects`), and such rows are
    not computed. Every gamma runs vectorized by blocks of rows
    (:func:`_psi_block`); integer and half-integer exponents ``gamma - 1``
    below ``2**POWER_BITS`` take the power by multiplications.
    """
    n, k = q.shape
    exponent = gamma - 1.0
    m = int(math.floor(exponent)) if mode != POWER_GENERAL else 0
    general = mode == POWER_GENERAL or abs(m) >= 1 << POWER_BITS
    half = mode == POWER_HALF_INTEGER
    rows_per_block = max(1, _BLOCK_ENTRIES // k)
    tile = np.empty(rows_per_block * k)  # the weights of a block, flat
    for j in range(rows_per_block):
        tile[j * k : (j + 1) * k] = inv_alpha
    n_blocks = (n + rows_per_block - 1) // rows_per_block
    for b in prange(n_blocks):
        r0 = b * rows_per_block
        r1 = min(n, r0 + rows_per_block)
        _psi_block(
            q,
            gamma,
            tile[: (r1 - r0) * k],
            log_alpha,
            m,
            half,
            general,
            tolerance,
            codes,
            out,
            r0,
            r1,
        )


@njit(cache=True, parallel=True)
def psi_rows(q, gamma, inv_alpha, log_alpha, mode, tolerance, codes, out):
    """:func:`_psi_rows`, parallel over rows."""
    _psi_rows(q, gamma, inv_alpha, log_alpha, mode, tolerance, codes, out)


@njit(cache=True, error_model="numpy")
def psi_rows_serial(q, gamma, inv_alpha, log_alpha, mode, tolerance, codes, out):
    """:func:`_psi_rows` on one thread."""
    _psi_rows(q, gamma, inv_alpha, log_alpha, mode, tolerance, codes, out)


@njit(cache=True)
def _psi_row_special(row, gamma, log_alpha, dest):
    # One-hot rows (an entry equal to 1) are fixed points: h(1) = inf. An
    # entry above 1 (a row summing to 1 within the tolerance, e.g. float32
    # rounding) is such a 1: log(1 - v) would be NaN.
    k = row.shape[0]
    ones = 0
    for i in range(k):
        if row[i] >= 1.0:
            ones += 1
    if ones > 0:
        for i in range(k):
            dest[i] = 1.0 / ones if row[i] >= 1.0 else 0.0
        return
    _psi_row_log_space(row, gamma, log_alpha, dest)


@njit(cache=True)
def _psi_row_log_space(row, gamma, log_alpha, dest):
    k = row.shape[0]
    largest = -np.inf
    for i in range(k):
        v = row[i]
        if v == 0.0:
            dest[i] = -np.inf
            continue
        if v < _H_IS_IDENTITY_BELOW:
            log_h = math.log(v)
        else:
            log_h = -(gamma - 1.0) * math.log1p(-v) - _log_inverse_h_core(v, gamma)
        dest[i] = log_h - log_alpha[i]
        if dest[i] > largest:
            largest = dest[i]
    total = 0.0
    for i in range(k):
        dest[i] = math.exp(dest[i] - largest)
        total += dest[i]
    for i in range(k):
        dest[i] /= total


@njit(cache=True, inline="always")
def _log_h_logit(t, gamma):
    """log h(q), d log h / dt, q and q(1 - q) at q = sigmoid(t)."""
    log_h, slope, q, w, _ = _log_h_logit_slopes(t, gamma)
    return log_h, slope, q, w


@njit(cache=True, inline="always")
def _log_h_gamma_slope(log_q, log_one_minus, scaled_core, scale):
    """``d log h(q) / d gamma`` at fixed ``q``, the one compiled form.

    ``-log(1 - q) + log(q) / core`` with ``core = (1 - q)/q - gamma log q``
    (as in ``_focal_terms.log_h_terms``), given as ``scaled_core = scale *
    core`` so that no caller forms ``(1 - q)/q`` where it overflows: ``scale``
    is ``q`` for the probability form (``core * q = 1 - q - gamma q log q``),
    ``1`` or ``exp(t)`` for the logit ``t`` at or below 0. Used by
    :func:`_log_h_logit_slopes`, :func:`_residual_logit` and the label kernel
    of ``FocalPosteriorRecovery(gamma="fit")`` (``_label_kernels``).
    """
    return -log_one_minus + log_q * scale / scaled_core


@njit(cache=True, inline="always")
def _log_h_logit_slopes(t, gamma):
    """:func:`_log_h_logit` and d log h / d gamma at fixed q (5th value).

    ``d log h / d gamma`` by :func:`_log_h_gamma_slope`, from the logs the
    logit gives for free.
    """
    a = math.exp(-abs(t))
    s = math.log1p(a)
    if t >= 0.0:
        log_q = -s
        log_one_minus = -t - s
        q = 1.0 / (1.0 + a)
        one_minus = a / (1.0 + a)
        big_l = s
        core = a + gamma * big_l  # (1 - q)/q - gamma log q
        log_core = math.log(core)
        odds_over_core = a / core
        rest_over_core = gamma * one_minus / core
        gamma_slope = _log_h_gamma_slope(log_q, log_one_minus, core, 1.0)
    else:
        log_q = t - s
        log_one_minus = -s
        q = a / (1.0 + a)
        one_minus = 1.0 / (1.0 + a)
        big_l = -log_q
        extra = gamma * big_l * a
        log_core = -t + math.log1p(extra)
        odds_over_core = 1.0 / (1.0 + extra)
        rest_over_core = gamma * one_minus * a / (1.0 + extra)
        gamma_slope = _log_h_gamma_slope(log_q, log_one_minus, 1.0 + extra, a)
    log_h = -(gamma - 1.0) * log_one_minus - log_core
    slope = (gamma - 1.0) * q + odds_over_core + rest_over_core
    return log_h, slope, q, q * one_minus, gamma_slope


# Above this |h(q) lambda / (p alpha) - 1| the residual takes a log; below,
# log1p by its series to rounding (the usual case after the table start).
_RATIO_SERIES_BELOW = 1e-4


@njit(cache=True, inline="always")
def _residual_logit(t, gamma, exponent, mode, m, scale):
    """log(h(q) scale), d log h / dt, q, q(1 - q) and d log h / d gamma.

    ``scale = lambda / (p alpha)``: the residual of log h(q) = log(p alpha) - mu.
    h(q) = 1 / ((1 - q)^(gamma - 1) core) in linear space, the power by
    multiplications; ``nan`` residual (the caller goes to log space) where the
    power leaves the safe range, q is tiny or the product is not finite.
    """
    a = math.exp(-abs(t))
    s = math.log1p(a)
    if t >= 0.0:
        q = 1.0 / (1.0 + a)
        one_minus = a / (1.0 + a)
        core = a + gamma * s  # (1 - q)/q - gamma log q
        odds_over_core = a / core
        rest_over_core = gamma * one_minus / core
        h_times_core = 1.0
        h_gamma = _log_h_gamma_slope(-s, -t - s, core, 1.0)
    else:
        q = a / (1.0 + a)
        one_minus = 1.0 / (1.0 + a)
        extra = gamma * (s - t) * a  # core = (1 + extra)/a
        core = 1.0 + extra
        odds_over_core = 1.0 / core
        rest_over_core = gamma * one_minus * a / core
        h_times_core = a
        h_gamma = _log_h_gamma_slope(t - s, -s, core, a)
    slope = exponent * q + odds_over_core + rest_over_core
    resid = np.nan
    if q < _H_IS_IDENTITY_BELOW or not one_minus > 0.0:
        return resid, slope, q, q * one_minus, h_gamma
    pw = power_by_mode(one_minus, exponent, mode, m)
    if _POWER_LOW <= pw <= _POWER_HIGH:
        x = h_times_core / (pw * core) * scale
        delta = x - 1.0
        if abs(delta) < _RATIO_SERIES_BELOW:
            resid = delta * (1.0 - delta * (0.5 - delta * (1.0 / 3.0)))
        elif 0.0 < x < np.inf:
            resid = math.log(x)
    return resid, slope, q, q * one_minus, h_gamma


_MAX_NEWTON = 200
_MAX_STEP = 4.0
_FINAL_STEP_BELOW = 1e-7


# Large inputs start Newton from a table of the inverse of
# g(t) = log h(sigmoid(t)), built once per call on a uniform grid in s = g(t):
# lookups are O(1) and need no transcendental function. Each row first solves
# sum_i q(c_i - mu) = 1 for mu = log(lambda) on the cubic Hermite interpolant
# of q(s), then starts the exact Newton iteration from t_i = t(c_i - mu); the
# interpolation error is small enough that one exact evaluation usually
# suffices. Smaller inputs keep the start q = p, lambda = 1.
TABLE_MIN_ROWS = 2000
# Below, q* = p + O(gamma): the start q = p is as good, and the slope of g
# cancels to 0 at the top of the table.
_TABLE_MIN_GAMMA = 1e-3
_TABLE_T_LOW = -40.0  # h(v) = v to far below double precision there
_TABLE_T_HIGH = 40.0  # 1 - v = 4e-18: g(t) = gamma t - log(1 + gamma)
_TABLE_SPACING = 0.02
_TABLE_MIN_NODES = 1024
_TABLE_MAX_NODES = 1 << 17
_TABLE_MU_STEPS = 40
# Halley's steps: the error after a step s is O(s^3).
_TABLE_MU_LAST_STEP = 1e-3


@njit(cache=True)
def inverse_table(gamma):
    """Nodes of t(s), the inverse of s = log h(sigmoid(t)), uniform in s.

    Returns ``(table, s_low, inv_spacing)``; the rows of ``table`` hold q,
    dq/ds, t and dt/ds at ``s_low + j / inv_spacing``.
    """
    s_low = _log_h_logit(_TABLE_T_LOW, gamma)[0]
    s_high = _log_h_logit(_TABLE_T_HIGH, gamma)[0]
    n_nodes = int((s_high - s_low) / _TABLE_SPACING) + 1
    n_nodes = max(_TABLE_MIN_NODES, min(_TABLE_MAX_NODES, n_nodes))
    spacing = (s_high - s_low) / (n_nodes - 1)
    table = np.empty((n_nodes, 4))
    t = _TABLE_T_LOW
    for j in range(n_nodes):
        s = s_low + j * spacing
        # g is increasing; Newton from the previous node (a close start).
        for _ in range(100):
            log_h, d, q, w = _log_h_logit(t, gamma)
            if not d > 0.0:
                break
            step = (log_h - s) / d
            step = max(-_MAX_STEP, min(_MAX_STEP, step))
            t -= step
            if abs(step) <= 1e-15 * (1.0 + abs(t)):
                break
        log_h, d, q, w = _log_h_logit(t, gamma)
        if not d > 0.0:  # then no table: rows start from q = p
            table[:, :] = np.nan
            break
        table[j, 0] = q
        table[j, 1] = w / d
        table[j, 2] = t
        table[j, 3] = 1.0 / d
    return table, s_low, 1.0 / spacing


@njit(cache=True, inline="always")
def _table_q(s, table, s_low, inv_spacing):
    """Interpolated q(s) and its first two derivatives (cubic Hermite)."""
    x = (s - s_low) * inv_spacing
    if x < 0.0:  # h(v) = v
        q = math.exp(s)
        return q, q, q
    if x >= table.shape[0] - 1:  # q = 1 to double precision
        return 1.0, 0.0, 0.0
    j = int(x)
    u = x - j
    one_u = 1.0 - u
    y0 = table[j, 0]
    m0 = table[j, 1]
    y1 = table[j + 1, 0]
    m1 = table[j + 1, 1]
    spacing = 1.0 / inv_spacing
    q = (
        y0
        + u * u * (3.0 - 2.0 * u) * (y1 - y0)
        + spacing * u * one_u * (one_u * m0 - u * m1)
    )
    dq = (
        6.0 * u * one_u * (y1 - y0) * inv_spacing
        + one_u * (1.0 - 3.0 * u) * m0
        + u * (3.0 * u - 2.0) * m1
    )
    d2q = inv_spacing * (
        (6.0 - 12.0 * u) * (y1 - y0) * inv_spacing
        + (6.0 * u - 4.0) * m0
        + (6.0 * u - 2.0) * m1
    )
    return q, dq, d2q


@njit(cache=True, inline="always")
def _table_t(s, table, s_low, inv_spacing, gamma):
    """Interpolated t(s) (cubic Hermite), asymptotes outside the table."""
    x = (s - s_low) * inv_spacing
    if x < 0.0:
        return s
    if x >= table.shape[0] - 1:
        return (s + math.log1p(gamma)) / gamma
    j = int(x)
    u = x - j
    one_u = 1.0 - u
    y0 = table[j, 2]
    y1 = table[j + 1, 2]
    return (
        y0
        + u * u * (3.0 - 2.0 * u) * (y1 - y0)
        + u * one_u * (one_u * table[j, 3] - u * table[j + 1, 3]) / inv_spacing
    )


@njit(cache=True)
def _table_start(target, gamma, t, table, s_low, inv_spacing, mu=0.0):
    """Start (t, mu) from the table; ``nan`` when the mu iteration fails.

    The iteration in mu starts from ``mu`` (0: lambda = 1).
    """
    k = target.shape[0]
    converged = False
    for _ in range(_TABLE_MU_STEPS):
        total = 0.0
        slope = 0.0
        curvature = 0.0
        for i in range(k):
            if target[i] > -np.inf:
                q, dq, d2q = _table_q(target[i] - mu, table, s_low, inv_spacing)
                total += q
                slope += dq
                curvature += d2q
        if not (total > 0.0 and math.isfinite(total)):
            return np.nan
        # Halley on F(mu) = log(sum q) = 0: F' = -slope/total < 0 and
        # F'' = curvature/total - F'^2.
        f = math.log(total)
        if slope > 0.0:
            f1 = -slope / total
            f2 = curvature / total - f1 * f1
            denominator = 2.0 * f1 * f1 - f * f2
            if denominator > f1 * f1:  # otherwise Newton's step
                step = -2.0 * f * f1 / denominator
            else:
                step = -f / f1
            step = max(-_MAX_STEP, min(_MAX_STEP, step))
        else:
            step = _MAX_STEP if f > 0.0 else -_MAX_STEP
        mu += step
        if abs(step) <= _TABLE_MU_LAST_STEP:
            converged = True
            break
    if not (converged and math.isfinite(mu)):
        return np.nan
    for i in range(k):
        if target[i] > -np.inf:
            t[i] = _table_t(target[i] - mu, table, s_low, inv_spacing, gamma)
    return mu


@njit(cache=True, inline="always")
def _focal_minimizer_rows(p, log_alpha, gamma, out_q, out_log_lambda, status):
    """Solve log h(q_i) = log(p_i alpha_i) - log(lambda), sum(q) = 1, row by row.

    Entries with p_i = 0 give q_i = 0. Newton's method runs jointly on the
    logits t_i and mu = log(lambda); the Jacobian is diagonal plus rank one,
    so each step costs O(K). ``status`` receives the number of Newton steps,
    or -1 when a row did not converge.
    """
    n, k = p.shape
    use_table = n >= TABLE_MIN_ROWS and gamma >= _TABLE_MIN_GAMMA
    if use_table:
        table, s_low, inv_spacing = inverse_table(gamma)
    else:
        table, s_low, inv_spacing = np.empty((1, 4)), 0.0, 1.0
    alpha = np.exp(log_alpha)
    exponent = gamma - 1.0
    # The power (1 - q)^(gamma - 1) by multiplications (see power_mode);
    # otherwise every entry is evaluated in log space.
    linear = 2.0 * exponent == math.floor(2.0 * exponent) and abs(exponent) < 2**31
    if exponent == math.floor(exponent):
        mode = POWER_INTEGER
    else:
        mode = POWER_HALF_INTEGER
    m = int(math.floor(exponent)) if linear else 0
    n_chunks = min(n, 64)
    for chunk in prange(n_chunks):
        scratch = np.empty((5, k))
        log_target = scratch[4]
        for r in range(chunk * n // n_chunks, (chunk + 1) * n // n_chunks):
            for i in range(k):
                v = p[r, i]
                log_target[i] = math.log(v) + log_alpha[i] if v > 0.0 else -np.inf
            status[r] = _focal_minimizer_row(
                log_target,
                p[r],
                alpha,
                (linear, mode, m),
                gamma,
                out_q[r],
                out_log_lambda,
                r,
                scratch,
                (table, s_low, inv_spacing),
                use_table,
            )


@njit(cache=True, parallel=True)
def focal_minimizer_rows(p, log_alpha, gamma, out_q, out_log_lambda, status):
    """:func:`_focal_minimizer_rows`, parallel over chunks of rows."""
    _focal_minimizer_rows(p, log_alpha, gamma, out_q, out_log_lambda, status)


@njit(cache=True, error_model="numpy")
def focal_minimizer_rows_serial(p, log_alpha, gamma, out_q, out_log_lambda, status):
    """:func:`_focal_minimizer_rows` on one thread."""
    _focal_minimizer_rows(p, log_alpha, gamma, out_q, out_log_lambda, status)


@njit(cache=True)
def _focal_minimizer_row(
    target,
    p_row,
    alpha,
    power,
    gamma,
    q_row,
    out_log_lambda,
    r,
    scratch,
    table,
    use_table,
):
    """One row: Newton from the table start (or q = p), else from a bracket.

    The joint Newton iteration is fast but has no global convergence
    guarantee: from q = p, a row whose solution is far away (large gamma,
    entries spanning hundreds of orders of magnitude) crawls under the step
    limit. Such a row restarts from :func:`_bracketed_start`, which is
    globally convergent and lands close enough for Newton's quadratic phase.
    """
    k = target.shape[0]
    t = scratch[0]
    n_active = 0
    last = -1
    for i in range(k):
        if target[i] > -np.inf:
            n_active += 1
            last = i
    if n_active == 1:
        for i in range(k):
            q_row[i] = 0.0
        q_row[last] = 1.0
        out_log_lambda[r] = -np.inf  # h(1) = inf, so lambda = 0
        return 0
    steps = -1
    for start in range(3):
        if start == 0 and not use_table:
            continue
        if start == 0:
            mu = _table_start(target, gamma, t, table[0], table[1], table[2])
            if not math.isfinite(mu):
                continue
        elif start == 1:
            mu = _plain_start(target, t)
        else:
            mu = _bracketed_start(target, gamma, t, n_active)
        steps, mu = _newton(target, p_row, alpha, power, gamma, mu, scratch)
        if steps > 0:
            break
    _write_row(target, t, scratch[3], scratch[2], steps, q_row)
    out_log_lambda[r] = mu
    return steps


@njit(cache=True)
def _plain_start(target, t):
    """Start from q = p (the normalized target) and lambda = 1."""
    k = target.shape[0]
    log_target_max = -np.inf
    for i in range(k):
        log_target_max = max(log_target_max, target[i])
    total_target = 0.0
    for i in range(k):
        if target[i] > -np.inf:
            total_target += math.exp(target[i] - log_target_max)
    log_norm = log_target_max + math.log(total_target)
    for i in range(k):
        if target[i] > -np.inf:
            log_p = target[i] - log_norm
            t[i] = log_p - math.log1p(-min(math.exp(log_p), 0.999999))
    return 0.0


# Logits beyond these: q underflows to 0, or 1 - q does (log h is then
# asymptotically linear in t, see _inverse_log_h).
_T_MIN = -740.0
_T_MAX = 740.0
_BRACKET_STEPS = 200
_BRACKET_LAST_STEP = 1e-4


@njit(cache=True)
def _log_h_logit_call(t, gamma):
    """:func:`_log_h_logit` as a call: the restart path inlines nothing."""
    return _log_h_logit(t, gamma)


@njit(cache=True)
def _inverse_log_h(s, gamma, t):
    """t with log h(sigmoid(t)) = s, by Newton kept inside a shrinking bracket.

    log h(sigmoid(t)) is increasing in t, so the bracket [_T_MIN, _T_MAX]
    shrinks around the root at every evaluation: convergence is global.
    Outside it, the asymptotes t (h(q) = q) and (s + log(1 + gamma))/gamma.
    """
    low, high = _T_MIN, _T_MAX
    if s <= _log_h_logit_call(low, gamma)[0]:
        return s
    if s >= _log_h_logit_call(high, gamma)[0]:
        return max(high, (s + math.log1p(gamma)) / gamma)
    t = min(max(t, low), high)
    for _ in range(_BRACKET_STEPS):
        log_h, slope, _, _ = _log_h_logit_call(t, gamma)
        excess = log_h - s
        if excess > 0.0:
            high = t
        elif excess < 0.0:
            low = t
        else:
            return t
        candidate = t - excess / slope
        if not low < candidate < high:
            candidate = 0.5 * (low + high)
        if abs(candidate - t) <= 1e-13 * (1.0 + abs(t)):
            return candidate
        t = candidate
    return t


@njit(cache=True)
def _bracketed_start(target, gamma, t, n_active):
    """A start (t, mu) from a safeguarded solve of sum(q(mu)) = 1 in mu alone.

    For each mu, every q_i = sigmoid(t_i) solves log h(q_i) = target_i - mu
    exactly (:func:`_inverse_log_h`); sum(q) decreases in mu. When the class
    of smallest target has q = 1/n the sum is >= 1, and when the largest has
    q = 1/n it is <= 1: the root is bracketed, and Newton's steps in mu fall
    back to bisection whenever they leave the bracket.
    """
    k = target.shape[0]
    smallest, largest = np.inf, -np.inf
    for i in range(k):
        if target[i] > -np.inf:
            smallest = min(smallest, target[i])
            largest = max(largest, target[i])
    t_even = -math.log(n_active - 1.0)  # the logit of 1/n
    log_h_even = _log_h_logit_call(t_even, gamma)[0]
    low, high = smallest - log_h_even, largest - log_h_even
    mu = high
    for i in range(k):
        t[i] = t_even
    for _ in range(_BRACKET_STEPS):
        total = 0.0
        slope = 0.0
        for i in range(k):
            if target[i] > -np.inf:
                t[i] = _inverse_log_h(target[i] - mu, gamma, t[i])
                _, d, q, w = _log_h_logit_call(t[i], gamma)
                total += q
                slope += w / d
        excess = total - 1.0
        if excess > 0.0:
            low = mu
        elif excess < 0.0:
            high = mu
        candidate = mu + excess / slope if slope > 0.0 else np.nan
        if not low <= candidate <= high:
            candidate = 0.5 * (low + high)
        if abs(excess) <= _BRACKET_LAST_STEP or candidate == mu:
            break
        mu = candidate
    return mu


@njit(cache=True)
def _newton(target, p_row, alpha, power, gamma, mu, scratch):
    """Joint Newton on the logits (scratch[0]) and mu from the given start.

    Returns (steps, mu); steps is -1 without convergence. On exit scratch[3]
    holds q and scratch[2] the last step in the logits.
    """
    k = target.shape[0]
    t = scratch[0]
    inv_slope = scratch[1]
    resid = scratch[2]
    top = 0
    for i in range(k):
        if target[i] > target[top]:
            top = i
    for iteration in range(_MAX_NEWTON):
        constraint, sum_w_over_d, sum_wr_over_d = _newton_system(
            target, p_row, alpha, power, gamma, mu, top, scratch
        )
        delta_mu = (constraint - sum_wr_over_d) / sum_w_over_d
        largest_step = 0.0
        for i in range(k):
            if target[i] == -np.inf:
                continue
            resid[i] = (resid[i] + delta_mu) * inv_slope[i]
            if abs(resid[i]) > largest_step:  # resid now holds the step
                largest_step = abs(resid[i])
        # The Newton step in the logits is the relative error of q (and of
        # 1 - q); convergence is quadratic, so one more step from a step of
        # _FINAL_STEP_BELOW reaches rounding. A test on the constraint
        # sum(q) = 1 alone would stop early when small entries sit next to
        # one close to 1.
        final_step = largest_step <= _FINAL_STEP_BELOW and abs(
            delta_mu
        ) <= _FINAL_STEP_BELOW * (1.0 + abs(mu))
        damping = 1.0 if largest_step <= _MAX_STEP else _MAX_STEP / largest_step
        for i in range(k):
            if target[i] > -np.inf:
                t[i] -= damping * resid[i]
        mu += damping * delta_mu
        if final_step:
            return iteration + 1, mu
        if not math.isfinite(mu):
            break
    return -1, mu


@njit(cache=True)
def _newton_system(target, p_row, alpha, power, gamma, mu, top, scratch):
    """Residuals, slopes and q at the current logits; the reduced system.

    Fills scratch[1] (1/slope), scratch[2] (residual of log h), scratch[3]
    (q) and, when scratch has a sixth row, scratch[5] (d log h / d gamma);
    returns the constraint residual and the two sums of the Schur complement
    in mu.
    """
    linear, mode, m = power
    k = target.shape[0]
    t = scratch[0]
    inv_slope = scratch[1]
    resid = scratch[2]
    q_last = scratch[3]
    exponent = gamma - 1.0
    # Sums over the classes other than the largest one ("top").
    sum_q = 0.0
    sum_w_over_d = 0.0
    sum_wr_over_d = 0.0
    lam = math.exp(mu)
    # The linear-space residual scales by lambda: only while it is a normal
    # number (a subnormal lambda has lost its relative precision).
    linear = linear and _POWER_LOW <= lam <= _POWER_HIGH
    q_top = w_top = 1.0
    keep_h_gamma = scratch.shape[0] > 5
    for i in range(k):
        if target[i] == -np.inf:
            continue
        r_i = np.nan
        weight = p_row[i] * alpha[i]
        if linear and weight > 0.0:
            scale = lam / weight
            r_i, d, q, w, h_gamma = _residual_logit(
                t[i], gamma, exponent, mode, m, scale
            )
        if not math.isfinite(r_i):
            log_h, d, q, w, h_gamma = _log_h_logit_slopes(t[i], gamma)
            r_i = log_h - target[i] + mu
        if keep_h_gamma:
            scratch[5, i] = h_gamma
        inv_d = 1.0 / d
        inv_slope[i] = inv_d
        q_last[i] = q
        resid[i] = r_i
        if i == top:
            q_top = q
            w_top = w
        else:
            sum_q += q
            w_over_d = w * inv_d
            sum_w_over_d += w_over_d
            sum_wr_over_d += w_over_d * resid[i]
    inv_d_top = inv_slope[top]
    r_top = resid[top]
    if t[top] > 0.0 and sum_q > 0.0:
        # sum(q) = 1 as log(sum of the others) = log(1 - q_top): both
        # sides are close to linear in the logits, so Newton does not
        # crawl (one unit of logit per step) when q_top is near 1.
        # log(1 - q_top) from the logit: no underflow of 1 - q_top.
        log_one_minus_top = -t[top] - math.log1p(math.exp(-t[top]))
        constraint = math.log(sum_q) - log_one_minus_top
        sum_wr_over_d = sum_wr_over_d / sum_q + q_top * r_top * inv_d_top
        sum_w_over_d = sum_w_over_d / sum_q + q_top * inv_d_top
    else:
        # sum of the others - (1 - q_top): no rounding of q_top.
        constraint = sum_q - w_top / q_top
        sum_wr_over_d += w_top * r_top * inv_d_top
        sum_w_over_d += w_top * inv_d_top
    return constraint, sum_w_over_d, sum_wr_over_d


@njit(cache=True)
def _write_row(target, t, q_last, step, steps, q_row):
    """q from the logits, to first order in the last step; rows sum to 1."""
    k = target.shape[0]
    total = 0.0
    for i in range(k):
        if target[i] == -np.inf:
            q_row[i] = 0.0
        elif steps > 0:
            # The last step is below _FINAL_STEP_BELOW: q(t - step) to first
            # order, relative error O(step^2) in q and in 1 - q.
            q = q_last[i]
            q_row[i] = q * (1.0 - (1.0 - q) * step[i])
        else:
            a = math.exp(-abs(t[i]))
            q_row[i] = 1.0 / (1.0 + a) if t[i] >= 0.0 else a / (1.0 + a)
        total += q_row[i]
    for i in range(k):
        q_row[i] /= total


# --------------------------------------------------------------------------
# Crossings of phi(t) = lambda (focal_regimes)
# --------------------------------------------------------------------------

# Levels per chunk of the crossing kernel: consecutive (sorted) levels start
# Newton's method from the previous crossing.
_CROSSING_CHUNK = 256
_CROSSING_MAX_STEPS = 400
_EPS = np.finfo(np.float64).eps


@njit(cache=True, inline="always")
def _phi_below_peak(v, gamma, level):
    """phi(v) - level and d phi / dv, ``0 < v < 1``.

    ``phi = (1 - v)^(gamma - 1) ((1 - v) - gamma v log v)``, a product of
    positive factors (the form of ``phi_direct`` with the power factored
    out), and ``phi' = gamma (1 - v)^(gamma - 2) (-2 (1 - v) - (1 - gamma v)
    log v)``: one ``exp`` for both.
    """
    one_minus = 1.0 - v
    log_v = math.log(v)
    power = math.exp((gamma - 1.0) * math.log1p(-v))
    value = power * (one_minus - gamma * v * log_v) - level
    slope = gamma * power / one_minus * (-2.0 * one_minus - (1.0 - gamma * v) * log_v)
    return value, slope


@njit(cache=True, inline="always")
def _phi_above_peak(u, gamma, level):
    """phi(1 - u) - level and its slope in u, exact for ``1 - u`` near 1.

    ``phi(1 - u) = u^(gamma - 1) (u - gamma (1 - u) log(1 - u))`` (the form
    of ``phi_of_one_minus`` with the power factored out) and its derivative
    ``gamma u^(gamma - 2) (2 u + (1 - gamma + gamma u) log(1 - u))``.
    """
    log_v = math.log1p(-u)
    power = math.exp((gamma - 1.0) * math.log(u))
    value = power * (u - gamma * (1.0 - u) * log_v) - level
    slope = gamma * power / u * (2.0 * u + (1.0 - gamma + gamma * u) * log_v)
    return value, slope


@njit(cache=True, inline="always")
def _increasing_root(above_peak, gamma, level, low, high, start):
    """Root of an increasing ``f`` on ``[low, high]`` (0 < low), to the last bits.

    Newton's method kept inside the bracket; a step that leaves it is replaced
    by bisection, geometric while the bracket spans more than a factor 2 (the
    roots span hundreds of orders of magnitude). Once a Newton step is below
    2 ulps, a probe 2-4 ulps past the iterate closes the bracket: the result
    is the end of a bracket of at most 4 ulps (the end where ``|f|`` is
    smaller) across which ``f`` changes sign. ``low`` is returned when
    ``f(low) >= 0``, ``high`` when ``f(high) <= 0``.
    """
    if above_peak:
        f_low = _phi_above_peak(low, gamma, level)[0]
        f_high = _phi_above_peak(high, gamma, level)[0]
    else:
        f_low = _phi_below_peak(low, gamma, level)[0]
        f_high = _phi_below_peak(high, gamma, level)[0]
    if f_low >= 0.0:
        return low
    if f_high <= 0.0:
        return high
    x = start if low < start < high else math.sqrt(low) * math.sqrt(high)
    for _ in range(_CROSSING_MAX_STEPS):
        if above_peak:
            value, slope = _phi_above_peak(x, gamma, level)
        else:
            value, slope = _phi_below_peak(x, gamma, level)
        if value == 0.0:
            return x
        if value < 0.0:
            low, f_low = x, value
        else:
            high, f_high = x, value
        if high - low <= 4.0 * _EPS * low:
            return low if -f_low <= f_high else high
        candidate = x - value / slope
        if abs(candidate - x) <= 2.0 * _EPS * x:
            # Converged from one side: probe the other.
            probe = 2.0 * _EPS * x
            candidate = x + probe if value < 0.0 else x - probe
        if not (low < candidate < high):  # also NaN: bisect
            if high > 2.0 * low:
                candidate = math.sqrt(low) * math.sqrt(high)
            else:
                candidate = low + 0.5 * (high - low)
        x = candidate
    return x


@njit(cache=True, inline="always")
def _phi_level_crossings(levels, gamma, peak, phi_peak, out_low, out_high):
    """``(t_low, t_high)`` with ``phi(t) = level`` for sorted positive ``levels``.

    ``t_high`` is solved for ``u = 1 - t``, exact within a few ulps of 1;
    ``t_low = 0`` for ``level <= 1``; both are ``peak`` for
    ``level >= phi_peak``. Chunks of consecutive levels run in parallel, each
    level starting from the previous level's crossings.
    """
    n = levels.shape[0]
    smallest_gap = 1.0 - np.nextafter(1.0, 0.0)  # 1 - the double below 1
    f_gap = _phi_above_peak(smallest_gap, gamma, 0.0)[0]
    n_chunks = (n + _CROSSING_CHUNK - 1) // _CROSSING_CHUNK
    for chunk in prange(n_chunks):
        u_start = np.nan
        v_start = np.nan
        for j in range(chunk * _CROSSING_CHUNK, min(n, (chunk + 1) * _CROSSING_CHUNK)):
            level = levels[j]
            if level >= phi_peak:
                out_low[j] = peak
                out_high[j] = peak
                continue
            if f_gap >= level:
                out_high[j] = 1.0 - smallest_gap
            else:
                u = _increasing_root(
                    True, gamma, level, smallest_gap, 1.0 - peak, u_start
                )
                u_start = u
                out_high[j] = 1.0 - u
            if level <= 1.0:
                out_low[j] = 0.0
            else:
                v = _increasing_root(False, gamma, level, 1e-300, peak, v_start)
                v_start = v
                out_low[j] = v


@njit(cache=True, parallel=True)
def phi_level_crossings(levels, gamma, peak, phi_peak, out_low, out_high):
    """:func:`_phi_level_crossings`, parallel over chunks of levels."""
    _phi_level_crossings(levels, gamma, peak, phi_peak, out_low, out_high)


@njit(cache=True, error_model="numpy")
def phi_level_crossings_serial(levels, gamma, peak, phi_peak, out_low, out_high):
    """:func:`_phi_level_crossings` on one thread."""
    _phi_level_crossings(levels, gamma, peak, phi_peak, out_low, out_high)
