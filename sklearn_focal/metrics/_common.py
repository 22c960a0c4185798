"""Validation shared by the metrics: labels, probability rows, parameter constraints."""
# SPDX-License-Identifier: BSD-3-Clause

from collections import namedtuple
from numbers import Integral, Real

import numpy as np
from sklearn.utils.validation import column_or_1d

from sklearn_focal.utils._compat import (
    Interval,
    StrOptions,
)
from sklearn_focal.utils.validation import (
    check_sample_weight,
    check_y_prob,
)

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


def _small_nonnegative_integers(y):
    """Whether ``y`` holds integers in ``[0, max(2**16, len(y))]`` (not bools)."""
    if y.dtype.kind not in "iu" or y.shape[0] == 0:
        return False
    return bool(y.min() >= 0 and y.max() <= max(2**16, y.shape[0]))


def _encode_labels(y_true, labels, n_classes, name="y_true"):
    """Map ``y_true`` to column indices of ``y_prob``; return (indices, classes)."""
    y = column_or_1d(y_true, warn=True)
    if y.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    if labels is None and _small_nonnegative_integers(y):
        # Integer labels 0..m (m small): counts instead of a sort; the same
        # sorted classes and column indices as the general path below.
        present = np.bincount(y) > 0
        classes = np.flatnonzero(present).astype(y.dtype)
        if classes.shape[0] == n_classes:
            return (np.cumsum(present) - 1)[y], classes
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


def _validate_classification(
    y_true, y_prob, labels, sample_weight, *, allow_zero_sum=False
):
    """Labels as column indices, probability rows, weights and classes.

    ``allow_zero_sum``: the rows are one chunk of a dask array, whose weight
    may be all zero (the total is checked after the chunks are added up).
    """
    probs = check_y_prob(y_prob)
    y = column_or_1d(y_true, warn=True)
    if y.shape[0] != probs.shape[0]:
        raise ValueError(
            f"y_true has {y.shape[0]} samples but y_prob has {probs.shape[0]} rows"
        )
    y_index, classes = _encode_labels(y, labels, probs.shape[1])
    weight = check_sample_weight(
        sample_weight, probs.shape[0], allow_zero_sum=allow_zero_sum
    )
    return y_index, probs, weight, classes
