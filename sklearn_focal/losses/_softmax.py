"""The softmax focal loss: fused torch form and compiled CPU form."""
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from sklearn_focal.losses._common import (
    _COMPILED_KERNELS,
    _CPU_KERNEL_DTYPES,
    _INDEX_DTYPES,
    _LOW_PRECISION,
    _as_weight,
    _check_ignore_index,
    _check_label_smoothing,
    _check_reduction,
    _check_sample_weight,
    _float32_region,
    _out_of_bounds,
    _scaled_gradient,
    _stored_gradient_backward,
)
from sklearn_focal.utils.validation import check_gamma as _check_gamma


class _HardTargetFocal(torch.autograd.Function):
    """Per-sample ``-(1 - p_t)**gamma * log p_t`` on (M, C) logits, C >= 2.

    One fused softmax gives every ``p_j``; ``1 - p_t`` is the honest sum of the
    *other* probabilities (``exp`` of the log-sum-exp over ``j != t`` minus the
    log-sum-exp over all classes), never ``1 - p_t`` by subtraction, so
    ``log(1 - p_t)`` has full relative precision down to the smallest normal
    float. ``log p_t`` is ``log1p(-(1 - p_t))`` when ``p_t > 1/2`` and
    ``(x_t - max_j x_j) + log p_max`` otherwise; both are exact for any margin.

    The gradient with respect to the logits is ``c * (r - e_t)`` where ``r``
    is the softmax over the classes other than ``t`` and
    ``c = (1-p)**(gamma+1) - gamma (1-p)**gamma p log p`` is non-negative and
    bounded: it is finite for every ``gamma >= 0``, including ``gamma < 1`` at
    saturation (kornia #918).
    """

    @staticmethod
    def forward(ctx, logits, target, gamma, sample_weight=None, reduction="none"):
        index = target.unsqueeze(1)
        prob = torch.softmax(logits, dim=1)
        # p_max = exp(x_max - logsumexp(x)): log p_t = (x_t - x_max) + log p_max
        # is exact in absolute terms for every row, whatever the margins.
        log_p_max = torch.log(prob.amax(dim=1))
        shifted_t = logits.gather(1, index).squeeze(1) - logits.amax(dim=1)
        prob.scatter_(1, index, torch.zeros_like(index, dtype=prob.dtype))
        one_minus_p = prob.sum(dim=1)
        # Near p_t = 1 the honest sum 1 - p_t gives log p_t = log1p(-(1 - p_t))
        # to full relative precision.
        log_p = torch.where(
            one_minus_p < 0.5, torch.log1p(-one_minus_p), shifted_t + log_p_max
        )
        if gamma == 0.0:
            loss = -log_p
        else:
            loss = -(one_minus_p**gamma * log_p)
        ctx.gamma = gamma
        ctx.reduction = reduction
        # The reduction happens here rather than in autograd-tracked ops, which
        # matters for the small batches of a training loop.
        scale = sample_weight
        if sample_weight is not None:
            loss = loss * sample_weight
        if reduction == "mean":
            denominator = (
                sample_weight.sum()
                if sample_weight is not None
                else loss.new_tensor(float(loss.numel()))
            )
            # No row counts: a NaN loss and a zero gradient, as in
            # CrossEntropyLoss (never 0 * inf); no device sync.
            scale = (
                sample_weight / _nonzero(denominator)
                if sample_weight is not None
                else torch.full_like(loss, 1.0 / loss.numel())
            )
            loss = loss.sum() / denominator
        elif reduction == "sum":
            loss = loss.sum()
        ctx.save_for_backward(prob, index, one_minus_p, log_p, scale)
        return loss

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output):
        prob_other, index, one_minus_p, log_p, scale = ctx.saved_tensors
        gamma = ctx.gamma
        if ctx.reduction != "none":
            grad_output = grad_output.expand(one_minus_p.shape)
        if scale is not None:
            grad_output = grad_output * scale
        if gamma == 0.0:
            coef = one_minus_p
        else:
            # p log p -> 0 as p -> 0 (a -inf target logit): never 0 * -inf.
            p_log_p = torch.where(log_p > -math.inf, torch.exp(log_p) * log_p, 0.0)
            coef = one_minus_p**gamma * (one_minus_p - gamma * p_log_p)
        coef = coef * grad_output
        # d loss / d x_j = coef * p_j / (1 - p_t) for j != t; when every other
        # probability underflows (1 - p_t == 0) the coefficient is exactly 0.
        factor = torch.where(one_minus_p > 0, coef / one_minus_p, 0.0)
        grad = prob_other * factor.unsqueeze(1)
        grad.scatter_(1, index, (-coef).unsqueeze(1))
        return grad, None, None, None, None


