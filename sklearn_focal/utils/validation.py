"""Input validation of sklearn_focal: every parameter rule, one exception policy.

Every function of the package that takes a focusing parameter, a logarithm
base, an integer count, probability rows, a pmf, class weights or sample
weights checks it here, so that the same input fails the same way everywhere.

Exception policy
----------------
- ``TypeError`` for a value of the wrong *type*: a string, an object, or a
  bool where a number is expected (a bool is never a number, although Python
  makes it an ``int``), a float where an integer is expected (even ``2.0``,
  as in scikit-learn's ``Interval(Integral, ...)``).
- ``ValueError`` for a value of the right type but outside the domain: NaN,
  infinity, a negative gamma, a base <= 1, an empty array, a wrong shape, a
  negative probability, a row that does not sum to 1.
- Every message names the parameter (``name``) and, for arrays of rows, the
  first bad row (``row 3``), so that a caller deep in a pipeline can find
  the entry to fix.

One documented exception: :func:`check_pmf` (the 1-D pmfs of
:mod:`sklearn_focal.rate_distortion`) raises ``ValueError`` for non-numeric
entries, as that module has always documented.

Nothing here imports torch, scipy or the compiled kernels at import time;
the fused check of large probability arrays imports its kernel on first use.
"""
# SPDX-License-Identifier: BSD-3-Clause

import math
from numbers import Integral, Real

import numpy as np

__all__ = [
    "as_float64_proba",
    "check_alpha",
    "check_base",
    "check_bits",
    "check_class_priors",
    "check_distribution",
    "check_finite_array",
    "check_gamma",
    "check_gamma_array",
    "check_indicator",
    "check_integer",
    "check_integer_array",
    "check_label_proba",
    "check_label_weights",
    "check_pmf",
    "check_positive_definite",
    "check_probability_rows",
    "check_real",
    "check_sample_aligned",
    "check_sample_weight",
    "check_unit_interval",
    "check_weight_total",
    "check_y_prob",
    "float_array",
    "is_multilabel_indicator",
    "log_base",
    "raise_outside_unit_interval",
    "raise_row_defects",
    "row_sum_tolerance",
]


# --------------------------------------------------------------------------
# Scalars: gamma, integers, logarithm bases
# --------------------------------------------------------------------------


def check_gamma(gamma, name="gamma", *, signed=False):
    """Return a focusing parameter as a float after checking it.

    Parameters
    ----------
    gamma : object
        A real number (Python or numpy, or a 0-d array), finite and >= 0.
    name : str, default="gamma"
        Parameter name, for the messages.
    signed : bool, default=False
        Accept negative values too: the signed order of
        :class:`~sklearn_focal.FocalPosteriorRecovery`, whose negative
        orders are the inverse map.

    Returns
    -------
    float
        ``gamma``.

    Raises
    ------
    TypeError
        For a bool, a string or any other non-real value.
    ValueError
        For NaN, infinity or (unless ``signed``) a negative value.

    Examples
    --------
    >>> from sklearn_focal.utils.validation import check_gamma
    >>> check_gamma(2)
    2.0
    """
    return check_real(gamma, name, lower=None if signed else 0.0, closed="left")


def check_real(value, name, *, lower=None, upper=None, closed="neither"):
    """A finite real number as a float, optionally within an interval.

    The one scalar rule of sklearn_focal (focusing parameters, scales,
    intercepts, means, significance levels): a real number (Python or numpy,
    or a 0-d array of numbers); a bool is never a number. NaN and infinity
    are refused, then ``lower`` and ``upper`` bound the value, closed on the
    sides that ``closed`` names, as in scikit-learn's ``Interval``.

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        Parameter name, for the messages.
    lower, upper : float, default=None
        Bounds; ``None``: unbounded on that side.
    closed : {"neither", "left", "right", "both"}, default="neither"
        Which bounds belong to the interval.

    Returns
    -------
    float
        ``value``.

    Raises
    ------
    TypeError
        For a bool, a string or any other non-real value.
    ValueError
        For NaN, infinity or a value outside the interval.

    Examples
    --------
    >>> from sklearn_focal.utils.validation import check_real
    >>> check_real(2, "scale", lower=0)
    2.0
    >>> check_real(1.0, "alpha", lower=0, upper=1)
    Traceback (most recent call last):
        ...
    ValueError: alpha must be in (0, 1), got 1.0
    """
    if isinstance(value, bool) or not isinstance(value, Real | np.floating):
        if (
            isinstance(value, np.ndarray)
            and value.ndim == 0
            and value.dtype.kind in "biuf"
        ):
            value = value.item()
        else:
            raise TypeError(
                f"{name} must be a real number, got {type(value).__name__}: {value!r}"
            )
    if isinstance(value, bool):  # a 0-d bool array
        raise TypeError(f"{name} must be a real number, got bool: {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    left = closed in ("left", "both")
    right = closed in ("right", "both")
    below = lower is not None and (value < lower if left else value <= lower)
    above = upper is not None and (value > upper if right else value >= upper)
    if below or above:
        if upper is None:
            rule = f"{'>=' if left else '>'} {lower:g}"
        elif lower is None:
            rule = f"{'<=' if right else '<'} {upper:g}"
        else:
            rule = (
                f"in {'[' if left else '('}{lower:g}, {upper:g}{']' if right else ')'}"
            )
        raise ValueError(f"{name} must be {rule}, got {value}")
    return value


def check_gamma_array(gamma, name="gamma"):
    """:func:`check_gamma` for a scalar or an array-like of focusing parameters.

    The same policy: a scalar goes through :func:`check_gamma` (and comes
    back as a 0-d float64 array); every entry of a list or tuple must be a
    real number (a bool hidden among numbers is refused); an array must hold
    real numbers (not bool, not strings); all finite and >= 0.

    Parameters
    ----------
    gamma : object
        Scalar or array-like.
    name : str, default="gamma"
        Parameter name, for the messages.

    Returns
    -------
    ndarray of float64
        ``gamma`` as an array (0-d for a scalar).

    Examples
    --------
    >>> from sklearn_focal.utils.validation import check_gamma_array
    >>> check_gamma_array([0, 1.5])
    array([0. , 1.5])
    """
    if np.ndim(gamma) == 0 and not isinstance(gamma, np.ndarray | list | tuple):
        return np.asarray(check_gamma(gamma, name))
    if isinstance(gamma, list | tuple):
        # a bool, a string or an object inside a list: named in the message
        for value in np.asarray(gamma, dtype=object).ravel().tolist():
            if isinstance(value, bool) or not isinstance(value, Real):
                raise TypeError(
                    f"{name} must be real numbers (not bool or str), got "
                    f"{value!r} in {gamma!r}"
                )
    values = np.asarray(gamma)
    if values.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must be real numbers (not bool or str), got dtype "
            f"{values.dtype}: {gamma!r}"
        )
    values = values.astype(np.float64)
    if values.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} must be finite, got {gamma!r}")
    if np.any(values < 0):
        raise ValueError(f"{name} must be >= 0, got {gamma!r}")
    return values


