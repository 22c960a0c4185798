"""Converse, achievability and asymptotic bounds on the focal distortion."""
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import heapq
import math

import numpy as np

from sklearn_focal.rate_distortion._entropy import (
    _as_output,
    _check_auxiliary,
    _check_n_codewords,
    _max_gamma_entropy_nats,
)
from sklearn_focal.theory._focal_terms import entropy_nats, focal_terms
from sklearn_focal.utils.validation import (
    check_gamma_array,
    check_pmf,
    log_base,
)


def reweight(pmf, Q) -> np.ndarray:
    """Re-weighted source R_X of eqs. (6)-(7): ``R = P * Q / sum(P * Q)``.

    Parameters
    ----------
    pmf : array-like of shape (n_symbols,)
        Source pmf P_X.
    Q : array-like of shape (n_symbols,)
        Weighting: a pmf Q as in eq. (6), or equivalently any nonnegative
        per-symbol importance weights omega(x) of Definition 1 (only their
        ratios matter). ``sum(P * Q)`` must be positive.

    Returns
    -------
    ndarray of shape (n_symbols,)
        The re-weighted source R_X.

    Examples
    --------
    >>> from sklearn_focal.rate_distortion import reweight
    >>> reweight([0.5, 0.5], [3.0, 1.0])
    array([0.75, 0.25])
    """
    p = check_pmf(pmf)
    w = np.asarray(Q)
    if w.dtype == object or w.dtype.kind not in "biuf":
        raise ValueError(f"Q must hold real numbers, got dtype {w.dtype}.")
    w = w.astype(np.float64)
    if w.shape != p.shape:
        raise ValueError(f"Q must have the shape of pmf {p.shape}, got {w.shape}.")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("Q must be finite and nonnegative.")
    r = p * w
    total = r.sum()
    if not total > 0:
        raise ValueError("sum(pmf * Q) must be positive: Q vanishes on the support.")
    return r / total


def converse_bound(pmf, n_codewords, gamma, *, base: float | None = 2):
    """Single-shot converse of Theorem 1, eq. (17).

    ``d*(M; gamma) >= [H(X) - log M - h_gamma(|X|)]^+``. The alphabet size
    ``|X|`` is taken as the support size of ``pmf``: symbols of probability 0
    change neither ``d*`` nor ``H(X)``, and ``h_gamma`` increases with ``|X|``,
    so this keeps the bound valid and makes it tighter.

    Parameters
    ----------
    pmf : array-like of shape (n_symbols,)
        Source pmf (already re-weighted, see :func:`reweight`).
    n_codewords : int or array-like of int
        Number of messages ``M``.
    gamma : float or array-like of float
        Focus parameter(s); broadcast against ``n_codewords``.
    base : float or None, default=2
        Base of the logarithm; ``None`` for natural logarithms.

    Returns
    -------
    float or ndarray
        The lower bound on ``d*(M; gamma)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.rate_distortion import converse_bound
    >>> round(converse_bound(np.full(1024, 1 / 1024), 2, 0.0), 9)  # 10 - 1 - 0
    9.0
    """
    p = check_pmf(pmf)
    m = _check_n_codewords(n_codewords)
    g = check_gamma_array(gamma)
    m, g = np.broadcast_arrays(m, g)
    n_support = int(np.count_nonzero(p))
    h_x = entropy_nats(p)
    h_g = np.array([_max_gamma_entropy_nats(n_support, float(v)) for v in g.ravel()])
    h_g = h_g.reshape(g.shape)
    value = np.maximum(h_x - np.log(m) - h_g, 0.0)
    return _as_output(value / log_base(base))


def _greedy_cells(f: np.ndarray, m: int) -> np.ndarray:
    """Compressor (26): cell index of every symbol for auxiliary pmf ``f``."""
    order = np.argsort(-f, kind="stable")
    labels = np.empty(f.size, dtype=np.int64)
    n_first = min(m, f.size)
    labels[order[:n_first]] = np.arange(n_first)
    if f.size > m:
        heap = [(float(f[order[i]]), i) for i in range(m)]
        heapq.heapify(heap)
        for a in order[m:]:
            mass, cell = heap[0]
            labels[a] = cell
            heapq.heapreplace(heap, (mass + float(f[a]), cell))
    return labels


def _eq28_nats(r: np.ndarray, f: np.ndarray, labels: np.ndarray, g: np.ndarray):
    """Exact distortion (28) of code (26)-(27), broadcast over ``g``."""
    cell_mass = np.bincount(labels, weights=f)[labels]
    pos_r = r > 0
    ok = pos_r & (f > 0)
    safe_f = np.where(ok, f, 1.0)
    safe_mass = np.where(ok, cell_mass, 1.0)
    ratio = safe_f / safe_mass
    rest = np.maximum(safe_mass - safe_f, 0.0) / safe_mass
    weights = np.where(ok, r, 0.0)
    terms = focal_terms(ratio, g[..., None], weights=weights, complement=rest)
    total = terms.sum(axis=-1)
    # A symbol the source emits but F never proposes costs log(1/0) = inf.
    return np.where(np.any(pos_r & ~(f > 0)), np.inf, total)


