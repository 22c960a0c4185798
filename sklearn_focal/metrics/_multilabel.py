"""Metrics of per-label probabilities: multi-label and detection outputs.

A multi-label model (or a detector's classification head) gives one
probability per label, ``y_prob`` of shape (n_samples, n_labels), for an
indicator ``y_true`` of the same shape. Each label is a binary problem: its
calibration error, Brier score and log-loss are those of the probability of
1, averaged over the labels (``average="macro"``) or returned per label
(``average=None``). The calibration error can also pool every (sample,
label) entry into one binary reliability curve (``average="pooled"``), the
usual view of a detector's scores. ``y_prob`` may also be scikit-learn's
multi-label ``predict_proba`` output, a list of L arrays of shape (n, 2).
"""
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import xlogy

from sklearn_focal.metrics._calibration_error import (
    any_dask,
    expected_calibration_error,
)
from sklearn_focal.utils._compat import Interval, StrOptions, validate_params
from sklearn_focal.utils.validation import (
    check_indicator,
    check_label_proba,
    check_sample_weight,
)

__all__ = [
    "multilabel_brier_score",
    "multilabel_calibration_error",
    "multilabel_log_loss",
]

_COMMON_PARAMS = {
    "y_true": ["array-like", "sparse matrix"],
    "y_prob": ["array-like", list],
    "sample_weight": ["array-like", None],
}


def _validate(y_true, y_prob, sample_weight, metric):
    """(Y int8 (n, L), P float64 (n, L), weights float64 (n,) or None)."""
    parts = y_prob if isinstance(y_prob, list) else [y_prob]
    if any_dask(y_true, sample_weight, *parts):
        # Refused rather than computed whole in memory by np.asarray.
        raise TypeError(
            f"{metric} does not take dask arrays. Compute it on numpy arrays "
            "(e.g. y_prob.compute() on a sample that fits in memory), or use "
            "expected_calibration_error(y_true[:, j], y_prob[:, j], "
            "kind='binary') per label j, which runs blockwise on dask arrays."
        )
    proba = check_label_proba(y_prob, "y_prob")
    indicator = check_indicator(y_true, proba.shape[0], proba.shape[1], "y_true")
    if sample_weight is not None:
        sample_weight = check_sample_weight(sample_weight, proba.shape[0])
    return indicator, proba, sample_weight


def _per_label_mean(losses, sample_weight, average):
    """Weighted mean over rows of each label's losses; then ``average``."""
    per_label = np.average(losses, axis=0, weights=sample_weight)
    return per_label if average is None else float(np.mean(per_label))


@validate_params(
    {**_COMMON_PARAMS, "average": [StrOptions({"macro"}), None]},
    prefer_skip_nested_validation=True,
)
def multilabel_brier_score(
    y_true: ArrayLike,
    y_prob: ArrayLike,
    *,
    average: str | None = "macro",
    sample_weight: ArrayLike | None = None,
):
    """Brier score of each label's probability, averaged over the labels.

    ``mean_i w_i (p_ij - y_ij)^2 / sum_i w_i`` for every label ``j``.

    Parameters
    ----------
    y_true : array-like or sparse matrix of shape (n_samples, n_labels)
        Indicator matrix of the labels (0 or 1).
    y_prob : array-like of shape (n_samples, n_labels) or list of arrays
        Probability of each label being 1; or scikit-learn's list of
        ``n_labels`` arrays of shape (n_samples, 2).
    average : {"macro"} or None, default="macro"
        ``"macro"``: the mean over labels (equal to the mean over all
        entries); None: one score per label.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each sample (all its labels).

    Returns
    -------
    score : float or ndarray of shape (n_labels,)
        Lower is better; in [0, 1].

    Examples
    --------
    >>> from sklearn_focal.metrics import multilabel_brier_score
    >>> y = [[1, 0], [0, 0]]
    >>> p = [[0.9, 0.2], [0.4, 0.1]]
    >>> multilabel_brier_score(y, p, average=None)
    array([0.085, 0.025])
    """
    indicator, proba, weight = _validate(
        y_true, y_prob, sample_weight, "multilabel_brier_score"
    )
    return _per_label_mean((proba - indicator) ** 2, weight, average)


