"""The sigmoid (binary, multi-label) focal loss: posterior map and its inverse.

For the alpha-balanced binary focal loss of a sigmoid output ``q``,
``l(q, 1) = -A (1 - q)^gamma log q`` and ``l(q, 0) = -B q^gamma log(1 - q)``
with ``A = alpha * pos_weight`` and ``B = 1 - alpha``, the minimizer ``q`` of
the risk for the true probability ``eta`` satisfies

``eta / (1 - eta) = (B h(q)) / (A h(1 - q))``, ``h(v) = v / phi(v)``,

the two-class Psi of :func:`sklearn_focal.theory.psi` with class weights
``(A, B)`` (Charoenphakdee et al., CVPR 2021, Thm 11, with weights).
"""
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sklearn_focal.utils._dask import is_dask_array, map_row_blocks
from sklearn_focal.utils._parallel import dispatch
from sklearn_focal.utils.validation import (
    check_gamma,
    check_label_weights,
    float_array,
    raise_outside_unit_interval,
)

__all__ = ["binary_focal_minimizer", "binary_psi"]

# Below this gamma the minimizer is the gamma = 0 closed form to double
# precision (as for focal_minimizer).
_GAMMA_IS_ZERO_BELOW = 1e-20


def _prepare(values, name, gamma, alpha, pos_weight):
    """Checked inputs: float64 (n, L) rows, per-label ratio B/A and its log."""
    gamma = check_gamma(gamma)
    array = float_array(values, name)
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    n_labels = array.shape[-1] if array.ndim >= 1 else None
    alpha = check_label_weights(alpha, "alpha", n_labels, unit_interval=True)
    pos_weight = check_label_weights(pos_weight, "pos_weight", n_labels)
    per_label = np.ndim(alpha) == 1 or np.ndim(pos_weight) == 1
    width = n_labels if per_label else 1
    positive = np.ones(width) if alpha is None else np.broadcast_to(alpha, width)
    negative = 1.0 - positive if alpha is not None else np.ones(width)
    if pos_weight is not None:
        positive = positive * pos_weight
    positive = np.broadcast_to(np.asarray(positive, dtype=np.float64), width)
    negative = np.broadcast_to(np.asarray(negative, dtype=np.float64), width)
    ratio = np.ascontiguousarray(negative / positive)
    offset = np.ascontiguousarray(np.log(negative) - np.log(positive))
    rows = np.ascontiguousarray(array, dtype=np.float64).reshape(-1, width)
    unweighted = alpha is None and pos_weight is None
    return gamma, array, rows, ratio, offset, unweighted


def _finish(out, array, name, bad):
    if bad:
        raise_outside_unit_interval(array, name)
    return out.reshape(array.shape).astype(array.dtype, copy=False)


