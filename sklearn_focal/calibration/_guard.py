"""The check that blind posterior recovery helps on the calibration data.

:class:`~sklearn_focal.FocalPosteriorRecovery` with ``gamma="auto"`` applies
Psi at the order the model was trained with, without looking at labels. Psi
is exact at the focal-risk minimizer; a network trained to convergence on
finite data over-fits instead, and its over-confidence is what Psi, which
sharpens, makes worse. When the model is a
:class:`~sklearn.frozen.FrozenEstimator`, the data passed to ``fit`` are
held-out calibration data, and :func:`warn_if_recovery_hurts` compares the
negative log-likelihood of the raw and the mapped probabilities on them: of
the true class with ``link="softmax"``, per label (the binary log-loss of
each entry of the indicator matrix, :func:`~sklearn_focal.theory.binary_psi`
being the map) with ``link="sigmoid"``.
"""
# SPDX-License-Identifier: BSD-3-Clause

import warnings

import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.utils.validation import column_or_1d

from sklearn_focal.calibration._base import _FLAT_TOL
from sklearn_focal.exceptions import PosteriorRecoveryWarning
from sklearn_focal.utils.validation import check_indicator, check_sample_weight

__all__ = ["warn_if_recovery_hurts"]


def _nll(proba_true, weight):
    with np.errstate(divide="ignore"):
        return float(np.average(-np.log(proba_true), weights=weight))


def _label_log_losses(proba, Y):
    """The binary log-loss of every entry: ``-log p`` where ``Y = 1``, else
    ``-log(1 - p)``."""
    with np.errstate(divide="ignore"):
        return np.where(Y == 1, -np.log(proba), -np.log1p(-proba))


def _weighted_entry_mean(losses, keep, row_weight):
    """Mean of ``losses`` over the ``keep`` entries, rows weighted."""
    total = row_weight @ np.where(keep, losses, 0.0).sum(axis=1)
    return float(total / (row_weight @ keep.sum(axis=1)))


def _order_text(gamma):
    if np.ndim(gamma) == 0:
        return f"gamma={float(gamma):g}"
    return "gamma=[" + ", ".join(f"{float(g):g}" for g in np.ravel(gamma)) + "]"


def _map_is_identity(recovery):
    """Whether the fitted map leaves every output as it is.

    Order 0 is the identity only without class weights: with ``alpha`` (or a
    ``pos_weight``, folded into it) the map at order 0 still rescales the
    odds, by the weight ratio, and can hurt as any other order.
    """
    if np.any(np.asarray(recovery.gamma_, dtype=float) != 0):
        return False
    alpha = getattr(recovery, "alpha_", None)
    if alpha is None:
        return True
    alpha = np.asarray(alpha, dtype=float)
    if getattr(recovery, "link_", "softmax") == "sigmoid":
        return bool(np.all(alpha == 0.5))
    return bool(np.all(alpha == alpha.flat[0]))


