"""Focal temperature scaling: ``Psi^g(softmax(z / T))`` fitted jointly in (T, g).

The map is the composition of temperature scaling and the signed focal map of
:class:`~sklearn_focal.FocalPosteriorRecovery` (``Psi^g`` for ``g >= 0``, the
focal-risk minimizer of order ``-g`` below). Both parameters are fitted on
calibration data by L-BFGS-B with the analytic gradient of the NLL (or the
Brier score) in ``(log T, g)``, derived here.

The ``g >= 0`` branch is evaluated from the scaled logits in log space, not
from probabilities: an over-fitted network gives rows whose top probability
is 1.0 in float64 while ``1 - q`` (the sum of the others) is 1e-20, and
:func:`~sklearn_focal.theory.psi` of such a row is one-hot, which makes the
NLL of a confidently wrong row infinite where it is finite (about 137 nats
for that row). The log-space form below gives the same values as
:func:`~sklearn_focal.theory.psi` wherever the probabilities resolve ``1 - q``
(tested), and it carries the two derivatives the fit needs
(:func:`~sklearn_focal.theory._focal_terms.log_h_terms`, the package's one
form of ``log h`` from logs). The ``g < 0``
branch is :func:`~sklearn_focal.theory.focal_minimizer` itself, differentiated
implicitly.
"""
# SPDX-License-Identifier: BSD-3-Clause

import warnings
from numbers import Real

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, log_expit, logsumexp
from sklearn.utils.validation import check_is_fitted

from sklearn_focal.calibration._base import (
    _FLAT_TOL,
    _BaseProbaPostprocessor,
    _calibration_rows,
    _minimize_on_interval,
    _user_stacklevel,
    _validate_rows,
)
from sklearn_focal.calibration._posterior import (
    _GAMMA_FIT_BOUNDS,
    _signed_binary_map,
    _signed_map,
)
from sklearn_focal.calibration._temperature import (
    _ENTRIES_SEPARATED,
    _LOG_TEMPERATURE_BOUNDS,
    _ROWS_SEPARATED,
    TemperatureScaling,
    _fit_log_temperature,
    _label_entries_kept,
    _labels_separated,
    _separated,
    _warn_unbounded,
)
from sklearn_focal.calibration._unwrap import focal_gamma
from sklearn_focal.exceptions import FlatCalibrationWarning
from sklearn_focal.theory._focal_terms import log1mexp, log_h_terms
from sklearn_focal.utils._compat import HasMethods, Interval, StrOptions
from sklearn_focal.utils._compat import fit_context as _fit_context
from sklearn_focal.utils.validation import check_gamma, check_probability_rows

__all__ = ["FocalTemperatureScaling"]

#: How close to a bound of the joint search (in log T or g) a fit counts as
#: on it, for the warning of :meth:`FocalTemperatureScaling._warn_at_bound`.
#: The searches stop short of a bound they run towards: bounded Brent (the
#: one-parameter starts) within a few times its ``xatol = 1e-7`` (it never
#: evaluates a bound itself), L-BFGS-B where the loss, flattening towards
#: its infimum, changes by less than its ``ftol = 1e-14``: 3.7e-6 short of
#: ``log T = 10`` on two rows measured. 1e-5 covers these with room; a
#: change of 1e-5 in log T (a relative 1e-5 in T) or in g is far below what
#: calibration data resolve, and an interior minimizer that close to the
#: bound, arbitrary numbers, would be a coincidence.
_AT_BOUND_TOL = 1e-5

# --------------------------------------------------------------------------
# The map and its derivatives, by rows, in log space
# --------------------------------------------------------------------------


def _shifted_scaled_logits(logits, temperature):
    """``(z - max z) / T`` by rows, halved and doubled as in ``_scaled_log_softmax``.

    Taking the maximum off first keeps ``z / T`` from overflowing; the halves
    keep ``-1e308 - 1e308`` from overflowing. ``-inf`` logits stay ``-inf``.
    """
    top = np.max(logits, axis=1, keepdims=True)
    with np.errstate(over="ignore", invalid="ignore"):
        return ((0.5 * logits - 0.5 * top) / temperature) * 2.0


def _log_parts(u):
    """``log q``, ``log(1 - q)`` and ``log((1 - q)/q)`` of ``q = softmax(u)``.

    ``u`` holds finite or ``-inf`` log-weights by rows. ``1 - q`` of a row's
    top class is the sum of the others (``R`` below), never ``1 - q``
    rounded, so that rows saturated in float64 keep their information.
    Returns the three arrays and the top column of each row.
    """
    n = u.shape[0]
    rows = np.arange(n)
    top = np.argmax(u, axis=1)
    shifted = u - u[rows, top][:, None]
    others = shifted.copy()
    others[rows, top] = -np.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        # scipy's logsumexp (here and in _psi_branch): 1.05-1.34x the time of
        # the private copy it replaced on the whole objective, measured; kept.
        log_rest = logsumexp(others, axis=1)  # log sum_{j != top} q_j / q_top
        log_norm = np.logaddexp(0.0, log_rest)
        log_q = shifted - log_norm[:, None]
        log_c = log1mexp(log_q)  # exact where q <= 1/2: every column but the top
        log_c[rows, top] = log_rest - log_norm
        log_odds = log_c - log_q
        log_odds[rows, top] = log_rest
    return log_q, log_c, log_odds, top


def _regular(log_q, log_c):
    """Entries with ``0 < q < 1``; the others are 0, or 1 in a one-hot row."""
    return np.isfinite(log_q) & np.isfinite(log_c)


