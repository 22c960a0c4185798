"""The confidence thresholds tau_oc, tau_uc and the confidence regime of a row."""
# SPDX-License-Identifier: BSD-3-Clause

from enum import IntEnum
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import brentq

from sklearn_focal.theory._focal_terms import (
    log_phi_scaled,
    phi_minus_one_over_gamma,
    phi_peak_equation,
    phi_peak_equation_scaled,
)
from sklearn_focal.theory._posterior_map import psi
from sklearn_focal.utils.validation import (
    check_distribution,
    check_gamma,
    check_gamma_array,
)

_ROOT_OPTIONS = {"xtol": 1e-300, "rtol": 4 * np.finfo(float).eps, "maxiter": 500}


def _solve_tau_oc(gamma):
    if gamma >= 1:
        x = brentq(
            phi_peak_equation_scaled, 1e-300, 1 - 1e-15, args=(gamma,), **_ROOT_OPTIONS
        )
        return x / gamma
    return brentq(phi_peak_equation, 1e-300, 1 - 1e-9, args=(gamma,), **_ROOT_OPTIONS)


def _solve_tau_uc(gamma):
    lower = _solve_tau_oc(gamma)
    if gamma >= 1:
        # phi = 1 in y = gamma v: y grows like log(log(gamma)), so no
        # bracket spans hundreds of orders of magnitude.
        # Above 1e10, log phi < 0 at y = 8 + 2 log(log(gamma)) (phi(v) <=
        # e^-y (1 + y log(gamma)) there): a bracket that cannot overflow.
        upper = gamma * (1 - 1e-12) if gamma < 1e10 else 8 + 2 * np.log(np.log(gamma))
        y = brentq(
            log_phi_scaled,
            lower * gamma,
            upper,
            args=(gamma,),
            **_ROOT_OPTIONS,
        )
        return y / gamma
    return brentq(
        phi_minus_one_over_gamma, lower, 1 - 1e-12, args=(gamma,), **_ROOT_OPTIONS
    )


def tau_oc(gamma: ArrayLike) -> NDArray | float:
    """The overconfidence threshold ``tau_oc = argmax_v phi^gamma(v)`` (Thm 8).

    It solves ``2(1 - v) + (1 - gamma v) log v = 0`` on (0, 1). A focal risk
    minimizer whose largest entry is at most ``tau_oc`` is overconfident.
    At ``gamma = 0``, where phi is constant, the continuous limit
    ``gamma -> 0`` is returned.

    Parameters
    ----------
    gamma : float or array-like of float
        Focusing parameters, ``gamma >= 0``.

    Returns
    -------
    float or ndarray
        ``tau_oc`` for every gamma.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.theory import tau_oc
    >>> bool(np.isclose(tau_oc(1.0), np.exp(-2)))
    True
    """
    values = check_gamma_array(gamma)
    out = np.vectorize(_solve_tau_oc, otypes=[np.float64])(values)
    return float(out) if out.ndim == 0 else out


def tau_uc(gamma: ArrayLike) -> NDArray | float:
    """The underconfidence threshold: ``tau_uc`` in (tau_oc, 1) with phi = 1 (Thm 8).

    A focal risk minimizer whose largest entry is at least ``tau_uc`` is
    underconfident. At ``gamma = 0`` the continuous limit is returned.

    Parameters
    ----------
    gamma : float or array-like of float
        Focusing parameters, ``gamma >= 0``.

    Returns
    -------
    float or ndarray
        ``tau_uc`` for every gamma.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.theory import tau_uc
    >>> bool(np.isclose(tau_uc(1.0), np.exp(-1)))
    True
    """
    values = check_gamma_array(gamma)
    out = np.vectorize(_solve_tau_uc, otypes=[np.float64])(values)
    return float(out) if out.ndim == 0 else out


class Confidence(IntEnum):
    """Def. 7 of Charoenphakdee et al.: ``max q`` against ``max eta``."""

    UNDERCONFIDENT = -1
    EXACT = 0
    OVERCONFIDENT = 1


class ThresholdRegion(IntEnum):
    """Thm 8's regions of ``max q``: below tau_oc, between, above tau_uc."""

    UNDERCONFIDENT = -1
    AMBIGUOUS = 0
    OVERCONFIDENT = 1


class ConfidenceRegime(NamedTuple):
    """Per-row confidence diagnostics returned by :func:`confidence_regime`.

    Attributes
    ----------
    confidence : ndarray of int8
        :class:`Confidence` codes, by Def. 7: ``max q`` compared with
        ``max psi(q)``.
    region : ndarray of int8
        :class:`ThresholdRegion` codes, by Thm 8: ``max q <= tau_oc`` is
        ``OVERCONFIDENT``, ``max q >= tau_uc`` is ``UNDERCONFIDENT``,
        otherwise ``AMBIGUOUS``.
    max_q : ndarray
        Largest entry of each row of ``q``.
    max_posterior : ndarray
        Largest entry of each recovered posterior ``psi(q)``.
    """

    confidence: NDArray
    region: NDArray
    max_q: NDArray
    max_posterior: NDArray


def confidence_regime(q: ArrayLike, gamma: float, *, alpha=None) -> ConfidenceRegime:
    """Whether each focal-loss output is over- or under-confident.

    Parameters
    ----------
    q : array-like of shape (n_samples, n_classes) or (n_classes,)
        Softmax outputs of a focal-trained model.
    gamma : float
        Focusing parameter, ``gamma >= 0``.
    alpha : array-like of shape (n_classes,), default=None
        Per-class weights of the alpha-balanced focal loss.

    Returns
    -------
    ConfidenceRegime
        Named tuple of per-row arrays (length-1 arrays for 1-D input).
        ``confidence`` is ``EXACT`` when the two maxima agree to a few units
        in the last place (uniform and one-hot rows, and ``gamma = 0``).

    Examples
    --------
    >>> from sklearn_focal.theory import Confidence, confidence_regime
    >>> result = confidence_regime([[0.7, 0.3], [0.5, 0.5]], gamma=2.0)
    >>> [Confidence(c).name for c in result.confidence]
    ['UNDERCONFIDENT', 'EXACT']
    """
    gamma = check_gamma(gamma)
    rows, _ = check_distribution(q, "q")
    posterior = psi(rows, gamma, alpha=alpha)
    max_q = rows.max(axis=1)
    max_posterior = posterior.max(axis=1)
    tolerance = 8 * np.finfo(rows.dtype).eps * np.maximum(max_q, max_posterior)
    difference = max_q.astype(np.float64) - max_posterior
    confidence = np.where(
        np.abs(difference) <= tolerance, 0, np.sign(difference)
    ).astype(np.int8)
    if gamma == 0:
        region = np.zeros(rows.shape[0], dtype=np.int8)
    else:
        low, high = tau_oc(gamma), tau_uc(gamma)
        region = np.where(max_q <= low, 1, np.where(max_q >= high, -1, 0)).astype(
            np.int8
        )
    return ConfidenceRegime(confidence, region, max_q, max_posterior)