def _cpu_focal(x, target, gamma, weight, reduction, ignore_index, label_smoothing):
    """The focal loss by a compiled CPU kernel, or None where none applies.

    Kernels cover float32/float64 CPU logits with C >= 2 classes, with class
    indices (label smoothing included) or with probability targets that need
    no gradient. (N, C, d1, ...) logits with class indices and no smoothing
    run in their own layout; other (C,) and (N, C, d1, ...) inputs run as
    (M, C) rows. Anything else, including malformed targets, takes the torch
    path, which also reports the errors.
    """
    if x.device.type != "cpu" or x.ndim == 0 or not _COMPILED_KERNELS.get():
        return None
    if (
        x.ndim > 2
        and label_smoothing == 0.0
        and x.shape[1] >= 2
        and target.dtype in _INDEX_DTYPES
        and target.shape == x.shape[:1] + x.shape[2:]
    ):
        # Class indices on (N, C, d1, ...): the kernel reads the classes in
        # place, strided, with no copy to classes-last rows and back.
        return _CpuHardTargetFocal.apply(
            x, target.long(), gamma, weight, ignore_index, reduction
        )
    if x.ndim != 2:
        # (C,) -> (1, C); (N, C, d1, ...) -> (N d1 ..., C), classes last.
        soft = target.is_floating_point()
        unbatched = x.ndim == 1
        rows = x.unsqueeze(0) if unbatched else x.movedim(1, -1)
        rows = rows.reshape(-1, x.shape[-1] if unbatched else x.shape[1])
        if soft and target.shape == x.shape:
            flat_target = (
                target.unsqueeze(0) if unbatched else target.movedim(1, -1)
            ).reshape(rows.shape)
        elif not soft and target.shape == (
            () if unbatched else x.shape[:1] + x.shape[2:]
        ):
            flat_target = target.reshape(-1)
        else:
            return None
        loss = _cpu_focal(
            rows, flat_target, gamma, weight, reduction, ignore_index, label_smoothing
        )
        if loss is None or reduction != "none":
            return loss
        return loss.reshape(() if unbatched else x.shape[:1] + x.shape[2:])
    if x.shape[1] < 2:
        return None
    if target.dtype in _INDEX_DTYPES and target.shape == x.shape[:1]:
        labels = target.long()
        if label_smoothing == 0.0:
            return _CpuHardTargetFocal.apply(
                x, labels, gamma, weight, ignore_index, reduction
            )
        return _CpuSoftTargetFocal.apply(
            x, None, labels, label_smoothing, gamma, weight, ignore_index, reduction
        )
    if (
        target.is_floating_point()
        and target.shape == x.shape
        and not target.requires_grad
    ):
        return _CpuSoftTargetFocal.apply(
            x, target, None, label_smoothing, gamma, weight, ignore_index, reduction
        )
    return None


