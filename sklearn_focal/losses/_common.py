"""The backend switch, the argument checks and the backward rule of the losses."""
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import contextlib
import contextvars
import functools
from numbers import Integral, Real

import numpy as np
import torch
from torch import Tensor

_REDUCTIONS = ("none", "mean", "sum")
_LOW_PRECISION = (torch.float16, torch.bfloat16)
_CPU_KERNEL_DTYPES = (torch.float32, torch.float64)
_INDEX_DTYPES = (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8)

# The private backend switch: False sends CPU tensors down the torch path that
# other devices take (the tests run every numerical check on both paths).
_COMPILED_KERNELS = contextvars.ContextVar(
    "sklearn_focal_compiled_kernels", default=True
)


@contextlib.contextmanager
def _use_compiled_kernels(enabled: bool):
    """Within the block, use the compiled CPU kernels (True) or not (False).

    Private, for tests and benchmarks. The setting is per thread (a context
    variable); the default, outside any block, is True.

    Examples
    --------
    >>> import torch
    >>> from sklearn_focal.losses._common import _use_compiled_kernels
    >>> from sklearn_focal.losses import focal_loss_with_logits
    >>> x = torch.tensor([[2.0, 0.0, -1.0]], requires_grad=True)
    >>> with _use_compiled_kernels(False):
    ...     loss = focal_loss_with_logits(x, torch.tensor([0]))
    >>> type(loss.grad_fn).__name__
    '_HardTargetFocalBackward'
    """
    token = _COMPILED_KERNELS.set(bool(enabled))
    try:
        yield
    finally:
        _COMPILED_KERNELS.reset(token)


def _stored_gradient_backward(backward):
    """Decorate the backward pass of a compiled loss, which returns a gradient
    stored by its forward pass (not differentiable again).

    With ``create_graph=False`` (grad mode off inside the backward pass: a
    training step) it calls ``backward`` directly, skipping the bookkeeping of
    :func:`torch.autograd.function.once_differentiable` (several microseconds
    of a small batch's step); with ``create_graph=True`` it goes through
    ``once_differentiable``, so a second derivative raises an error instead of
    silently being 0.
    """
    checked = torch.autograd.function.once_differentiable(backward)

    @functools.wraps(backward)
    def wrapper(ctx, *grad_outputs):
        if torch.is_grad_enabled():
            return checked(ctx, *grad_outputs)
        return backward(ctx, *grad_outputs)

    return wrapper


def _scaled_gradient(grad, grad_output):
    """The gradient a compiled forward pass stored, times ``grad_output``.

    A training step (``loss.backward()`` on a reduced loss) passes
    ``grad_output = 1``: the stored gradient is then returned as it is, with no
    new array (no page faults for a fresh buffer). autograd moves it into
    ``.grad`` when nothing else holds it, and copies it when the graph is
    retained (``retain_graph=True``), so a second backward pass still finds
    it unchanged. Any other ``grad_output`` gives a new product.
    """
    # .item() on one element: a fraction of a microsecond, where a tensor
    # comparison costs several (small batches feel it).
    if grad_output.numel() == 1 and grad_output.item() == 1.0:
        return grad
    return grad * grad_output


# --------------------------------------------------------------------------- #
# validation helpers
# --------------------------------------------------------------------------- #
def _check_ignore_index(ignore_index) -> int:
    # CrossEntropyLoss raises a TypeError for a float or bool ignore_index.
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, Integral):
        raise TypeError(
            f"ignore_index must be an int, got {type(ignore_index).__name__}: "
            f"{ignore_index!r}."
        )
    return int(ignore_index)


def _check_binary_alpha(alpha) -> float | None:
    if alpha is None:
        return None
    if isinstance(alpha, bool) or not isinstance(alpha, Real):
        raise TypeError(f"alpha must be None or a float in [0, 1], got {alpha!r}.")
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}.")
    return float(alpha)


def _out_of_bounds(target, n_classes, row) -> IndexError:
    """The error for a class index outside ``[0, n_classes)``, as torch raises."""
    return IndexError(
        f"Target {int(target)} is out of bounds for {n_classes} classes (row {row})."
    )