def binary_psi(
    p: ArrayLike,
    gamma: float,
    *,
    alpha: ArrayLike | None = None,
    pos_weight: ArrayLike | None = None,
) -> NDArray:
    """Recover probabilities from the outputs of a sigmoid-focal-trained model.

    Elementwise on any shape: ``eta = sigmoid(log(B / A) + log h(p) - log h(1 - p))``
    with ``A = alpha * pos_weight`` the weight of positives and
    ``B = 1 - alpha`` that of negatives, the exact inverse of
    :func:`binary_focal_minimizer`. It is increasing in ``p`` (thresholds
    keep their order), keeps 0 and 1 fixed, and is the identity for
    ``gamma = 0`` without ``alpha`` and ``pos_weight``.

    Parameters
    ----------
    p : array-like of float in [0, 1], any shape
        Sigmoid outputs (``torch.sigmoid(logits)``); for per-label ``alpha``
        or ``pos_weight`` the last axis holds the labels.
    gamma : float
        Focusing parameter of the loss, ``gamma >= 0``.
    alpha : float or array-like of shape (n_labels,), default=None
        Weight of the positive term, in the open interval (0, 1); the negative
        term gets ``1 - alpha``. This is torchvision's
        ``sigmoid_focal_loss(alpha=0.25)`` and mmdet's convention; torchvision's
        ``alpha=-1`` and fvcore's default (no weighting) are ``None``.
    pos_weight : float or array-like of shape (n_labels,), default=None
        Extra weight ``w > 0`` of the positive term, as in
        :class:`torch.nn.BCEWithLogitsLoss`: the positive term is multiplied
        by ``w`` (so ``A = alpha * w``, or ``w`` without alpha).

    Returns
    -------
    ndarray of the same shape and float dtype as ``p``
        The recovered probabilities ``eta``. A 1-D or 2-D dask array ``p``
        (chunked along rows) gives a lazy dask array with its row chunks; a
        bad entry raises when computed, naming its global index.

    Raises
    ------
    ValueError
        For an entry of ``p`` that is NaN, inf or outside [0, 1], an alpha
        outside (0, 1) or a ``pos_weight`` that is not finite and > 0 (the
        first bad index is named), or a per-label array whose length is not
        the last axis of ``p``.

    See Also
    --------
    binary_focal_minimizer : The inverse map.
    psi : The softmax (multi-class) map.

    Notes
    -----
    Computed as ``p^gamma core_pos / ((1 - p)^gamma core_neg)`` with
    ``core_pos = p - gamma (1 - p) log(1 - p)`` and
    ``core_neg = 1 - p - gamma p log p`` (sums of positive terms), in linear
    space where that is exact and in log space otherwise: a vectorized
    compiled pass (logs and exp written out to within an ulp, parallel over
    elements) and, for the entries it leaves (0, 1, subnormal scores, odds
    out of range), an exact pass in log space through the package's compiled
    log h in logit form.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.theory import binary_psi
    >>> binary_psi([0.1, 0.5, 0.9], gamma=0.0)
    array([0.1, 0.5, 0.9])
    >>> binary_psi([0.1, 0.5, 0.9], gamma=2.0).round(4)
    array([0.0026, 0.5   , 0.9974])
    >>> binary_psi([0.1, 0.5, 0.9], gamma=2.0, alpha=0.25).round(4)
    array([0.0078, 0.75  , 0.9991])
    """
    if is_dask_array(p):  # lazily, chunk by chunk; errors name global indices
        return _dask_map(binary_psi, p, gamma, alpha, pos_weight, name="p")
    gamma, array, rows, ratio, offset, unweighted = _prepare(
        p, "p", gamma, alpha, pos_weight
    )
    if gamma == 0 and unweighted:
        _finish(rows, array, "p", _count_bad(rows))
        return array.copy()
    from sklearn_focal.theory import _binary_kernels

    # One contiguous run of scores per weight: the whole array for a shared
    # weight, else one column per label (a transposed copy).
    columns = rows.T.copy() if rows.shape[1] > 1 else rows.reshape(1, -1)
    out = np.empty_like(columns)
    bad = 0
    size = columns.shape[1]
    for j in range(columns.shape[0]):
        left = dispatch(
            _binary_kernels.binary_psi_fast_pass,
            _binary_kernels.binary_psi_fast_pass_serial,
            columns[j],
            float(ratio[j]),
            gamma,
            out[j],
            size=size,
        )
        if not left:  # every entry done by the vectorized pass
            continue
        bad += dispatch(
            _binary_kernels.binary_psi_exact_pass,
            _binary_kernels.binary_psi_exact_pass_serial,
            columns[j],
            float(offset[j]),
            gamma,
            out[j],
            size=size,
        )
    out = out.T if rows.shape[1] > 1 else out.reshape(rows.shape)
    return _finish(out, array, "p", bad)


def _dask_map(func, p, gamma, alpha, pos_weight, *, name):
    """``func`` on a dask array of 1 or 2 dimensions, one row chunk at a time."""
    gamma = check_gamma(gamma)
    n_labels = p.shape[-1] if p.ndim >= 1 else None
    check_label_weights(alpha, "alpha", n_labels, unit_interval=True)
    check_label_weights(pos_weight, "pos_weight", n_labels)
    dtype = p.dtype if p.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    return map_row_blocks(
        func,
        p,
        gamma,
        alpha=alpha,
        pos_weight=pos_weight,
        dtype=dtype,
        name=name,
        allow_1d=True,
    )


