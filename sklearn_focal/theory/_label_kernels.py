"""Compiled kernels of the signed posterior map at one label per row.

The calibration objective of ``FocalPosteriorRecovery(gamma="fit")`` needs,
for every row ``r``, only ``log m(p_r)[y_r]`` and its derivative in the order,
where ``m`` is :func:`~sklearn_focal.theory.psi` of order ``gamma`` or its
inverse :func:`~sklearn_focal.theory.focal_minimizer` of order ``gamma``:

- :func:`psi_label_rows`: ``log Psi^gamma(p)[y]`` and ``d/dgamma``, from the
  precomputed ``log p`` and ``log(1 - p)`` (one ``exp`` per entry, no output
  rows); the same linear-space form as :func:`~sklearn_focal.theory._kernels.psi_rows`,
  log space where the power leaves the safe range, one-hot rows fixed;
- :func:`minimizer_label_rows`: ``log q*(p)[y]`` and ``d/dgamma`` for the
  focal-risk minimizer ``q*``, by the same Newton iteration as
  :func:`~sklearn_focal.theory._kernels.focal_minimizer_rows`, started from
  the solution at a nearby order when one is kept (``WARM``): the logits
  ``t`` and ``mu = log(lambda)`` of every row move to first order along their
  derivatives in the order, which the kernel stores with the solution;
  farther away (``SEEDED``) the table start's iteration in ``mu`` begins at
  that predicted ``mu``.

The derivative of ``q*`` in the order is implicit: ``log h(q_i) = log p_i -
mu`` with ``sum q_i = 1`` gives ``d_i t_i' + H_i = -mu'`` (``d_i`` the slope of
``log h`` in the logit, ``H_i`` its slope in the order, both as in
:func:`~sklearn_focal.theory._focal_terms.log_h_terms`) and
``sum_i q_i (1 - q_i) t_i' = 0``. Rows are validated by the callers. Each
kernel comes as a parallel and a ``_serial`` twin for
:func:`sklearn_focal.utils._parallel.dispatch`. numba is imported when this
module is first used, never at package import.
"""
# SPDX-License-Identifier: BSD-3-Clause

import math

import numpy as np
from numba import njit, prange

from sklearn_focal.theory._kernels import (
    _H_IS_IDENTITY_BELOW,
    _POWER_HIGH,
    _POWER_LOW,
    TABLE_MIN_ROWS,
    _bracketed_start,
    _log_h_gamma_slope,
    _newton,
    _plain_start,
    _table_start,
    _write_row,
    inverse_table,
)
from sklearn_focal.utils import _numba_cache  # noqa: F401  (caches outside the package)

__all__ = [
    "COLD",
    "SEEDED",
    "WARM",
    "minimizer_label_rows",
    "minimizer_label_rows_serial",
    "psi_label_rows",
    "psi_label_rows_serial",
]

# As in focal_minimizer_rows: below this order the table start is not used.
_TABLE_MIN_GAMMA = 1e-3
# How minimizer_label_rows starts Newton's method (see there).
COLD = 0
SEEDED = 1
WARM = 2


# --------------------------------------------------------------------------
# Psi at the labels
# --------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _h_core(v, log_v, gamma):
    """``1 - v - gamma v log v``, h's positive factor, from ``log v``."""
    return 1.0 - v - gamma * v * log_v


@njit(cache=True, inline="always")
def _log_h_and_core(v, log_v, log1m_v, gamma):
    """``log h(v)`` in log space and h's core, for normal ``v`` in (0, 1)."""
    core = _h_core(v, log_v, gamma)
    return log_v - (gamma - 1.0) * log1m_v - math.log(core), core