def _run_row_kernel(ctx, kernels, x, labels, reduction, *args, shape=None):
    """Call a compiled (N, C) focal kernel on the array ``x``, keep its gradient
    for the backward pass and return the reduced loss.

    ``kernels`` is the (parallel, serial) pair; the kernel receives ``x``,
    ``args``, whether the reduction is the mean, and the row-loss and gradient
    arrays, and returns ``(bad_row, denominator, total)``. ``x`` may also be
    (N, C, S) logits of the ``shape`` (N, C, d1, ...): the per-position
    losses and the gradient then take that shape.
    """
    loss = np.empty(x.shape[:1] + x.shape[2:], dtype=x.dtype)
    grad = np.empty_like(x)
    bad, denominator, total = _kernel_module().dispatch(
        *kernels, x, *args, reduction == "mean", loss, grad, size=x.size
    )
    if bad >= 0:
        raise _out_of_bounds(labels.reshape(-1)[bad], x.shape[1], bad)
    ctx.reduction = reduction
    grad = torch.from_numpy(grad)
    loss = torch.from_numpy(loss)
    if shape is not None and len(shape) != x.ndim:  # (N, C, S) -> (N, C, d1, ...)
        grad = grad.view(shape)
        loss = loss.view(shape[:1] + shape[2:])
    ctx.save_for_backward(grad)
    if reduction == "none":
        return loss
    if reduction == "mean":
        # CrossEntropyLoss's (weighted) mean: NaN when no row counts.
        total = total / denominator if denominator else math.nan
    return torch.from_numpy(np.array(total, dtype=x.dtype))


_KERNELS = []


def _kernel_module():
    """:mod:`sklearn_focal.losses._kernels`, imported (with numba) on first use."""
    if not _KERNELS:
        from sklearn_focal.losses import _kernels

        _KERNELS.append(_kernels)
    return _KERNELS[0]


def _class_weight_array(weight):
    if weight is None:
        return _NO_CLASS_WEIGHT
    return weight.detach().to("cpu", torch.float64).contiguous().numpy()


class _CompiledRowFocal(torch.autograd.Function):
    """Base of the compiled (N, C) losses: the forward pass computes the loss,
    its reduction and the gradient of the reduced loss together (numba,
    float64 arithmetic); the backward pass multiplies the stored gradient by
    ``grad_output``. It removes the per-operation overhead that dominates
    small batches."""

    @staticmethod
    @_stored_gradient_backward
    def backward(ctx, grad_output):
        (grad,) = ctx.saved_tensors
        if ctx.reduction == "none":
            grad_output = grad_output.unsqueeze(1)
        return (_scaled_gradient(grad, grad_output),) + (None,) * ctx.n_other_inputs


class _CpuSoftTargetFocal(_CompiledRowFocal):
    """The focal loss against probabilities or smoothed labels, CPU float32/64."""

    @staticmethod
    def forward(
        ctx, logits, probs, labels, smoothing, gamma, weight, ignore_index, reduction
    ):
        _loss_kernels = _kernel_module()
        ctx.n_other_inputs = 7
        x = logits.detach().contiguous().numpy()
        if probs is None:
            probs_array = np.empty((0, x.shape[1]), dtype=x.dtype)
            label_array = labels.detach().contiguous().numpy()
        else:
            probs_array = probs.detach().to(logits.dtype).contiguous().numpy()
            label_array = _NO_LABELS
        kernels = (
            _loss_kernels.soft_target_focal_rows,
            _loss_kernels.soft_target_focal_rows_serial,
        )
        return _run_row_kernel(
            ctx,
            kernels,
            x,
            label_array,
            reduction,
            probs_array,
            label_array,
            smoothing,
            gamma,
            _loss_kernels.power_mode(gamma),
            _class_weight_array(weight),
            ignore_index,
        )


