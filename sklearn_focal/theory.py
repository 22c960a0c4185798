"""Exact numerics of the focal loss: Psi^gamma, its inverse, thresholds, focal-entropy.

All functions work row-wise on arrays of shape (n, K) with the classes on the
last axis; a 1-D array is one row. They accept float32 or float64 array-likes
and return the input's float dtype (other numeric input gives float64).
Probability rows must sum to 1 within ``4 sqrt(K)`` float32 ulps (float32
softmax outputs upcast to float64 pass), or within the square root of their
own precision if that is larger; they are used as given.

References
----------
.. [1] N. Charoenphakdee, J. Vongkulbhisal, N. Chairatanakul, M. Sugiyama.
   "On Focal Loss for Class-Posterior Probability Estimation: A Theoretical
   Perspective." CVPR 2021.
.. [2] D. Shah, M. Cardone, A. Dytso. "Functional Properties of the
   Focal-Entropy." AISTATS 2026.
"""
# SPDX-License-Identifier: BSD-3-Clause

from enum import IntEnum
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import brentq

from sklearn_focal._focal_terms import (
    focal_terms,
    h_values,
    log_phi_scaled,
    phi_direct,
    phi_minus_one_over_gamma,
    phi_of_one_minus,
    phi_peak_equation,
    phi_peak_equation_scaled,
    phi_values,
)
from sklearn_focal.utils.validation import (
    check_alpha,
    check_base,
    check_distribution,
    check_gamma,
    check_gamma_array,
    check_unit_interval,
    raise_row_defects,
    row_sum_tolerance,
)

__all__ = [
    "Confidence",
    "ConfidenceRegime",
    "FocalRegime",
    "FocalRegimes",
    "ThresholdRegion",
    "confidence_regime",
    "focal_entropy",
    "focal_loss",
    "focal_minimizer",
    "focal_regimes",
    "h",
    "min_focal_entropy",
    "phi",
    "psi",
    "tau_oc",
    "tau_uc",
]


def _restore(result, dtype, one_row):
    result = result.astype(dtype, copy=False)
    return result[0] if one_row else result


# --------------------------------------------------------------------------
# phi, h
# --------------------------------------------------------------------------


def phi(v: ArrayLike, gamma: float) -> NDArray:
    """The function phi^gamma of Charoenphakdee et al. (2021), elementwise.

    ``phi(v) = (1 - v)^gamma - gamma (1 - v)^(gamma - 1) v log v``, so that
    ``h(v) = v / phi(v)``. It is 1 at ``v = 0``, peaks at :func:`tau_oc`,
    crosses 1 again at :func:`tau_uc` and falls to 0 at ``v = 1`` (gamma > 0).

    Parameters
    ----------
    v : array-like of float in [0, 1]
        Probabilities.
    gamma : float
        Focusing parameter, ``gamma >= 0``.

    Returns
    -------
    ndarray
        ``phi(v)``, same shape and float dtype as ``v``.

    Examples
    --------
    >>> from sklearn_focal.theory import phi
    >>> phi([0.0, 0.5, 1.0], gamma=0.0)
    array([1., 1., 1.])
    >>> float(phi(0.5, gamma=1.0))  # 0.5 + 0.5 log 2
    0.8465735902799727
    """
    gamma = check_gamma(gamma)
    array = check_unit_interval(v)
    if gamma == 0:
        return np.ones_like(array)
    out = phi_values(array.astype(np.float64), gamma)
    return out.astype(array.dtype, copy=False)


def h(v: ArrayLike, gamma: float) -> NDArray:
    """The increasing function ``h(v) = v / phi^gamma(v)``, elementwise.

    Computed in log space from
    ``1/h(v) = (1 - v)^(gamma - 1) ((1 - v)/v - gamma log v)``, a product of
    positive factors. ``h(0) = 0`` and ``h(v)`` grows without bound as
    ``v -> 1`` (``h(1) = inf`` for gamma > 0).

    Parameters
    ----------
    v : array-like of float in [0, 1]
        Probabilities.
    gamma : float
        Focusing parameter, ``gamma >= 0``. ``gamma = 0`` gives ``h(v) = v``.

    Returns
    -------
    ndarray
        ``h(v)``, same shape and float dtype as ``v``.

    Examples
    --------
    >>> from sklearn_focal.theory import h
    >>> h([0.0, 0.25, 0.5], gamma=0.0)
    array([0.  , 0.25, 0.5 ])
    >>> h([0.0, 1.0], gamma=2.0)
    array([ 0., inf])
    """
    gamma = check_gamma(gamma)
    array = check_unit_interval(v)
    if gamma == 0:
        return array.copy() if isinstance(array, np.ndarray) else np.asarray(array)
    out = h_values(array.astype(np.float64), gamma)
    return out.astype(array.dtype, copy=False)