def _count_bad(rows):
    with np.errstate(invalid="ignore"):
        return int(np.count_nonzero(~((rows >= 0) & (rows <= 1))))


def binary_focal_minimizer(
    eta: ArrayLike,
    gamma: float,
    *,
    alpha: ArrayLike | None = None,
    pos_weight: ArrayLike | None = None,
) -> NDArray:
    """What a sigmoid-focal-trained model outputs for the true probability eta.

    Elementwise on any shape, the minimizer over ``q`` of the binary focal
    risk ``eta A (1 - q)^gamma log(1/q) + (1 - eta) B q^gamma log(1/(1 - q))``
    with ``A = alpha * pos_weight`` and ``B = 1 - alpha``: the inverse of
    :func:`binary_psi`. Each entry is a monotone one-dimensional root, found
    by bracketed Newton iterations on the logit of ``q`` in a compiled kernel
    (parallel over rows).

    Parameters
    ----------
    eta : array-like of float in [0, 1], any shape
        True probabilities of the positive class, one per label; for
        per-label ``alpha`` or ``pos_weight`` the last axis holds the labels.
    gamma : float
        Focusing parameter of the loss, ``gamma >= 0``.
    alpha : float or array-like of shape (n_labels,), default=None
        Weight of the positive term, in (0, 1); see :func:`binary_psi`.
    pos_weight : float or array-like of shape (n_labels,), default=None
        Extra weight ``w > 0`` of the positive term (``BCEWithLogitsLoss``).

    Returns
    -------
    ndarray of the same shape and float dtype as ``eta``
        The minimizers ``q``. A 1-D or 2-D dask array ``eta`` (chunked along
        rows) gives a lazy dask array with its row chunks; a bad entry raises
        when computed, naming its global index.

    Raises
    ------
    ValueError
        As :func:`binary_psi`, naming ``eta``.

    See Also
    --------
    binary_psi : The inverse map.
    focal_minimizer : The softmax (multi-class) minimizer.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.theory import binary_focal_minimizer, binary_psi
    >>> q = binary_focal_minimizer([0.01, 0.5, 0.99], gamma=2.0, alpha=0.25)
    >>> q.round(4)
    array([0.1084, 0.3988, 0.7862])
    >>> binary_psi(q, gamma=2.0, alpha=0.25).round(12)
    array([0.01, 0.5 , 0.99])
    """
    if is_dask_array(eta):  # lazily, chunk by chunk; errors name global indices
        return _dask_map(
            binary_focal_minimizer, eta, gamma, alpha, pos_weight, name="eta"
        )
    gamma, array, rows, ratio, offset, unweighted = _prepare(
        eta, "eta", gamma, alpha, pos_weight
    )
    if gamma < _GAMMA_IS_ZERO_BELOW:
        _finish(rows, array, "eta", _count_bad(rows))
        if unweighted:
            return array.copy()
        # eta / (1 - eta) = (B / A) q / (1 - q).
        out = rows / (rows + (1.0 - rows) * ratio)
        return _finish(out, array, "eta", 0)
    from sklearn_focal.theory import _binary_kernels

    out = np.empty_like(rows)
    status = np.empty(rows.shape[0], dtype=np.int32)
    bad = dispatch(
        _binary_kernels.binary_minimizer_rows,
        _binary_kernels.binary_minimizer_rows_serial,
        rows,
        ratio,
        offset,
        gamma,
        out,
        status,
        size=rows.size,
    )
    result = _finish(out, array, "eta", bad)
    if (status < 0).any():  # pragma: no cover - guarded by the tests
        row = int(np.flatnonzero(status < 0)[0])
        raise RuntimeError(
            f"binary_focal_minimizer did not converge in row {row}; please report "
            "this input as a bug"
        )
    return result
