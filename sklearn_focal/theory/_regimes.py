"""Regimes of the focal-entropy minimizer: amplified, suppressed, over-suppressed."""
# SPDX-License-Identifier: BSD-3-Clause

from enum import IntEnum
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import brentq

from sklearn_focal.theory._focal_terms import (
    phi_direct,
    phi_of_one_minus,
)
from sklearn_focal.theory._posterior_map import _solve_focal_minimizer
from sklearn_focal.theory._thresholds import _ROOT_OPTIONS, _solve_tau_oc
from sklearn_focal.utils.validation import (
    check_distribution,
    check_gamma,
)


class FocalRegime(IntEnum):
    """How the focal-entropy minimizer moves one class probability."""

    OVER_SUPPRESSED = -2
    SUPPRESSED = -1
    UNCHANGED = 0
    AMPLIFIED = 1


class FocalRegimes(NamedTuple):
    """Result of :func:`focal_regimes`.

    Attributes
    ----------
    regime : ndarray of int8, same shape as ``p``
        :class:`FocalRegime` code of every class.
    q : ndarray
        The focal-entropy minimizer ``q*(p)``.
    lam : ndarray of shape (n_samples,)
        The multiplier lambda of every row.
    thresholds : ndarray of shape (n_samples, 2)
        ``(t_low, t_high)``: ``q*_i > p_i`` exactly when
        ``t_low < q*_i < t_high``, where ``phi(t) = lambda``. ``t_low = 0``
        when ``lambda <= 1`` (a single threshold); when
        ``1 < lambda < max phi`` both exist and classes with
        ``q*_i <= t_low`` are over-suppressed.
    """

    regime: NDArray
    q: NDArray
    lam: NDArray
    thresholds: NDArray


def _phi_level_thresholds(lam, gamma, peak):
    """Solutions t of phi(t) = lam on either side of the peak of phi."""
    phi_peak = phi_direct(peak, gamma)
    if lam >= phi_peak:
        return peak, peak
    # The upper crossing is solved for u = 1 - t, whose relative precision
    # resolves t to its last bit even within a few ulps of 1.
    smallest_gap = np.finfo(float).epsneg  # 1 - smallest_gap: the double below 1
    if phi_of_one_minus(smallest_gap, gamma) >= lam:
        high = 1.0 - smallest_gap  # the crossing lies closer to 1 than that
    else:
        gap = brentq(
            lambda u: phi_of_one_minus(u, gamma) - lam,
            smallest_gap,
            1.0 - peak,
            **_ROOT_OPTIONS,
        )
        high = 1.0 - gap
    if lam <= 1:
        return 0.0, high
    low = brentq(lambda v: phi_direct(v, gamma) - lam, 1e-300, peak, **_ROOT_OPTIONS)
    return low, high


def focal_regimes(p: ArrayLike, gamma: float) -> FocalRegimes:
    """Amplification, suppression and over-suppression by the focal-entropy.

    The minimizer ``q*`` of the focal-entropy satisfies ``q*_i / p_i =
    phi(q*_i) / lambda`` (from ``h(q*_i) = p_i / lambda``). So class ``i`` is
    amplified (``q*_i > p_i``) exactly when ``phi(q*_i) > lambda``: mid-range
    probabilities are amplified, large ones suppressed, and when
    ``lambda > 1`` (extreme imbalance) the tiny ones are over-suppressed
    (Shah, Cardone and Dytso, 2026).

    Parameters
    ----------
    p : array-like of shape (n_samples, n_classes) or (n_classes,)
        Distributions; rows sum to 1.
    gamma : float
        Focusing parameter, ``gamma > 0`` gives non-trivial regimes.

    Returns
    -------
    FocalRegimes
        Named tuple with the per-class ``regime`` codes, ``q``, ``lam`` and the
        ``thresholds`` ``(t_low, t_high)`` of every row.

    Examples
    --------
    >>> from sklearn_focal.theory import FocalRegime, focal_regimes
    >>> result = focal_regimes([0.7, 0.2, 0.1], gamma=2.0)
    >>> [FocalRegime(c).name for c in result.regime[0]]
    ['SUPPRESSED', 'AMPLIFIED', 'AMPLIFIED']
    """
    gamma = check_gamma(gamma)
    rows, _ = check_distribution(p, "p")
    x = rows.astype(np.float64)
    q, lam = _solve_focal_minimizer(x, gamma)
    thresholds = np.zeros((x.shape[0], 2))
    thresholds[:, 1] = 1.0
    if gamma > 0:
        peak = _solve_tau_oc(gamma)
        for level in np.unique(lam):  # one root solve per distinct lambda
            if level <= 0:
                continue
            low, high = _phi_level_thresholds(level, gamma, peak)
            thresholds[lam == level] = (low, high)
    relative = q - x
    tolerance = 8 * np.finfo(np.float64).eps * np.maximum(q, x)
    regime = np.zeros(x.shape, dtype=np.int8)
    regime[relative > tolerance] = FocalRegime.AMPLIFIED
    below = relative < -tolerance
    over = below & (q <= thresholds[:, :1])
    regime[below & ~over] = FocalRegime.SUPPRESSED
    regime[over] = FocalRegime.OVER_SUPPRESSED
    return FocalRegimes(regime, q.astype(rows.dtype), lam, thresholds)
