"""Regimes of the focal-entropy minimizer: amplified, suppressed, over-suppressed."""
# SPDX-License-Identifier: BSD-3-Clause

from enum import IntEnum
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sklearn_focal.theory._focal_terms import phi_direct
from sklearn_focal.theory._posterior_map import _solve_focal_minimizer
from sklearn_focal.theory._thresholds import _solve_tau_oc
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


def _phi_level_thresholds(levels, gamma, peak):
    """Solutions t of phi(t) = level on either side of the peak of phi.

    Parameters
    ----------
    levels : ndarray of float64
        Distinct positive levels, sorted increasingly (as ``np.unique``
        returns them).
    gamma : float
        Focusing parameter, ``gamma > 0``.
    peak : float
        ``tau_oc(gamma)``, where phi peaks.

    Returns
    -------
    low, high : ndarray of float64
        ``t_low`` (0 where ``level <= 1``) and ``t_high``, both ``peak`` where
        ``level >= max phi``. ``t_high`` is solved for ``u = 1 - t``, whose
        relative precision resolves t to its last bit even within a few ulps
        of 1. One compiled pass, parallel over chunks of levels.
    """
    from sklearn_focal.theory import _kernels as _theory_kernels

    levels = np.ascontiguousarray(levels, dtype=np.float64)
    low = np.empty_like(levels)
    high = np.empty_like(levels)
    _theory_kernels.dispatch(
        _theory_kernels.phi_level_crossings,
        _theory_kernels.phi_level_crossings_serial,
        levels,
        float(gamma),
        float(peak),
        float(phi_direct(peak, gamma)),
        low,
        high,
        size=levels.size * 64,  # each level costs a few dozen transcendentals
    )
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
        # One root solve per distinct positive lambda, all in one compiled
        # pass; rows find theirs through the inverse index (linear in rows).
        positive = lam > 0
        levels, inverse = np.unique(lam[positive], return_inverse=True)
        low, high = _phi_level_thresholds(levels, gamma, _solve_tau_oc(gamma))
        thresholds[positive, 0] = low[inverse]
        thresholds[positive, 1] = high[inverse]
    # Codes by boolean arithmetic, in a few passes over the array:
    # AMPLIFIED = 1, SUPPRESSED = -1, OVER_SUPPRESSED = -1 - 1.
    relative = q - x
    tolerance = np.maximum(q, x)
    tolerance *= 8 * np.finfo(np.float64).eps
    regime = (relative > tolerance).view(np.int8)
    np.negative(tolerance, out=tolerance)
    below = relative < tolerance
    regime -= below.view(np.int8)
    below &= q <= thresholds[:, :1]  # over-suppressed
    regime -= below.view(np.int8)
    return FocalRegimes(regime, q.astype(rows.dtype, copy=False), lam, thresholds)
