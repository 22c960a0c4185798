"""Calibration metrics, divergences to known posteriors, and scorers.

scikit-learn has no expected calibration error and its calibration curve is
binary-only. This module provides binned calibration errors for multiclass
problems (top-label, class-wise and binary), the mean KL divergence to known
class posteriors, the multiclass Brier score, bootstrap confidence intervals,
per-label calibration error, Brier score and log-loss for multi-label
(sigmoid) outputs, and scorers that plug into
:class:`~sklearn.model_selection.GridSearchCV`.

Binning convention
------------------
Bins are half-open ``[e_b, e_{b+1})`` except the last, which is closed
``[e_{B-1}, 1]``, as in :func:`numpy.histogram`. Confidences of exactly 0
and exactly 1 are therefore valid and land in the first and last bin. With
``strategy="uniform"`` the edges are ``numpy.linspace(0, 1, n_bins + 1)``;
with ``strategy="quantile"`` the inner edges are quantiles of the scores
(weighted when ``sample_weight`` is given). Empty bins are excluded.
"""
# SPDX-License-Identifier: BSD-3-Clause

from sklearn_focal.metrics._calibration_error import (
    binned_calibration,
    classwise_calibration_error,
    expected_calibration_error,
    maximum_calibration_error,
)
from sklearn_focal.metrics._common import ConfidenceInterval
from sklearn_focal.metrics._multilabel import (
    multilabel_brier_score,
    multilabel_calibration_error,
    multilabel_log_loss,
)
from sklearn_focal.metrics._scorers import (
    calibration_scorers,
    multilabel_scorers,
    neg_classwise_calibration_error,
    neg_expected_calibration_error,
    neg_maximum_calibration_error,
    neg_multiclass_brier_score,
    neg_multilabel_brier_score,
    neg_multilabel_calibration_error,
    neg_multilabel_log_loss,
    neg_posterior_kl_divergence,
)
from sklearn_focal.metrics._scores import (
    multiclass_brier_score,
    posterior_kl_divergence,
)

__all__ = [
    "ConfidenceInterval",
    "binned_calibration",
    "calibration_scorers",
    "classwise_calibration_error",
    "expected_calibration_error",
    "maximum_calibration_error",
    "multiclass_brier_score",
    "multilabel_brier_score",
    "multilabel_calibration_error",
    "multilabel_log_loss",
    "multilabel_scorers",
    "neg_classwise_calibration_error",
    "neg_expected_calibration_error",
    "neg_maximum_calibration_error",
    "neg_multiclass_brier_score",
    "neg_multilabel_brier_score",
    "neg_multilabel_calibration_error",
    "neg_multilabel_log_loss",
    "neg_posterior_kl_divergence",
    "posterior_kl_divergence",
]