def check_integer(value, name, *, minimum=None):
    """``value`` as a Python int: the one integer rule of sklearn_focal.

    Integers are :class:`numbers.Integral` values (Python or numpy ints, and
    0-d integer arrays); a bool is never a number and a float, even an
    integral one such as ``2.0``, is not an integer, as in scikit-learn's
    ``Interval(Integral, ...)`` constraints.

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        Parameter name, for the messages.
    minimum : int, default=None
        Smallest accepted value; ``None``: no bound.

    Returns
    -------
    int
        The value.

    Raises
    ------
    TypeError
        For a bool, a float or any other non-integer.
    ValueError
        For a value below ``minimum``.

    Examples
    --------
    >>> from sklearn_focal.utils.validation import check_integer
    >>> check_integer(3, "n_bins", minimum=1)
    3
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, bool | np.bool_) or not isinstance(value, Integral):
        raise TypeError(
            f"{name} must be an integer, got {type(value).__name__}: {value!r}."
        )
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}.")
    return value


def check_integer_array(values, name, *, minimum=None):
    """:func:`check_integer` for an int or an array-like of ints.

    Parameters
    ----------
    values : object
        An integer or an array-like of integers.
    name : str
        Parameter name, for the messages.
    minimum : int, default=None
        Smallest accepted value; ``None``: no bound.

    Returns
    -------
    numpy.int64 or ndarray of int64
        The values.

    Examples
    --------
    >>> from sklearn_focal.utils.validation import check_integer_array
    >>> check_integer_array([1, 2, 4], "n_codewords", minimum=1)
    array([1, 2, 4])
    """
    if np.ndim(values) == 0 and not isinstance(values, list | tuple):
        return np.int64(check_integer(values, name, minimum=minimum))
    array = np.asarray(values)
    if array.dtype.kind not in "iuO":
        raise TypeError(f"{name} must hold integers, got dtype {array.dtype}.")
    if array.dtype.kind == "O" or isinstance(values, list | tuple):
        # a list may hide a bool among ints: check every entry
        entries = np.asarray(values, dtype=object)
        for value in entries.ravel().tolist():
            if isinstance(value, bool) or not isinstance(value, Integral):
                raise TypeError(f"{name} must hold integers, got {value!r}.")
        array = entries.astype(np.int64)
    if array.dtype == np.uint64 and array.size and array.max() > np.iinfo(np.int64).max:
        raise ValueError(
            f"{name} must hold integers <= {np.iinfo(np.int64).max}, got {array.max()}."
        )
    if minimum is not None and array.size and array.min() < minimum:
        raise ValueError(f"{name} must hold integers >= {minimum}, got {array.min()}.")
    return array.astype(np.int64)


def check_base(base):
    """The one ``base`` rule: None (nats) or a finite real number > 1.

    A base in (0, 1) has a negative logarithm and would turn every entropy,
    divergence and distortion negative.

    Parameters
    ----------
    base : object
        The logarithm base.

    Returns
    -------
    float or None
        ``base``.

    Examples
    --------
    >>> from sklearn_focal.utils.validation import check_base
    >>> check_base(2), check_base(None)
    (2.0, None)
    """
    if base is None:
        return None
    if isinstance(base, bool) or not isinstance(base, Real):
        raise TypeError(f"base must be a real number or None, got {base!r}")
    if not (np.isfinite(base) and base > 1):
        raise ValueError(
            f"base must be a finite number > 1 (or None for nats), got {base!r}."
        )
    return float(base)


def log_base(base):
    """Natural log of a base checked by :func:`check_base` (1.0 for ``None``).

    Examples
    --------
    >>> from sklearn_focal.utils.validation import log_base
    >>> log_base(None)
    1.0
    """
    base = check_base(base)
    return 1.0 if base is None else math.log(base)


# --------------------------------------------------------------------------
# Arrays of probabilities
# --------------------------------------------------------------------------


def float_array(X, name):
    """``X`` as an ndarray of float32 or float64; other real types become float64.

    Parameters
    ----------
    X : array-like
        Real numbers (bools are read as 0 and 1).
    name : str
        Parameter name, for the messages.

    Returns
    -------
    ndarray
        ``X`` itself for float32 and float64 arrays.

    Examples
    --------
    >>> from sklearn_focal.utils.validation import float_array
    >>> float_array([1, 2], "x").dtype
    dtype('float64')
    """
    if isinstance(X, np.ndarray) and X.dtype in (np.float32, np.float64):
        return X
    try:
        array = np.asarray(X)
    except Exception as exc:  # ragged nested sequences
        raise ValueError(f"{name} could not be converted to an array: {exc}") from exc
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    if array.dtype not in (np.float32, np.float64):
        array = array.astype(np.float64)
    return array


def _first_bad_row(mask):
    return int(np.flatnonzero(mask)[0])


# float64 probability rows are often float32 softmax outputs upcast: their
# sums are off by up to ~1.2 sqrt(K) float32 ulps (torch, numpy and scipy
# softmax, K = 2 to 10^4). Rows are accepted within 4 sqrt(K) float32 ulps
# (or the square root of their own precision, if larger) and used as given.
# The minimizer and the temperature map do not depend on a row's scale; psi
# nearly does not: it reads 1 - q_top, so a row scaled by 1 + 5e-7 moves a
# tiny entry next to q_top ~ 1 by about 1% relative (measured at gamma 2).
# Real float32 softmax rows use 1-17% of the tolerance.
_FLOAT32_ROUNDING = 4 * float(np.finfo(np.float32).eps)

# Large inputs are checked in one compiled pass instead of three numpy passes.
_FUSED_CHECK_MIN_SIZE = 1 << 16


def row_sum_tolerance(dtype, n_classes):
    """How far from 1 a row of ``n_classes`` probabilities of ``dtype`` may sum.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.utils.validation import row_sum_tolerance
    >>> row_sum_tolerance(np.float64, 4) == 8 * float(np.finfo(np.float32).eps)
    True
    """
    own = float(np.sqrt(np.finfo(dtype).eps)) * max(1.0, np.sqrt(n_classes) / 4)
    return max(own, _FLOAT32_ROUNDING * float(np.sqrt(n_classes)))


def check_distribution(P, name="p", *, min_classes=2, check_values=True):
    """Validate a (n, K) or (K,) array of probability rows.

    Rows must be finite, nonnegative and sum to 1 within
    :func:`row_sum_tolerance`; they are used as given (not renormalized).

    Parameters
    ----------
    P : array-like of shape (n_samples, n_classes) or (n_classes,)
        Probability rows.
    name : str, default="p"
        Parameter name, for the messages.
    min_classes : int, default=2
        Fewest columns accepted.
    check_values : bool, default=True
        ``False`` checks only the type and shape: the caller validates the
        values itself (see :func:`raise_row_defects`).

    Returns
    -------
    rows : ndarray of shape (n_samples, n_classes)
        The 2-D array (a view when possible), float32 or float64.
    one_row : bool
        Whether the input was 1-D.

    Examples
    --------
    >>> from sklearn_focal.utils.validation import check_distribution
    >>> check_distribution([0.5, 0.5])
    (array([[0.5, 0.5]]), True)
    >>> check_distribution([[0.5, 0.5], [0.5, 0.6]], "q")
    Traceback (most recent call last):
        ...
    ValueError: q rows must sum to 1; row 1 sums to 1.1 ...
    """
    array = float_array(P, name)
    if array.ndim not in (1, 2):
        raise ValueError(
            f"{name} must be 1-D (one distribution) or 2-D (one per row), "
            f"got an array of shape {array.shape}"
        )
    one_row = array.ndim == 1
    rows = array.reshape(1, -1) if one_row else array
    if rows.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape})")
    n_classes = rows.shape[1]
    if n_classes < min_classes:
        raise ValueError(
            f"{name} needs at least {min_classes} classes (columns), got {n_classes}"
        )
    if check_values:
        _check_row_values(rows, name)
    return rows, one_row


def _check_row_values(rows, name):
    tolerance = row_sum_tolerance(rows.dtype, rows.shape[1])
    if rows.size >= _FUSED_CHECK_MIN_SIZE:
        _check_rows_fused(rows, name, tolerance)
        return
    finite = np.isfinite(rows).all(axis=1)
    if not finite.all():
        raise ValueError(
            f"{name} contains NaN or inf (first in row {_first_bad_row(~finite)})"
        )
    negative = (rows < 0).any(axis=1)
    if negative.any():
        raise ValueError(
            f"{name} contains negative probabilities "
            f"(first in row {_first_bad_row(negative)})"
        )
    sums = rows.sum(axis=1, dtype=np.float64)
    bad_sum = np.abs(sums - 1.0) > tolerance
    if bad_sum.any():
        _raise_bad_sum(name, _first_bad_row(bad_sum), sums, tolerance, rows.shape[1])


def _raise_bad_sum(name, row, sums, tolerance, n_classes):
    raise ValueError(
        f"{name} rows must sum to 1; row {row} sums to {float(sums[row])!r} "
        f"(tolerance {tolerance:.1e} for {n_classes} classes). Pass probabilities "
        "(softmax or predict_proba outputs, not logits or scores), or divide "
        "each row by its sum if it is off by rounding only."
    )


def _kernels():
    from sklearn_focal.utils import _parallel, _row_kernels

    return _parallel, _row_kernels


def _check_rows_fused(rows, name, tolerance):
    parallel, kernels = _kernels()
    codes = np.empty(rows.shape[0], dtype=np.int8)
    parallel.dispatch(
        kernels.row_defects,
        kernels.row_defects_serial,
        np.ascontiguousarray(rows),
        tolerance,
        codes,
        size=rows.size,
    )
    raise_row_defects(codes, rows, name, tolerance)


def raise_row_defects(codes, rows, name, tolerance):
    """Raise for the first defective row, by the compiled kernels' row codes.

    Parameters
    ----------
    codes : ndarray of int8, shape (n_samples,)
        0 for a valid row, else the kernels' ``ROW_NOT_FINITE``,
        ``ROW_NEGATIVE`` or ``ROW_BAD_SUM``.
    rows : ndarray of shape (n_samples, n_classes)
        The rows the codes describe.
    name : str
        Parameter name, for the messages.
    tolerance : float
        The row-sum tolerance the codes were computed with.
    """
    if not codes.any():
        return
    _, kernels = _kernels()
    for code, problem in (
        (kernels.ROW_NOT_FINITE, "contains NaN or inf"),
        (kernels.ROW_NEGATIVE, "contains negative probabilities"),
    ):
        bad = np.flatnonzero(codes == code)
        if bad.size:
            raise ValueError(f"{name} {problem} (first in row {int(bad[0])})")
    row = int(np.flatnonzero(codes == kernels.ROW_BAD_SUM)[0])
    sums = {row: float(rows[row].sum(dtype=np.float64))}
    _raise_bad_sum(name, row, sums, tolerance, rows.shape[1])


def as_float64_proba(proba, name):
    """Validate probability rows in their own precision, return float64 rows.

    Rows of float32 outputs (skorch) sum to 1 only to float32 precision; they
    are validated at that precision, then renormalized in float64 so that the
    float64 maps downstream see exact distributions.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.utils.validation import as_float64_proba
    >>> as_float64_proba(np.array([[0.25, 0.75]], dtype=np.float32), "X").dtype
    dtype('float64')
    """
    rows, _ = check_distribution(proba, name)
    if rows.dtype != np.float64:
        rows = rows.astype(np.float64)
        rows /= rows.sum(axis=1, keepdims=True)
    return rows


def check_probability_rows(X, owner):
    """Transformer-mode input of a calibrator: probability rows, >= 2 classes.

    ``X`` is already a 2-D numeric array (from ``validate_data``); ``owner``
    names the calibrator in the messages.
    """
    if X.shape[1] < 2:
        raise ValueError(
            f"X has {X.shape[1]} feature(s), but {owner} in transformer mode "
            "needs one probability column per class, at least 2."
        )
    from sklearn.utils.validation import check_non_negative

    check_non_negative(X, f"{owner} (X must hold probabilities)")
    check_distribution(X, "X")


def check_y_prob(y_prob, name="y_prob"):
    """Predicted probabilities of a metric as float64 rows (n, K).

    A 1-D array holds the positive-class probabilities of a binary problem;
    it becomes the rows ``(1 - p, p)``. A 2-D array goes through
    :func:`check_distribution`.

    Examples
    --------
    >>> from sklearn_focal.utils.validation import check_y_prob
    >>> check_y_prob([0.25, 1.0])
    array([[0.75, 0.25],
           [0.  , 1.  ]])
    """
    array = np.asarray(y_prob)
    if array.ndim == 1:
        return _binary_rows(array, name)
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be 1-D (positive-class probabilities) or 2-D "
            f"(n_samples, n_classes), got shape {array.shape}"
        )
    rows, _ = check_distribution(array, name, min_classes=2)
    return rows.astype(np.float64, copy=False)


def _binary_rows(array, name):
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        bad = _first_bad_row(~np.isfinite(array))
        raise ValueError(f"{name} contains NaN or inf (first in row {bad})")
    outside = (array < 0) | (array > 1)
    if outside.any():
        bad = _first_bad_row(outside)
        raise ValueError(
            f"{name} is 1-D, so it holds positive-class probabilities, which "
            f"must lie in [0, 1]; row {bad} is {float(array[bad])!r}"
        )
    return np.column_stack([1.0 - array, array])


def check_pmf(pmf, name="pmf"):
    """A 1-D pmf as float64, renormalized to sum to 1 exactly.

    The sum must be 1 within the square root of the input's precision
    (float32 pmfs pass). Non-numeric entries raise ``ValueError``, the one
    documented exception to the module's policy.

    Examples
    --------
    >>> from sklearn_focal.utils.validation import check_pmf
    >>> check_pmf([0.25, 0.75])
    array([0.25, 0.75])
    """
    arr = np.asarray(pmf)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers, got dtype {arr.dtype}.")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty.")
    eps = np.finfo(arr.dtype).eps if arr.dtype.kind == "f" else np.finfo(float).eps
    p = arr.astype(np.float64)
    if not np.all(np.isfinite(p)):
        raise ValueError(f"{name} must be finite; it contains NaN or infinity.")
    if np.any(p < 0):
        raise ValueError(f"{name} must be nonnegative; min entry is {p.min()!r}.")
    total = math.fsum(p)
    # sqrt(eps) of the input dtype: ~1.5e-8 for float64, ~3.5e-4 for float32.
    if abs(total - 1.0) > math.sqrt(eps):
        raise ValueError(f"{name} must sum to 1; it sums to {total!r}.")
    return p / total


# --------------------------------------------------------------------------
# Weights and the unit interval
# --------------------------------------------------------------------------


def check_alpha(alpha, n_classes):
    """Per-class weights of the alpha-balanced focal loss; ``None``: equal.

    Examples
    --------
    >>> from sklearn_focal.utils.validation import check_alpha
    >>> check_alpha([1, 3], 2)
    array([1., 3.])
    """
    if alpha is None:
        return None
    entries = np.asarray(alpha, dtype=object).ravel().tolist()
    if np.asarray(alpha).dtype.kind == "b" or any(
        isinstance(value, bool | np.bool_) for value in entries
    ):
        raise TypeError(f"alpha must hold real numbers, not bools: {alpha!r}.")
    weights = float_array(alpha, "alpha").astype(np.float64, copy=False)
    if weights.ndim != 1 or weights.shape[0] != n_classes:
        raise ValueError(
            f"alpha must be a 1-D array with one weight per class ({n_classes}), "
            f"got shape {weights.shape}"
        )
    if not np.all(np.isfinite(weights)) or np.any(weights <= 0):
        raise ValueError(f"alpha must be finite and > 0, got {weights!r}")
    return weights


def check_class_priors(weights, n_classes):
    """Class priors of a synthetic dataset from ``weights``, as float64.

    ``None`` gives equal priors; ``n_classes - 1`` positive weights summing
    to less than 1 leave the rest to the last class; ``n_classes`` positive
    weights must sum to 1 (to 1e-8).

    Examples
    --------
    >>> from sklearn_focal.utils.validation import check_class_priors
    >>> check_class_priors([0.25], 2)
    array([0.25, 0.75])
    """
    from sklearn.utils.validation import check_array

    if weights is None:
        return np.full(n_classes, 1.0 / n_classes)
    weights = check_array(
        weights, ensure_2d=False, dtype=np.float64, input_name="weights"
    )
    if weights.ndim != 1:
        raise ValueError(f"weights must be 1-D, got an array of shape {weights.shape}.")
    if weights.shape[0] not in (n_classes - 1, n_classes):
        raise ValueError(
            f"weights must have length n_classes={n_classes} or n_classes - 1, "
            f"got length {weights.shape[0]}."
        )
    if np.any(weights <= 0):
        raise ValueError(f"weights must be positive, got {weights.tolist()}.")
    if weights.shape[0] == n_classes - 1:
        last = 1.0 - weights.sum()
        if last <= 0:
            raise ValueError(
                f"weights of length n_classes - 1 = {n_classes - 1} must sum to "
                f"less than 1 (the last class gets the rest), got sum "
                f"{weights.sum():.6g}."
            )
        return np.append(weights, last)
    if not np.isclose(weights.sum(), 1.0, rtol=0.0, atol=1e-8):
        raise ValueError(
            f"weights of length n_classes must sum to 1, got sum {weights.sum():.6g}."
        )
    return weights / weights.sum()


def check_unit_interval(v, name="v"):
    """A non-empty array of finite values in [0, 1], float32 or float64.

    Examples
    --------
    >>> from sklearn_focal.utils.validation import check_unit_interval
    >>> check_unit_interval([0, 1])
    array([0., 1.])
    """
    array = float_array(v, name)
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or inf")
    if np.any((array < 0) | (array > 1)):
        raise ValueError(f"{name} must lie in [0, 1]")
    return array


def check_sample_weight(sample_weight, n_samples, *, allow_zero_sum=False):
    """Sample weights as float64: the one sample-weight rule of sklearn_focal.

    ``None`` gives unit weights. Otherwise ``sample_weight`` must be 1-D, hold
    ``n_samples`` real numbers (a bool or a string is a ``TypeError``), each
    finite and >= 0, with a positive sum; every ``ValueError`` names
    ``sample_weight`` and, for a bad entry, its row. A negative weight is
    never read as "remove this sample": it is refused, as is an all-zero
    vector (a weighted mean over nothing), unless ``allow_zero_sum``.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,) or None
        The weights.
    n_samples : int
        The number of samples they must cover.
    allow_zero_sum : bool, default=False
        Accept weights that are all zero: for a part of the data (a chunk
        of a dask array) whose sum is checked once all parts are added up,
        by :func:`check_weight_total`.

    Returns
    -------
    ndarray of shape (n_samples,)
        The weights, float64 (a new array: the input is never modified).

    Examples
    --------
    >>> from sklearn_focal.utils.validation import check_sample_weight
    >>> check_sample_weight([1, 0, 2], 3)
    array([1., 0., 2.])
    >>> check_sample_weight([1.0, -1.0], 2)
    Traceback (most recent call last):
        ...
    ValueError: sample_weight must be finite and >= 0; row 1 is -1.0
    >>> check_sample_weight([0, 0], 2, allow_zero_sum=True)
    array([0., 0.])
    """
    if sample_weight is None:
        return np.ones(n_samples)
    weight = np.asarray(sample_weight)
    if weight.dtype.kind not in "iuf":
        raise TypeError(
            f"sample_weight must hold real numbers, got dtype {weight.dtype}"
        )
    if weight.ndim != 1:
        raise ValueError(
            f"sample_weight must be 1-D, got an array of shape {weight.shape}"
        )
    if weight.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight has {weight.shape[0]} entries, expected {n_samples}"
        )
    weight = weight.astype(np.float64)  # a copy
    bad = ~np.isfinite(weight) | (weight < 0)
    if bad.any():
        row = _first_bad_row(bad)
        raise ValueError(
            f"sample_weight must be finite and >= 0; row {row} is {float(weight[row])}"
        )
    with np.errstate(over="ignore"):
        total = weight.sum()
    if not (allow_zero_sum and total == 0):
        check_weight_total(total)
    return weight


def check_weight_total(total):
    """The rule on a sum of sample weights: positive and finite.

    :func:`check_sample_weight` applies it to its weights; code that adds
    up weights part by part (the dask metrics) applies it to the total.

    Examples
    --------
    >>> from sklearn_focal.utils.validation import check_weight_total
    >>> check_weight_total(0.0)
    Traceback (most recent call last):
        ...
    ValueError: sample_weight sums to zero: no sample carries weight
    """
    if not total > 0:
        raise ValueError("sample_weight sums to zero: no sample carries weight")
    if not np.isfinite(total):
        raise ValueError("sample_weight sums to infinity (overflow); rescale it")


# --------------------------------------------------------------------------
# Elementwise probabilities and per-label weights (sigmoid outputs)
# --------------------------------------------------------------------------


def _index_text(array, flat):
    index = np.unravel_index(flat, array.shape)
    return str(tuple(int(i) for i in index)) if array.ndim != 1 else str(int(flat))


def raise_outside_unit_interval(array, name):
    """Raise for the first entry of ``array`` that is NaN, inf or outside [0, 1].

    Called after a compiled pass has found such an entry; names the argument,
    the value and its index.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.utils.validation import raise_outside_unit_interval
    >>> raise_outside_unit_interval(np.array([[0.5, 0.2], [1.5, 0.1]]), "p")
    Traceback (most recent call last):
    ...
    ValueError: p must hold finite values in [0, 1]; first bad value 1.5 at index (1, 0)
    """
    flat = np.asarray(array).ravel()
    with np.errstate(invalid="ignore"):
        bad = ~((flat >= 0) & (flat <= 1))
    if not bad.any():
        return
    first = int(np.flatnonzero(bad)[0])
    raise ValueError(
        f"{name} must hold finite values in [0, 1]; first bad value "
        f"{float(flat[first])!r} at index {_index_text(np.asarray(array), first)}"
    )


def check_label_weights(value, name, n_labels, *, unit_interval=False):
    """A scalar or per-label weight of the sigmoid focal loss, as float64.

    ``alpha`` (``unit_interval=True``) must lie in the open interval (0, 1);
    ``pos_weight`` must be finite and > 0. An array holds one value per label
    (the last axis of the outputs, ``n_labels`` entries; ``None`` when the
    outputs have no label axis).

    Returns
    -------
    None, float or ndarray of shape (n_labels,)

    Examples
    --------
    >>> from sklearn_focal.utils.validation import check_label_weights
    >>> check_label_weights(0.25, "alpha", 3, unit_interval=True)
    0.25
    >>> check_label_weights([1.0, 2.0], "pos_weight", 2)
    array([1., 2.])
    """
    if value is None:
        return None
    entries = np.asarray(value, dtype=object).ravel().tolist()
    if np.asarray(value).dtype.kind == "b" or any(
        isinstance(entry, bool | np.bool_) for entry in entries
    ):
        raise TypeError(f"{name} must hold real numbers, not bools: {value!r}.")
    weights = float_array(value, name).astype(np.float64, copy=False)
    if weights.ndim > 1:
        raise ValueError(
            f"{name} must be a scalar or a 1-D array with one value per label, "
            f"got shape {weights.shape}"
        )
    if weights.ndim == 1 and (n_labels is None or weights.shape[0] != n_labels):
        expected = "no label axis" if n_labels is None else f"{n_labels} labels"
        raise ValueError(
            f"{name} has {weights.shape[0]} entries but the outputs have {expected} "
            "(the last axis)"
        )
    with np.errstate(invalid="ignore"):
        if unit_interval:
            bad = ~((weights > 0) & (weights < 1))
            rule = "in the open interval (0, 1) (use None for no weighting)"
        else:
            bad = ~((weights > 0) & np.isfinite(weights))
            rule = "finite and > 0"
    if bad.any():
        first = int(np.flatnonzero(bad.ravel())[0])
        where = "" if weights.ndim == 0 else f" at index {first}"
        raise ValueError(
            f"{name} must be {rule}; got {float(weights.ravel()[first])!r}{where}"
        )
    return float(weights) if weights.ndim == 0 else weights


# --------------------------------------------------------------------------
# Sample-aligned arrays: bits, per-row values
# --------------------------------------------------------------------------


def check_bits(y, n_samples, name="y"):
    """1-bit measurements as a float64 array of 0.0 and 1.0.

    ``y`` must be 1-D with ``n_samples`` entries, each a bool or a number
    equal to 0 or 1 (strings are a ``TypeError``; any other value, NaN
    included, a ``ValueError`` naming its first row).

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The bits.
    n_samples : int
        The number of rows they must cover.
    name : str, default="y"
        Parameter name, for the messages.

    Returns
    -------
    ndarray of shape (n_samples,)
        The bits as float64.

    Examples
    --------
    >>> from sklearn_focal.utils.validation import check_bits
    >>> check_bits([True, False, 1], 3)
    array([1., 0., 1.])
    >>> check_bits([0, 1, 2], 3)
    Traceback (most recent call last):
        ...
    ValueError: y must hold bits (0/1 or bool); row 2 is 2.0
    """
    array = np.asarray(y)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold bits (0/1 or bool), got dtype {array.dtype}")
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1 or array.shape[0] != n_samples:
        raise ValueError(
            f"{name} must have shape ({n_samples},), got an array of shape "
            f"{array.shape}"
        )
    bits = array.astype(np.float64)
    bad = (bits != 0) & (bits != 1)
    if bad.any():
        row = _first_bad_row(bad)
        raise ValueError(
            f"{name} must hold bits (0/1 or bool); row {row} is {float(bits[row])}"
        )
    return bits


def check_sample_aligned(values, name, n_samples, *, positive=False, why=""):
    """A finite scalar or one finite value per row, as float64 of ``n_samples``.

    The rule of per-row fit parameters such as thresholds and offsets: a
    scalar is broadcast; an array must be 1-D with ``n_samples`` entries;
    every value finite and, with ``positive``, > 0 (the message names the
    first bad row, see :func:`check_finite_array`). ``None`` is a
    ``ValueError`` (the value is required).

    Parameters
    ----------
    values : float or array-like of shape (n_samples,)
        The values.
    name : str
        Parameter name, for the messages.
    n_samples : int
        The number of rows.
    positive : bool, default=False
        Whether every value must be > 0.
    why : str, default=""
        Said after the rule ``> 0`` in the message.

    Returns
    -------
    ndarray of shape (n_samples,)
        A new float64 array.

    Examples
    --------
    >>> from sklearn_focal.utils.validation import check_sample_aligned
    >>> check_sample_aligned(0.5, "threshold", 2)
    array([0.5, 0.5])
    >>> check_sample_aligned([1.0, float("nan")], "threshold", 2)
    Traceback (most recent call last):
        ...
    ValueError: threshold must be finite (no NaN or inf); row 1 is nan
    """
    if values is None:
        raise ValueError(f"{name} is required (a scalar or one value per row)")
    array = np.asarray(values)
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    if array.ndim == 0:
        array = np.full(n_samples, float(array))
    elif array.ndim != 1 or array.shape[0] != n_samples:
        raise ValueError(
            f"{name} must be a scalar or have shape ({n_samples},), got an array "
            f"of shape {array.shape}"
        )
    array = array.astype(np.float64)  # a copy
    return check_finite_array(array, name, positive=positive, why=why)


def check_finite_array(values, name, *, shape=None, positive=False, why="", copy=True):
    """Real values as a float64 array, each finite (and > 0 if ``positive``).

    The rule of arrays of parameters and data (coefficients, thresholds,
    means, information matrices, design matrices): real numbers (a bool or a
    string is a ``TypeError``), of ``shape`` when given, every entry finite
    and, with ``positive``, > 0. Each ``ValueError`` names the parameter and
    the first bad entry (``row 3`` in a 1-D array, ``index (3, 1)``
    otherwise); a non-finite entry's message says "NaN or inf", as
    scikit-learn's estimator checks expect of a feature matrix.

    Parameters
    ----------
    values : float or array-like
        The values.
    name : str
        Parameter name, for the messages.
    shape : tuple of int, default=None
        The required shape; ``None``: any.
    positive : bool, default=False
        Whether every entry must be > 0.
    why : str, default=""
        Said after the rule ``> 0`` (for example ``" for the Poisson family"``).
    copy : bool, default=True
        ``False`` returns a float64 input itself (large design matrices).

    Returns
    -------
    ndarray
        A float64 array of the input's shape (new, unless ``copy=False``).

    Examples
    --------
    >>> from sklearn_focal.utils.validation import check_finite_array
    >>> check_finite_array([1, 2], "coef", shape=(2,))
    array([1., 2.])
    >>> check_finite_array([[1.0, 2.0], [0.0, 3.0]], "mean", positive=True)
    Traceback (most recent call last):
        ...
    ValueError: mean must be > 0; index (1, 0) is 0.0
    """
    try:
        array = np.asarray(values)
    except ValueError as exc:  # ragged nested sequences
        raise ValueError(f"{name} could not be converted to an array: {exc}") from exc
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    if shape is not None and array.shape != tuple(shape):
        raise ValueError(
            f"{name} must have shape {tuple(shape)}, got an array of shape "
            f"{array.shape}"
        )
    array = array.astype(np.float64, copy=copy)
    with np.errstate(over="ignore", invalid="ignore"):
        # one reduction, no mask, in the common case (an overflowing sum of
        # finite values only sends it to the exact check)
        finite = math.isfinite(float(np.sum(array)))
    for bad, rule in (
        (None if finite else ~np.isfinite(array), "finite (no NaN or inf)"),
        (~(array > 0) if positive else None, f"> 0{why}"),
    ):
        if bad is not None and bad.any():
            first = int(np.flatnonzero(bad.ravel())[0])
            value = float(array.ravel()[first])
            if array.ndim == 0:
                raise ValueError(f"{name} must be {rule}, got {value}")
            where = "row" if array.ndim == 1 else "index"
            raise ValueError(
                f"{name} must be {rule}; {where} {_index_text(array, first)} is {value}"
            )
    return array


def check_positive_definite(matrix, name, n):
    """A symmetric positive definite ``n x n`` matrix as float64.

    Finite entries (:func:`check_finite_array`), symmetric to 1e-10 of its
    largest entry, and a Cholesky factor. The symmetric part is returned.

    Examples
    --------
    >>> from sklearn_focal.utils.validation import check_positive_definite
    >>> check_positive_definite([[2.0, 0.5], [0.5, 1.0]], "information", 2)
    array([[2. , 0.5],
           [0.5, 1. ]])
    >>> check_positive_definite([[1.0, 0.0], [0.0, -1.0]], "information", 2)
    Traceback (most recent call last):
        ...
    ValueError: information must be positive definite (its Cholesky factorization fails)
    """
    matrix = check_finite_array(matrix, name, shape=(n, n))
    asymmetry = np.abs(matrix - matrix.T)
    if asymmetry.max(initial=0.0) > 1e-10 * np.abs(matrix).max(initial=0.0):
        row, column = (int(i) for i in np.unravel_index(asymmetry.argmax(), (n, n)))
        raise ValueError(
            f"{name} must be symmetric; entry ({row}, {column}) is "
            f"{float(matrix[row, column])!r} but ({column}, {row}) is "
            f"{float(matrix[column, row])!r}"
        )
    matrix = 0.5 * (matrix + matrix.T)
    try:
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        raise ValueError(
            f"{name} must be positive definite (its Cholesky factorization fails)"
        ) from None
    return matrix


def is_multilabel_indicator(y):
    """Whether ``y`` is a multi-label indicator matrix, by scikit-learn's rule.

    2-D with at least 2 columns of 0/1 values (dense or sparse); a column
    vector is not (scikit-learn ravels it, with a warning).

    Examples
    --------
    >>> from sklearn_focal.utils.validation import is_multilabel_indicator
    >>> is_multilabel_indicator([[0, 1], [1, 1]]), is_multilabel_indicator([0, 1])
    (True, False)
    """
    shape = getattr(y, "shape", None)
    if shape is None:
        if not isinstance(y, list | tuple):
            return False
        try:
            shape = np.shape(y)
        except ValueError:  # ragged: left to the caller's validation
            return False
    if len(shape) != 2 or shape[1] < 2:
        return False
    from sklearn.utils.multiclass import type_of_target

    try:
        return type_of_target(y) == "multilabel-indicator"
    except ValueError:
        return False


def check_indicator(y, n_samples, n_labels=None, name="y"):
    """A multi-label indicator matrix as an int8 array of 0 and 1.

    Dense or sparse, shape ``(n_samples, n_labels)``; any other value (NaN
    included) is a ``ValueError`` naming its first row and column.

    Examples
    --------
    >>> from sklearn_focal.utils.validation import check_indicator
    >>> check_indicator([[0, 1], [1, 0]], 2, 2)
    array([[0, 1],
           [1, 0]], dtype=int8)
    """
    if hasattr(y, "toarray"):
        y = y.toarray()
    array = np.asarray(y)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold 0/1 indicators, got dtype {array.dtype}")
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D indicator matrix (n_samples, n_labels), got "
            f"shape {array.shape}"
        )
    expected = (n_samples, array.shape[1] if n_labels is None else n_labels)
    if array.shape != expected:
        raise ValueError(f"{name} has shape {array.shape}, expected {expected}")
    bad = ~((array == 0) | (array == 1))
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        value = array[row, column].item()
        raise ValueError(
            f"{name} must hold 0 or 1; {name}[{row}, {column}] = {value!r}"
        )
    return array.astype(np.int8)


def check_label_proba(y_prob, name="y_prob"):
    """Per-label probabilities of a multi-label model as float64 (n, L).

    Accepts an array of shape (n_samples, n_labels) or scikit-learn's
    multi-label ``predict_proba`` output, a list of L arrays of shape
    (n_samples, 2) whose second column (the probability of 1) is kept; each
    such array's rows must be probability rows (the rule of
    :func:`check_distribution`) and all must have the same length. Values
    must lie in [0, 1]; the first bad entry is named
    (:func:`raise_outside_unit_interval`).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.utils.validation import check_label_proba
    >>> check_label_proba([np.array([[0.9, 0.1]]), np.array([[0.3, 0.7]])])
    array([[0.1, 0.7]])
    """
    if isinstance(y_prob, list) and y_prob and np.ndim(y_prob[0]) == 2:
        columns = []
        for j, part in enumerate(y_prob):
            part = float_array(part, name)
            if part.ndim != 2 or part.shape[1] != 2:
                raise ValueError(
                    f"{name} is a list whose entry {j} has shape {part.shape}; "
                    "each label needs the (n_samples, 2) probabilities of 0 and 1 "
                    "(was the label constant in training?)"
                )
            if columns and part.shape[0] != columns[0].shape[0]:
                raise ValueError(
                    f"{name} is a list of per-label arrays of different lengths: "
                    f"entry 0 has {columns[0].shape[0]} rows, entry {j} has "
                    f"{part.shape[0]}; each must hold one row per sample"
                )
            _check_row_values(part, f"{name}[{j}]")
            columns.append(part[:, 1])
        y_prob = np.column_stack(columns)
    proba = float_array(y_prob, name).astype(np.float64, copy=False)
    if proba.ndim != 2:
        raise ValueError(
            f"{name} must have shape (n_samples, n_labels) (per-label "
            f"probabilities), got shape {proba.shape}"
        )
    if proba.size == 0:
        raise ValueError(f"{name} is empty")
    raise_outside_unit_interval(proba, name)
    return proba