@njit(cache=True, inline="always")
def _psi_label_rows(p, log_p, log1m_p, labels, gamma, out_log, out_slope):
    """``log Psi(p)[y]`` and its derivative in gamma, row by row.

    ``h(v) = v / ((1 - v)^(gamma - 1) (1 - v - gamma v log v))`` and
    ``d log h / d gamma`` by
    :func:`~sklearn_focal.theory._kernels._log_h_gamma_slope` (with
    ``1 - v - gamma v log v = v core``);
    ``Psi_i = h_i / sum_l h_l``. One-hot rows (an entry equal to 1) are fixed
    points with slope 0; a row whose power leaves the safe range is redone in
    log space.
    """
    n, k = p.shape
    exponent = gamma - 1.0
    for r in prange(n):
        y = labels[r]
        ones = 0
        for i in range(k):
            if p[r, i] == 1.0:
                ones += 1
        if ones > 0:  # Psi keeps the row (every entry 0 or 1/ones)
            out_log[r] = -math.log(ones) if p[r, y] == 1.0 else -np.inf
            out_slope[r] = 0.0
            continue
        total = 0.0
        weighted = 0.0
        h_y = 0.0
        slope_y = 0.0
        linear = True
        for i in range(k):
            v = p[r, i]
            if v == 0.0:
                continue
            if v < _H_IS_IDENTITY_BELOW:
                value = v
                slope = 0.0  # h(v) = v to double precision
            elif gamma == 0.0:  # h(v) = v
                value = v
                slope = _log_h_gamma_slope(log_p[r, i], log1m_p[r, i], 1.0 - v, v)
            else:
                pw = math.exp(exponent * log1m_p[r, i])
                if not (_POWER_LOW <= pw <= _POWER_HIGH):
                    linear = False
                    break
                core = _h_core(v, log_p[r, i], gamma)
                value = v / (pw * core)
                slope = _log_h_gamma_slope(log_p[r, i], log1m_p[r, i], core, v)
            total += value
            weighted += value * slope
            if i == y:
                h_y = value
                slope_y = slope
        if linear:
            out_log[r] = math.log(h_y / total)
            out_slope[r] = slope_y - weighted / total
            continue
        # Log space: log h = log v - (gamma - 1) log(1 - v) - log(core).
        largest = -np.inf
        for i in range(k):
            v = p[r, i]
            if v == 0.0:
                continue
            if v < _H_IS_IDENTITY_BELOW:
                log_h = log_p[r, i]
            else:
                log_h = _log_h_and_core(v, log_p[r, i], log1m_p[r, i], gamma)[0]
            largest = max(largest, log_h)
        total = 0.0
        weighted = 0.0
        log_h_y = -np.inf
        slope_y = 0.0
        for i in range(k):
            v = p[r, i]
            if v == 0.0:
                continue
            if v < _H_IS_IDENTITY_BELOW:
                log_h = log_p[r, i]
                slope = 0.0
            else:
                log_h, core = _log_h_and_core(v, log_p[r, i], log1m_p[r, i], gamma)
                slope = _log_h_gamma_slope(log_p[r, i], log1m_p[r, i], core, v)
            value = math.exp(log_h - largest)
            total += value
            weighted += value * slope
            if i == y:
                log_h_y = log_h
                slope_y = slope
        out_log[r] = log_h_y - largest - math.log(total)
        out_slope[r] = slope_y - weighted / total


@njit(cache=True, parallel=True)
def psi_label_rows(p, log_p, log1m_p, labels, gamma, out_log, out_slope):
    """:func:`_psi_label_rows`, parallel over rows."""
    _psi_label_rows(p, log_p, log1m_p, labels, gamma, out_log, out_slope)


@njit(cache=True, error_model="numpy")
def psi_label_rows_serial(p, log_p, log1m_p, labels, gamma, out_log, out_slope):
    """:func:`_psi_label_rows` on one thread."""
    _psi_label_rows(p, log_p, log1m_p, labels, gamma, out_log, out_slope)