def _check_sample_weight(sample_weight, n_samples: int) -> Tensor:
    """Per-sample weights as a 1-D floating tensor of ``n_samples`` finite,
    non-negative entries (values checked on the CPU only: no device sync).

    This is the batch-level twin of
    :func:`sklearn_focal.utils.validation.check_sample_weight`, the estimators'
    rule, with one deliberate difference: a batch whose weights are all zero
    is allowed (a minibatch may carry no weight; ``'mean'`` then gives 0, as
    ``CrossEntropyLoss`` does when every target is ignored), whereas a whole
    training set of zero weights is refused by the estimators.
    """
    if isinstance(sample_weight, Tensor):
        tensor = sample_weight
    else:
        try:
            tensor = torch.as_tensor(np.asarray(sample_weight, dtype=np.float64))
        except (TypeError, ValueError) as exc:
            raise TypeError(
                "sample_weight must be an array of real numbers, got "
                f"{sample_weight!r}."
            ) from exc
    if tensor.dtype == torch.bool or tensor.is_complex():
        raise TypeError(f"sample_weight must hold real numbers, got {tensor.dtype}.")
    if not tensor.is_floating_point():
        tensor = tensor.to(torch.get_default_dtype())
    if tensor.shape != (n_samples,):
        raise ValueError(
            f"sample_weight must have shape ({n_samples},), one weight per sample; "
            f"got shape {tuple(tensor.shape)}."
        )
    if tensor.device.type == "cpu":
        bad = ~(torch.isfinite(tensor) & (tensor >= 0))
        if bool(bad.any()):
            rows = torch.nonzero(bad).flatten()
            raise ValueError(
                "sample_weight must be finite and non-negative; got "
                f"{tensor[rows[0]].item()!r} in row {int(rows[0])} "
                f"({rows.numel()} bad rows)."
            )
    return tensor


def _check_reduction(reduction) -> str:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}.")
    return reduction


def _check_label_smoothing(label_smoothing) -> float:
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, Real):
        raise TypeError(
            "label_smoothing must be a real number, got "
            f"{type(label_smoothing).__name__}."
        )
    if not 0.0 <= float(label_smoothing) <= 1.0:
        raise ValueError(
            f"label_smoothing must be in [0, 1], got {float(label_smoothing)!r}."
        )
    return float(label_smoothing)


def _as_weight(value, name: str, n_classes: int | None = None) -> Tensor | None:
    """Per-class weights as a 1-D floating tensor (validated), or None."""
    if value is None:
        return None
    if isinstance(value, str):
        raise TypeError(
            f"{name} must be None or per-class weights (array-like or Tensor), got "
            f"{value!r}; FocalClassifier(alpha={value!r}) computes such weights "
            "from the training labels."
        )
    try:
        tensor = torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise TypeError(
            f"{name} must be None or per-class weights (array-like or Tensor), got "
            f"{value!r}."
        ) from exc
    if tensor.dtype == torch.bool or tensor.is_complex():
        raise TypeError(f"{name} must hold real numbers, got {tensor.dtype}.")
    if not tensor.is_floating_point():
        tensor = tensor.to(torch.get_default_dtype())
    if tensor.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D sequence of per-class weights, got shape "
            f"{tuple(tensor.shape)}."
        )
    if n_classes is not None and tensor.shape[0] != n_classes:
        raise ValueError(
            f"{name} has {tensor.shape[0]} entries but the input has "
            f"{n_classes} classes."
        )
    if tensor.device.type == "cpu" and not (
        bool(torch.isfinite(tensor).all()) and bool((tensor >= 0).all())
    ):
        raise ValueError(f"{name} must be finite and non-negative, got {value!r}.")
    return tensor


def _float32_region(tensor: Tensor):
    """Context in which autocast is off, so the loss computes in float32+."""
    device_type = tensor.device.type
    try:
        enabled = torch.is_autocast_enabled(device_type)
    except TypeError:  # torch < 2.4
        enabled = (
            torch.is_autocast_cpu_enabled()
            if device_type == "cpu"
            else torch.is_autocast_enabled()
        )
    if enabled:
        return torch.autocast(device_type=device_type, enabled=False)
    return contextlib.nullcontext()