@validate_params(
    {**_COMMON_PARAMS, "average": [StrOptions({"macro"}), None]},
    prefer_skip_nested_validation=True,
)
def multilabel_log_loss(
    y_true: ArrayLike,
    y_prob: ArrayLike,
    *,
    average: str | None = "macro",
    sample_weight: ArrayLike | None = None,
):
    """Log-loss of each label's probability, averaged over the labels.

    ``-mean_i w_i (y_ij log p_ij + (1 - y_ij) log(1 - p_ij))`` in nats for
    every label ``j``. Probabilities are used as given (no clipping): a
    probability of 0 for an observed 1 (or of 1 for an observed 0) gives
    ``inf``.

    Parameters
    ----------
    y_true : array-like or sparse matrix of shape (n_samples, n_labels)
        Indicator matrix of the labels (0 or 1).
    y_prob : array-like of shape (n_samples, n_labels) or list of arrays
        Probability of each label being 1; or scikit-learn's list of
        ``n_labels`` arrays of shape (n_samples, 2).
    average : {"macro"} or None, default="macro"
        ``"macro"``: the mean over labels; None: one value per label.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each sample (all its labels).

    Returns
    -------
    loss : float or ndarray of shape (n_labels,)
        Lower is better.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.metrics import multilabel_log_loss
    >>> loss = multilabel_log_loss([[1, 0]], [[0.5, 0.5]])
    >>> bool(np.isclose(loss, np.log(2)))
    True
    """
    indicator, proba, weight = _validate(
        y_true, y_prob, sample_weight, "multilabel_log_loss"
    )
    with np.errstate(divide="ignore"):
        losses = -xlogy(indicator, proba) - xlogy(1 - indicator, 1.0 - proba)
    return _per_label_mean(losses, weight, average)


@validate_params(
    {
        **_COMMON_PARAMS,
        "average": [StrOptions({"macro", "pooled"}), None],
        "n_bins": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "strategy": [StrOptions({"uniform", "quantile"})],
        "norm": [StrOptions({"l1", "l2", "max"})],
    },
    prefer_skip_nested_validation=True,
)
def multilabel_calibration_error(
    y_true: ArrayLike,
    y_prob: ArrayLike,
    *,
    average: str | None = "macro",
    n_bins: int | str = 10,
    strategy: str = "uniform",
    norm: str = "l1",
    sample_weight: ArrayLike | None = None,
):
    """Binned calibration error of each label's probability.

    Each label ``j`` is a binary problem: its scores ``p_ij`` are binned and
    the mean score of each bin is compared with the fraction of ones, as in
    :func:`~sklearn_focal.metrics.expected_calibration_error` with
    ``kind="binary"``.

    Parameters
    ----------
    y_true : array-like or sparse matrix of shape (n_samples, n_labels)
        Indicator matrix of the labels (0 or 1).
    y_prob : array-like of shape (n_samples, n_labels) or list of arrays
        Probability of each label being 1; or scikit-learn's list of
        ``n_labels`` arrays of shape (n_samples, 2).
    average : {"macro", "pooled"} or None, default="macro"
        ``"macro"``: the mean of the labels' errors; None: one error per
        label; ``"pooled"``: one error of all (sample, label) entries binned
        together (each entry with its sample's weight).
    n_bins : int or "auto", default=10
        Number of bins (see
        :func:`~sklearn_focal.metrics.expected_calibration_error`).
    strategy : {"uniform", "quantile"}, default="uniform"
        Equal-width or equal-mass bins.
    norm : {"l1", "l2", "max"}, default="l1"
        ECE, its l2 form, or the maximum calibration error.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each sample (all its labels).

    Returns
    -------
    error : float or ndarray of shape (n_labels,)
        Lower is better.

    See Also
    --------
    sklearn_focal.plotting.ReliabilityDisplay : Its ``label`` argument draws
        one label's reliability curve, or the pooled one.

    Examples
    --------
    >>> from sklearn_focal.metrics import multilabel_calibration_error
    >>> y = [[1, 0], [0, 0], [1, 1], [0, 0]]
    >>> p = [[0.8, 0.1], [0.2, 0.1], [0.8, 0.6], [0.2, 0.1]]
    >>> multilabel_calibration_error(y, p, n_bins=5, average=None).round(3)
    array([0.2  , 0.175])
    """
    indicator, proba, weight = _validate(
        y_true, y_prob, sample_weight, "multilabel_calibration_error"
    )
    kwargs = {"n_bins": n_bins, "strategy": strategy, "norm": norm}
    if average == "pooled":
        pooled_weight = (
            None if weight is None else np.repeat(weight, indicator.shape[1])
        )
        return expected_calibration_error(
            indicator.ravel(),
            proba.ravel(),
            kind="binary",
            labels=[0, 1],
            sample_weight=pooled_weight,
            **kwargs,
        )
    per_label = np.array(
        [
            expected_calibration_error(
                indicator[:, j],
                proba[:, j],
                kind="binary",
                labels=[0, 1],
                sample_weight=weight,
                **kwargs,
            )
            for j in range(indicator.shape[1])  # one binary problem per label
        ]
    )
    return per_label if average is None else float(np.mean(per_label))