# --------------------------------------------------------------------------
# The focal-risk minimizer at the labels
# --------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _minimizer_label_rows(
    p,
    log_target,
    labels,
    gamma,
    power,
    start,
    delta,
    t_state,
    mu_state,
    dt_state,
    dmu_state,
    out_log,
    out_slope,
    status,
):
    """``log q*(p)[y]`` and its derivative in gamma; the solutions kept.

    ``start``: ``WARM`` starts every row from ``t_state + delta * dt_state``
    and ``mu_state + delta * dmu_state`` (the kept solution at
    ``gamma - delta`` and its derivative); a row on which Newton's method
    fails from there, and every row otherwise, takes the starts of
    :func:`~sklearn_focal.theory._kernels.focal_minimizer_rows` (table, q = p,
    bracketed), the table's iteration in mu from that predicted mu with
    ``SEEDED`` (a kept solution farther away), from 0 with ``COLD``. The
    solution and its derivative overwrite the state. ``status`` receives the
    Newton steps, or -1 without convergence.
    """
    n, k = p.shape
    warm = start == WARM
    use_table = (not warm) and n >= TABLE_MIN_ROWS and gamma >= _TABLE_MIN_GAMMA
    if use_table:
        table, s_low, inv_spacing = inverse_table(gamma)
    else:
        table, s_low, inv_spacing = np.empty((1, 4)), 0.0, 1.0
    alpha = np.ones(k)
    n_chunks = min(n, 64)
    for chunk in prange(n_chunks):
        # Rows 0-3 and 5 as _newton fills them (t, 1/slope, residual then
        # step, q, d log h / d gamma); 4 the target, 6 the written row.
        scratch = np.empty((7, k))
        target = scratch[4]
        q_row = scratch[6]
        t = scratch[0]
        for r in range(chunk * n // n_chunks, (chunk + 1) * n // n_chunks):
            y = labels[r]
            n_active = 0
            for i in range(k):
                target[i] = log_target[r, i]
                if target[i] > -np.inf:
                    n_active += 1
            if n_active == 1:  # q* is the row itself: constant in gamma
                out_log[r] = 0.0 if target[y] > -np.inf else -np.inf
                out_slope[r] = 0.0
                status[r] = 0
                continue
            steps = -1
            mu = 0.0
            seeded = False
            if start != COLD:
                predicted = mu_state[r] + delta * dmu_state[r]
                seeded = math.isfinite(predicted)
                if seeded:
                    mu = predicted
            if warm and seeded:
                for i in range(k):
                    t[i] = t_state[r, i] + delta * dt_state[r, i]
                steps, mu = _newton(target, p[r], alpha, power, gamma, mu, scratch)
            if steps <= 0:
                for attempt in range(3):
                    if attempt == 0 and not use_table:
                        continue
                    if attempt == 0:
                        mu = _table_start(
                            target, gamma, t, table, s_low, inv_spacing, mu
                        )
                        if not math.isfinite(mu):
                            continue
                    elif attempt == 1:
                        mu = _plain_start(target, t)
                    else:
                        mu = _bracketed_start(target, gamma, t, n_active)
                    steps, mu = _newton(target, p[r], alpha, power, gamma, mu, scratch)
                    if steps > 0:
                        break
            status[r] = steps
            _write_row(target, t, scratch[3], scratch[2], steps, q_row)
            out_log[r] = math.log(q_row[y])
            # The derivative, from the slopes of Newton's last evaluation (one
            # step, below _FINAL_STEP_BELOW, from the solution):
            # mu' = -sum(W H) / sum(W) with W_i = q_i (1 - q_i) / d_i, then
            # t_i' = -(mu' + H_i) / d_i.
            sum_w = 0.0
            sum_wh = 0.0
            for i in range(k):
                if target[i] > -np.inf:
                    w = scratch[3, i] * (1.0 - scratch[3, i]) * scratch[1, i]
                    sum_w += w
                    sum_wh += w * scratch[5, i]
            dmu = -sum_wh / sum_w
            for i in range(k):
                t_state[r, i] = t[i]
                if target[i] == -np.inf:
                    dt_state[r, i] = 0.0
                else:
                    dt_state[r, i] = -(dmu + scratch[5, i]) * scratch[1, i]
            mu_state[r] = mu
            dmu_state[r] = dmu
            out_slope[r] = (1.0 - scratch[3, y]) * dt_state[r, y]


@njit(cache=True, parallel=True)
def minimizer_label_rows(
    p,
    log_target,
    labels,
    gamma,
    power,
    start,
    delta,
    t_state,
    mu_state,
    dt_state,
    dmu_state,
    out_log,
    out_slope,
    status,
):
    """:func:`_minimizer_label_rows`, parallel over chunks of rows."""
    _minimizer_label_rows(
        p,
        log_target,
        labels,
        gamma,
        power,
        start,
        delta,
        t_state,
        mu_state,
        dt_state,
        dmu_state,
        out_log,
        out_slope,
        status,
    )


@njit(cache=True, error_model="numpy")
def minimizer_label_rows_serial(
    p,
    log_target,
    labels,
    gamma,
    power,
    start,
    delta,
    t_state,
    mu_state,
    dt_state,
    dmu_state,
    out_log,
    out_slope,
    status,
):
    """:func:`_minimizer_label_rows` on one thread."""
    _minimizer_label_rows(
        p,
        log_target,
        labels,
        gamma,
        power,
        start,
        delta,
        t_state,
        mu_state,
        dt_state,
        dmu_state,
        out_log,
        out_slope,
        status,
    )
