"""Compiled CPU kernels of the focal losses in :mod:`sklearn_focal.losses`.

Each kernel computes, in one pass over float32 or float64 logits, the loss,
its reduction and the gradient of the reduced loss (float64 arithmetic):

===========================  ===========================================  ============
kernel                       loss                                         torch twin
===========================  ===========================================  ============
hard_target_focal_rows       ``-w_t (1 - p_t)^gamma log p_t``, (N, C)     _HardTarget
                             logits and class indices                     Focal
hard_target_focal_positions  the same on (N, C, S) logits in their own    _HardTarget
                             layout (classes strided), (N, S) indices     Focal
soft_target_focal_rows       ``-sum_j w_j y_j (1 - p_j)^gamma log p_j``   _focal_terms
                             against probabilities or smoothed labels     (softmax)
binary_focal_rows            the sigmoid focal loss, element-wise         _focal_terms
                                                                          (sigmoid)
===========================  ===========================================  ============

Each comes as a parallel and a ``_serial`` twin, picked by
:func:`sklearn_focal.utils._parallel.dispatch`. float32 logits use the
vectorizable ``exp``/``log1p`` of :mod:`sklearn_focal.utils._fastmath`
(accurate to far below a float32 ulp), float64 logits libm's or the
1-ulp :func:`~sklearn_focal.utils._fastmath.exp_nonpositive_accurate`.
numba is imported when this module is first used, never at package import.
"""
# SPDX-License-Identifier: BSD-3-Clause

import math

import numpy as np
from numba import njit, prange, types
from numba.extending import overload

from sklearn_focal.utils import _numba_cache  # noqa: F401  (caches outside the package)
from sklearn_focal.utils._fastmath import (
    POWER_GENERAL,
    exp_nonpositive,
    exp_nonpositive_accurate,
    log1p_unit,
    log_normal_accurate,
    power_by_mode,
    power_mode,
)
from sklearn_focal.utils._parallel import PARALLEL_MIN_SIZE, dispatch

__all__ = [
    "PARALLEL_MIN_SIZE",
    "binary_focal_rows",
    "binary_focal_rows_serial",
    "dispatch",
    "hard_target_focal_positions",
    "hard_target_focal_positions_serial",
    "hard_target_focal_rows",
    "hard_target_focal_rows_serial",
    "power_mode",
    "soft_target_focal_rows",
    "soft_target_focal_rows_serial",
]


def _shifted_exp(d, logits):
    """``exp(d)``, ``d <= 0``, at the precision of the dtype of ``logits``."""


@overload(_shifted_exp, inline="always")
def _shifted_exp_overload(d, logits):
    if logits.dtype == types.float32:
        return lambda d, logits: exp_nonpositive(d)
    return lambda d, logits: exp_nonpositive_accurate(d)


@njit(cache=True, inline="always")
def _hard_target_focal_row(
    x, r, t, gamma, mode, m, w, grad_scale, shifted_exp, loss, grad
):
    k = x.shape[1]
    largest = x[r, 0]
    for j in range(1, k):
        largest = max(largest, x[r, j])
    shift = np.float64(largest)
    # The sum of the probabilities of the other classes, times the softmax
    # denominator: never 1 - p_t by subtraction.
    other = 0.0
    for j in range(k):
        e = _shifted_exp(np.float64(x[r, j]) - shift, x)
        shifted_exp[j] = e
        other += e if j != t else 0.0
    total = other + shifted_exp[t]
    one_minus = other / total
    if one_minus < 0.5:
        log_p = math.log1p(-one_minus)
        p = 1.0 - one_minus
    else:
        log_p = (np.float64(x[r, t]) - shift) - math.log(total)
        p = shifted_exp[t] / total
    modulating = power_by_mode(one_minus, gamma, mode, m)
    row_loss = -w * modulating * log_p
    loss[r] = row_loss
    # p log p -> 0 as p -> 0: a -inf target logit gives CrossEntropyLoss's
    # gradient, never 0 * -inf.
    p_log_p = p * log_p if log_p > -math.inf else 0.0
    coef = grad_scale * w * modulating * (one_minus - gamma * p_log_p)
    scale = coef / other if other > 0.0 else 0.0
    for j in range(k):
        grad[r, j] = shifted_exp[j] * scale
    grad[r, t] = -coef
    return row_loss