def warn_if_recovery_hurts(recovery, X, y, sample_weight, *, stacklevel):
    """Warn when Psi raises the calibration NLL of a fitted recovery above raw.

    Only for ``gamma="auto"`` around a FrozenEstimator (the fit data are then
    calibration data, not the training data of a refitted clone) and a map
    that is not the identity (a non-zero order, or class weights). Rows whose
    label is not one of ``classes_``, or whose raw probability of it is 0
    (Psi keeps a zero), are left out; the warning is raised when the mapped
    NLL exceeds the raw one by more than
    ``1e-6 * max(1, raw)`` nats per unit of weight. With ``link="sigmoid"``
    the NLL is the mean binary log-loss per entry of the indicator matrix
    (rows weighted), entries whose raw loss is infinite (a raw 0 or 1 on the
    other value, kept by the map) left out; the warning names the per-label
    alternatives.

    Parameters
    ----------
    recovery : FocalPosteriorRecovery
        Fitted, in meta-estimator mode.
    X, y, sample_weight : array-like
        The data ``fit`` was given.
    stacklevel : int
        Passed to :func:`warnings.warn`, to point at the user's ``fit`` call.

    Returns
    -------
    nll : tuple of float or None
        ``(raw, mapped)`` mean NLL on the calibration rows, or None when the
        check does not apply.
    """
    if not (
        isinstance(recovery.gamma, str)
        and recovery.gamma == "auto"
        and isinstance(recovery.estimator, FrozenEstimator)
        and not _map_is_identity(recovery)
    ):
        return None
    link = getattr(recovery, "link_", "softmax")
    if link == "sigmoid":
        return _warn_if_label_recovery_hurts(
            recovery, X, y, sample_weight, stacklevel=stacklevel + 1
        )
    if np.ndim(recovery.gamma_) != 0:
        return None
    y = column_or_1d(y)
    classes = recovery.classes_
    index = np.clip(np.searchsorted(classes, y), 0, len(classes) - 1)
    rows = np.arange(len(y))
    raw = recovery._scores(recovery.estimator_, X)
    raw_true = raw[rows, index]
    keep = (classes[index] == y) & (raw_true > 0)
    weight = (
        np.ones(len(y))
        if sample_weight is None
        else check_sample_weight(sample_weight, len(y))
    ) * keep
    if not weight.sum() > 0:
        return None
    mapped_true = recovery._map(raw)[rows, index]
    raw_nll = _nll(np.where(keep, raw_true, 1.0), weight)
    mapped_nll = _nll(np.where(keep, mapped_true, 1.0), weight)
    if mapped_nll > raw_nll + _FLAT_TOL * max(1.0, raw_nll):
        warnings.warn(
            f"FocalPosteriorRecovery(gamma='auto'): Psi at the training order "
            f"gamma={recovery.gamma_:g} raises the negative log-likelihood of "
            f"the calibration data from {raw_nll:.4g} (raw output) to "
            f"{mapped_nll:.4g} nats per sample. Psi is exact only for a model "
            "at the focal-risk minimizer; this one is more confident than that "
            "(over-fitted?). Fit the map on the calibration data instead: "
            "FocalPosteriorRecovery(gamma='fit') or FocalTemperatureScaling.",
            PosteriorRecoveryWarning,
            stacklevel=stacklevel + 1,
        )
    return raw_nll, mapped_nll


def _warn_if_label_recovery_hurts(recovery, X, y, sample_weight, *, stacklevel):
    """The check of :func:`warn_if_recovery_hurts` for ``link="sigmoid"``."""
    Y = check_indicator(y, np.shape(y)[0])
    row_weight = (
        np.ones(Y.shape[0])
        if sample_weight is None
        else check_sample_weight(sample_weight, Y.shape[0])
    )
    raw = recovery._sigmoid_scores(recovery.estimator_, X)
    raw_losses = _label_log_losses(raw, Y)
    keep = np.isfinite(raw_losses)
    if not row_weight @ keep.sum(axis=1) > 0:
        return None
    mapped_losses = _label_log_losses(recovery._sigmoid_map(raw), Y)
    raw_nll = _weighted_entry_mean(raw_losses, keep, row_weight)
    mapped_nll = _weighted_entry_mean(mapped_losses, keep, row_weight)
    if mapped_nll > raw_nll + _FLAT_TOL * max(1.0, raw_nll):
        warnings.warn(
            "FocalPosteriorRecovery(gamma='auto', link='sigmoid'): binary_psi "
            f"at the training order {_order_text(recovery.gamma_)} raises the "
            "per-label negative log-likelihood of the calibration data from "
            f"{raw_nll:.4g} (raw output) to {mapped_nll:.4g} nats per label "
            "entry. binary_psi is exact only for a model at the focal-risk "
            "minimizer; this one is more confident than that (over-fitted, or "
            "already calibrated?). Fit the map on the calibration data instead: "
            "FocalPosteriorRecovery(gamma='fit', link='sigmoid') or "
            "TemperatureScaling(link='sigmoid').",
            PosteriorRecoveryWarning,
            stacklevel=stacklevel + 1,
        )
    return raw_nll, mapped_nll