def _temperature_directions(xs, log_q, log_c, top):
    """``d log q / d log T`` and ``d logit(q) / d log T`` of ``softmax(xs)``.

    ``d log q_i = m - xs_i`` with ``m = sum_j q_j xs_j``, since ``xs = z / T``
    moves by ``-xs``. The logit direction divides by ``1 - q_i``; for the top
    column it is the mean of the other columns' ``xs`` under their own
    normalized weights, with no cancellation.
    """
    n = xs.shape[0]
    rows = np.arange(n)
    finite = np.isfinite(xs)
    safe_xs = np.where(finite, xs, 0.0)
    with np.errstate(invalid="ignore", over="ignore"):
        weights_rest = np.exp(log_q - log_c[rows, top][:, None])  # q_j / (1 - q_top)
    weights_rest[rows, top] = 0.0
    weights_rest = np.where(finite & np.isfinite(weights_rest), weights_rest, 0.0)
    rest_mean = np.sum(weights_rest * safe_xs, axis=1)
    mean = np.exp(log_c[rows, top]) * rest_mean  # sum_j q_j xs_j (xs_top = 0)
    d_log_q = mean[:, None] - safe_xs
    d_log_q[rows, top] = mean
    with np.errstate(over="ignore", invalid="ignore"):
        d_logit = d_log_q * np.exp(-log_c)
    d_logit[rows, top] = rest_mean
    regular = _regular(log_q, log_c)
    return (
        np.where(regular, d_log_q, 0.0),
        np.where(regular, d_logit, 0.0),
    )


def _log_map_and_gradient(logits, log_temperature, gamma, *, gradient=True):
    """``log Psi^gamma(softmax(z / T))`` by rows and its derivatives.

    Returns ``log p`` of shape (n, K) and, with ``gradient``, the arrays
    ``d log p / d log T`` and ``d log p / d gamma`` of the same shape (zero
    where ``p`` is 0, and on rows where it is one-hot).
    """
    xs = _shifted_scaled_logits(logits, np.exp(log_temperature))
    log_q, log_c, log_odds, top = _log_parts(xs)
    regular = _regular(log_q, log_c)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if gamma >= 0:
            log_p, d_t, d_g = _psi_branch(
                xs, log_q, log_c, log_odds, top, regular, gamma, gradient
            )
        else:
            log_p, d_t, d_g = _inverse_branch(
                xs, log_q, log_c, top, regular, -gamma, gradient
            )
    return log_p, d_t, d_g


def _psi_branch(xs, log_q, log_c, log_odds, top, regular, gamma, gradient):
    # log p = L - logsumexp(L), L = log h(q): Psi^gamma in log space.
    safe = (np.where(regular, a, 0.5) for a in (log_q, log_c, log_odds))
    log_h, d_order, slope = log_h_terms(*safe, gamma)
    ones = log_q == 0  # q = 1: the other entries of the row are 0
    log_h = np.where(regular, log_h, np.where(ones, 0.0, -np.inf))
    log_p = log_h - logsumexp(log_h, axis=1, keepdims=True)
    if not gradient:
        return log_p, None, None
    p = np.exp(log_p)
    _, d_logit = _temperature_directions(xs, log_q, log_c, top)
    d_h_t = np.where(regular, slope * d_logit, 0.0)
    d_h_g = np.where(regular, d_order, 0.0)
    d_t = d_h_t - np.sum(p * d_h_t, axis=1, keepdims=True)
    d_g = d_h_g - np.sum(p * d_h_g, axis=1, keepdims=True)
    return log_p, np.where(regular, d_t, 0.0), np.where(regular, d_g, 0.0)


def _inverse_branch(xs, log_q, log_c, top, regular, order, gradient):
    # p = focal_minimizer(q, order): log h(p_i) = log q_i + c by rows.
    p = _signed_map(np.exp(log_q), -order, None)
    log_p_parts = _log_parts(np.log(p))
    log_p = log_p_parts[0]
    if not gradient:
        return log_p, None, None
    log_pp, log_cp, log_odds_p, _ = log_p_parts
    regular_p = _regular(log_pp, log_cp) & regular
    safe = (np.where(regular_p, a, 0.5) for a in (log_pp, log_cp, log_odds_p))
    _, d_order, slope = log_h_terms(*safe, order)
    # Implicit differentiation: S_i d log p_i + H_i d order = d log q_i + d c
    # with S_i = slope_i / (1 - p_i) and sum_i p_i d log p_i = 0.
    inv_s = np.where(regular_p, np.exp(log_cp) / slope, 0.0)  # 1 / S_i
    weight = np.where(regular_p, np.exp(log_pp), 0.0) * inv_s  # p_i / S_i
    total = np.sum(weight, axis=1, keepdims=True)
    total = np.where(total > 0, total, 1.0)
    d_log_q, _ = _temperature_directions(xs, log_q, log_c, top)
    # d gamma = -d order: the right-hand side of the gamma direction is +H_i.
    directions = []
    for rhs in (d_log_q, np.where(regular_p, d_order, 0.0)):
        shift = -np.sum(weight * rhs, axis=1, keepdims=True) / total
        directions.append(np.where(regular_p, inv_s * (rhs + shift), 0.0))
    return log_p, directions[0], directions[1]


