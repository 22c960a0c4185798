"""Binned calibration errors (top-label, class-wise, binary) and the binned curve."""
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils import Bunch, check_random_state

from sklearn_focal.metrics._common import (
    _BIN_PARAMS,
    _CI_PARAMS,
    ConfidenceInterval,
    _validate_classification,
)
from sklearn_focal.utils._compat import (
    StrOptions,
    validate_params,
)
from sklearn_focal.utils._dask import is_dask_array
from sklearn_focal.utils.validation import (
    check_integer,
)

#: Largest ``n_bins``: bin indices are int64 and the uniform edges
#: ``j / n_bins`` float64, whose neighbours coincide past ``2**53``.
_MAX_N_BINS = 2**53
#: Largest ``n_curves * n_bins`` of :func:`binned_calibration`, whose per-bin
#: arrays are dense (80 MB each at the limit). The calibration errors keep
#: only the occupied bins and have no such limit.
_MAX_DENSE_BINS = 10**7


def any_dask(*arrays):
    """Whether any of ``arrays`` is a dask array (dask is not imported)."""
    return any(is_dask_array(a) for a in arrays)


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
        if (
            isinstance(probs, np.ndarray)
            and probs.dtype in (np.float32, np.float64)
            and probs.flags.c_contiguous
            and n_classes > 0
        ):
            # One compiled pass: the row maximum, and whether np.argmax's
            # column is the label.
            from sklearn_focal.utils import _row_kernels
            from sklearn_focal.utils._parallel import dispatch

            scores = np.empty((n_samples, 1), dtype=probs.dtype)
            outcomes = np.empty((n_samples, 1))
            dispatch(
                _row_kernels.top_label,
                _row_kernels.top_label_serial,
                probs,
                np.asarray(y_index, dtype=np.int64),
                scores[:, 0],
                outcomes[:, 0],
                size=probs.size,
            )
            return scores, outcomes
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
    and 1 are counted; empty bins do not contribute.

    Dask arrays (``y_prob`` chunked along rows, ``y_true`` and
    ``sample_weight`` dask or numpy) are reduced chunk by chunk without
    gathering the rows: one pass for uniform bins; quantile bins take their
    exact global quantiles in eight more passes (a radix selection), equal
    to numpy's without weights. ``return_ci`` is not available there.

    The ECE is a biased estimator whose value depends on the binning: use it
    to report, and a proper score (log loss) to select models (see
    :func:`calibration_scorers`).

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
    if any_dask(y_true, y_prob, sample_weight):  # one blockwise reduction
        from sklearn_focal.metrics import _dask

        _dask._refuse_ci(return_ci, "expected_calibration_error")
        return _dask.dask_calibration_error(
            y_true,
            y_prob,
            n_bins=n_bins,
            strategy=strategy,
            norm=norm,
            kind=kind,
            labels=labels,
            sample_weight=sample_weight,
        )
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
