"""The check that blind posterior recovery helps on the calibration data.

:class:`~sklearn_focal.FocalPosteriorRecovery` with ``gamma="auto"`` applies
Psi at the order the model was trained with, without looking at labels. Psi
is exact at the focal-risk minimizer; a network trained to convergence on
finite data over-fits instead, and its over-confidence is what Psi, which
sharpens, makes worse. When the model is a
:class:`~sklearn.frozen.FrozenEstimator`, the data passed to ``fit`` are
held-out calibration data, and :func:`warn_if_recovery_hurts` compares the
negative log-likelihood of the raw and the mapped probabilities on them.
"""
# SPDX-License-Identifier: BSD-3-Clause

import warnings

import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.utils.validation import column_or_1d

from sklearn_focal.calibration._base import _FLAT_TOL
from sklearn_focal.exceptions import PosteriorRecoveryWarning
from sklearn_focal.utils.validation import check_sample_weight

__all__ = ["warn_if_recovery_hurts"]


def _nll(proba_true, weight):
    with np.errstate(divide="ignore"):
        return float(np.average(-np.log(proba_true), weights=weight))


def warn_if_recovery_hurts(recovery, X, y, sample_weight, *, stacklevel):
    """Warn when Psi raises the calibration NLL of a fitted recovery above raw.

    Only for ``gamma="auto"`` around a FrozenEstimator (the fit data are then
    calibration data, not the training data of a refitted clone) and a
    non-zero order. Rows whose label is not one of ``classes_``, or whose raw
    probability of it is 0 (Psi keeps a zero), are left out; the warning is
    raised when the mapped NLL exceeds the raw one by more than
    ``1e-6 * max(1, raw)`` nats per unit of weight.

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
        and getattr(recovery, "link_", "softmax") == "softmax"
        and np.ndim(recovery.gamma_) == 0
        and recovery.gamma_ != 0
    ):
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