# --------------------------------------------------------------------------
# Psi and its inverse
# --------------------------------------------------------------------------


def psi(q: ArrayLike, gamma: float, *, alpha: ArrayLike | None = None) -> NDArray:
    """Recover the class posterior from a focal-loss output: Psi^gamma.

    ``Psi_i(q) = (h(q_i) / alpha_i) / sum_l (h(q_l) / alpha_l)`` (Thm 11 of
    Charoenphakdee et al., 2021, extended to the alpha-balanced focal loss).
    It maps the minimizer of the focal risk back to the true posterior,
    preserves the argmax and the order of the entries, keeps zeros at zero and
    one-hot rows unchanged, and is the identity for ``gamma = 0`` without
    ``alpha``.

    Parameters
    ----------
    q : array-like of shape (n_samples, n_classes) or (n_classes,)
        Softmax outputs of a focal-trained model; rows sum to 1.
    gamma : float
        Focusing parameter of the focal loss, ``gamma >= 0``.
    alpha : array-like of shape (n_classes,), default=None
        Per-class weights of the alpha-balanced focal loss
        ``-alpha_y (1 - q_y)^gamma log q_y``. Minimizing
        ``sum_i eta_i alpha_i (1 - q_i)^gamma log(1/q_i)`` over the simplex
        gives ``h(q_i) = eta_i alpha_i / lambda``, hence the ``1/alpha_i``.

    Returns
    -------
    ndarray of the same shape and float dtype as ``q``
        Recovered posteriors; rows sum to 1.

    See Also
    --------
    focal_minimizer : The inverse map.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.theory import psi
    >>> psi([0.6, 0.3, 0.1], gamma=0.0)
    array([0.6, 0.3, 0.1])
    >>> p = psi([0.6, 0.3, 0.1], gamma=2.0)
    >>> p.round(4), int(np.argmax(p))
    (array([0.7945, 0.1617, 0.0438]), 0)
    """
    gamma = check_gamma(gamma)
    # For gamma > 0 the kernel validates the values in its own pass.
    rows, one_row = check_distribution(q, "q", check_values=gamma == 0)
    weights = check_alpha(alpha, rows.shape[1])
    if gamma == 0:
        if weights is None:
            return _restore(rows.copy(), rows.dtype, one_row)
        scaled = rows.astype(np.float64) / weights
        return _restore(scaled / scaled.sum(axis=1, keepdims=True), rows.dtype, one_row)
    from sklearn_focal import _theory_kernels

    x = np.ascontiguousarray(rows, dtype=np.float64)
    if weights is None:
        weights = np.ones(x.shape[1])
    out = np.empty_like(x)
    codes = np.empty(x.shape[0], dtype=np.int8)
    tolerance = row_sum_tolerance(rows.dtype, x.shape[1])
    _theory_kernels.dispatch(
        _theory_kernels.psi_rows,
        _theory_kernels.psi_rows_serial,
        x,
        gamma,
        1.0 / weights,
        np.log(weights),
        _theory_kernels.power_mode(gamma - 1.0),
        tolerance,
        codes,
        out,
        size=x.size,
    )
    raise_row_defects(codes, x, "q", tolerance)
    return _restore(out, rows.dtype, one_row)


def _solve_focal_minimizer(x, gamma, weights=None):
    """q* and lambda for validated float64 rows ``x`` (no checks)."""
    # Below 1e-20, q* differs from the gamma = 0 answer by less than
    # gamma * |log p| * O(1) < 1e-17 relative: the closed form is exact in
    # float64, and Newton's Jacobian would degenerate.
    if gamma < 1e-20:
        scaled = x if weights is None else x * weights
        lam = scaled.sum(axis=1)
        q = scaled / lam[:, None]
    else:
        from sklearn_focal import _theory_kernels

        x = np.ascontiguousarray(x)
        log_alpha = np.zeros(x.shape[1]) if weights is None else np.log(weights)
        q = np.empty_like(x)
        log_lam = np.empty(x.shape[0])
        status = np.empty(x.shape[0], dtype=np.int32)
        _theory_kernels.dispatch(
            _theory_kernels.focal_minimizer_rows,
            _theory_kernels.focal_minimizer_rows_serial,
            x,
            log_alpha,
            gamma,
            q,
            log_lam,
            status,
            size=x.size,
        )
        if (status < 0).any():  # pragma: no cover - guarded by the tests
            row = int(np.flatnonzero(status < 0)[0])
            raise RuntimeError(
                f"focal_minimizer did not converge for row {row}; please report "
                "this input as a bug"
            )
        lam = np.exp(log_lam)
    return q, lam