class _CpuHardTargetFocal(_CompiledRowFocal):
    """:class:`_HardTargetFocal` for float32/float64 CPU tensors."""

    @staticmethod
    def forward(ctx, logits, target, gamma, weight, ignore_index, reduction):
        _loss_kernels = _kernel_module()
        ctx.n_other_inputs = 5
        labels = target.detach().contiguous().numpy()
        x = logits.detach().contiguous().numpy()
        if x.ndim == 2:
            kernels = (
                _loss_kernels.hard_target_focal_rows,
                _loss_kernels.hard_target_focal_rows_serial,
            )
        else:
            # (N, C, d1, ...) -> (N, C, S) and (N, S): views, no copies.
            x = x.reshape(x.shape[0], x.shape[1], math.prod(x.shape[2:]))
            labels = labels.reshape(x.shape[0], x.shape[2])
            kernels = (
                _loss_kernels.hard_target_focal_positions,
                _loss_kernels.hard_target_focal_positions_serial,
            )
        return _run_row_kernel(
            ctx,
            kernels,
            x,
            labels,
            reduction,
            labels,
            gamma,
            _loss_kernels.power_mode(gamma),
            _class_weight_array(weight),
            ignore_index,
            shape=logits.shape,
        )


_NO_LABELS = np.empty(0, dtype=np.int64)
_NO_CLASS_WEIGHT = np.empty(0)
_UNIT_WEIGHT = np.ones(1)  # read only: the kernels never write their weights


# --------------------------------------------------------------------------- #
# every class: the per-element terms (1 - p_j)**gamma * (-log p_j)
# --------------------------------------------------------------------------- #
def _elementwise_focal(logits: Tensor, gamma: float) -> Tensor:
    """(M, C) array of ``-(1 - p_j)**gamma * log p_j`` for C >= 2, autograd-safe.

    For a class ``j`` that is not the row's arg-max, ``p_j <= 1/2`` so
    ``log(1 - p_j) = log(-expm1(log p_j))`` is well conditioned. For the arg-max
    class the log-odds formulation of :class:`_HardTargetFocal` is used.
    """
    top = logits.argmax(dim=1, keepdim=True)
    is_top = torch.zeros_like(logits, dtype=torch.bool).scatter_(1, top, True)
    lse_other = torch.logsumexp(logits.masked_fill(is_top, -math.inf), dim=1)
    log_odds = (logits.gather(1, top).squeeze(1) - lse_other).unsqueeze(1)
    log_p = torch.where(is_top, F.logsigmoid(log_odds), logits.log_softmax(dim=1))
    if gamma == 0.0:
        return _focal_terms(log_p, None, gamma)
    # Keep the unused branch finite so that its zero gradient stays zero.
    safe = log_p.masked_fill(is_top, -1.0)
    log_1mp = torch.where(
        is_top, F.logsigmoid(-log_odds), torch.log(-torch.expm1(safe))
    )
    return _focal_terms(log_p, log_1mp, gamma)


def _focal_terms(log_p: Tensor, log_1mp: Tensor | None, gamma: float) -> Tensor:
    """``-(1 - p)**gamma * log p`` from ``log p`` and ``log(1 - p)``, autograd-safe.

    The one torch form of the element-wise focal term: the modulating factor
    is ``exp(gamma * log(1 - p))``, so the gradient is bounded for every
    ``gamma >= 0``. ``log_1mp`` is not used (and may be None) for
    ``gamma = 0``. Where ``p = 0`` (``log p = -inf``) the factor is 1, with
    no ``0 * inf`` in the gradient.
    """
    if gamma == 0.0:
        return -log_p
    modulating = torch.where(log_p > -math.inf, torch.exp(gamma * log_1mp), 1.0)
    return -modulating * log_p


