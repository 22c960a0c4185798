"""The focal-entropy, its minimum, and the elementwise focal loss."""
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sklearn_focal.theory._focal_terms import (
    focal_terms,
)
from sklearn_focal.theory._posterior_map import _solve_focal_minimizer
from sklearn_focal.utils.validation import (
    check_base,
    check_distribution,
    check_gamma,
)

#: Entries per row block of :func:`min_focal_entropy` (2 MB of float64).
_BLOCK_ELEMENTS = 2**18


def _focal_terms_sum(targets, predictions, gamma, base, top_complement=None):
    """sum_i targets_i (1 - predictions_i)^gamma log(1/predictions_i), row-wise.

    ``top_complement`` optionally holds, per row, ``1 - max(predictions)``
    computed more accurately than by subtraction (from the other entries).
    """
    complements = 1.0 - predictions
    with np.errstate(divide="ignore"):
        log_q = np.log(predictions)
    if top_complement is not None:
        rows = np.arange(predictions.shape[0])
        top = np.argmax(predictions, axis=1)
        complements[rows, top] = top_complement
        log_q[rows, top] = np.log1p(-top_complement)
    terms = focal_terms(
        predictions, gamma, weights=targets, log_q=log_q, complement=complements
    )
    # q_i = 0 with p_i > 0 gives +inf (surprise inf, modulating 1).
    total = terms.sum(axis=1)
    if base is not None:
        total = total / np.log(base)
    return total


def focal_entropy(
    p: ArrayLike, q: ArrayLike, gamma: float, *, base: float | None = None
) -> NDArray | float:
    """The focal-entropy ``FE_gamma(p, q) = sum_i p_i (1 - q_i)^gamma log(1/q_i)``.

    Parameters
    ----------
    p : array-like of shape (n_samples, n_classes) or (n_classes,)
        True distributions.
    q : array-like of the same shape as ``p``
        Predicted distributions.
    gamma : float
        Focusing parameter, ``gamma >= 0``; ``gamma = 0`` is the cross-entropy.
    base : float, default=None
        Logarithm base; ``None`` is the natural log (nats), 2 gives bits.

    Returns
    -------
    float or ndarray of shape (n_samples,)
        ``+inf`` where some ``q_i = 0`` with ``p_i > 0``.

    Examples
    --------
    >>> from sklearn_focal.theory import focal_entropy
    >>> focal_entropy([0.5, 0.5], [0.5, 0.5], gamma=0.0, base=2)
    1.0
    >>> focal_entropy([0.5, 0.5], [0.5, 0.5], gamma=1.0, base=2)
    0.5
    """
    gamma = check_gamma(gamma)
    base = check_base(base)
    p_rows, one_row = check_distribution(p, "p")
    q_rows, _ = check_distribution(q, "q")
    if p_rows.shape != q_rows.shape:
        raise ValueError(
            f"p and q must have the same shape, got {np.shape(p)} and {np.shape(q)}"
        )
    dtype = np.result_type(p_rows.dtype, q_rows.dtype)
    total = _focal_terms_sum(
        p_rows.astype(np.float64), q_rows.astype(np.float64), gamma, base
    ).astype(dtype)
    return dtype.type(total[0]).item() if one_row else total


def min_focal_entropy(
    p: ArrayLike, gamma: float, *, base: float | None = None
) -> NDArray | float:
    """The minimum over q of the focal-entropy: ``FE_gamma(p, q*(p))``.

    For ``gamma = 0`` it is the Shannon entropy of ``p``.

    Parameters
    ----------
    p : array-like of shape (n_samples, n_classes) or (n_classes,)
        Distributions.
    gamma : float
        Focusing parameter, ``gamma >= 0``.
    base : float, default=None
        Logarithm base; ``None`` is the natural log.

    Returns
    -------
    float or ndarray of shape (n_samples,)

    Examples
    --------
    >>> from sklearn_focal.theory import min_focal_entropy
    >>> min_focal_entropy([0.25, 0.25, 0.25, 0.25], gamma=0.0, base=2)
    2.0
    """
    gamma = check_gamma(gamma)
    base = check_base(base)
    rows, one_row = check_distribution(p, "p")
    n, k = rows.shape
    total = np.empty(n)
    # Row blocks of about _BLOCK_ELEMENTS entries: the minimizer and the
    # focal terms of one block at a time, so memory beyond the input is a
    # few blocks, not several copies of it. Every block holds at least
    # TABLE_MIN_ROWS rows when the input does (a short last block joins the
    # one before), so each row takes the same path as in one call.
    from sklearn_focal.theory._kernels import TABLE_MIN_ROWS  # numba, lazily

    step = max(TABLE_MIN_ROWS, _BLOCK_ELEMENTS // k)
    starts = list(range(0, n, step))
    if len(starts) > 1 and n - starts[-1] < TABLE_MIN_ROWS:
        starts.pop()
    for start, stop in zip(starts, starts[1:] + [n], strict=True):
        x = rows[start:stop].astype(np.float64)
        q, _ = _solve_focal_minimizer(x, gamma)
        # 1 - max q as the sum of the other entries: log q_max is
        # ill-conditioned near 1 (q_max = 1 - 1e-12 holds 1 - q_max to only
        # ~1e-4 relative).
        top = np.argmax(q, axis=1)
        is_top = np.arange(k) == top[:, None]
        others = np.where(is_top, 0.0, q).sum(axis=1)
        top_complement = np.where(q.max(axis=1) > 0.5, others, 1.0 - q.max(axis=1))
        total[start:stop] = _focal_terms_sum(x, q, gamma, base, top_complement)
    total = total.astype(rows.dtype, copy=False)
    return rows.dtype.type(total[0]).item() if one_row else total


def focal_loss(u: ArrayLike, v: ArrayLike, gamma: float) -> NDArray | float:
    """The focal loss ``l(u, v) = -sum_i v_i (1 - u_i)^gamma log u_i`` (eq. 5).

    Parameters
    ----------
    u : array-like of shape (n_samples, n_classes) or (n_classes,)
        Predicted probabilities (a softmax output).
    v : array-like of the same shape
        Labels as distributions (one-hot or soft).
    gamma : float
        Focusing parameter, ``gamma >= 0``; ``gamma = 0`` is the log loss.

    Returns
    -------
    float or ndarray of shape (n_samples,)
        The loss of every row, in nats.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.theory import focal_loss
    >>> bool(np.isclose(focal_loss([0.8, 0.2], [1.0, 0.0], gamma=0.0), -np.log(0.8)))
    True
    """
    return focal_entropy(v, u, gamma)