def focal_minimizer(
    p: ArrayLike,
    gamma: float,
    *,
    alpha: ArrayLike | None = None,
    return_lambda: bool = False,
):
    """The unique minimizer over the simplex of the focal-entropy, row-wise.

    ``q*(p) = argmin_q sum_i alpha_i p_i (1 - q_i)^gamma log(1/q_i)``: the
    output of a model trained to the focal risk minimum when the true
    posterior is ``p``. It is the inverse of :func:`psi`: since ``h`` is
    strictly increasing, ``q*_i = h^{-1}(alpha_i p_i / lambda)`` with the
    multiplier ``lambda`` fixed by ``sum_i q*_i = 1``. Entries with
    ``p_i = 0`` give ``q*_i = 0``.

    The system is solved by Newton's method on the logits of ``q`` and
    ``log lambda`` jointly, compiled and parallel over rows. A row on which
    Newton's method stalls (huge gamma, entries spanning hundreds of orders
    of magnitude) restarts from a bracketed solve in ``lambda`` alone, which
    always converges.

    Parameters
    ----------
    p : array-like of shape (n_samples, n_classes) or (n_classes,)
        Class posteriors; rows sum to 1.
    gamma : float
        Focusing parameter, ``gamma >= 0``.
    alpha : array-like of shape (n_classes,), default=None
        Per-class weights of the alpha-balanced focal loss.
    return_lambda : bool, default=False
        Also return the Lagrange multiplier ``lambda`` of every row. For
        ``alpha=None``, ``lambda > 1`` means the small-probability tail is
        over-suppressed (see :func:`focal_regimes`); ``lambda = 0`` for
        one-hot rows.

    Returns
    -------
    q : ndarray of the same shape and float dtype as ``p``
        The minimizers; rows sum to 1.
    lam : ndarray of shape (n_samples,) or float
        Only when ``return_lambda=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.theory import focal_minimizer, psi
    >>> p = np.array([0.8, 0.15, 0.05])
    >>> q = focal_minimizer(p, gamma=2.0)
    >>> q.round(4)
    array([0.6009, 0.2853, 0.1138])
    >>> bool(np.allclose(psi(q, gamma=2.0), p, rtol=0, atol=1e-14))
    True
    """
    gamma = check_gamma(gamma)
    rows, one_row = check_distribution(p, "p")
    weights = check_alpha(alpha, rows.shape[1])
    x = np.asarray(rows, dtype=np.float64)  # no copy for float64 input
    q, lam = _solve_focal_minimizer(x, gamma, weights)
    q = _restore(q, rows.dtype, one_row)
    if return_lambda:
        return q, (float(lam[0]) if one_row else lam)
    return q


# --------------------------------------------------------------------------
# Thresholds and regimes
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# Focal-entropy and focal loss
# --------------------------------------------------------------------------


def _focal_terms_sum(targets, predictions, gamma, base, top_complement=None):
    """sum_i targets_i (1 - predictions_i)^gamma log(1/predictions_i), row-wise.

    ``top_complement`` optionally holds, per row, ``1 - max(predictions)``
    computed more accurately than by subtraction (from the other entries).
    """
    complements = 1.0 - predictions
    with np.errstate(divide="ignore"):
        log_q = np.log(predictions)
    if top_complement is not None:
        rows = np.arange(predictions.shape[0])
        top = np.argmax(predictions, axis=1)
        complements[rows, top] = top_complement
        log_q[rows, top] = np.log1p(-top_complement)
    terms = focal_terms(
        predictions, gamma, weights=targets, log_q=log_q, complement=complements
    )
    # q_i = 0 with p_i > 0 gives +inf (surprise inf, modulating 1).
    total = terms.sum(axis=1)
    if base is not None:
        total = total / np.log(base)
    return total


