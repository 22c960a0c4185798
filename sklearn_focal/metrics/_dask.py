"""The calibration metrics on dask arrays: one blockwise reduction, no gathering.

Each chunk of rows is validated and reduced to a few sums (per-bin weights,
scores and outcomes; weighted row sums), the partial sums are added up a
tree, and the numpy path's own combine (:func:`_combine`) turns them into
the metric. Only the sums travel; the rows stay on the workers. Errors name
global rows.

Quantile bins need global quantiles. They are computed exactly, as the numpy
path computes them, by a radix selection over the float64 bit patterns of the
scores: each of eight passes over the data adds up a 256-bucket histogram per
wanted order statistic, which fixes eight more bits of it. Without sample
weights the edges are then those of :func:`numpy.quantile` (its ``'linear'``
rule); with weights, those of the inverted weighted CDF, the same as the
numpy path unless a cumulative weight lands within rounding of a level.
Quantile bins thus cost nine passes over the data, uniform bins one.
"""
# SPDX-License-Identifier: BSD-3-Clause

import operator
import sys

import numpy as np

from sklearn_focal.metrics._calibration_error import (
    _MAX_DENSE_BINS,
    _assign_bins,
    _combine,
    _edge_function,
    _n_bins,
    _scores_and_outcomes,
)
from sklearn_focal.metrics._common import _encode_labels, _validate_classification
from sklearn_focal.metrics._scores import _brier_rows, _kl_rows, _validate_posteriors
from sklearn_focal.utils._dask import block_offsets, is_dask_array, reraise_with_offset
from sklearn_focal.utils.validation import check_weight_total, log_base

__all__ = [
    "dask_brier_score",
    "dask_calibration_error",
    "dask_kl_divergence",
]

#: Largest number of order statistics of a quantile binning on dask arrays:
#: each costs a 256-bucket histogram per chunk and pass.
_MAX_ORDER_STATISTICS = 10**4
_DIGIT = 8
#: Scores lie in [0, 1]: the two top bits of their float64 patterns are 0.
_SHIFTS = tuple(range(64 - 2 - 6, -1, -_DIGIT))  # 56, 48, ..., 0
_FIRST_WIDTH = 6


def _refuse_ci(return_ci, name):
    if return_ci:
        raise ValueError(
            f"{name}(return_ci=True) resamples rows in memory, which dask "
            "arrays do not allow; compute the interval on a sample that fits "
            "in memory, or pass return_ci=False"
        )


# --------------------------------------------------------------------------
# Row-aligned chunks and the tree reduction
# --------------------------------------------------------------------------


def _row_blocks(arrays):
    """Delayed row chunks of every array (None stays None), aligned."""
    da = sys.modules["dask.array"]
    lead = next(a for a in arrays if is_dask_array(a))
    rows = lead.chunks[0]
    if any(np.isnan(size) for size in rows):
        raise ValueError(
            "the dask arrays have unknown chunk sizes; call compute_chunk_sizes() "
            "first, so that errors can name the global row"
        )
    blocks = []
    for array in arrays:
        if array is None:
            blocks.append([None] * len(rows))
            continue
        if not is_dask_array(array):
            array = np.asarray(array)
            if array.ndim == 0 or array.shape[0] != lead.shape[0]:
                blocks.append(None)  # the block function reports the mismatch
                continue
            array = da.from_array(array, chunks=(rows,) + array.shape[1:])
        if array.shape[0] != lead.shape[0]:
            raise ValueError(
                f"inconsistent numbers of rows: {array.shape[0]} and {lead.shape[0]}"
            )
        array = array.rechunk((rows,) + tuple(-1 for _ in array.shape[1:]))
        blocks.append(list(array.to_delayed().ravel()))
    return blocks, block_offsets(rows)


def _on_block(func, offset, *args):
    try:
        return func(*args)
    except (ValueError, TypeError) as exc:
        reraise_with_offset(exc, offset)


def _reduce(func, arrays, *args):
    """Sum over the row chunks of ``func(*chunks, *args)`` (1-D float64 arrays)."""
    import dask

    blocks, offsets = _row_blocks(arrays)
    if any(b is None for b in blocks):
        raise ValueError("y_true, y_prob and sample_weight must have the same rows")
    on_block = dask.delayed(_on_block, pure=True)
    parts = [
        on_block(func, offset, *chunk, *args)
        for offset, chunk in zip(offsets, zip(*blocks, strict=True), strict=True)
    ]
    add = dask.delayed(operator.add, pure=True)
    while len(parts) > 1:
        pairs = [add(a, b) for a, b in zip(parts[::2], parts[1::2], strict=False)]
        parts = pairs + ([parts[-1]] if len(parts) % 2 else [])
    (total,) = dask.compute(parts[0])
    return total


def _as_array(array):
    return array if is_dask_array(array) else np.asarray(array)