def focal_loss_with_logits(
    input: Tensor,
    target: Tensor,
    gamma: float = 2.0,
    alpha=None,
    reduction: str = "mean",
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    sample_weight=None,
) -> Tensor:
    r"""Multi-class focal loss on logits, with the conventions of cross-entropy.

    The loss of one sample with true class :math:`t` and softmax output
    :math:`p` is :math:`-\alpha_t (1 - p_t)^\gamma \log p_t`. With
    ``gamma=0`` this is exactly :func:`torch.nn.functional.cross_entropy`,
    including ``weight=alpha``, ``ignore_index``, ``label_smoothing`` and
    probability targets.

    Parameters
    ----------
    input : Tensor of shape (N, C), (N, C, d1, ..., dk) or (C,)
        Unnormalized logits.
    target : Tensor
        Either class indices (an integer tensor of shape (N,),
        (N, d1, ..., dk) or ()) with values in ``[0, C)`` or ``ignore_index``,
        or class probabilities (a floating tensor of the same shape as
        ``input``), in which case the loss of a sample is
        :math:`-\sum_j \alpha_j y_j (1 - p_j)^\gamma \log p_j`.
    gamma : float, default=2.0
        Focusing parameter, ``gamma >= 0``.
    alpha : array-like of shape (C,) or Tensor, default=None
        Per-class weights (the :math:`\alpha`-balanced focal loss), applied as
        ``weight`` in :func:`~torch.nn.functional.cross_entropy`.
    reduction : {'mean', 'sum', 'none'}, default='mean'
        With class-index targets, ``'mean'`` divides by the summed weight
        :math:`\sum_i \alpha_{t_i}` of the non-ignored samples (by their count
        when ``alpha`` is None), as ``CrossEntropyLoss`` does. With probability
        targets it divides by the number of samples.
    ignore_index : int, default=-100
        Class-index target value that contributes neither to the loss nor to
        the mean's denominator.
    label_smoothing : float, default=0.0
        Mixes the target with the uniform distribution:
        :math:`y \leftarrow (1 - \varepsilon) y + \varepsilon / C`.
    sample_weight : array-like or Tensor of shape (N,), default=None
        Non-negative weight :math:`w_i` of each sample (of each of its
        positions for (N, C, d1, ...) input). The loss of sample :math:`i` is
        multiplied by :math:`w_i`, and ``'mean'`` divides by
        :math:`\sum_i w_i \alpha_{t_i}` over the non-ignored samples
        (:math:`\sum_i w_i` without ``alpha``, as scikit-learn's weighted
        means do), so an integer weight equals repeating the sample. Negative
        or non-finite weights raise a ValueError.

    Returns
    -------
    loss : Tensor
        A scalar, or the per-sample losses for ``reduction='none'``. Float16
        and bfloat16 logits give a float32 loss.

    Raises
    ------
    IndexError
        For a class index outside ``[0, C)`` that is not ``ignore_index``, as
        :func:`~torch.nn.functional.cross_entropy` (checked on the CPU).

    See Also
    --------
    FocalLoss : The module form.
    binary_focal_loss_with_logits : One logit per sample or per label.

    Examples
    --------
    >>> import torch
    >>> from sklearn_focal.losses import focal_loss_with_logits
    >>> logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    >>> target = torch.tensor([0, 2])
    >>> round(focal_loss_with_logits(logits, target, gamma=2.0).item(), 4)
    0.4838
    >>> ce = torch.nn.functional.cross_entropy(logits, target)
    >>> bool(torch.isclose(focal_loss_with_logits(logits, target, gamma=0.0), ce))
    True
    """
    gamma = _check_gamma(gamma)
    reduction = _check_reduction(reduction)
    label_smoothing = _check_label_smoothing(label_smoothing)
    if not isinstance(input, Tensor) or not input.is_floating_point():
        raise TypeError("input must be a floating-point torch.Tensor of logits.")
    if not isinstance(target, Tensor):
        raise TypeError("target must be a torch.Tensor.")
    if input.ndim == 0:
        raise ValueError("input must have a class dimension; got a 0-d tensor.")
    n_classes = input.shape[0] if input.ndim == 1 else input.shape[1]
    weight = _as_weight(alpha, "alpha", n_classes)
    ignore_index = _check_ignore_index(ignore_index)
    if sample_weight is not None:
        return _sample_weighted_focal_loss(
            input,
            target,
            gamma,
            weight,
            reduction,
            ignore_index,
            label_smoothing,
            sample_weight,
        )
    return _focal_loss(
        input, target, gamma, weight, reduction, ignore_index, label_smoothing
    )