def _calibration_loss(logits, y, weight, objective, log_temperature, gamma):
    """Mean NLL or Brier score of the map at ``(log T, gamma)``, and its gradient."""
    log_p, d_t, d_g = _log_map_and_gradient(logits, log_temperature, gamma)
    rows = np.arange(len(y))
    if objective == "nll":
        losses = -log_p[rows, y]
        grads = (-d_t[rows, y], -d_g[rows, y])
    else:
        p = np.exp(log_p)
        residual = p.copy()
        residual[rows, y] -= 1.0
        losses = np.sum(residual**2, axis=1)
        weighted = 2.0 * residual * p
        grads = (np.sum(weighted * d_t, axis=1), np.sum(weighted * d_g, axis=1))
    value = float(np.average(losses, weights=weight))
    gradient = np.array([float(np.average(g, weights=weight)) for g in grads])
    return value, gradient


def _calibration_value(logits, y, weight, objective, log_temperature, gamma):
    log_p, _, _ = _log_map_and_gradient(logits, log_temperature, gamma, gradient=False)
    rows = np.arange(len(y))
    if objective == "nll":
        losses = -log_p[rows, y]
    else:
        residual = np.exp(log_p)
        residual[rows, y] -= 1.0
        losses = np.sum(residual**2, axis=1)
    return float(np.average(losses, weights=weight))


def _rank_detail(logits, y, weight):
    """Why an order at its lower bound can fit best: the true classes' ranks.

    When every row (of positive weight) ranks its true class among its first
    ``m < K`` classes, ``T -> 0`` with ``g -> -inf`` sends the probabilities
    of the classes ranked below ``m`` towards 0 while the first ``m`` keep
    finite odds, and the loss falls along that path. Returns a sentence for
    the warning, or ``""`` when some row ranks its true class last.
    """
    true_class = logits[np.arange(len(y)), y]
    rank = 1 + np.count_nonzero(logits > true_class[:, None], axis=1)
    if weight is not None:
        rank = rank[weight > 0]
    worst, n_classes = int(rank.max()), logits.shape[1]
    if worst >= n_classes:
        return ""
    return (
        f" Every calibration row ranks its true class among its first {worst} "
        f"of {n_classes} classes: as T and gamma fall together, the map sends "
        "the probabilities of the classes ranked below towards 0, so a test "
        "row whose true class ranks lower gets a probability near 0."
    )


# --------------------------------------------------------------------------
# link="sigmoid": the signed binary map of sigmoid(z / T), by entries
# --------------------------------------------------------------------------