# --------------------------------------------------------------------------
# Binned calibration errors
# --------------------------------------------------------------------------


def _classes(y_true, labels, n_classes):
    if labels is not None:
        return _encode_labels(np.asarray(labels)[:1], labels, n_classes)[1]
    y = y_true
    if is_dask_array(y):
        da = sys.modules["dask.array"]
        (y,) = sys.modules["dask"].compute(da.unique(y.ravel()))
    return _encode_labels(np.asarray(y), None, n_classes)[1]


def _chunk_classification(y_true, y_prob, sample_weight, classes):
    """The numpy path's validation of one chunk, which may carry zero weight."""
    y_index, probs, weight, _ = _validate_classification(
        y_true, y_prob, classes, sample_weight, allow_zero_sum=True
    )
    return y_index, probs, weight


def _chunk_scores(y_true, y_prob, sample_weight, classes, kind):
    y_index, probs, weight = _chunk_classification(
        y_true, y_prob, sample_weight, classes
    )
    scores, outcomes = _scores_and_outcomes(y_index, probs, kind)
    return scores, outcomes, weight


def _bin_sums(y_true, y_prob, sample_weight, classes, kind, edges, n_bins):
    """Per (curve, bin): total weight, weighted score and outcome sums."""
    scores, outcomes, weight = _chunk_scores(
        y_true, y_prob, sample_weight, classes, kind
    )
    n_curves = scores.shape[1]
    groups = _assign_bins(scores, edges, n_bins) + n_bins * np.arange(n_curves)
    groups = groups.ravel()
    w = np.broadcast_to(weight[:, None], scores.shape).ravel()
    size = n_curves * n_bins
    return np.concatenate(
        [
            np.bincount(groups, weights=w, minlength=size),
            np.bincount(groups, weights=w * scores.ravel(), minlength=size),
            np.bincount(groups, weights=w * outcomes.ravel(), minlength=size),
        ]
    )


def _digit_histograms(
    y_true, y_prob, sample_weight, classes, kind, prefixes, shift, width
):
    """Per curve and wanted prefix: weight of each next digit of the scores."""
    scores, _, weight = _chunk_scores(y_true, y_prob, sample_weight, classes, kind)
    keys = (scores + 0.0).view(np.uint64)  # -0.0 -> 0.0; order-preserving
    buckets = 1 << width
    out = []
    for c, wanted in enumerate(prefixes):
        key = keys[:, c]
        high = key >> np.uint64(shift + width)
        digit = ((key >> np.uint64(shift)) & np.uint64(buckets - 1)).astype(np.intp)
        where = np.minimum(np.searchsorted(wanted, high), wanted.size - 1)
        match = wanted[where] == high
        out.append(
            np.bincount(
                where[match] * buckets + digit[match],
                weights=weight[match],
                minlength=wanted.size * buckets,
            )
        )
    return np.concatenate(out)


def _select(arrays, classes, kind, n_curves, targets, weighted):
    """Exact order statistics of every curve's scores by radix selection.

    ``targets[c]`` holds thresholds: the smallest score ``v`` with
    ``W(<= v) >= t`` (counts) or ``W(<= v) / W >= t`` (``weighted``) is found.
    """
    prefix = [np.zeros(t.size, dtype=np.uint64) for t in targets]
    below = [np.zeros(t.size) for t in targets]
    total = None
    for step, shift in enumerate(_SHIFTS):
        width = _FIRST_WIDTH if step == 0 else _DIGIT
        buckets = 1 << width
        wanted = [np.unique(p) for p in prefix]
        hist = _reduce(_digit_histograms, arrays, classes, kind, wanted, shift, width)
        start = 0
        for c in range(n_curves):
            counts = hist[start : start + wanted[c].size * buckets]
            counts = counts.reshape(wanted[c].size, buckets)
            start += wanted[c].size * buckets
            if total is None:
                total = counts.sum()
            rows = np.searchsorted(wanted[c], prefix[c])
            cumulative = below[c][:, None] + np.cumsum(counts[rows], axis=1)
            if weighted:
                reached = cumulative / total >= targets[c][:, None]
            else:
                reached = cumulative >= targets[c][:, None]
            # Rounding of weight sums may leave the last bucket a hair short.
            last = buckets - 1 - np.argmax(counts[rows][:, ::-1] > 0, axis=1)
            digit = np.where(reached.any(axis=1), np.argmax(reached, axis=1), last)
            below[c] = (
                np.take_along_axis(cumulative, digit[:, None], 1)[:, 0]
                - (counts[rows, digit])
            )
            prefix[c] = (prefix[c] << np.uint64(width)) | digit.astype(np.uint64)
    return [p.view(np.float64) for p in prefix], total


def _lerp(a, b, t):
    """numpy.quantile's 'linear' interpolation, as numpy writes it."""
    diff = b - a
    return np.where(t >= 0.5, b - diff * (1 - t), a + diff * t)


