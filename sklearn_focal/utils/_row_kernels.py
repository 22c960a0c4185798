"""The one-pass check of probability rows, compiled.

:func:`row_defects` writes the first defect of every row of a C-contiguous
float64 array of shape (n, K) as one of the codes below; the validators of
:mod:`sklearn_focal.utils.validation` turn the codes into errors that name
the row. The theory kernels write the same codes while computing Psi.
:func:`top_label` reads the top-label score and its correctness of every
row for the calibration metrics. numba is imported when this module is first
used, never at package import.
"""
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from numba import njit, prange

from sklearn_focal.utils import _numba_cache  # noqa: F401  (caches outside the package)

__all__ = [
    "ROW_BAD_SUM",
    "ROW_NEGATIVE",
    "ROW_NOT_FINITE",
    "ROW_OK",
    "row_defects",
    "row_defects_serial",
    "top_label",
    "top_label_serial",
]

ROW_OK = 0
ROW_NOT_FINITE = 1
ROW_NEGATIVE = 2
ROW_BAD_SUM = 3


@njit(cache=True, inline="always")
def _row_defects(x, tolerance, codes):
    """One pass over probability rows: the first defect of every row.

    ``codes[r]`` is ROW_NOT_FINITE, ROW_NEGATIVE, ROW_BAD_SUM or ROW_OK.
    """
    n, k = x.shape
    for r in prange(n):
        total = 0.0
        code = ROW_OK
        for i in range(k):
            v = x[r, i]
            if not np.isfinite(v):
                code = ROW_NOT_FINITE
                break
            if v < 0:
                code = ROW_NEGATIVE
            total += v
        if code == ROW_OK and abs(total - 1.0) > tolerance:
            code = ROW_BAD_SUM
        codes[r] = code


@njit(cache=True, parallel=True)
def row_defects(x, tolerance, codes):
    """:func:`_row_defects`, parallel over rows."""
    _row_defects(x, tolerance, codes)


@njit(cache=True, error_model="numpy")
def row_defects_serial(x, tolerance, codes):
    """:func:`_row_defects` on one thread."""
    _row_defects(x, tolerance, codes)


@njit(cache=True, inline="always")
def _top_label(x, y_index, scores, outcomes):
    """The largest entry of every row, and whether its column is ``y_index``.

    ``scores[r] = max_i x[r, i]``; ``outcomes[r]`` is 1.0 when the first
    column holding it (``np.argmax``'s choice) is ``y_index[r]``, else 0.0.
    One pass, where numpy needs ``argmax``, a gather and a comparison.
    """
    n, k = x.shape
    for r in prange(n):
        best = x[r, 0]
        arg = 0
        for i in range(1, k):
            v = x[r, i]
            if v > best:
                best = v
                arg = i
        scores[r] = best
        outcomes[r] = 1.0 if arg == y_index[r] else 0.0


@njit(cache=True, parallel=True)
def top_label(x, y_index, scores, outcomes):
    """:func:`_top_label`, parallel over rows."""
    _top_label(x, y_index, scores, outcomes)


@njit(cache=True, error_model="numpy")
def top_label_serial(x, y_index, scores, outcomes):
    """:func:`_top_label` on one thread."""
    _top_label(x, y_index, scores, outcomes)