_ROW_BLOCK = 64


@njit(cache=True, inline="always")
def _hard_target_focal(x, target, gamma, mode, weight, ignore_index, mean, loss, grad):
    """Per-row focal loss of (N, C) logits with class indices, and its gradient.

    ``loss[r] = -w (1 - p_t)^gamma log p_t`` and ``grad[r]`` its gradient in
    the logits, ``coef * (s - e_t)`` with ``s`` the softmax over the classes
    other than ``t``. ``1 - p_t`` is the sum of the other probabilities, so
    ``log(1 - p_t)`` and ``log p_t`` are exact for any margin. ``mode`` is
    :func:`power_mode` of ``gamma``; ``weight`` holds the class weights, or
    is empty for none. Rows equal to ``ignore_index`` get 0. With ``mean``
    the gradient is that of the weighted mean (0 when no row counts, as in
    ``CrossEntropyLoss``); the row losses are never scaled.

    Returns the first row whose target is out of range (or -1, computing
    nothing), the sum of the weights of the counted rows, and the sum of the
    row losses.
    """
    n, k = x.shape
    m = int(math.floor(gamma)) if mode != POWER_GENERAL else 0
    weighted = weight.size > 0
    denominator = 0.0
    for r in range(n):
        t = target[r]
        if t == ignore_index:
            continue
        if t < 0 or t >= k:
            return r, denominator, 0.0
        denominator += weight[t] if weighted else 1.0
    # The gradient of the reduced loss; the row losses stay unscaled.
    grad_scale = 1.0
    if mean:
        grad_scale = 1.0 / denominator if denominator != 0.0 else 0.0
    total_loss = 0.0
    for b in prange((n + _ROW_BLOCK - 1) // _ROW_BLOCK):
        shifted_exp = np.empty(k)
        block_loss = 0.0
        for r in range(b * _ROW_BLOCK, min(n, (b + 1) * _ROW_BLOCK)):
            t = target[r]
            if t == ignore_index:
                loss[r] = 0.0
                for j in range(k):
                    grad[r, j] = 0.0
            else:
                w = weight[t] if weighted else 1.0
                block_loss += _hard_target_focal_row(
                    x, r, t, gamma, mode, m, w, grad_scale, shifted_exp, loss, grad
                )
        total_loss += block_loss
    return -1, denominator, total_loss


# reassoc lets LLVM vectorize the row sums; NaN and inf still propagate.
_VECTOR_MATH = {"reassoc", "contract"}


# Two functions, not two dispatchers of one: numba's cache keys on the
# function, so those would load each other's machine code.
@njit(cache=True, parallel=True, fastmath=_VECTOR_MATH)
def hard_target_focal_rows(
    x, target, gamma, mode, weight, ignore_index, mean, loss, grad
):
    """:func:`_hard_target_focal`, parallel over blocks of rows."""
    return _hard_target_focal(
        x, target, gamma, mode, weight, ignore_index, mean, loss, grad
    )


# Small batches (a training loop) run serially: no thread-pool round trip.
@njit(cache=True, fastmath=_VECTOR_MATH)
def hard_target_focal_rows_serial(
    x, target, gamma, mode, weight, ignore_index, mean, loss, grad
):
    """:func:`_hard_target_focal` on one thread."""
    return _hard_target_focal(
        x, target, gamma, mode, weight, ignore_index, mean, loss, grad
    )


def _log_p_target(one_minus, others, exp_t, shifted_t, total, logits):
    """``log p_t`` from the sums of one position, at the precision of ``logits``."""


@overload(_log_p_target, inline="always")
def _log_p_target_overload(one_minus, others, exp_t, shifted_t, total, logits):
    if logits.dtype == types.float32:
        # Both branches as selects, so that the loop over positions vectorizes:
        # log p_t = -log1p(others / exp_t) near p_t = 1 (exp_t > others there),
        # and (x_t - max) - log(total) otherwise; total is in [1, C] or NaN,
        # and (total - total) carries a NaN that the polynomial log would drop.
        def log_p(one_minus, others, exp_t, shifted_t, total, logits):
            near_one = -log1p_unit(others / exp_t)
            far = shifted_t - (log_normal_accurate(total) + (total - total))
            return near_one if one_minus < 0.5 else far

        return log_p

    def log_p(one_minus, others, exp_t, shifted_t, total, logits):
        if one_minus < 0.5:
            return math.log1p(-one_minus)
        return shifted_t - math.log(total)

    return log_p


# Positions per block of the (N, C, S) kernel: its C x block exponentials
# (float64, at most 128 KiB) stay in cache between the passes that use them.
_POSITION_BLOCK = 256
_POSITION_SCRATCH = 1 << 14


@njit(cache=True, inline="always")
def _hard_target_focal_positions(
    x, target, gamma, mode, weight, ignore_index, mean, loss, grad
):
    """:func:`_hard_target_focal` on (N, C, S) logits in their own layout.

    ``x[i, :, s]`` are the logits of position ``s`` of sample ``i`` (the
    classes are strided, the positions contiguous), ``target`` and ``loss``
    are (N, S) and ``grad`` is (N, C, S), as
    :func:`torch.nn.functional.cross_entropy` takes (N, C, d1, ...) input.
    The loops over the classes run across a block of contiguous positions
    (a running maximum, then the exponentials and their sums), so that they
    vectorize without moving the classes last. The arithmetic and the
    special cases are those of :func:`_hard_target_focal_row`; the first bad
    position is reported by its index in ``target`` flattened.
    """
    n, k, size = x.shape
    m = int(math.floor(gamma)) if mode != POWER_GENERAL else 0
    weighted = weight.size > 0
    denominator = 0.0
    for i in range(n):
        for s in range(size):
            t = target[i, s]
            if t == ignore_index:
                continue
            if t < 0 or t >= k:
                return i * size + s, denominator, 0.0
            denominator += weight[t] if weighted else 1.0
    grad_scale = 1.0
    if mean:
        grad_scale = 1.0 / denominator if denominator != 0.0 else 0.0
    block = max(8, min(_POSITION_BLOCK, _POSITION_SCRATCH // k))
    per_sample = (size + block - 1) // block
    total_loss = 0.0
    for b in prange(n * per_sample):
        i = b // per_sample
        start = (b - i * per_sample) * block
        width = min(size, start + block) - start
        # Separate arrays: LLVM vectorizes the loops below only when it can
        # tell them apart (slices of one scratch array defeat it).
        exps = np.empty((k, block))
        largest = np.empty(block)
        others = np.empty(block)
        exp_t = np.empty(block)
        shifted_t = np.empty(block)
        scale = np.empty(block)
        labels = target[i, start : start + width]
        row = x[i, 0, start : start + width]
        for p in range(width):
            largest[p] = row[p]
        for j in range(1, k):
            row = x[i, j, start : start + width]
            for p in range(width):
                largest[p] = max(largest[p], row[p])
        for p in range(width):
            others[p] = 0.0
            exp_t[p] = 0.0
            shifted_t[p] = 0.0
        for j in range(k):
            row = x[i, j, start : start + width]
            exps_j = exps[j]
            for p in range(width):
                d = np.float64(row[p]) - largest[p]
                e = _shifted_exp(d, x)
                exps_j[p] = e
                hit = labels[p] == j
                # The sum of the other classes' exponentials: 1 - p_t is
                # never computed by subtraction.
                others[p] += 0.0 if hit else e
                exp_t[p] = e if hit else exp_t[p]
                shifted_t[p] = d if hit else shifted_t[p]
        block_loss = 0.0
        n_ignored = 0
        for p in range(width):
            t = labels[p]
            valid = t != ignore_index
            n_ignored += 0 if valid else 1
            # weight[0] for an ignored position: a select, not a branch.
            w = weight[t if valid else 0] if weighted else 1.0
            w = w if valid else 0.0
            total = others[p] + exp_t[p]
            one_minus = others[p] / total
            log_p = _log_p_target(
                one_minus, others[p], exp_t[p], shifted_t[p], total, x
            )
            prob = 1.0 - one_minus if one_minus < 0.5 else exp_t[p] / total
            modulating = power_by_mode(one_minus, gamma, mode, m)
            value = -w * modulating * log_p if valid else 0.0
            loss[i, start + p] = value
            block_loss += value
            # p log p -> 0 as p -> 0 (a -inf target logit), never 0 * -inf.
            p_log_p = prob * log_p if log_p > -math.inf else 0.0
            coef = grad_scale * w * modulating * (one_minus - gamma * p_log_p)
            scale[p] = coef / others[p] if others[p] > 0.0 else 0.0
            exp_t[p] = -coef
        for j in range(k):
            out = grad[i, j, start : start + width]
            exps_j = exps[j]
            for p in range(width):
                out[p] = exp_t[p] if labels[p] == j else exps_j[p] * scale[p]
        if n_ignored:
            # Exact zeros, whatever the logits of an ignored position.
            for p in range(width):
                if labels[p] == ignore_index:
                    for j in range(k):
                        grad[i, j, start + p] = 0.0
        total_loss += block_loss
    return -1, denominator, total_loss


@njit(cache=True, parallel=True, fastmath=_VECTOR_MATH, error_model="numpy")
def hard_target_focal_positions(
    x, target, gamma, mode, weight, ignore_index, mean, loss, grad
):
    """:func:`_hard_target_focal_positions`, parallel over blocks of positions."""
    return _hard_target_focal_positions(
        x, target, gamma, mode, weight, ignore_index, mean, loss, grad
    )


@njit(cache=True, fastmath=_VECTOR_MATH, error_model="numpy")
def hard_target_focal_positions_serial(
    x, target, gamma, mode, weight, ignore_index, mean, loss, grad
):
    """:func:`_hard_target_focal_positions` on one thread."""
    return _hard_target_focal_positions(
        x, target, gamma, mode, weight, ignore_index, mean, loss, grad
    )


@njit(cache=True, inline="always")
def _soft_target_focal_row(
    x, r, weights, gamma, mode, m, grad_scale, scratch, loss, grad
):
    """Row ``r`` of :func:`_soft_target_focal`; ``weights[j] = w_j y_j``."""
    k = x.shape[1]
    top = 0
    for j in range(1, k):
        if x[r, j] > x[r, top]:
            top = j
    shift = np.float64(x[r, top])
    prob = scratch[0]
    coef = scratch[1]
    # 1 - p_top as the sum of the other probabilities, never by subtraction.
    others = 0.0
    for j in range(k):
        e = _shifted_exp(np.float64(x[r, j]) - shift, x)
        prob[j] = e
        others += e if j != top else 0.0
    total = others + prob[top]
    log_total = math.log(total)
    row_loss = 0.0
    coef_sum = 0.0
    for j in range(k):
        p = prob[j] / total
        if j == top:
            u = others / total
            log_p = math.log1p(-u) if u < 0.5 else -log_total
        else:
            u = 1.0 - p  # p <= 1/2: full relative precision
            log_p = (np.float64(x[r, j]) - shift) - log_total
        prob[j] = p
        if weights[j] == 0.0:
            coef[j] = 0.0
            continue
        modulating = power_by_mode(u, gamma, mode, m)
        row_loss -= weights[j] * modulating * log_p
        # p f'(p) for f(p) = -(1-p)^gamma log p, with log(p)/(1-p) -> -1.
        ratio = log_p / u if u > 0.0 else -1.0
        # p log(p) / (1 - p) -> 0 as p -> 0 (a -inf logit), never 0 * -inf.
        p_ratio = p * ratio if log_p > -math.inf else 0.0
        coef[j] = weights[j] * modulating * (gamma * p_ratio - 1.0)
        coef_sum += coef[j]
    loss[r] = row_loss
    # d/dx_j = c_j - p_j sum(c); for the top class c_top (1 - p_top) - p_top
    # sum_{others}(c), which does not cancel when p_top is near 1.
    for j in range(k):
        grad[r, j] = grad_scale * (coef[j] - prob[j] * coef_sum)
    grad[r, top] = grad_scale * (
        coef[top] * (others / total) - prob[top] * (coef_sum - coef[top])
    )
    return row_loss


@njit(cache=True, inline="always")
def _soft_target_focal(
    x, probs, labels, smoothing, gamma, mode, weight, ignore_index, mean, loss, grad
):
    """Focal loss of (N, C) logits against class probabilities, and its gradient.

    ``loss[r] = -sum_j w_j y_j (1 - p_j)^gamma log p_j``. The targets ``y``
    are the rows of ``probs``, or, when ``probs`` is empty, the one-hot rows
    of the class indices ``labels`` (rows equal to ``ignore_index`` then get
    0); either is smoothed as ``(1 - smoothing) y + smoothing / C``.
    ``weight`` holds the class weights, or is empty for none. With ``mean``
    the gradient is that of the mean used by ``CrossEntropyLoss``: over the
    rows for probabilities, over the summed weights of the counted rows for
    indices (0 when none counts).

    Returns the first row whose label is out of range (or -1, computing
    nothing), the denominator of the mean, and the sum of the row losses.
    """
    n, k = x.shape
    m = int(math.floor(gamma)) if mode != POWER_GENERAL else 0
    weighted = weight.size > 0
    with_labels = probs.shape[0] == 0
    denominator = 0.0
    if with_labels:
        for r in range(n):
            t = labels[r]
            if t == ignore_index:
                continue
            if t < 0 or t >= k:
                return r, denominator, 0.0
            denominator += weight[t] if weighted else 1.0
    else:
        denominator = float(n)
    grad_scale = 1.0
    if mean:
        grad_scale = 1.0 / denominator if denominator != 0.0 else 0.0
    total_loss = 0.0
    for b in prange((n + _ROW_BLOCK - 1) // _ROW_BLOCK):
        scratch = np.empty((2, k))
        weights = np.empty(k)
        block_loss = 0.0
        for r in range(b * _ROW_BLOCK, min(n, (b + 1) * _ROW_BLOCK)):
            if with_labels:
                t = labels[r]
                if t == ignore_index:
                    loss[r] = 0.0
                    for j in range(k):
                        grad[r, j] = 0.0
                    continue
                for j in range(k):
                    weights[j] = smoothing / k
                weights[t] += 1.0 - smoothing
            else:
                for j in range(k):
                    weights[j] = probs[r, j] * (1.0 - smoothing) + smoothing / k
            if weighted:
                for j in range(k):
                    weights[j] *= weight[j]
            block_loss += _soft_target_focal_row(
                x, r, weights, gamma, mode, m, grad_scale, scratch, loss, grad
            )
        total_loss += block_loss
    return -1, denominator, total_loss


@njit(cache=True, parallel=True, fastmath=_VECTOR_MATH)
def soft_target_focal_rows(
    x, probs, labels, smoothing, gamma, mode, weight, ignore_index, mean, loss, grad
):
    """:func:`_soft_target_focal`, parallel over blocks of rows."""
    return _soft_target_focal(
        x, probs, labels, smoothing, gamma, mode, weight, ignore_index, mean, loss, grad
    )


@njit(cache=True, fastmath=_VECTOR_MATH)
def soft_target_focal_rows_serial(
    x, probs, labels, smoothing, gamma, mode, weight, ignore_index, mean, loss, grad
):
    """:func:`_soft_target_focal` on one thread."""
    return _soft_target_focal(
        x, probs, labels, smoothing, gamma, mode, weight, ignore_index, mean, loss, grad
    )


def _softplus_parts(magnitude, logits):
    """``(exp(-|x|), log1p(exp(-|x|)))`` at the precision of ``logits``."""


@overload(_softplus_parts, inline="always")
def _softplus_parts_overload(magnitude, logits):
    if logits.dtype == types.float32:

        def parts(magnitude, logits):
            e = exp_nonpositive(-magnitude)
            return e, log1p_unit(e)

        return parts

    def parts(magnitude, logits):
        e = math.exp(-magnitude)
        return e, math.log1p(e)

    return parts


@njit(cache=True, inline="always")
def _binary_focal_element(v, target, gamma, w_pos, w_neg, logits):
    """Sigmoid focal loss of one logit ``v`` and its derivative."""
    e, softplus = _softplus_parts(abs(v), logits)
    # log p = -softplus(-v), log(1 - p) = -softplus(v).
    log_p = -(max(-v, 0.0) + softplus)
    log_q = -(max(v, 0.0) + softplus)
    reciprocal = 1.0 / (1.0 + e)
    p = reciprocal if v >= 0.0 else e * reciprocal
    q = e * reciprocal if v >= 0.0 else reciprocal
    pos = target * w_pos * _shifted_exp(gamma * log_q, logits)
    neg = (1.0 - target) * w_neg * _shifted_exp(gamma * log_p, logits)
    value = -pos * log_p - neg * log_q
    slope = pos * (gamma * p * log_p - q) + neg * (p - gamma * q * log_q)
    return value, slope


@njit(cache=True, inline="always")
def _binary_focal(x, y, gamma, w_pos, w_neg, grad_scale, loss, grad):
    """Element-wise sigmoid focal loss of flat ``x`` and its gradient.

    ``loss[i] = -w+ y (1-p)^gamma log p - w- (1-y) p^gamma log(1-p)`` with
    ``p = sigmoid(x[i])``; ``log p`` and ``log(1 - p)`` come from one
    softplus, exact for any logit, and the modulating factors are
    ``exp(gamma log(1 - p))`` and ``exp(gamma log p)``. ``w_pos`` holds one
    weight, or one per entry of the last dimension (its size ``L`` divides
    ``x.size``: ``x`` is a C-ordered (n / L, L) array, flattened). The
    gradient, times ``grad_scale``, goes to ``grad``. Returns the sum of the
    element losses.
    """
    n = x.size
    total = 0.0
    if w_pos.size == 1:
        weight = w_pos[0]
        # One flat loop (numba splits it between threads, each with its own
        # partial sum): LLVM vectorizes it, which it did not do for the loop
        # over blocks of elements this replaced.
        for i in prange(n):
            value, slope = _binary_focal_element(
                np.float64(x[i]), np.float64(y[i]), gamma, weight, w_neg, x
            )
            loss[i] = value
            grad[i] = grad_scale * slope
            total += value
        return total
    width = w_pos.size
    for r in prange(n // width):
        row_total = 0.0
        for j in range(width):
            i = r * width + j
            value, slope = _binary_focal_element(
                np.float64(x[i]), np.float64(y[i]), gamma, w_pos[j], w_neg, x
            )
            loss[i] = value
            grad[i] = grad_scale * slope
            row_total += value
        total += row_total
    return total


# error_model="numpy": no zero-division checks, whose branches would stop
# LLVM from vectorizing the element loop (no division here can be by zero).
@njit(cache=True, parallel=True, fastmath=_VECTOR_MATH, error_model="numpy")
def binary_focal_rows(x, y, gamma, w_pos, w_neg, grad_scale, loss, grad):
    """:func:`_binary_focal` on numba's threads."""
    return _binary_focal(x, y, gamma, w_pos, w_neg, grad_scale, loss, grad)


@njit(cache=True, fastmath=_VECTOR_MATH, error_model="numpy")
def binary_focal_rows_serial(x, y, gamma, w_pos, w_neg, grad_scale, loss, grad):
    """:func:`_binary_focal` on one thread."""
    return _binary_focal(x, y, gamma, w_pos, w_neg, grad_scale, loss, grad)