def _quantile_edges(arrays, classes, kind, n_curves, n_rows, n_bins, weighted):
    """The inner edges ``e(1) .. e(n_bins - 1)`` of every curve, exactly."""
    levels = np.arange(1, n_bins).astype(np.float64) * (1.0 / n_bins)
    if n_curves * 2 * levels.size > _MAX_ORDER_STATISTICS:
        raise ValueError(
            f"strategy='quantile' on dask arrays selects {n_curves} x "
            f"{2 * levels.size} order statistics, more than "
            f"{_MAX_ORDER_STATISTICS}; use fewer bins or strategy='uniform'"
        )
    if weighted:
        values, total = _select(
            arrays, classes, kind, n_curves, [levels] * n_curves, True
        )
        return values, total
    virtual = (n_rows - 1) * levels
    previous = np.floor(virtual)
    gamma = virtual - previous
    previous = np.where(virtual >= n_rows - 1, n_rows - 1, previous).astype(np.int64)
    following = np.where(virtual >= n_rows - 1, n_rows - 1, previous + 1)
    ranks = np.concatenate([previous, following]) + 1.0  # counts to reach
    values, total = _select(arrays, classes, kind, n_curves, [ranks] * n_curves, False)
    m = levels.size
    return [_lerp(v[:m], v[m:], gamma) for v in values], total


def _array_edge(inner):
    return lambda j: inner[np.asarray(j) - 1]


def dask_calibration_error(
    y_true, y_prob, *, n_bins, strategy, norm, kind, labels, sample_weight
):
    """:func:`expected_calibration_error` of dask arrays (see the module notes)."""
    y_prob = _as_array(y_prob)
    if y_prob.ndim not in (1, 2):
        raise ValueError(f"y_prob must be 1-D or 2-D, got shape {y_prob.shape}")
    n_rows = y_prob.shape[0]
    n_classes = 2 if y_prob.ndim == 1 else y_prob.shape[1]
    if n_rows == 0:
        raise ValueError("y_prob is empty")
    classes = _classes(y_true, labels, n_classes)
    n_curves = n_classes if kind == "classwise" else 1
    bins = _n_bins(n_bins, n_rows)
    if n_bins == "auto":
        strategy = "quantile"
    if n_curves * bins > _MAX_DENSE_BINS:
        raise ValueError(
            f"n_bins={bins} gives {n_curves} x {bins} per-bin sums, more than "
            f"the {_MAX_DENSE_BINS} that the dask path adds up densely"
        )
    arrays = (y_true, y_prob, sample_weight)
    if strategy == "uniform":
        edges = _edge_function(None, None, bins, "uniform", True)
    else:
        inner, _ = _quantile_edges(
            arrays, classes, kind, n_curves, n_rows, bins, sample_weight is not None
        )
        edges = [_array_edge(e) for e in inner]
    sums = _reduce(_bin_sums, arrays, classes, kind, edges, bins)
    total, score_sum, outcome_sum = np.split(sums, 3)
    check_weight_total(total.sum() / n_curves)
    curve = np.repeat(np.arange(n_curves), bins)
    return _combine(total, score_sum, outcome_sum, curve, n_curves, norm)


# --------------------------------------------------------------------------
# Weighted means of row scores
# --------------------------------------------------------------------------


def _brier_sums(y_true, y_prob, sample_weight, classes):
    y_index, probs, weight = _chunk_classification(
        y_true, y_prob, sample_weight, classes
    )
    return np.array([(_brier_rows(y_index, probs) * weight).sum(), weight.sum()])


def dask_brier_score(y_true, y_prob, *, labels, sample_weight):
    """:func:`multiclass_brier_score` of dask arrays."""
    y_prob = _as_array(y_prob)
    n_classes = 2 if y_prob.ndim == 1 else y_prob.shape[1]
    classes = _classes(y_true, labels, n_classes)
    total, weight = _reduce(_brier_sums, (y_true, y_prob, sample_weight), classes)
    check_weight_total(weight)
    return float(total / weight)


def _kl_sums(p_true, y_prob, sample_weight, scale):
    eta, q, weight = _validate_posteriors(
        p_true, y_prob, sample_weight, allow_zero_sum=True
    )
    return np.array([(_kl_rows(eta, q, scale) * weight).sum(), weight.sum()])


def dask_kl_divergence(p_true, y_prob, *, sample_weight, base):
    """:func:`posterior_kl_divergence` of dask arrays."""
    shapes = [getattr(a, "shape", np.shape(a)) for a in (p_true, y_prob)]
    if shapes[0] != shapes[1]:
        raise ValueError(
            f"p_true and y_prob must have the same shape, got {shapes[0]} and "
            f"{shapes[1]}"
        )
    arrays = (p_true, y_prob, sample_weight)
    total, weight = _reduce(_kl_sums, arrays, log_base(base))
    check_weight_total(weight)
    return float(total / weight)