def _sample_weighted_focal_loss(
    input,
    target,
    gamma,
    weight,
    reduction,
    ignore_index,
    label_smoothing,
    sample_weight,
):
    """The focal loss with per-sample weights: the per-sample losses of
    :func:`_focal_loss` (any code path), weighted and reduced here."""
    if input.ndim < 2:
        raise ValueError(
            "sample_weight needs batched input of shape (N, C) or (N, C, d1, ...); "
            f"got input of shape {tuple(input.shape)}."
        )
    sample_weight = _check_sample_weight(sample_weight, input.shape[0])
    per_sample = _focal_loss(
        input, target, gamma, weight, "none", ignore_index, label_smoothing
    )
    # (N,) -> (N, 1, ..., 1): one weight for all the positions of a sample.
    sample_weight = sample_weight.to(
        device=per_sample.device, dtype=per_sample.dtype
    ).reshape((-1,) + (1,) * (per_sample.ndim - 1))
    weighted = per_sample * sample_weight
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return weighted.sum()
    # The mean of the loss over the samples repeated w_i times: with class
    # indices CrossEntropyLoss divides by the summed class weights of the
    # counted samples, with probabilities by the number of samples.
    if target.is_floating_point():
        counted = torch.ones_like(per_sample)
    else:
        valid = target != ignore_index
        counted = valid.to(per_sample.dtype)
        if weight is not None:
            labels = torch.where(valid, target.long(), 0)
            counted = counted * weight.to(per_sample)[labels]
    return weighted.sum() / (counted * sample_weight).sum()


def _focal_loss(input, target, gamma, weight, reduction, ignore_index, label_smoothing):
    """focal_loss_with_logits on validated parameters (the module's hot path)."""
    args = (gamma, weight, reduction, ignore_index, label_smoothing)
    if input.dtype in _CPU_KERNEL_DTYPES:
        # The compiled kernels compute in float64 whether or not autocast is on.
        loss = _cpu_focal(input, target, *args)
        if loss is not None:
            return loss
    with _float32_region(input):
        x = input.float() if input.dtype in _LOW_PRECISION else input
        if x is not input:  # float16/bfloat16 logits, now float32
            loss = _cpu_focal(x, target, *args)
            if loss is not None:
                return loss
        return _torch_focal(x, target, *args)


def _torch_focal(x, target, gamma, weight, reduction, ignore_index, label_smoothing):
    """The focal loss of float32/float64 logits by torch operations (any device).

    (N, C) logits with class indices take the fused :class:`_HardTargetFocal`
    directly; every other shape and target runs as (M, C) rows, classes last.
    """
    if weight is not None:
        weight = weight.to(device=x.device, dtype=x.dtype)
    if (
        x.ndim == 2
        and not target.is_floating_point()
        and target.dtype != torch.bool
        and label_smoothing == 0.0
        and target.shape == x.shape[:1]
        and x.shape[1] > 1
    ):
        # Fast path: (N, C) logits with class indices.
        labels = target.long()
        valid = labels != ignore_index
        _check_class_indices(labels, valid, x.shape[1])
        labels = torch.where(valid, labels, 0)
        sample_weight = valid.to(x.dtype)
        if weight is not None:
            sample_weight = sample_weight * weight[labels]
        return _HardTargetFocal.apply(x, labels, gamma, sample_weight, reduction)
    unbatched = x.ndim == 1
    if unbatched:
        x = x.unsqueeze(0)
        target = target.unsqueeze(0)
    batch_shape = (x.shape[0],) + tuple(x.shape[2:])
    n_rows = math.prod(batch_shape)  # -1 is ambiguous for C = 0
    logits = x.movedim(1, -1).reshape(n_rows, x.shape[1])
    probs, labels, valid = _target_rows(
        x, target, batch_shape, ignore_index, label_smoothing
    )
    per_sample = _per_sample_focal(logits, probs, labels, gamma, weight)

    if valid is None:
        denominator = per_sample.new_tensor(float(per_sample.numel()))
    else:
        sample_weight = valid.to(x.dtype)
        if weight is not None:
            sample_weight = sample_weight * weight[labels]
        per_sample = per_sample * valid
        denominator = sample_weight.sum()

    if reduction == "none":
        out = per_sample.reshape(batch_shape)
        return out.squeeze(0) if unbatched else out
    if reduction == "sum":
        return per_sample.sum()
    # No row counts: CrossEntropyLoss's NaN loss, with a zero gradient.
    total = per_sample.sum()
    counted = denominator != 0
    return torch.where(
        counted, total / _nonzero(denominator), total.detach() / denominator
    )


