"""The sigmoid (binary and multi-label) focal loss."""
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import math
from numbers import Real

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from sklearn_focal.losses._common import (
    _COMPILED_KERNELS,
    _LOW_PRECISION,
    _check_binary_alpha,
    _check_reduction,
    _float32_region,
    _scaled_gradient,
    _stored_gradient_backward,
)
from sklearn_focal.losses._softmax import _UNIT_WEIGHT, _focal_terms, _kernel_module
from sklearn_focal.utils.validation import check_gamma as _check_gamma


def binary_focal_loss_with_logits(
    input: Tensor,
    target: Tensor,
    gamma: float = 2.0,
    alpha: float | None = None,
    reduction: str = "mean",
    pos_weight=None,
) -> Tensor:
    r"""Binary (sigmoid) focal loss on logits, for binary and multi-label targets.

    With :math:`p = \sigma(x)`, the loss of a target :math:`y \in [0, 1]` is

    .. math::

        -\alpha\, w\, y\, (1 - p)^\gamma \log p
        - (1 - \alpha)(1 - y)\, p^\gamma \log (1 - p),

    computed from :math:`\log p = \operatorname{logsigmoid}(x)` and
    :math:`\log(1 - p) = \operatorname{logsigmoid}(-x)`. With ``gamma=0`` and
    ``alpha=None`` it equals
    :func:`torch.nn.functional.binary_cross_entropy_with_logits`.

    Parameters
    ----------
    input : Tensor of any shape
        Logits.
    target : Tensor of the same shape as input
        Targets in ``[0, 1]`` (soft targets allowed).
    gamma : float, default=2.0
        Focusing parameter, ``gamma >= 0``.
    alpha : float in [0, 1], default=None
        Weight of the positive term; the negative term gets ``1 - alpha``.
        None weights both by 1.
    reduction : {'mean', 'sum', 'none'}, default='mean'
        Reduction over all elements.
    pos_weight : Tensor or float, default=None
        Extra weight :math:`w` of the positive term, broadcast against the
        last dimension as in ``BCEWithLogitsLoss`` (one per label).

    Returns
    -------
    loss : Tensor
        A scalar, or the element-wise losses for ``reduction='none'``.

    See Also
    --------
    BinaryFocalLoss : The module form.
    focal_loss_with_logits : Softmax (multi-class) focal loss.

    Examples
    --------
    >>> import torch
    >>> from sklearn_focal.losses import binary_focal_loss_with_logits
    >>> x = torch.tensor([3.0, -1.0, 0.5])
    >>> y = torch.tensor([1.0, 0.0, 0.0])
    >>> round(binary_focal_loss_with_logits(x, y, gamma=2.0).item(), 4)
    0.1334
    """
    gamma = _check_gamma(gamma)
    reduction = _check_reduction(reduction)
    if not isinstance(input, Tensor) or not input.is_floating_point():
        raise TypeError("input must be a floating-point torch.Tensor of logits.")
    if not isinstance(target, Tensor):
        raise TypeError("target must be a torch.Tensor.")
    if target.shape != input.shape:
        raise ValueError(
            f"target shape {tuple(target.shape)} must equal input shape "
            f"{tuple(input.shape)}."
        )
    alpha = _check_binary_alpha(alpha)

    with _float32_region(input):
        x = input.float() if input.dtype in _LOW_PRECISION else input
        compiled = _COMPILED_KERNELS.get()
        if compiled and x.device.type == "cpu" and not target.requires_grad:
            weights = _pos_weight_array(pos_weight, x)
            if weights is not None:
                return _CpuBinaryFocal.apply(
                    x, target, gamma, weights, alpha, reduction
                )
        return _torch_binary_focal(x, target, gamma, alpha, reduction, pos_weight)


def _torch_binary_focal(x, target, gamma, alpha, reduction, pos_weight):
    """The sigmoid focal loss of float32/float64 logits by torch operations:
    the element-wise focal term of ``p`` and of ``1 - p``, from one pair of
    log-sigmoids."""
    y = target.to(x.dtype)
    log_p = F.logsigmoid(x)
    log_1mp = F.logsigmoid(-x)
    positive = _focal_terms(log_p, log_1mp, gamma)
    negative = _focal_terms(log_1mp, log_p, gamma)
    if pos_weight is not None:
        positive = positive * torch.as_tensor(
            pos_weight, dtype=x.dtype, device=x.device
        )
    if alpha is not None:
        positive = float(alpha) * positive
        negative = (1.0 - float(alpha)) * negative
    loss = y * positive + (1.0 - y) * negative
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.mean()


def _pos_weight_array(pos_weight, x):
    """``pos_weight`` as the compiled binary kernel takes it: a float64 array
    of one weight, or of one per entry of the last dimension of ``x``. None
    when the kernel cannot take it (another shape, or it needs a gradient):
    the torch path then."""
    if pos_weight is None:
        return _UNIT_WEIGHT
    if isinstance(pos_weight, Tensor):
        if pos_weight.requires_grad:
            return None
        weights = pos_weight.detach().to("cpu", torch.float64)
    elif isinstance(pos_weight, Real):
        return np.array([float(pos_weight)])
    else:
        return None
    if weights.numel() == 1:
        return weights.reshape(1).numpy()
    if weights.ndim == 1 and x.ndim >= 1 and weights.shape[0] == x.shape[-1]:
        return weights.contiguous().numpy()
    return None


class _CpuBinaryFocal(torch.autograd.Function):
    """The sigmoid focal loss of float32/float64 CPU logits in one compiled pass.

    The forward pass computes the element losses, their reduction and the
    gradient of the reduced loss (numba, float64 arithmetic); the backward
    pass multiplies the stored gradient by ``grad_output``.
    """

    @staticmethod
    def forward(ctx, logits, target, gamma, pos_weight, alpha, reduction):
        _loss_kernels = _kernel_module()
        x = logits.detach().contiguous().numpy().reshape(-1)
        y = target.detach().to(logits.dtype).contiguous().numpy().reshape(-1)
        n = x.size
        loss = np.empty_like(x)
        grad = np.empty_like(x)
        alpha_pos = 1.0 if alpha is None else float(alpha)
        alpha_neg = 1.0 if alpha is None else 1.0 - float(alpha)
        total = _loss_kernels.dispatch(
            _loss_kernels.binary_focal_rows,
            _loss_kernels.binary_focal_rows_serial,
            x,
            y,
            gamma,
            alpha_pos * pos_weight,  # an array: one weight or one per label
            alpha_neg,
            1.0 / n if reduction == "mean" and n else 1.0,
            loss,
            grad,
            size=n,
        )
        ctx.reduction = reduction
        ctx.save_for_backward(torch.from_numpy(grad).view(logits.shape))
        if reduction == "none":
            return torch.from_numpy(loss).view(logits.shape)
        if reduction == "mean":
            total = total / n if n else math.nan
        return torch.from_numpy(np.array(total, dtype=x.dtype))

    @staticmethod
    @_stored_gradient_backward
    def backward(ctx, grad_output):
        (grad,) = ctx.saved_tensors
        return _scaled_gradient(grad, grad_output), None, None, None, None, None
