"""Calibration metrics, divergences to known posteriors, and scorers.

scikit-learn has no expected calibration error and its calibration curve is
binary-only. This module provides binned calibration errors for multiclass
problems (top-label, class-wise and binary), the mean KL divergence to known
class posteriors, the multiclass Brier score, bootstrap confidence intervals,
and scorers that plug into :class:`~sklearn.model_selection.GridSearchCV`.

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

import copy
import warnings
from collections import namedtuple
from inspect import signature
from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import rel_entr
from sklearn.base import is_classifier
from sklearn.metrics import brier_score_loss, get_scorer, log_loss
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.metadata_routing import MetadataRequest
from sklearn.utils.validation import column_or_1d

from .utils._compat import (
    BRIER_SCORE_LOSS_MULTICLASS,
    Interval,
    StrOptions,
    routing_enabled,
    validate_params,
)
from .utils.validation import (
    check_integer,
    check_sample_weight,
    check_y_prob,
    log_base,
)

__all__ = [
    "ConfidenceInterval",
    "binned_calibration",
    "calibration_scorers",
    "classwise_calibration_error",
    "expected_calibration_error",
    "maximum_calibration_error",
    "multiclass_brier_score",
    "neg_classwise_calibration_error",
    "neg_expected_calibration_error",
    "neg_maximum_calibration_error",
    "neg_multiclass_brier_score",
    "neg_posterior_kl_divergence",
    "posterior_kl_divergence",
]

ConfidenceInterval = namedtuple("ConfidenceInterval", ["low", "high"])
ConfidenceInterval.__doc__ = """Bootstrap percentile confidence interval.

Attributes
----------
low : float
    Lower end of the interval.
high : float
    Upper end of the interval.
