"""Divergence to known posteriors and the multiclass Brier score."""
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Real

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import rel_entr

from sklearn_focal.metrics._calibration_error import _with_ci, any_dask
from sklearn_focal.metrics._common import _CI_PARAMS, _validate_classification
from sklearn_focal.utils._compat import (
    Interval,
    validate_params,
)
from sklearn_focal.utils.validation import (
    check_sample_weight,
    check_y_prob,
    log_base,
)


def _validate_posteriors(p_true, y_prob, sample_weight, *, allow_zero_sum=False):
    """True posteriors, predicted rows and weights of the divergence."""
    eta = check_y_prob(p_true, "p_true")
    q = check_y_prob(y_prob, "y_prob")
    if eta.shape != q.shape:
        raise ValueError(
            f"p_true and y_prob must have the same shape, got {eta.shape} and {q.shape}"
        )
    weight = check_sample_weight(
        sample_weight, q.shape[0], allow_zero_sum=allow_zero_sum
    )
    return eta, q, weight


def _kl_rows(eta, q, scale):
    """Per-row ``sum_k eta_k log(eta_k / q_k)`` in units of ``log(base) = scale``."""
    return rel_entr(eta, q).sum(axis=1) / scale


def _brier_rows(y_index, probs):
    """Per-row ``sum_k (q_k - 1[y = k])^2``, without the indicator matrix."""
    rows = np.arange(probs.shape[0])
    return (probs**2).sum(axis=1) - 2.0 * probs[rows, y_index] + 1.0


@validate_params(
    {
        "p_true": ["array-like"],
        "y_prob": ["array-like"],
        "sample_weight": ["array-like", None],
        "base": [Interval(Real, 1, None, closed="neither"), None],
        **_CI_PARAMS,
    },
    prefer_skip_nested_validation=True,
)
def posterior_kl_divergence(
    p_true: ArrayLike,
    y_prob: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    base: float | None = None,
    return_ci: bool = False,
    confidence_level: float = 0.95,
    n_bootstraps: int = 1000,
    random_state=None,
):
    """Mean KL divergence ``KL(eta || q)`` from known class posteriors.

    ``mean_i sum_k eta_ik log(eta_ik / q_ik)``, with ``0 log 0 = 0``; it is
    infinite when ``q`` gives zero probability to a class with ``eta > 0``.
    This is the KLD of the CVPR 2021 synthetic experiment: it needs data with
    known posteriors (see :mod:`sklearn_focal.datasets`).

    Parameters
    ----------
    p_true : array-like of shape (n_samples, n_classes) or (n_samples,)
        True class posteriors ``eta``; a 1-D array is P(positive class).
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities ``q``, same classes in the same columns.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights of the mean.
    base : float, default=None
        Logarithm base, > 1 (a base below 1 would make the divergence
        negative); None is the natural log (nats), 2 gives bits.
    return_ci : bool, default=False
        Also return a percentile bootstrap confidence interval.
    confidence_level : float, default=0.95
        Coverage of the interval.
    n_bootstraps : int, default=1000
        Number of bootstrap replicates.
    random_state : int, RandomState instance or None, default=None
        Seed of the bootstrap.

    Returns
    -------
    divergence : float
        The mean divergence, >= 0.
    ci : ConfidenceInterval
        Only when ``return_ci=True``.

    Examples
    --------
    >>> from sklearn_focal.metrics import posterior_kl_divergence
    >>> round(posterior_kl_divergence([[0.5, 0.5]], [[0.9, 0.1]]), 6)
    0.510826
    >>> posterior_kl_divergence([0.2, 0.7], [0.2, 0.7])
    0.0
    """
    if any_dask(p_true, y_prob, sample_weight):  # one blockwise reduction
        from sklearn_focal.metrics import _dask

        _dask._refuse_ci(return_ci, "posterior_kl_divergence")
        return _dask.dask_kl_divergence(
            p_true, y_prob, sample_weight=sample_weight, base=base
        )
    eta, q, weight = _validate_posteriors(p_true, y_prob, sample_weight)
    scale = log_base(base)

    def statistic(eta, q, weight):
        return float(np.average(_kl_rows(eta, q, scale), weights=weight))

    value = statistic(eta, q, weight)
    return _with_ci(
        statistic,
        (eta, q, weight),
        value,
        return_ci,
        confidence_level,
        n_bootstraps,
        random_state,
    )


@validate_params(
    {
        "y_true": ["array-like"],
        "y_prob": ["array-like"],
        "labels": ["array-like", None],
        "sample_weight": ["array-like", None],
        **_CI_PARAMS,
    },
    prefer_skip_nested_validation=True,
)
def multiclass_brier_score(
    y_true: ArrayLike,
    y_prob: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    return_ci: bool = False,
    confidence_level: float = 0.95,
    n_bootstraps: int = 1000,
    random_state=None,
):
    """Brier's multiclass score ``mean_i sum_k (q_ik - 1[y_i = k])^2``.

    The original definition (Brier 1950), in [0, 2]. For a binary problem it
    is twice :func:`sklearn.metrics.brier_score_loss` (which scores only the
    positive class); it equals ``brier_score_loss(..., scale_by_half=False)``
    for more than two classes.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities (see :func:`expected_calibration_error`).
    labels : array-like of shape (n_classes,), default=None
        The class of each column of ``y_prob``.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    return_ci : bool, default=False
        Also return a percentile bootstrap confidence interval.
    confidence_level : float, default=0.95
        Coverage of the interval.
    n_bootstraps : int, default=1000
        Number of bootstrap replicates.
    random_state : int, RandomState instance or None, default=None
        Seed of the bootstrap.

    Returns
    -------
    score : float
        The Brier score (lower is better).
    ci : ConfidenceInterval
        Only when ``return_ci=True``.

    Examples
    --------
    >>> from sklearn_focal.metrics import multiclass_brier_score
    >>> y_prob = [[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]]
    >>> round(multiclass_brier_score([0, 2], y_prob, labels=[0, 1, 2]), 4)
    0.25
    """
    if any_dask(y_true, y_prob, sample_weight):  # one blockwise reduction
        from sklearn_focal.metrics import _dask

        _dask._refuse_ci(return_ci, "multiclass_brier_score")
        return _dask.dask_brier_score(
            y_true, y_prob, labels=labels, sample_weight=sample_weight
        )
    y_index, probs, weight, _ = _validate_classification(
        y_true, y_prob, labels, sample_weight
    )

    def statistic(y_index, probs, weight):
        return float(np.average(_brier_rows(y_index, probs), weights=weight))

    value = statistic(y_index, probs, weight)
    return _with_ci(
        statistic,
        (y_index, probs, weight),
        value,
        return_ci,
        confidence_level,
        n_bootstraps,
        random_state,
    )