def achievability_bounds(
    pmf, n_codewords, gamma, *, auxiliary=None, base: float | None = 2
) -> dict:
    """Achievability bounds of Theorem 2 and the exact distortion (28).

    For ``|X| > M`` and any auxiliary pmf ``F``, with
    ``iota(x) = log(1 / F(x))`` and ``A = {iota(X) > log M}``:

    - ``"eq22"``: ``E_R[1_A (t / (t + 1))**gamma log(1 + t)]``,
      ``t = 2**(iota(X) - log M)``;
    - ``"eq23"``: ``E_R[1_A (1 - 2**(log M - iota(X)) / 2)**gamma
      (iota(X) - log M + 1)]``;
    - ``"eq28"``: the exact distortion of the code (26) with decoder (27).

    They satisfy ``d* <= eq28 <= eq22 <= eq23``. Masked-out terms are set to
    zero before any power or logarithm is taken, so none of them is NaN. When
    ``F`` vanishes where ``pmf`` does not, all three are ``inf``. The formulas
    are evaluated as printed even for ``|X| <= M`` (Theorem 2 then gives
    ``d* = 0``, and ``eq28`` is 0).

    Parameters
    ----------
    pmf : array-like of shape (n_symbols,)
        Source pmf R_X (already re-weighted, see :func:`reweight`).
    n_codewords : int or array-like of int
        Number of messages ``M``.
    gamma : float or array-like of float
        Focus parameter(s); broadcast against ``n_codewords``.
    auxiliary : array-like of shape (n_symbols,), default=None
        The auxiliary pmf ``F_X``; ``None`` means ``F = R``.
    base : float or None, default=2
        Base of the logarithm; ``None`` for natural logarithms.

    Returns
    -------
    dict
        ``{"eq22": ..., "eq23": ..., "eq28": ...}``, each a float, or an array
        of the broadcast shape of ``n_codewords`` and ``gamma``.

    Examples
    --------
    >>> from sklearn_focal.rate_distortion import achievability_bounds
    >>> b = achievability_bounds([0.5, 0.25, 0.25], 2, 1.0)
    >>> round(b["eq28"], 6)  # cell {b, c} with the decoder (1/2, 1/2)
    0.25
    >>> b["eq28"] <= b["eq22"] <= b["eq23"]
    True
    """
    r = check_pmf(pmf)
    f = _check_auxiliary(auxiliary, r)
    m = _check_n_codewords(n_codewords)
    g = check_gamma_array(gamma)
    m, g = np.broadcast_arrays(m, g)
    ln_base = log_base(base)

    pos_r = r > 0
    pos_f = f > 0
    log_f = np.log(np.where(pos_f, f, 1.0))
    eq28 = np.empty(m.shape)
    eq22 = np.empty(m.shape)
    eq23 = np.empty(m.shape)
    for m_value in np.unique(m):
        sel = m == m_value
        g_sel = g[sel]
        labels = _greedy_cells(f, int(m_value))
        eq28[sel] = _eq28_nats(r, f, labels, g_sel)
        # s = iota(x) - log M in nats; A = {s > 0}. F(x) = 0 means s = +inf.
        s = np.where(pos_f, -log_f - math.log(m_value), np.inf)
        in_a = pos_r & (s > 0)
        inf_hit = np.any(pos_r & ~pos_f)
        s_safe = np.where(in_a & pos_f, s, 1.0)
        gg = g_sel[:, None]
        # (t / (t + 1))**gamma log(1 + t) with t = e**s, in log space.
        t22 = (1.0 + np.exp(-s_safe)) ** -gg * np.logaddexp(0.0, s_safe)
        # (1 - e**(-s) / 2)**gamma (s + log 2); the base lies in (1/2, 1) on A.
        t23 = (1.0 - 0.5 * np.exp(-s_safe)) ** gg * (s_safe + math.log(2.0))
        mask = in_a & pos_f
        eq22[sel] = np.where(inf_hit, np.inf, np.where(mask, r * t22, 0.0).sum(-1))
        eq23[sel] = np.where(inf_hit, np.inf, np.where(mask, r * t23, 0.0).sum(-1))
    return {
        "eq22": _as_output(eq22 / ln_base),
        "eq23": _as_output(eq23 / ln_base),
        "eq28": _as_output(eq28 / ln_base),
    }


def asymptotic_distortion(pmf, rate, *, base: float | None = 2):
    """Distortion-rate function of Theorem 3: ``D(R; gamma) = [H(X) - R]^+``.

    It does not depend on ``gamma``: asymptotically the focal term has no
    effect and the focal loss behaves as the log loss.

    Parameters
    ----------
    pmf : array-like of shape (n_symbols,)
        Single-letter source pmf R_X of a memoryless source.
    rate : float or array-like of float
        Rate ``R >= 0`` in units of ``log base`` per symbol (bits by default).
    base : float or None, default=2
        Base of the logarithm; ``None`` for natural logarithms.

    Returns
    -------
    float or ndarray
        ``[H(X) - R]^+``, shaped like ``rate``.

    Examples
    --------
    >>> from sklearn_focal.rate_distortion import asymptotic_distortion
    >>> asymptotic_distortion([0.25] * 4, 0.5)
    1.5
    """
    p = check_pmf(pmf)
    rate_arr = np.asarray(rate)
    if rate_arr.dtype == object or rate_arr.dtype.kind not in "biuf":
        raise ValueError(f"rate must be a real number, got {rate!r}.")
    rate_arr = rate_arr.astype(np.float64)
    if np.any(np.isnan(rate_arr)) or np.any(rate_arr < 0):
        raise ValueError(f"rate must be >= 0, got {rate!r}.")
    h = entropy_nats(p) / log_base(base)
    return _as_output(np.maximum(h - rate_arr, 0.0))