"""

_CI_PARAMS = {
    "return_ci": ["boolean"],
    "confidence_level": [Interval(Real, 0, 1, closed="neither")],
    "n_bootstraps": [Interval(Integral, 2, None, closed="left")],
    "random_state": ["random_state"],
}
_BIN_PARAMS = {
    "n_bins": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
    "strategy": [StrOptions({"uniform", "quantile"})],
    "kind": [StrOptions({"top_label", "classwise", "binary"})],
    "labels": ["array-like", None],
    "sample_weight": ["array-like", None],
}


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


def _encode_labels(y_true, labels, n_classes, name="y_true"):
    """Map ``y_true`` to column indices of ``y_prob``; return (indices, classes)."""
    y = column_or_1d(y_true, warn=True)
    if y.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    if labels is None:
        classes = np.unique(y)
        if classes.shape[0] != n_classes:
            raise ValueError(
                f"{name} has {classes.shape[0]} distinct labels but y_prob has "
                f"{n_classes} columns; pass labels= to say which class each "
                "column belongs to"
            )
    else:
        classes = column_or_1d(labels)
        if classes.shape[0] != n_classes:
            raise ValueError(
                f"labels has {classes.shape[0]} entries but y_prob has "
                f"{n_classes} columns"
            )
        if np.unique(classes).shape[0] != classes.shape[0]:
            raise ValueError(f"labels must be unique, got {classes!r}")
    try:
        sorter = np.argsort(classes, kind="stable")
        position = np.searchsorted(classes[sorter], y)
        position = np.clip(position, 0, n_classes - 1)
        found = classes[sorter][position] == y
    except TypeError as exc:
        raise ValueError(
            f"the labels of {name} cannot be compared with labels {classes!r}"
        ) from exc
    if not np.all(found):
        missing = np.unique(y[~found])
        raise ValueError(
            f"{name} contains labels not in labels: {missing[:5].tolist()!r}"
        )
    return sorter[position], classes


def _validate_classification(y_true, y_prob, labels, sample_weight):
    probs = check_y_prob(y_prob)
    y = column_or_1d(y_true, warn=True)
    if y.shape[0] != probs.shape[0]:
        raise ValueError(
            f"y_true has {y.shape[0]} samples but y_prob has {probs.shape[0]} rows"
        )
    y_index, classes = _encode_labels(y, labels, probs.shape[1])
    weight = check_sample_weight(sample_weight, probs.shape[0])
    return y_index, probs, weight, classes


# --------------------------------------------------------------------------
# Binning
# --------------------------------------------------------------------------


#: Largest ``n_bins``: bin indices are int64 and the uniform edges
#: ``j / n_bins`` float64, whose neighbours coincide past ``2**53``.
_MAX_N_BINS = 2**53
#: Largest ``n_curves * n_bins`` of :func:`binned_calibration`, whose per-bin
#: arrays are dense (80 MB each at the limit). The calibration errors keep
#: only the occupied bins and have no such limit.
_MAX_DENSE_BINS = 10**7


def _n_bins(n_bins, n_samples):
    if isinstance(n_bins, str) and n_bins == "auto":
        return max(1, int(round(n_samples ** (1.0 / 3.0))))
    # validate_params lets True through as 1 (bool is an Integral)
    n_bins = check_integer(n_bins, "n_bins", minimum=1)
    if n_bins > _MAX_N_BINS:
        raise ValueError(
            f"n_bins must be at most 2**53 = {_MAX_N_BINS} (bins narrower than "
            f"the float64 spacing of [0, 1] are empty by construction), got {n_bins}"
        )
    return n_bins


def _scores_and_outcomes(y_index, probs, kind):
    """Scores (n, C) and 0/1 outcomes (n, C) for each reliability curve."""
    n_samples, n_classes = probs.shape
    if kind == "top_label":
        predicted = np.argmax(probs, axis=1)
        scores = probs[np.arange(n_samples), predicted][:, None]
        outcomes = (predicted == y_index)[:, None]
    elif kind == "binary":
        if n_classes != 2:
            raise ValueError(
                f"kind='binary' needs two classes, y_prob has {n_classes} columns"
            )
        scores = probs[:, 1:]
        outcomes = (y_index == 1)[:, None]
    else:  # classwise
        scores = probs
        outcomes = y_index[:, None] == np.arange(n_classes)[None, :]
    return scores, outcomes.astype(np.float64)


def _edge_function(column, weight, n_bins, strategy, unit_weight):
    """``e(j)``, the inner edges ``j = 1 .. n_bins - 1`` of one curve, on demand.

    The value of ``e(j)`` is that of the documented edges: entry ``j`` of
    ``numpy.linspace(0, 1, n_bins + 1)`` (``j * (1 / n_bins)``), or the
    quantile of ``column`` at that level: :func:`numpy.quantile` without
    weights, the inverted-CDF weighted quantile with them. All the edges are
    never built, so memory does not grow with ``n_bins``.
    """
    step = 1.0 / n_bins
    if strategy == "uniform":
        return lambda j: j.astype(np.float64) * step
    if unit_weight:
        return lambda j: np.quantile(column, j.astype(np.float64) * step)
    order = np.argsort(column, kind="stable")
    sorted_column = column[order]
    cumulative = np.cumsum(weight[order])
    cumulative /= cumulative[-1]
    last = column.shape[0] - 1

    def edge(j):
        # index of the first cumulative weight >= the level
        index = np.searchsorted(cumulative, j.astype(np.float64) * step, "left")
        return sorted_column[np.minimum(index, last)]

    return edge


def _edges(scores, weight, n_bins, strategy, unit_weight):
    """Edge functions: one shared by all curves (uniform), else one per curve."""
    if strategy == "uniform":
        return _edge_function(None, None, n_bins, strategy, unit_weight)
    return [
        _edge_function(scores[:, c], weight, n_bins, strategy, unit_weight)
        for c in range(scores.shape[1])
    ]


def _bisect(values, edge, n_bins, cheap):
    """Number of inner edges ``e(1) <= ... <= e(n_bins - 1)`` at most each value.

    Bisection over the edge index; unless ``cheap``, each step evaluates the
    edges only at its distinct midpoints.
    """
    low = np.zeros(values.shape[0], dtype=np.int64)
    high = np.full(values.shape[0], n_bins - 1, dtype=np.int64)
    active = np.flatnonzero(low < high)
    while active.size:
        mid = low[active] + (high[active] - low[active] + 1) // 2
        if cheap:
            at_mid = edge(mid)
        else:
            points, inverse = np.unique(mid, return_inverse=True)
            at_mid = edge(points)[inverse]
        below = at_mid <= values[active]
        low[active] = np.where(below, mid, low[active])
        high[active] = np.where(below, high[active], mid - 1)
        active = active[low[active] < high[active]]
    return low


def _count_edges(values, edge, n_bins, cheap):
    """Number of inner edges at most each value, in memory ``O(len(values))``.

    With no more edges than values, all of them are computed and searched;
    otherwise :func:`_bisect` evaluates only the ones it visits.
    """
    if n_bins - 1 <= values.shape[0]:
        inner = edge(np.arange(1, n_bins))
        return np.searchsorted(inner, values, side="right").astype(np.int64)
    return _bisect(values, edge, n_bins, cheap)


def _assign_bins(scores, edges, n_bins):
    """Bin index (n, C) of every score: ``[e_b, e_{b+1})``, the last bin closed.

    The bin of ``s`` is the number of inner edges ``<= s``. Memory
    ``O(n C)`` whatever ``n_bins``.
    """
    if callable(edges):  # shared and cheap (uniform): all curves at once
        return _count_edges(scores.ravel(), edges, n_bins, True).reshape(scores.shape)
    bins = np.empty(scores.shape, dtype=np.int64)
    for c, edge in enumerate(edges):
        bins[:, c] = _count_edges(scores[:, c], edge, n_bins, False)
    return bins


def _occupied_bins(bins, n_bins):
    """Group the scores by (curve, bin).

    Returns the group of every score (n, C) and, per group, its curve and its
    bin, sorted by curve then bin. With at most ``n`` bins every bin is a
    group; with more, only the occupied ones: memory is ``O(n C)``, not
    ``O(C n_bins)``.
    """
    n_samples, n_curves = bins.shape
    if n_bins <= n_samples:
        groups = bins + n_bins * np.arange(n_curves)
        curve = np.repeat(np.arange(n_curves), n_bins)
        return groups, curve, np.tile(np.arange(n_bins), n_curves)
    curve = np.broadcast_to(np.arange(n_curves), bins.shape).ravel()
    flat = bins.ravel()
    order = np.lexsort((flat, curve))
    sorted_bin, sorted_curve = flat[order], curve[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = (sorted_bin[1:] != sorted_bin[:-1]) | (
        sorted_curve[1:] != sorted_curve[:-1]
    )
    group = np.empty(order.size, dtype=np.intp)
    group[order] = np.cumsum(first) - 1
    return group.reshape(bins.shape), sorted_curve[first], sorted_bin[first]


def _sums(groups, n_groups, scores, outcomes, weight):
    """Per occupied bin: total weight, weighted sums of scores and outcomes."""
    groups = groups.ravel()
    w = np.broadcast_to(weight[:, None], scores.shape).ravel()
    total = np.bincount(groups, weights=w, minlength=n_groups)
    score_sum = np.bincount(groups, weights=w * scores.ravel(), minlength=n_groups)
    outcome_sum = np.bincount(groups, weights=w * outcomes.ravel(), minlength=n_groups)
    return total, score_sum, outcome_sum


def _prepare(y_index, probs, weight, n_bins, strategy, kind, unit_weight):
    """Scores, outcomes, bin count, edge functions and the occupied bins."""
    scores, outcomes = _scores_and_outcomes(y_index, probs, kind)
    bins = _n_bins(n_bins, probs.shape[0])
    if n_bins == "auto":
        strategy = "quantile"
    edges = _edges(scores, weight, bins, strategy, unit_weight)
    groups, curve, group_bin = _occupied_bins(_assign_bins(scores, edges, bins), bins)
    return scores, outcomes, bins, edges, groups, curve, group_bin


def _combine(total, score_sum, outcome_sum, curve, n_curves, norm):
    """Calibration error from per-bin sums, averaged over the curves."""
    occupied = total > 0
    safe = np.where(occupied, total, 1.0)
    gap = np.abs(outcome_sum - score_sum) / safe  # 0 in bins of zero weight
    curve_total = np.bincount(curve, weights=total, minlength=n_curves)
    mass = total / curve_total[curve]
    if norm == "l1":
        per_curve = np.bincount(curve, weights=mass * gap, minlength=n_curves)
    elif norm == "l2":
        per_curve = np.sqrt(
            np.bincount(curve, weights=mass * gap**2, minlength=n_curves)
        )
    else:
        per_curve = np.zeros(n_curves)
        np.maximum.at(per_curve, curve, np.where(occupied, gap, 0.0))
    return float(per_curve.mean())


def _calibration_error(y_index, probs, weight, n_bins, strategy, norm, kind, unit):
    scores, outcomes, _, _, groups, curve, _ = _prepare(
        y_index, probs, weight, n_bins, strategy, kind, unit
    )
    sums = _sums(groups, curve.size, scores, outcomes, weight)
    return _combine(*sums, curve, scores.shape[1], norm)


def _with_ci(statistic, arrays, value, return_ci, confidence_level, n_bootstraps, rs):
    """Attach a percentile bootstrap interval over rows to ``value``."""
    if not return_ci:
        return value
    rng = check_random_state(rs)
    n_samples = arrays[0].shape[0]
    replicates = np.empty(n_bootstraps)
    for b in range(n_bootstraps):
        rows = rng.randint(0, n_samples, size=n_samples)
        replicates[b] = statistic(*(a[rows] for a in arrays))
    tail = 100.0 * (1.0 - confidence_level) / 2.0
    low, high = np.percentile(replicates, [tail, 100.0 - tail])
    return value, ConfidenceInterval(float(low), float(high))


# --------------------------------------------------------------------------
# Public metrics
# --------------------------------------------------------------------------


@validate_params(
    {
        "y_true": ["array-like"],
        "y_prob": ["array-like"],
        **_BIN_PARAMS,
        "norm": [StrOptions({"l1", "l2", "max"})],
        **_CI_PARAMS,
    },
    prefer_skip_nested_validation=True,
)
def expected_calibration_error(
    y_true: ArrayLike,
    y_prob: ArrayLike,
    *,
    n_bins: int | str = 10,
    strategy: str = "uniform",
    norm: str = "l1",
    kind: str = "top_label",
    labels: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    return_ci: bool = False,
    confidence_level: float = 0.95,
    n_bootstraps: int = 1000,
    random_state=None,
):
    """Binned calibration error of probabilistic predictions.

    The scores are grouped into bins; in each non-empty bin ``b`` of weight
    ``w_b`` (a fraction of the total) the mean score ``conf_b`` is compared
    with the observed frequency ``acc_b``. The ``'l1'`` norm gives the
    expected calibration error ``ECE = sum_b w_b |acc_b - conf_b|``, ``'l2'``
    gives ``sqrt(sum_b w_b (acc_b - conf_b)^2)`` and ``'max'`` gives the
    maximum calibration error ``max_b |acc_b - conf_b|``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels (numbers or strings).
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities; rows sum to 1. Column ``j`` is the probability
        of ``labels[j]`` (of the ``j``-th sorted label of ``y_true`` when
        ``labels`` is None). A 1-D array holds the probability of the second
        class of a binary problem.
    n_bins : int or "auto", default=10
        Number of bins. 10 is the choice of the CVPR 2021 focal-loss paper.
        ``"auto"`` uses about ``n_samples ** (1/3)`` equal-mass bins, whatever
        ``strategy`` says.
    strategy : {"uniform", "quantile"}, default="uniform"
        ``"uniform"``: equal-width bins on [0, 1]. ``"quantile"``: equal-mass
        bins whose inner edges are (weighted) quantiles of the scores.
    norm : {"l1", "l2", "max"}, default="l1"
        How the per-bin gaps are combined (see above).
    kind : {"top_label", "classwise", "binary"}, default="top_label"
        ``"top_label"``: the score is the largest probability and the outcome
        is whether the predicted class is right (Guo et al. 2017).
        ``"classwise"``: one reliability curve per class (score ``p_k``,
        outcome ``y == k``, with bins of its own), averaged over the classes
        (Kull et al. 2019). ``"binary"``: the positive-class probability of a
        two-class problem, the curve of :func:`sklearn.calibration.calibration_curve`.
    labels : array-like of shape (n_classes,), default=None
        The class of each column of ``y_prob``. Needed when some class is
        absent from ``y_true``.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    return_ci : bool, default=False
        Also return a percentile bootstrap confidence interval, resampling
        the rows.
    confidence_level : float, default=0.95
        Coverage of the interval.
    n_bootstraps : int, default=1000
        Number of bootstrap replicates.
    random_state : int, RandomState instance or None, default=None
        Seed of the bootstrap.

    Returns
    -------
    error : float
        The calibration error, in [0, 1].
    ci : ConfidenceInterval
        Only when ``return_ci=True``: the ``(low, high)`` interval.

    See Also
    --------
    binned_calibration : The per-bin statistics behind this number.
    sklearn_focal.plotting.ReliabilityDisplay : The reliability diagram.

    Notes
    -----
    Bins are ``[e_b, e_{b+1})``, the last one closed, so scores of exactly 0
    and 1 are counted; empty bins do not contribute. The ECE is a biased
    estimator whose value depends on the binning: use it to report, and a
    proper score (log loss) to select models (see :func:`calibration_scorers`).

    References
    ----------
    .. [1] C. Guo, G. Pleiss, Y. Sun, K. Q. Weinberger. "On Calibration of
       Modern Neural Networks." ICML 2017.
    .. [2] M. Kull, M. Perello-Nieto, M. Kängsepp, T. Silva Filho, H. Song,
       P. Flach. "Beyond temperature scaling: Obtaining well-calibrated
       multiclass probabilities with Dirichlet calibration." NeurIPS 2019.

    Examples
    --------
    >>> from sklearn_focal.metrics import expected_calibration_error
    >>> y_true = [0, 1, 1, 0]
    >>> y_prob = [[0.95, 0.05], [0.25, 0.75], [0.32, 0.68], [0.35, 0.65]]
    >>> round(expected_calibration_error(y_true, y_prob, n_bins=5), 4)
    0.0325
    >>> round(expected_calibration_error(y_true, y_prob, kind="classwise"), 4)
    0.1575
    >>> ece, ci = expected_calibration_error(
    ...     y_true, y_prob, return_ci=True, n_bootstraps=200, random_state=0
    ... )
    >>> bool(ci.low <= ci.high)
    True
    """
    y_index, probs, weight, _ = _validate_classification(
        y_true, y_prob, labels, sample_weight
    )
    unit = sample_weight is None
    if strategy == "uniform" and n_bins != "auto":
        # fixed edges: the bin of each score does not depend on the resample
        scores, outcomes, _, _, groups, curve, _ = _prepare(
            y_index, probs, weight, n_bins, strategy, kind, unit
        )

        def statistic(groups, scores, outcomes, weight):
            sums = _sums(groups, curve.size, scores, outcomes, weight)
            return _combine(*sums, curve, scores.shape[1], norm)

        arrays = (groups, scores, outcomes, weight)
    else:

        def statistic(y_index, probs, weight):
            return _calibration_error(
                y_index, probs, weight, n_bins, strategy, norm, kind, unit
            )

        arrays = (y_index, probs, weight)

    value = statistic(*arrays)
    return _with_ci(
        statistic,
        arrays,
        value,
        return_ci,
        confidence_level,
        n_bootstraps,
        random_state,
    )


def maximum_calibration_error(y_true: ArrayLike, y_prob: ArrayLike, **kwargs):
    """Maximum calibration error: the ECE with ``norm="max"``.

    ``MCE = max_b |acc_b - conf_b|`` over the non-empty bins.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities.
    **kwargs : dict
        Any other argument of :func:`expected_calibration_error` except
        ``norm``.

    Returns
    -------
    error : float or tuple
        The error, with its :class:`ConfidenceInterval` when ``return_ci=True``.

    Examples
    --------
    >>> from sklearn_focal.metrics import maximum_calibration_error
    >>> y_prob = [[0.95, 0.05], [0.25, 0.75], [0.32, 0.68], [0.35, 0.65]]
    >>> round(maximum_calibration_error([0, 1, 1, 0], y_prob), 4)
    0.25
    """
    if "norm" in kwargs:
        raise TypeError("maximum_calibration_error() fixes norm='max'")
    return expected_calibration_error(y_true, y_prob, norm="max", **kwargs)


def classwise_calibration_error(y_true: ArrayLike, y_prob: ArrayLike, **kwargs):
    """Class-wise ECE: :func:`expected_calibration_error` with ``kind='classwise'``.

    The mean over classes ``k`` of the calibration error of the scores
    ``p_k`` against the outcomes ``y == k``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities.
    **kwargs : dict
        Any other argument of :func:`expected_calibration_error` except
        ``kind``.

    Returns
    -------
    error : float or tuple
        The error, with its :class:`ConfidenceInterval` when ``return_ci=True``.

    Examples
    --------
    >>> from sklearn_focal.metrics import classwise_calibration_error
    >>> y_prob = [[0.95, 0.05], [0.25, 0.75], [0.32, 0.68], [0.35, 0.65]]
    >>> round(classwise_calibration_error([0, 1, 1, 0], y_prob), 4)
    0.1575
    """
    if "kind" in kwargs:
        raise TypeError("classwise_calibration_error() fixes kind='classwise'")
    return expected_calibration_error(y_true, y_prob, kind="classwise", **kwargs)


@validate_params(
    {"y_true": ["array-like"], "y_prob": ["array-like"], **_BIN_PARAMS},
    prefer_skip_nested_validation=True,
)
def binned_calibration(
    y_true: ArrayLike,
    y_prob: ArrayLike,
    *,
    n_bins: int | str = 10,
    strategy: str = "uniform",
    kind: str = "top_label",
    labels: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
) -> Bunch:
    """Per-bin statistics of a reliability diagram, for any number of classes.

    The multiclass counterpart of :func:`sklearn.calibration.calibration_curve`;
    the arrays keep empty bins (as NaN means) so that bins stay aligned.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities (see :func:`expected_calibration_error`).
    n_bins : int or "auto", default=10
        Number of bins.
    strategy : {"uniform", "quantile"}, default="uniform"
        Bin edges strategy.
    kind : {"top_label", "classwise", "binary"}, default="top_label"
        Which curves: one (top-label or positive class) or one per class.
    labels : array-like of shape (n_classes,), default=None
        The class of each column of ``y_prob``.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        With ``n_curves`` = 1 (top-label, binary) or ``n_classes``
        (classwise):

        - ``bin_edges``: (n_curves, n_bins + 1) edges;
        - ``mean_confidence``: (n_curves, n_bins) weighted mean score per bin,
          NaN when empty;
        - ``accuracy``: (n_curves, n_bins) weighted frequency of the outcome
          (accuracy or fraction of positives), NaN when empty;
        - ``bin_weight``: (n_curves, n_bins) total sample weight per bin;
        - ``bin_count``: (n_curves, n_bins) number of samples per bin;
        - ``bin_weight_sq``: (n_curves, n_bins) sum of squared weights;
        - ``scores``: (n_samples, n_curves) the binned scores;
        - ``sample_weight``: (n_samples,) the weights used;
        - ``classes``: (n_classes,) the class of each column of ``y_prob``;
        - ``kind``: the kind.

    Examples
    --------
    >>> from sklearn_focal.metrics import binned_calibration
    >>> y_prob = [[0.95, 0.05], [0.25, 0.75], [0.32, 0.68], [0.35, 0.65]]
    >>> result = binned_calibration([0, 1, 1, 0], y_prob, n_bins=2)
    >>> result.accuracy.round(4).tolist()
    [[nan, 0.75]]
    >>> result.mean_confidence.round(4).tolist()
    [[nan, 0.7575]]
    >>> result.bin_count.tolist()
    [[0, 4]]
    """
    y_index, probs, weight, classes = _validate_classification(
        y_true, y_prob, labels, sample_weight
    )
    n_curves = 1 if kind != "classwise" else probs.shape[1]
    bins = _n_bins(n_bins, probs.shape[0])
    if n_curves * bins > _MAX_DENSE_BINS:
        raise ValueError(
            f"n_bins={bins} gives {n_curves} x {bins} per-bin values, more than "
            f"the {_MAX_DENSE_BINS} that binned_calibration returns densely; use "
            "fewer bins (expected_calibration_error has no such limit)"
        )
    scores, outcomes, bins, edges, groups, curve, group_bin = _prepare(
        y_index, probs, weight, n_bins, strategy, kind, sample_weight is None
    )
    n_groups = curve.size

    def dense(values):
        array = np.zeros((n_curves, bins))
        array[curve, group_bin] = values
        return array

    total, score_sum, outcome_sum = (
        dense(v) for v in _sums(groups, n_groups, scores, outcomes, weight)
    )
    count = dense(np.bincount(groups.ravel(), minlength=n_groups))
    weight_sq = dense(_sums(groups, n_groups, scores, outcomes, weight**2)[0])
    inner = np.arange(1, bins)
    edges = [edges] * n_curves if callable(edges) else edges
    edges = np.array([np.concatenate([[0.0], edge(inner), [1.0]]) for edge in edges])
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.where(total > 0, score_sum / total, np.nan)
        accuracy = np.where(total > 0, outcome_sum / total, np.nan)
    return Bunch(
        bin_edges=edges,
        mean_confidence=mean_confidence,
        accuracy=accuracy,
        bin_weight=total,
        bin_count=count.astype(np.intp),
        bin_weight_sq=weight_sq,
        scores=scores,
        sample_weight=weight,
        classes=classes,
        kind=kind,
    )


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
    eta = check_y_prob(p_true, "p_true")
    q = check_y_prob(y_prob, "y_prob")
    if eta.shape != q.shape:
        raise ValueError(
            f"p_true and y_prob must have the same shape, got {eta.shape} and {q.shape}"
        )
    weight = check_sample_weight(sample_weight, q.shape[0])
    scale = log_base(base)

    def statistic(eta, q, weight):
        per_row = rel_entr(eta, q).sum(axis=1) / scale
        return float(np.average(per_row, weights=weight))

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
    y_index, probs, weight, _ = _validate_classification(
        y_true, y_prob, labels, sample_weight
    )

    def statistic(y_index, probs, weight):
        rows = np.arange(probs.shape[0])
        squared = (probs**2).sum(axis=1) - 2.0 * probs[rows, y_index] + 1.0
        return float(np.average(squared, weights=weight))

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


# --------------------------------------------------------------------------
# Scorers
# --------------------------------------------------------------------------


class _ProbaScorer:
    """Scorer ``scorer(estimator, X, y_true, sample_weight=None, **metadata)``.

    Scores ``estimator.predict_proba(X)`` with ``score_func`` and the
    estimator's ``classes_`` as ``labels``: a cross-validation fold may lack a
    class in its test part, while the columns of ``predict_proba`` still follow
    ``estimator.classes_``, which is what the metric needs to know. As with
    :func:`~sklearn.metrics.make_scorer` and ``response_method="predict_proba"``,
    a binary classifier's scores are the probabilities of ``classes_[-1]``.

    Built from public pieces only: a callable with the ``(estimator, X, y)``
    signature that scikit-learn accepts wherever it accepts a scorer, and a
    :class:`~sklearn.utils.metadata_routing.MetadataRequest` for
    ``set_score_request`` (metadata routing).

    Parameters
    ----------
    score_func : callable
        ``score_func(y_true, y_prob, *, labels=..., sample_weight=..., **kw)``,
        lower is better.
    **kwargs : dict
        Fixed keyword arguments of ``score_func``.
    """

    # Names of the second argument of a score function, never metadata.
    _IGNORED = frozenset({"y_true", "y_prob", "y_pred", "y_proba", "y_score"})

    def __init__(self, score_func, **kwargs):
        self._score_func = score_func
        self._kwargs = kwargs
        self._requests = None

    def __repr__(self):
        kwargs = "".join(f", {key}={value}" for key, value in self._kwargs.items())
        return (
            f"make_scorer({self._score_func.__name__}, greater_is_better=False, "
            f"response_method='predict_proba'{kwargs})"
        )

    def __call__(self, estimator, X, y_true, sample_weight=None, **metadata):
        """Minus ``score_func`` of ``estimator.predict_proba(X)``.

        Parameters
        ----------
        estimator : object
            Fitted estimator with ``predict_proba``.
        X : array-like of shape (n_samples, n_features)
            Test data.
        y_true : array-like of shape (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        **metadata : dict
            Further metadata requested with ``set_score_request``; only with
            metadata routing enabled.

        Returns
        -------
        score : float
            ``-score_func(y_true, proba, labels=estimator.classes_, ...)``.
        """
        if metadata and not routing_enabled():
            raise ValueError(
                f"passing extra keyword arguments ({sorted(metadata)}) to "
                f"{self!r} is only supported with metadata routing enabled: "
                "sklearn.set_config(enable_metadata_routing=True)"
            )
        proba = estimator.predict_proba(X)
        classes = getattr(estimator, "classes_", None)
        if is_classifier(estimator) and classes is not None and len(classes) <= 2:
            # make_scorer's binary rule: the column of the positive class,
            # the last of classes_.
            if np.ndim(proba) != 2 or proba.shape[1] < 2:
                raise ValueError(
                    f"Got predict_proba of shape {np.shape(proba)}, but need "
                    "classifier with two classes."
                )
            proba = proba[:, 1]
        if classes is not None and "labels" not in metadata:
            metadata["labels"] = classes
        if sample_weight is not None:
            metadata["sample_weight"] = sample_weight
        return -self._score_func(y_true, proba, **{**self._kwargs, **metadata})

    def _accept_sample_weight(self):
        # scikit-learn >= 1.9 asks every scorer of a multi-metric dict this
        # (without metadata routing, when fit gets sample_weight); a plain
        # function there raises AttributeError. Our scorers accept weights.
        return True

    def set_score_request(self, **kwargs):
        """Request metadata for the scorer (metadata routing).

        Parameters
        ----------
        **kwargs : dict
            ``param=alias``, with ``alias`` one of ``True`` (requested),
            ``False`` (not requested), ``None`` (error if passed) or a string
            (the name the metadata is passed under).

        Returns
        -------
        self : object
            The scorer, with the request replaced by ``kwargs``.
        """
        if not routing_enabled():
            raise RuntimeError(
                "This method is only available when metadata routing is enabled."
                " You can enable it using"
                " sklearn.set_config(enable_metadata_routing=True)."
            )
        overlap = set(self._kwargs).intersection(kwargs)
        if overlap:
            warnings.warn(
                "You are setting metadata request for parameters which are "
                "already set as kwargs for this metric. These set values will be "
                "overridden by passed metadata if provided. Overlapping "
                f"parameters are: {overlap}",
                UserWarning,
                stacklevel=2,
            )
        # Validate the aliases now, as scikit-learn does.
        request = MetadataRequest(owner=repr(self))
        for param, alias in kwargs.items():
            request.score.add_request(param=param, alias=alias)
        self._requests = dict(kwargs)
        return self

    def get_metadata_routing(self):
        """The metadata this scorer requests for ``score``.

        Without ``set_score_request``, every keyword of the score function is
        listed as not set (``None``): passing it through a meta-estimator
        raises until it is requested, as for scikit-learn's scorers.

        Returns
        -------
        routing : MetadataRequest
            The requests of the ``score`` method.
        """
        requests = self._requests
        if requests is None:
            parameters = list(signature(self._score_func).parameters.values())[1:]
            requests = {
                p.name: None
                for p in parameters
                if p.name not in self._IGNORED
                and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            }
        routing = MetadataRequest(owner=repr(self))
        for param, alias in requests.items():
            routing.score.add_request(param=param, alias=alias)
        return routing


def _classes_aware_scorer(score_func, **kwargs):
    return _ProbaScorer(score_func, **kwargs)


def _posterior_kl_score(
    y_true, y_prob, *, p_true=None, labels=None, sample_weight=None
):
    """Score function of :data:`neg_posterior_kl_divergence` (``y_true`` unused)."""
    if p_true is None:
        raise ValueError(
            "neg_posterior_kl_divergence needs the true posteriors p_true: enable "
            "metadata routing (sklearn.set_config(enable_metadata_routing=True)), "
            "call scorer.set_score_request(p_true=True) and pass p_true=... to "
            "fit / cross_validate"
        )
    probs = check_y_prob(y_prob)
    eta = check_y_prob(p_true, "p_true")
    if labels is not None and len(labels) != eta.shape[1]:
        raise ValueError(
            f"the estimator knows {len(labels)} classes but p_true has "
            f"{eta.shape[1]} columns"
        )
    return posterior_kl_divergence(eta, probs, sample_weight=sample_weight)


def _sklearn_brier(y_true, y_prob, *, labels=None, sample_weight=None):
    """:func:`sklearn.metrics.brier_score_loss` with the estimator's classes."""
    if np.ndim(y_prob) == 1:
        pos_label = None if labels is None else labels[-1]
        return brier_score_loss(
            y_true, y_prob, pos_label=pos_label, sample_weight=sample_weight
        )
    if not BRIER_SCORE_LOSS_MULTICLASS:
        # scikit-learn < 1.7 scores binary probabilities only; 1.7 added
        # multiclass rows, unscaled (in [0, 2]), which is this package's metric.
        return multiclass_brier_score(
            y_true, y_prob, labels=labels, sample_weight=sample_weight
        )
    return brier_score_loss(y_true, y_prob, labels=labels, sample_weight=sample_weight)


def _sklearn_log_loss(y_true, y_prob, *, labels=None, sample_weight=None):
    """:func:`sklearn.metrics.log_loss` with the estimator's classes."""
    return log_loss(y_true, y_prob, labels=labels, sample_weight=sample_weight)


#: Scorer: minus the top-label ECE (10 equal-width bins), with the estimator's
#: ``classes_`` as ``labels``, so folds that lack a class stay aligned.
neg_expected_calibration_error = _classes_aware_scorer(expected_calibration_error)
#: Scorer: minus the classwise ECE (the mean over classes).
neg_classwise_calibration_error = _classes_aware_scorer(
    expected_calibration_error, kind="classwise"
)
#: Scorer: minus the maximum calibration error (``norm='max'``).
neg_maximum_calibration_error = _classes_aware_scorer(
    expected_calibration_error, norm="max"
)
#: Scorer: minus the multiclass Brier score (in [0, 2]).
neg_multiclass_brier_score = _classes_aware_scorer(multiclass_brier_score)
#: Scorer: minus the mean KL(eta || q) to known posteriors ``p_true``, routed
#: per fold with metadata routing (``set_score_request(p_true=True)``).
neg_posterior_kl_divergence = _classes_aware_scorer(_posterior_kl_score)
_neg_log_loss = _classes_aware_scorer(_sklearn_log_loss)
_neg_brier_score = _classes_aware_scorer(_sklearn_brier)


def calibration_scorers(*, posterior_kl: bool = False) -> dict:
    """Scorers for multi-metric model selection of probabilistic classifiers.

    Returns fresh copies, ready for ``GridSearchCV(scoring=...)`` or
    :func:`~sklearn.model_selection.cross_validate`. All probabilistic scorers
    pass ``labels=estimator.classes_`` to the metric, so a test fold that
    lacks a class still scores the right columns.

    Parameters
    ----------
    posterior_kl : bool, default=False
        Also include ``"neg_posterior_kl_divergence"`` with ``p_true``
        requested, for data with known posteriors. It needs metadata routing
        (``sklearn.set_config(enable_metadata_routing=True)``); pass the
        posteriors as ``search.fit(X, y, p_true=P)``.

    Returns
    -------
    scorers : dict
        ``"neg_log_loss"``, ``"neg_brier_score"`` (scikit-learn's metrics),
        ``"neg_multiclass_brier_score"``, ``"neg_expected_calibration_error"``,
        ``"neg_classwise_calibration_error"``,
        ``"neg_maximum_calibration_error"`` and ``"accuracy"``.

    Notes
    -----
    Use ``refit="neg_log_loss"``, not an ECE. The log loss (like the Brier
    score) is a strictly proper scoring rule: its expectation is minimized
    only by the true class posteriors, so it rewards both calibration and
    sharpness. The ECE is not proper: a model that predicts the class
    frequencies for every input has an ECE near zero but is useless, and the
    binned estimate is biased and depends on the number of bins. Select with
    the log loss, and report the ECE alongside.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn_focal.metrics import calibration_scorers
    >>> X, y = load_iris(return_X_y=True)
    >>> search = GridSearchCV(
    ...     LogisticRegression(max_iter=1000),
    ...     {"C": [0.1, 1.0]},
    ...     scoring=calibration_scorers(),
    ...     refit="neg_log_loss",
    ... ).fit(X, y)
    >>> sorted(search.cv_results_)[:2]
    ['mean_fit_time', 'mean_score_time']
    >>> "mean_test_neg_expected_calibration_error" in search.cv_results_
    True
    """
    scorers = {
        "neg_log_loss": _neg_log_loss,
        "neg_brier_score": _neg_brier_score,
        "neg_multiclass_brier_score": neg_multiclass_brier_score,
        "neg_expected_calibration_error": neg_expected_calibration_error,
        "neg_classwise_calibration_error": neg_classwise_calibration_error,
        "neg_maximum_calibration_error": neg_maximum_calibration_error,
    }
    scorers = {name: copy.deepcopy(scorer) for name, scorer in scorers.items()}
    scorers["accuracy"] = get_scorer("accuracy")
    if posterior_kl:
        scorer = copy.deepcopy(neg_posterior_kl_divergence)
        scorers["neg_posterior_kl_divergence"] = scorer.set_score_request(p_true=True)
    return scorers
