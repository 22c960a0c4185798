"""The compiled losses' backward pass reuses the gradient of the forward pass.

``loss.backward()`` on a reduced loss passes ``grad_output = 1``: the stored
gradient becomes ``.grad`` without a new buffer (issue #17). Retained graphs
and other ``grad_output`` values still give exact gradients. The reference
gradients come from the torch path (``_use_compiled_kernels(False)``).
"""

import pytest
import torch

from sklearn_focal.losses import BinaryFocalLoss, FocalLoss
from sklearn_focal.losses._common import _use_compiled_kernels


def _inputs(binary):
    gen = torch.Generator().manual_seed(0)
    x = 4 * torch.randn(300, 7, generator=gen, dtype=torch.float64)
    if binary:
        return x, (torch.rand(300, 7, generator=gen) > 0.5).double()
    return x, torch.randint(0, 7, (300,), generator=gen)


def _loss(binary, reduction):
    if binary:
        return BinaryFocalLoss(gamma=0.5, reduction=reduction)
    return FocalLoss(gamma=0.5, reduction=reduction)


def _reference_grad(binary, reduction, scale=1.0):
    x, target = _inputs(binary)
    x.requires_grad_()
    with _use_compiled_kernels(False):
        loss = _loss(binary, reduction)(x, target)
    (scale * loss.sum()).backward()
    return x.grad


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_reduced_backward_hands_over_the_stored_gradient(binary, reduction):
    x, target = _inputs(binary)
    x.requires_grad_()
    loss = _loss(binary, reduction)(x, target)
    # Only the address: a reference held here would make autograd copy.
    stored = loss.grad_fn.saved_tensors[0].data_ptr()
    loss.backward()
    assert x.grad.data_ptr() == stored  # no new buffer
    torch.testing.assert_close(
        x.grad, _reference_grad(binary, reduction), rtol=1e-12, atol=1e-15
    )


@pytest.mark.parametrize("binary", [False, True])
def test_retained_graph_gives_the_same_gradient_twice(binary):
    x, target = _inputs(binary)
    x.requires_grad_()
    loss = _loss(binary, "mean")(x, target)
    loss.backward(retain_graph=True)
    first = x.grad.clone()
    x.grad.zero_()  # as optimizer.zero_grad(set_to_none=False) does
    loss.backward()
    torch.testing.assert_close(x.grad, first, rtol=0, atol=0)
    torch.testing.assert_close(
        first, _reference_grad(binary, "mean"), rtol=1e-12, atol=1e-15
    )


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_other_grad_outputs_scale_the_gradient(binary, reduction):
    x, target = _inputs(binary)
    x.requires_grad_()
    loss = _loss(binary, reduction)(x, target)
    (-2.5 * loss.sum()).backward()
    torch.testing.assert_close(
        x.grad, _reference_grad(binary, reduction, -2.5), rtol=1e-12, atol=1e-15
    )