def _nonzero(denominator: Tensor) -> Tensor:
    """``denominator`` with 0 replaced by 1 (no device sync): a reduction by
    it where nothing counts has a 0, not a NaN, gradient."""
    return torch.where(denominator != 0, denominator, 1.0)


def _check_class_indices(labels, valid, n_classes):
    """The IndexError of ``cross_entropy`` for a counted label outside
    ``[0, n_classes)``, naming the row; checked on the CPU only (no device
    sync), and for C < 2, which torch's gather does not check."""
    if labels.device.type != "cpu" and n_classes >= 2:
        return
    bad = valid & ((labels < 0) | (labels >= n_classes))
    if bool(bad.any()):
        row = int(torch.nonzero(bad)[0, 0])
        raise _out_of_bounds(labels[row], n_classes, row)


def _target_rows(x, target, batch_shape, ignore_index, label_smoothing):
    """The target of (N, C, ...) logits ``x`` as (M, C) rows, classes last.

    Returns ``(probs, labels, valid)``: the (smoothed) class probabilities or
    None; the class indices (ignored rows set to 0) or None; the mask of the
    counted rows, None for probability targets.
    """
    n_classes = x.shape[1]
    n_rows = math.prod(batch_shape)
    labels = valid = probs = None
    if target.is_floating_point():
        if target.shape != x.shape:
            raise ValueError(
                "Probability targets must have the shape of input, got "
                f"target {tuple(target.shape)} and input {tuple(x.shape)}."
            )
        probs = target.to(x.dtype).movedim(1, -1).reshape(n_rows, n_classes)
    else:
        if target.shape != batch_shape:
            raise ValueError(
                "Class-index targets must have shape "
                f"{batch_shape} for input of shape {tuple(x.shape)}, got "
                f"{tuple(target.shape)}."
            )
        if target.dtype == torch.bool:
            raise TypeError("target must be class indices or probabilities.")
        labels = target.reshape(-1).long()
        valid = labels != ignore_index
        _check_class_indices(labels, valid, n_classes)
        labels = torch.where(valid, labels, torch.zeros_like(labels))
        if label_smoothing > 0 and n_classes >= 2:
            probs = F.one_hot(labels, n_classes).to(x.dtype)
    if probs is not None and label_smoothing > 0:
        probs = probs * (1.0 - label_smoothing) + label_smoothing / n_classes
    return probs, labels, valid


def _per_sample_focal(logits, probs, labels, gamma, weight):
    """Unreduced focal loss of (M, C) logits against class indices ``labels``
    (``probs`` None) or class probabilities ``probs``, weighted by class."""
    if logits.shape[1] < 2:
        # p = 1 for the only class: every focal term is exactly 0 (an
        # empty sum for C = 0), with a zero gradient.
        return logits[:, :0].sum(1)
    if probs is None:
        per_sample = _HardTargetFocal.apply(logits, labels, gamma, None, "none")
        return per_sample if weight is None else per_sample * weight[labels]
    class_weight = probs if weight is None else probs * weight
    return (class_weight * _elementwise_focal(logits, gamma)).sum(1)