def focal_entropy(
    p: ArrayLike, q: ArrayLike, gamma: float, *, base: float | None = None
) -> NDArray | float:
    """The focal-entropy ``FE_gamma(p, q) = sum_i p_i (1 - q_i)^gamma log(1/q_i)``.

    Parameters
    ----------
    p : array-like of shape (n_samples, n_classes) or (n_classes,)
        True distributions.
    q : array-like of the same shape as ``p``
        Predicted distributions.
    gamma : float
        Focusing parameter, ``gamma >= 0``; ``gamma = 0`` is the cross-entropy.
    base : float, default=None
        Logarithm base; ``None`` is the natural log (nats), 2 gives bits.

    Returns
    -------
    float or ndarray of shape (n_samples,)
        ``+inf`` where some ``q_i = 0`` with ``p_i > 0``.

    Examples
    --------
    >>> from sklearn_focal.theory import focal_entropy
    >>> focal_entropy([0.5, 0.5], [0.5, 0.5], gamma=0.0, base=2)
    1.0
    >>> focal_entropy([0.5, 0.5], [0.5, 0.5], gamma=1.0, base=2)
    0.5
    """
    gamma = check_gamma(gamma)
    base = check_base(base)
    p_rows, one_row = check_distribution(p, "p")
    q_rows, _ = check_distribution(q, "q")
    if p_rows.shape != q_rows.shape:
        raise ValueError(
            f"p and q must have the same shape, got {np.shape(p)} and {np.shape(q)}"
        )
    dtype = np.result_type(p_rows.dtype, q_rows.dtype)
    total = _focal_terms_sum(
        p_rows.astype(np.float64), q_rows.astype(np.float64), gamma, base
    ).astype(dtype)
    return dtype.type(total[0]).item() if one_row else total


def min_focal_entropy(
    p: ArrayLike, gamma: float, *, base: float | None = None
) -> NDArray | float:
    """The minimum over q of the focal-entropy: ``FE_gamma(p, q*(p))``.

    For ``gamma = 0`` it is the Shannon entropy of ``p``.

    Parameters
    ----------
    p : array-like of shape (n_samples, n_classes) or (n_classes,)
        Distributions.
    gamma : float
        Focusing parameter, ``gamma >= 0``.
    base : float, default=None
        Logarithm base; ``None`` is the natural log.

    Returns
    -------
    float or ndarray of shape (n_samples,)

    Examples
    --------
    >>> from sklearn_focal.theory import min_focal_entropy
    >>> min_focal_entropy([0.25, 0.25, 0.25, 0.25], gamma=0.0, base=2)
    2.0
    """
    gamma = check_gamma(gamma)
    base = check_base(base)
    rows, one_row = check_distribution(p, "p")
    x = rows.astype(np.float64)
    q, _ = _solve_focal_minimizer(x, gamma)
    # 1 - max q as the sum of the other entries: log q_max is ill-conditioned
    # near 1 (q_max = 1 - 1e-12 holds 1 - q_max to only ~1e-4 relative).
    top = np.argmax(q, axis=1)
    is_top = np.arange(q.shape[1]) == top[:, None]
    others = np.where(is_top, 0.0, q).sum(axis=1)
    top_complement = np.where(q.max(axis=1) > 0.5, others, 1.0 - q.max(axis=1))
    total = _focal_terms_sum(x, q, gamma, base, top_complement).astype(rows.dtype)
    return rows.dtype.type(total[0]).item() if one_row else total


def focal_loss(u: ArrayLike, v: ArrayLike, gamma: float) -> NDArray | float:
    """The focal loss ``l(u, v) = -sum_i v_i (1 - u_i)^gamma log u_i`` (eq. 5).

    Parameters
    ----------
    u : array-like of shape (n_samples, n_classes) or (n_classes,)
        Predicted probabilities (a softmax output).
    v : array-like of the same shape
        Labels as distributions (one-hot or soft).
    gamma : float
        Focusing parameter, ``gamma >= 0``; ``gamma = 0`` is the log loss.

    Returns
    -------
    float or ndarray of shape (n_samples,)
        The loss of every row, in nats.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.theory import focal_loss
    >>> bool(np.isclose(focal_loss([0.8, 0.2], [1.0, 0.0], gamma=0.0), -np.log(0.8)))
    True
    """
    return focal_entropy(v, u, gamma)