def _binary_logit_and_gradient(logits, log_temperature, gamma, *, gradient=True):
    """``logit p`` of ``p = binary_psi^gamma(sigmoid(z / T))`` and its derivatives.

    Elementwise. For ``gamma >= 0``, ``logit p = log h(q) - log h(1 - q)``
    (:func:`~sklearn_focal.theory.binary_psi` without alpha) from the logs of
    ``q = sigmoid(u)`` and ``1 - q``, ``u = z / T``: exact however far ``u``
    is from 0. For ``gamma < 0``, ``p`` is
    :func:`~sklearn_focal.theory.binary_focal_minimizer` of order ``-gamma``,
    which solves ``log h(p) - log h(1 - p) = u``; its derivatives follow by
    implicit differentiation. Returns ``logit p`` and, with ``gradient``,
    ``d logit p / d log T`` and ``d logit p / d gamma`` (0 where ``u`` or
    ``logit p`` is infinite).
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        u = logits / np.exp(log_temperature)
        regular = np.isfinite(u)
        safe_u = np.where(regular, u, 0.0)
        if gamma >= 0:
            log_q, log_c = log_expit(safe_u), log_expit(-safe_u)
            terms_q = log_h_terms(log_q, log_c, -safe_u, gamma, slopes=gradient)
            terms_c = log_h_terms(log_c, log_q, safe_u, gamma, slopes=gradient)
            if not gradient:
                return np.where(regular, terms_q - terms_c, u), None, None
            logit_p = np.where(regular, terms_q[0] - terms_c[0], u)
            # d logit(q) / du = 1, d logit(1 - q) / du = -1, du / d log T = -u.
            d_t = -safe_u * (terms_q[2] + terms_c[2])
            d_g = terms_q[1] - terms_c[1]
            return logit_p, np.where(regular, d_t, 0.0), np.where(regular, d_g, 0.0)
        p = _signed_binary_map(expit(u), gamma, None)
        log_p, log_not_p = np.log(p), np.log1p(-p)
        logit_p = log_p - log_not_p
        if not gradient:
            return logit_p, None, None
        regular = regular & np.isfinite(logit_p)
        safe = np.where(regular, logit_p, 0.0)
        log_p, log_not_p = log_expit(safe), log_expit(-safe)
        _, d_order_p, slope_p = log_h_terms(log_p, log_not_p, -safe, -gamma)
        _, d_order_c, slope_c = log_h_terms(log_not_p, log_p, safe, -gamma)
        # F = log h(p) - log h(1 - p) - u = 0: S d logit p + D d order = du,
        # with S = slope_p + slope_c, D = d_order_p - d_order_c, order = -gamma.
        slope = slope_p + slope_c
        d_t = -safe_u / slope
        d_g = (d_order_p - d_order_c) / slope
        return logit_p, np.where(regular, d_t, 0.0), np.where(regular, d_g, 0.0)


def _binary_losses(logit_p, Y, objective):
    """Per-entry log-loss or Brier score of ``p = sigmoid(logit_p)``, and ``p``."""
    p = expit(logit_p)
    if objective == "nll":
        losses = -np.where(Y == 1, log_expit(logit_p), log_expit(-logit_p))
    else:
        losses = (p - Y) ** 2
    return losses, p


def _binary_calibration_loss(
    logits, Y, keep, weight, objective, log_temperature, gamma, *, gradient=True
):
    """Mean per-entry loss of the binary map over ``keep``, rows weighted.

    Returns the value and, with ``gradient``, its gradient in ``(log T, g)``.
    """
    logit_p, d_t, d_g = _binary_logit_and_gradient(
        logits, log_temperature, gamma, gradient=gradient
    )
    losses, p = _binary_losses(logit_p, Y, objective)
    row_weight = np.ones(Y.shape[0]) if weight is None else weight
    count = float(row_weight @ keep.sum(axis=1))

    def mean(entries):
        return float(row_weight @ np.where(keep, entries, 0.0).sum(axis=1)) / count

    value = mean(losses)
    if not gradient:
        return value
    slope = p - Y  # d log-loss / d logit p
    if objective != "nll":
        slope = 2.0 * slope * p * (1.0 - p)
    return value, np.array([mean(slope * d_t), mean(slope * d_g)])


class FocalTemperatureScaling(_BaseProbaPostprocessor):
    """Temperature scaling and the signed focal map, fitted jointly.

    The calibrated probabilities are

    .. math::

        p = \\Psi^{g}\\left(\\operatorname{softmax}(z / T)\\right),

    with the temperature ``T > 0`` and the signed focal order ``g``:
    :math:`\\Psi^g` (which sharpens) for ``g >= 0``, its inverse of order
    ``-g`` (:func:`~sklearn_focal.theory.focal_minimizer`, which flattens)
    for ``g < 0``, as in :class:`~sklearn_focal.FocalPosteriorRecovery`.
    Both are fitted on calibration data by minimizing the negative
    log-likelihood (or the Brier score) exactly, by L-BFGS-B with analytic
    gradients in ``(log T, g)``. The family nests the identity (``g = 0,
    T = 1``), temperature scaling (``g = 0``), :math:`\\Psi` at a model's
    training order and the signed map (``T = 1``). The fit starts from the
    identity, from the best temperature at ``g = 0`` and from the best
    signed map at ``T = 1``, and keeps the best point found, so its
    calibration loss is never above either one-parameter fit. Like both maps
    it never changes the predicted class.

    Komisarenko and Kull (2024) fit the same family by a grid search.

    Like :class:`~sklearn_focal.TemperatureScaling` it has two modes:

    - **transformer mode** (``estimator=None``): ``X`` holds probabilities
      (``input="proba"``, logits are ``log X``) or logits
      (``input="logits"``); :meth:`transform` returns the mapped
      probabilities;
    - **meta-estimator mode**: wraps a classifier in the style of
      :class:`~sklearn.calibration.CalibratedClassifierCV`. The map is fitted
      on cross-validated predictions (see ``cv``) and the estimator refitted
      on all the data, or, for a :class:`~sklearn.frozen.FrozenEstimator`,
      on the fit data directly. A FocalClassifier is read through its raw
      softmax output.

    Parameters
    ----------
    estimator : estimator instance or None, default=None
        Classifier with ``fit`` and ``predict_proba`` (or ``decision_function``
        for ``input="logits"``), fitted as clones in :meth:`fit`, or a fitted
        one wrapped in :class:`~sklearn.frozen.FrozenEstimator`. ``None``
        selects transformer mode.

    gamma : float, "fit" or "auto", default="fit"
        The focal order ``g``. ``"fit"`` fits it jointly with ``T`` over
        ``[-20, 20]``. A number fixes it (negative values flatten) and only
        ``T`` is fitted. ``"auto"`` (meta mode) fixes it to the order the
        estimator was trained with (its fitted ``gamma_`` first), as
        :class:`~sklearn_focal.FocalPosteriorRecovery` reads it: temperature
        scaling followed by :math:`\\Psi` at the training order.

    objective : {"nll", "brier"}, default="nll"
        The calibration loss minimized: the mean negative log-likelihood, or
        the mean multiclass Brier score ``sum_k (p_k - [y = k])^2``.

    cv : int, cross-validation generator, iterable or None, default=None
        Splitting strategy for the held-out predictions in meta-estimator
        mode with a non-frozen estimator. ``None`` gives stratified 5-fold
        cross-validation. The splits must partition the samples.

    input : {"proba", "logits"}, default="proba"
        What the scores are, as in :class:`~sklearn_focal.TemperatureScaling`.
        ``"proba"``: probabilities, whose logarithms are used as logits.
        ``"logits"``: real-valued scores (in meta mode the estimator's
        ``decision_function``; a binary 1-D score ``s`` becomes ``(0, s)``).

    link : {"auto", "softmax", "sigmoid"}, default="auto"
        ``"softmax"``: the map above over the classes. ``"sigmoid"``:
        per-label scores of a multi-label or detection model, each mapped by
        ``p = binary_psi^g(sigmoid(z / T))`` (the signed binary map of
        :class:`~sklearn_focal.FocalPosteriorRecovery` with
        ``link="sigmoid"``, without ``alpha``), one ``(T, g)`` shared by the
        labels; ``y`` is a multi-label indicator matrix and the objective the
        mean per-label log-loss (or Brier score); probabilities are read as
        their logits ``log(p / (1 - p))``. ``"auto"`` is ``"sigmoid"`` when
        ``y`` is a multi-label indicator matrix, else ``"softmax"``.

    Attributes
    ----------
    temperature_ : float
        The fitted temperature ``T``.

    gamma_ : float
        The signed focal order ``g`` in use; negative values flatten.

    loss_ : float
        The calibration loss (``objective``) of the fitted map on the
        calibration data, per unit of sample weight (per label entry with
        ``link="sigmoid"``).

    link_ : {"softmax", "sigmoid"}
        The link in use.

    estimator_ : estimator instance
        The fitted estimator. Meta-estimator mode only.

    classes_ : ndarray of shape (n_classes,)
        Class labels, from the estimator. Meta-estimator mode only.

    n_features_in_ : int
        Number of input features: the estimator's in meta-estimator mode, the
        number of classes in transformer mode.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the input features, when they are all strings.

    See Also
    --------
    sklearn_focal.TemperatureScaling : The ``g = 0`` member of the family.
    sklearn_focal.FocalPosteriorRecovery : The ``T = 1`` members: Psi at a
        known order (``gamma="auto"``) or the fitted signed map
        (``gamma="fit"``).
    sklearn.calibration.CalibratedClassifierCV : Sigmoid, isotonic and
        temperature calibration.

    Notes
    -----
    In transformer mode ``y`` holds the column index of each row's class,
    integers in ``[0, n_classes)``. With ``objective="nll"``, rows whose true
    class has probability 0 add the same infinite loss to every map of the
    family and are left out of the objective.

    The map for ``g >= 0`` is computed from the scaled logits in log space
    (``1 - q`` of a row's top class is the sum of the other classes), so
    that rows whose top probability rounds to 1 keep finite losses; its
    values equal :func:`~sklearn_focal.theory.psi` wherever the
    probabilities resolve ``1 - q``. With the derivatives of
    ``log h(q) = (1 - g) log(1 - q) - log((1 - q)/q - g log q)`` in ``g``
    and in ``logit(q)``, and of ``log softmax(z / T)`` in ``log T``, the
    gradient of ``log p = log h(q) - log sum_l h(q_l)`` is exact. For
    ``g < 0``, ``p`` solves ``log h_{-g}(p_i) = log q_i + c`` and its
    derivatives follow by implicit differentiation.

    ``log T`` is searched in ``[-10, 10]`` and ``g`` in ``[-20, 20]``. When
    the calibration data cannot tell the identity from the most extreme maps
    of either one-parameter search (as when every row is one-hot, or correct
    and nearly one-hot) and no joint map improves on the identity by more
    than ``1e-6 * max(1, loss)`` per sample, the identity (``T = 1, g = 0``)
    is used, with a
    :class:`~sklearn_focal.exceptions.FlatCalibrationWarning`. When no
    calibration row ranks another class above its true class (separated
    data: the true class first, alone or tied, as on small or easy
    calibration sets), the loss falls as the map sharpens without limit and
    no finite map minimizes it. The fit then fits the temperature alone,
    at ``g = 0`` (with ``gamma="fit"``) or at the fixed ``gamma``, by the
    one-parameter search of ``log T`` that
    :class:`~sklearn_focal.TemperatureScaling` uses. With
    ``objective="nll"`` at ``g = 0`` it is TemperatureScaling's fit itself
    (the same ``temperature_`` and warnings), so the calibration NLL is
    never above temperature scaling's. With ``objective="brier"`` it is that
    search on the Brier score (of ``softmax(z / T)`` at ``g = 0``), which
    TemperatureScaling does not offer (its objectives are the NLL and the
    focal loss): the temperature minimizes the Brier score, and need not be
    TemperatureScaling's. Either way, that is ``T = 1`` with the flat
    warning when the gain over the identity is below the tolerance above;
    otherwise the temperature where the search stops, at or near ``e^-10``,
    kept with a
    :class:`~sklearn_focal.exceptions.FlatCalibrationWarning` that says the
    loss has no finite minimizer: such a map gives any test row it
    misclassifies a probability near 0 for its true class.

    A joint fit that ends on a bound of the search (``g = -20`` or ``20``,
    ``log T = -10`` or ``10``, or within ``1e-5`` of one, where the searches
    stop short of it) is kept, with a FlatCalibrationWarning: the
    loss falls towards that bound and no map inside the search range
    minimizes it. A common case: every calibration row ranks its true class
    among its first two (not all first), and as ``T`` and ``g`` fall
    together the map sends the probabilities of the classes ranked below
    towards 0; a test row whose true class ranks lower then gets a
    probability near 0.

    With ``link="sigmoid"``, ``logit p = log h(q) - log h(1 - q)`` is
    computed from ``log q`` and ``log(1 - q)`` of ``q = sigmoid(z / T)``, so
    saturated entries keep finite losses; for ``g < 0``, ``p`` is
    :func:`~sklearn_focal.theory.binary_focal_minimizer`, differentiated
    implicitly. Entries whose raw probability is 0 on a 1 (or 1 on a 0) are
    left out of the NLL (their loss is the same under every map). When
    every other entry lies on its label's side of 0 or at 0, the
    temperature is fitted alone at ``g = 0`` (or the fixed ``gamma``) as
    ``TemperatureScaling(link="sigmoid")`` fits its shared temperature, with
    the same warnings (with ``objective="brier"``, by the same search on the
    Brier score). In the binary
    family ``T`` and ``g`` are nearly interchangeable (``logit p`` is close
    to linear in ``z`` for both), so the fitted pair is well determined by
    its loss, less so by its two values.

    ``sample_weight`` must be finite, non-negative and not all zero;
    otherwise a ``ValueError`` is raised before anything is fitted.

    References
    ----------
    .. [1] C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On Calibration of
       Modern Neural Networks", ICML 2017.
    .. [2] N. Charoenphakdee, J. Vongkulbhisal, N. Chairatanakul and
       M. Sugiyama, "On Focal Loss for Class-Posterior Probability Estimation:
       A Theoretical Perspective", CVPR 2021.
    .. [3] V. Komisarenko and M. Kull, "Improving Calibration by Relating
       Focal Loss, Temperature Scaling, and Properness", ECAI 2024.

    Examples
    --------
    Transformer mode, on logits whose calibrated map is known (T = 2,
    g = 1.5), estimated from 3000 labels:

    >>> import numpy as np
    >>> from sklearn_focal import FocalTemperatureScaling
    >>> from sklearn_focal.theory import psi
    >>> from scipy.special import softmax
    >>> rng = np.random.default_rng(0)
    >>> z = 3 * rng.standard_normal((3000, 3))
    >>> p = psi(softmax(z / 2.0, axis=1), 1.5)  # T = 2, g = 1.5
    >>> y = (p.cumsum(axis=1) < rng.random((3000, 1))).sum(axis=1)
    >>> fts = FocalTemperatureScaling(input="logits").fit(z, y)
    >>> round(fts.temperature_, 1), round(fts.gamma_, 1)
    (1.9, 1.3)
    >>> fts.transform(z[:1]).round(3)
    array([[0.185, 0.117, 0.698]])

    Meta-estimator mode, on a model fitted beforehand:

    >>> from sklearn.datasets import load_iris
    >>> from sklearn.frozen import FrozenEstimator
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LogisticRegression(max_iter=1000).fit(X[::2], y[::2])
    >>> fts = FocalTemperatureScaling(FrozenEstimator(clf)).fit(X[1::2], y[1::2])
    >>> fts.predict_proba(X[:1]).shape
    (1, 3)

    Per-label outputs (``link="sigmoid"``), here of a model trained with the
    sigmoid focal loss of order 2 on known posteriors:

    >>> from sklearn_focal.theory import binary_focal_minimizer
    >>> eta = rng.uniform(0.05, 0.95, size=(2000, 2))
    >>> labels = (rng.random(eta.shape) < eta).astype(int)
    >>> q = binary_focal_minimizer(eta, 2.0)
    >>> fts = FocalTemperatureScaling(link="sigmoid").fit(q, labels)
    >>> fts.transform(q[:1]).shape
    (1, 2)
    >>> bool(np.abs(fts.transform(q) - eta).mean() < np.abs(q - eta).mean())
    True
    """

    _parameter_constraints: dict = {
        "estimator": [
            HasMethods(["fit", "predict_proba"]),
            HasMethods(["fit", "decision_function"]),
            None,
        ],
        "gamma": [
            Interval(Real, None, None, closed="neither"),
            StrOptions({"fit", "auto"}),
        ],
        "objective": [StrOptions({"nll", "brier"})],
        "cv": ["cv_object"],
        "input": [StrOptions({"proba", "logits"})],
        "link": [StrOptions({"auto", "softmax", "sigmoid"})],
    }

    def __init__(
        self,
        estimator=None,
        *,
        gamma="fit",
        objective="nll",
        cv=None,
        input="proba",
        link="auto",
    ):
        self.estimator = estimator
        self.gamma = gamma
        self.objective = objective
        self.cv = cv
        self.input = input
        self.link = link

    @_fit_context(
        # FocalTemperatureScaling.estimator is not validated yet
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y, sample_weight=None, **fit_params):
        """Fit the map (and, in meta mode, the estimator).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data in meta-estimator mode; probabilities or logits of
            shape (n_samples, n_classes) in transformer mode.

        y : array-like of shape (n_samples,)
            Target labels. In transformer mode, the column index of each
            row's class.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights of the calibration objective. In meta-estimator
            mode they are also passed to the estimator's ``fit`` when it
            accepts them (or, with metadata routing enabled, requests them).

        **fit_params : dict
            Meta-estimator mode: parameters passed to the estimator's ``fit``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if not isinstance(self.gamma, str):
            # The one gamma rule: sklearn's Interval(Real) lets a bool through.
            check_gamma(self.gamma, signed=True)
        if self.estimator is None and self.gamma == "auto":
            raise ValueError(
                "FocalTemperatureScaling(gamma='auto') reads gamma from the "
                "wrapped model, but in transformer mode (estimator=None) there "
                "is none. Pass gamma='fit' or the focal-loss order, e.g. "
                "gamma=2.0."
            )
        if self.estimator is not None:
            method = "predict_proba" if self.input == "proba" else "decision_function"
            if not hasattr(self.estimator, method):
                raise ValueError(
                    f"FocalTemperatureScaling(input={self.input!r}) reads the "
                    f"estimator's {method}, which "
                    f"{type(self.estimator).__name__} does not have."
                )
        return self._fit(X, y, sample_weight, fit_params)

    # ---- hooks ------------------------------------------------------------

    # Scores are read as TemperatureScaling reads them: log-probabilities, or
    # logits from decision_function.
    _scores = TemperatureScaling._scores
    _transformer_scores = TemperatureScaling._transformer_scores
    _sigmoid_scores = TemperatureScaling._sigmoid_scores
    _sigmoid_transformer_scores = TemperatureScaling._sigmoid_transformer_scores

    def _needs_calibration_data(self):
        return True

    def _missing_y_message(self):
        return (
            "FocalTemperatureScaling requires y to be passed, but the target y "
            "is None: the map is fitted on labelled data."
        )

    def _check_transformer_input(self, X):
        if self.input == "proba":
            check_probability_rows(X, type(self).__name__)
        elif X.shape[1] < 2:
            raise ValueError(
                f"X has {X.shape[1]} feature(s), but FocalTemperatureScaling "
                "needs one logit column per class, at least 2."
            )
        return X

    def _fit_map(self, logits, y, sample_weight, estimator):
        if self.objective == "nll":
            # A true-class logit of -inf (probability 0) stays -inf everywhere.
            keep = np.isfinite(logits[np.arange(len(y)), y])
        else:
            keep = np.ones(len(y), dtype=bool)
        logits, y, weight = _calibration_rows(logits, y, sample_weight, keep)
        fit_gamma, gamma = self._resolve_gamma(estimator)
        # Separated rows: no finite map minimizes the loss. The temperature is
        # fitted at g = 0 (or at the fixed order) as TemperatureScaling fits
        # it, so the calibration loss is never above TemperatureScaling's.
        separated = _separated(logits, y, weight)
        if fit_gamma and not separated:
            log_temperature, gamma = self._fit_joint(
                lambda theta: _calibration_value(
                    logits, y, weight, self.objective, *theta
                ),
                lambda theta: _calibration_loss(
                    logits, y, weight, self.objective, *theta
                ),
                "FocalTemperatureScaling",
            )
            self._warn_at_bound(
                log_temperature, gamma, lambda: _rank_detail(logits, y, weight)
            )
        elif gamma == 0 and self.objective == "nll":
            # Temperature scaling: TemperatureScaling's own fit, so exactly
            # its temperature (and its warnings).
            log_temperature = _fit_log_temperature(
                logits,
                y,
                weight,
                0.0,
                owner=self._owner(fit_gamma, gamma),
                fitted=", gamma_ = 0",
            )
        else:
            log_temperature = self._fit_temperature(
                lambda t: _calibration_value(
                    logits, y, weight, self.objective, t, gamma
                ),
                fit_gamma,
                gamma,
                _ROWS_SEPARATED if separated else None,
            )
        self.temperature_ = float(np.exp(log_temperature))
        self.gamma_ = float(gamma)
        self.loss_ = _calibration_value(
            logits, y, weight, self.objective, log_temperature, gamma
        )

    def _resolve_gamma(self, estimator):
        """``(fit_gamma, gamma)``: whether g is fitted, and its fixed or start value."""
        if isinstance(self.gamma, str) and self.gamma == "fit":
            return True, 0.0
        if isinstance(self.gamma, str):  # "auto"
            return False, focal_gamma(
                estimator, "FocalTemperatureScaling(gamma='auto')"
            )
        return False, check_gamma(self.gamma, signed=True)

    def _owner(self, fit_gamma, gamma):
        """The estimator as warnings name it."""
        link = ", link='sigmoid'" if self._link() == "sigmoid" else ""
        if fit_gamma:
            return f"FocalTemperatureScaling(gamma='fit'{link})"
        return f"FocalTemperatureScaling(gamma={gamma:g}{link})"

    def _fit_temperature(self, value, fit_gamma, gamma, separated):
        """``log T`` at a fixed order by TemperatureScaling's one-dimensional
        search: at ``gamma``, or at ``g = 0`` on separated data with
        ``gamma="fit"``. ``separated``: the separation met (for the warning
        that the loss has no finite minimizer), or None."""
        owner = self._owner(fit_gamma, gamma)
        fitted = f", gamma_ = {gamma:g}"
        log_temperature = _minimize_on_interval(
            value,
            _LOG_TEMPERATURE_BOUNDS,
            identity=0.0,
            parameter="log T",
            owner=owner,
            identity_text=f"temperature_ = 1{fitted}",
        )
        if separated is not None:
            _warn_unbounded(owner, log_temperature, separated, fitted)
        return log_temperature

    def _warn_at_bound(self, log_temperature, gamma, detail=None):
        """Warn when the joint fit ends on a bound of its search box.

        On it means within :data:`_AT_BOUND_TOL` of it: the searches stop a
        hair short of a bound they run towards.

        The loss then falls towards the bound: no map inside the search range
        minimizes it. ``detail``: a callable giving the cause, for an order at
        its lower bound, or None.
        """
        ends = [
            f"{name} = {value:g}"
            for name, value, (low, high) in (
                ("log T", log_temperature, _LOG_TEMPERATURE_BOUNDS),
                ("gamma", gamma, _GAMMA_FIT_BOUNDS),
            )
            if value <= low + _AT_BOUND_TOL or value >= high - _AT_BOUND_TOL
        ]
        if not ends:
            return
        cause = ""
        if detail is not None and gamma <= _GAMMA_FIT_BOUNDS[0] + _AT_BOUND_TOL:
            cause = detail()
        warnings.warn(
            f"{self._owner(True, gamma)}: the joint fit stops at the bound "
            f"{' and '.join(ends)} of its search (temperature_ = "
            f"{np.exp(log_temperature):.3g}, gamma_ = {gamma:g}): the "
            "calibration loss keeps falling towards it, and no map inside the "
            f"search range minimizes it.{cause} The fitted map is kept; its "
            "calibration loss is not above TemperatureScaling's or the signed "
            "map's, but its test loss can be.",
            FlatCalibrationWarning,
            stacklevel=_user_stacklevel(),  # the user's fit call
        )

    def _fit_joint(self, value, value_and_gradient, owner):
        """The joint fit of ``(log T, g)``, given the objective and its gradient."""
        # The one-parameter fits: the best temperature at g = 0 and the best
        # signed map at T = 1, the starts (with the identity) of the joint fit.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", FlatCalibrationWarning)
            start_t = _minimize_on_interval(
                lambda t: value((t, 0.0)),
                _LOG_TEMPERATURE_BOUNDS,
                identity=0.0,
                parameter="log T",
                owner=owner,
                identity_text="temperature_ = 1",
            )
            start_g = _minimize_on_interval(
                lambda g: value((0.0, g)),
                _GAMMA_FIT_BOUNDS,
                identity=0.0,
                parameter="gamma",
                owner=owner,
                identity_text="gamma_ = 0",
            )
        flat = [w for w in caught if issubclass(w.category, FlatCalibrationWarning)]
        for w in caught:
            if not issubclass(w.category, FlatCalibrationWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)

        starts = [(0.0, 0.0), (start_t, 0.0), (0.0, start_g), (start_t, start_g)]
        candidates = [(value(s), tuple(s)) for s in starts]
        for start in starts:
            with np.errstate(all="ignore"):
                result = minimize(
                    value_and_gradient,
                    np.asarray(start),
                    jac=True,
                    method="L-BFGS-B",
                    bounds=[_LOG_TEMPERATURE_BOUNDS, _GAMMA_FIT_BOUNDS],
                    options={"ftol": 1e-14, "gtol": 1e-10, "maxiter": 500},
                )
            point = (float(result.x[0]), float(result.x[1]))
            candidates.append((value(point), point))
        finite = [c for c in candidates if np.isfinite(c[0])]
        if not finite:
            raise ValueError(
                "The calibration objective is infinite at every start of the "
                "search: every calibration row gives probability 0 to its true "
                "class."
            )
        best_value, best = min(finite, key=lambda c: c[0])

        at_identity = candidates[0][0]
        tolerance = _FLAT_TOL * max(1.0, abs(at_identity))
        if len(flat) == 2 and at_identity <= best_value + tolerance:
            warnings.warn(
                f"{owner}: the calibration objective is flat: "
                "neither the temperature nor the focal order can be told from "
                "the identity map by the calibration data (as when every "
                "calibration row is one-hot, or correct and nearly one-hot). "
                "The identity map is used (temperature_ = 1, gamma_ = 0).",
                FlatCalibrationWarning,
                stacklevel=_user_stacklevel(),  # the user's fit call
            )
            return 0.0, 0.0
        return best

    def _map(self, logits):
        log_p, _, _ = _log_map_and_gradient(
            logits, np.log(self.temperature_), self.gamma_, gradient=False
        )
        return np.exp(log_p)

    # ---- the sigmoid link -------------------------------------------------

    def _fit_sigmoid_map(self, logits, Y, sample_weight, estimator):
        owner = "FocalTemperatureScaling(link='sigmoid')"
        objective = self.objective
        # A logit of -inf on a 1 (or +inf on a 0) has the same loss under
        # every map of the family (infinite NLL, Brier score 1): such entries
        # are left out of the NLL, and of the separation test.
        changeable = _label_entries_kept(logits, Y)
        if objective == "nll":
            keep = changeable
        else:
            keep = np.ones(Y.shape, dtype=bool)
        row_weight = np.ones(Y.shape[0]) if sample_weight is None else sample_weight
        if not row_weight @ keep.sum(axis=1) > 0:
            raise ValueError(
                "Every calibration entry (of a row with a positive "
                "sample_weight) gives its observed label probability 0, a loss "
                "that no map can change; the map cannot be fitted."
            )
        fit_gamma, gamma = self._resolve_gamma(estimator)

        def value(theta):
            return _binary_calibration_loss(
                logits, Y, keep, sample_weight, objective, *theta, gradient=False
            )

        def value_and_gradient(theta):
            return _binary_calibration_loss(
                logits, Y, keep, sample_weight, objective, *theta
            )

        separated = _labels_separated(logits, Y, changeable, sample_weight)
        if fit_gamma and not separated:
            log_temperature, gamma = self._fit_joint(value, value_and_gradient, owner)
            self._warn_at_bound(log_temperature, gamma)
        else:
            log_temperature = self._fit_temperature(
                lambda t: value((t, gamma)),
                fit_gamma,
                gamma,
                _ENTRIES_SEPARATED if separated else None,
            )
        self.temperature_ = float(np.exp(log_temperature))
        self.gamma_ = float(gamma)
        self.loss_ = value((log_temperature, gamma))

    def _sigmoid_map(self, logits):
        logit_p, _, _ = _binary_logit_and_gradient(
            logits, np.log(self.temperature_), self.gamma_, gradient=False
        )
        return expit(logit_p)

    # ---- transformer API --------------------------------------------------

    def transform(self, X):
        """Map scores to calibrated probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Transformer mode: probabilities or logits of shape (n_samples,
            n_classes), per ``input``. Meta-estimator mode: samples, as
            accepted by the estimator; the result is :meth:`predict_proba`.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_classes)
            ``Psi^gamma_(softmax(logits / temperature_))``; rows sum to 1.
        """
        if self.estimator is not None:
            return self.predict_proba(X)
        check_is_fitted(self)
        if self._link() == "sigmoid":
            X = _validate_rows(self, X, reset=False)
            return self._sigmoid_map(self._sigmoid_transformer_scores(X))
        return self._map(self._transformer_scores(self._transform_input(X)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.estimator is None and self.input == "logits":
            tags.input_tags.positive_only = False
        return tags
