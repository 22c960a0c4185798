"""Former home of the compiled kernels, kept as a thin re-export.

The kernels are split by consumer: :mod:`sklearn_focal._theory_kernels`
(Psi, row checks, the focal minimizer), :mod:`sklearn_focal._loss_kernels`
(the focal losses), with their shared pieces in
:mod:`sklearn_focal.utils._fastmath` and the serial/parallel rule in
:mod:`sklearn_focal.utils._parallel`. This private module stays only while
code outside them still imports it (``tests/test_theory_accuracy.py`` reads
``TABLE_MIN_ROWS``); import from the modules above instead.
"""
# SPDX-License-Identifier: BSD-3-Clause

from sklearn_focal._loss_kernels import (
    binary_focal_rows,
    binary_focal_rows_serial,
    hard_target_focal_rows,
    hard_target_focal_rows_serial,
    soft_target_focal_rows,
    soft_target_focal_rows_serial,
)
from sklearn_focal._theory_kernels import (
    ROW_BAD_SUM,
    ROW_NEGATIVE,
    ROW_NOT_FINITE,
    ROW_OK,
    TABLE_MIN_ROWS,
    focal_minimizer_rows,
    focal_minimizer_rows_serial,
    inverse_table,
    psi_rows,
    psi_rows_serial,
    row_defects,
    row_defects_serial,
)
from sklearn_focal.utils._fastmath import power_mode
from sklearn_focal.utils._parallel import PARALLEL_MIN_SIZE, dispatch

__all__ = [
    "PARALLEL_MIN_SIZE",
    "ROW_BAD_SUM",
    "ROW_NEGATIVE",
    "ROW_NOT_FINITE",
    "ROW_OK",
    "TABLE_MIN_ROWS",
    "binary_focal_rows",
    "binary_focal_rows_serial",
    "dispatch",
    "focal_minimizer_rows",
    "focal_minimizer_rows_serial",
    "hard_target_focal_rows",
    "hard_target_focal_rows_serial",
    "inverse_table",
    "power_mode",
    "psi_rows",
    "psi_rows_serial",
    "row_defects",
    "row_defects_serial",
    "soft_target_focal_rows",
    "soft_target_focal_rows_serial",
]
