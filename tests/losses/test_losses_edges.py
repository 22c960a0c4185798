"""Edge cases of the focal losses, each compared with what torch's
CrossEntropyLoss / BCEWithLogitsLoss do (issue #11, item 12), and per-sample
weights (item 6) against plain torch computations on repeated rows."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402

from sklearn_focal.losses import (  # noqa: E402
    BinaryFocalLoss,
    FocalLoss,
    focal_loss_with_logits,
)
from sklearn_focal.losses._common import _use_compiled_kernels  # noqa: E402


@pytest.fixture(params=["compiled", "torch"])
def path(request):
    """Run a test on the compiled CPU kernels and on the torch path (the one
    every non-CPU tensor takes)."""
    with _use_compiled_kernels(request.param == "compiled"):
        yield request.param


# --------------------------------------------------------------------------- #
# constructor arguments are validated in __init__
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("ignore_index", [1.5, 1.0, True, "1"])
def test_non_integer_ignore_index_raises_type_error_like_cross_entropy(ignore_index):
    x, target = torch.randn(3, 2), torch.tensor([0, 1, 0])
    with pytest.raises(TypeError):  # the reference: torch refuses it too
        torch.nn.CrossEntropyLoss(ignore_index=ignore_index)(x, target)
    with pytest.raises(TypeError, match="ignore_index"):
        FocalLoss(ignore_index=ignore_index)
    with pytest.raises(TypeError, match="ignore_index"):
        focal_loss_with_logits(x, target, ignore_index=ignore_index)


def test_numpy_integer_ignore_index_is_accepted(path):
    x, target = torch.randn(3, 2), torch.tensor([0, 1, 0])
    loss = FocalLoss(gamma=0.0, ignore_index=np.int64(1))(x, target)
    torch.testing.assert_close(loss, F.cross_entropy(x, target, ignore_index=1))


@pytest.mark.parametrize("alpha", ["balanced", "auto", {"a": 1}])
def test_non_numeric_alpha_raises_a_clear_type_error(alpha):
    with pytest.raises(TypeError, match="alpha must be None or per-class weights"):
        FocalLoss(alpha=alpha)
    with pytest.raises(TypeError, match="alpha"):
        focal_loss_with_logits(torch.randn(2, 3), torch.tensor([0, 1]), alpha=alpha)


@pytest.mark.parametrize(
    "alpha, error", [(5, ValueError), (-0.1, ValueError), ("0.5", TypeError)]
)
def test_binary_alpha_is_validated_at_construction(alpha, error):
    with pytest.raises(error, match="alpha"):
        BinaryFocalLoss(alpha=alpha)


# --------------------------------------------------------------------------- #
# fewer than two classes
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("n_classes, target", [(1, [0, 1, 0]), (1, [0, -3, 0])])
def test_single_class_out_of_range_target_raises_index_error(path, n_classes, target):
    x, target = torch.randn(3, n_classes), torch.tensor(target)
    with pytest.raises(IndexError):
        F.cross_entropy(x, target)
    with pytest.raises(IndexError, match="out of bounds for 1 classes \\(row 1\\)"):
        FocalLoss()(x, target)


def test_single_class_in_range_is_zero_like_cross_entropy(path):
    x = torch.randn(3, 1, requires_grad=True)
    target = torch.tensor([0, -100, 0])
    loss = FocalLoss(gamma=2.0)(x, target)
    assert loss.item() == 0.0 == F.cross_entropy(x, target).item()
    loss.backward()
    assert torch.equal(x.grad, torch.zeros_like(x))


def test_zero_classes_raise_index_error_like_cross_entropy(path):
    x, target = torch.randn(3, 0), torch.tensor([0, 1, 0])
    with pytest.raises(IndexError):
        F.cross_entropy(x, target)
    with pytest.raises(IndexError, match="out of bounds for 0 classes"):
        FocalLoss()(x, target)
    # probability targets over no class: an empty sum per sample, no error
    assert FocalLoss(reduction="sum")(x, torch.rand(3, 0)).item() == 0.0


# --------------------------------------------------------------------------- #
# a -inf logit on the target class: CrossEntropyLoss's value and gradient
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_minus_inf_target_logit_gives_cross_entropy_gradient(
    path, dtype, gamma, label_smoothing
):
    rows = [[-math.inf, 0.0, 1.0], [2.0, -math.inf, 0.5], [0.3, 0.1, -0.2]]
    target = torch.tensor([0, 1, 2])
    x = torch.tensor(rows, dtype=dtype, requires_grad=True)
    loss = FocalLoss(gamma=gamma, label_smoothing=label_smoothing)(x, target)
    loss.backward()
    x_ce = torch.tensor(rows, dtype=dtype, requires_grad=True)
    ce = F.cross_entropy(x_ce, target, label_smoothing=label_smoothing)
    ce.backward()
    assert loss.item() == math.inf == ce.item()
    assert torch.isfinite(x.grad).all()
    if gamma == 0.0 or label_smoothing == 0.0:
        # At p_t = 0 the focal gradient coefficient c is 1 for every gamma:
        # rows 0 and 1 are CrossEntropyLoss's. Row 2 is finite and only equal
        # at gamma = 0.
        rows_equal = slice(None) if gamma == 0.0 else slice(0, 2)
        torch.testing.assert_close(x.grad[rows_equal], x_ce.grad[rows_equal])


# --------------------------------------------------------------------------- #
# weight= is an alias of alpha, as in CrossEntropyLoss(weight=...)
# --------------------------------------------------------------------------- #
def test_weight_alias_is_a_drop_in_for_cross_entropy_weight(path):
    w = torch.tensor([1.0, 3.0, 0.5], dtype=torch.float64)
    x = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    target = torch.tensor([0, 1, 2, 2, 1, 0])
    focal = FocalLoss(gamma=0.0, weight=w)
    assert torch.equal(focal.weight, w) and torch.equal(focal.alpha, w)
    loss = focal(x, target)
    (grad,) = torch.autograd.grad(loss, x)
    ce = torch.nn.CrossEntropyLoss(weight=w)(x, target)
    (grad_ce,) = torch.autograd.grad(ce, x)
    torch.testing.assert_close(loss, ce)
    torch.testing.assert_close(grad, grad_ce)
    with pytest.raises(ValueError, match="alias of alpha"):
        FocalLoss(alpha=w, weight=w)
    with pytest.raises(ValueError, match="weight must be finite"):
        FocalLoss(weight=[1.0, -1.0])


# --------------------------------------------------------------------------- #
# per-sample weights
# --------------------------------------------------------------------------- #
def _plain_focal_rows(x, target, gamma, alpha):
    """-alpha_t (1 - p_t)^gamma log p_t by plain torch operations."""
    log_p = torch.log_softmax(x, dim=1).gather(1, target[:, None])[:, 0]
    p = torch.exp(log_p)
    w = 1.0 if alpha is None else alpha[target]
    return -w * (1.0 - p) ** gamma * log_p, torch.as_tensor(w).expand_as(p)


@pytest.mark.parametrize("gamma", [0.0, 2.0])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("with_alpha", [False, True])
def test_integer_sample_weights_equal_repeated_rows(path, gamma, reduction, with_alpha):
    rng = np.random.default_rng(0)
    n = 7
    logits = torch.as_tensor(rng.normal(scale=2.0, size=(n, 3)))
    target = torch.as_tensor(rng.integers(0, 3, size=n))
    counts = torch.tensor([2, 0, 1, 3, 1, 0, 4])
    alpha = torch.tensor([0.5, 2.0, 1.0], dtype=torch.float64) if with_alpha else None

    x = logits.clone().requires_grad_()
    loss = FocalLoss(gamma=gamma, alpha=alpha, reduction=reduction)(
        x, target, sample_weight=counts
    )

    # Reference: the rows repeated counts[i] times (a zero count drops the
    # row), by plain torch operations; the gather sums the gradients back.
    x_ref = logits.clone().requires_grad_()
    repeat = torch.repeat_interleave(torch.arange(n), counts)
    rows, class_weight = _plain_focal_rows(x_ref[repeat], target[repeat], gamma, alpha)
    if reduction == "none":
        expected = torch.zeros(n, dtype=torch.float64).index_add(0, repeat, rows)
    elif reduction == "sum":
        expected = rows.sum()
    else:
        expected = rows.sum() / class_weight.sum()
    torch.testing.assert_close(loss, expected, rtol=1e-12, atol=1e-14)

    probe = torch.linspace(0.5, 1.5, n, dtype=torch.float64)
    out, ref = (
        (loss, expected) if reduction != "none" else (loss @ probe, expected @ probe)
    )
    (grad,) = torch.autograd.grad(out, x)
    (grad_ref,) = torch.autograd.grad(ref, x_ref)
    torch.testing.assert_close(grad, grad_ref, rtol=1e-12, atol=1e-14)
    assert torch.equal(grad[counts == 0], torch.zeros(2, 3, dtype=torch.float64))


@pytest.mark.parametrize("torch_path", [False, True])
@settings(max_examples=50)
@given(
    data=arrays(
        np.float64,
        st.tuples(st.integers(1, 6), st.just(4)),
        elements=st.floats(-30, 30),
    ),
    seed=st.integers(0, 2**16),
    gamma=st.sampled_from([0.0, 0.5, 2.0, 3.7]),
    reduction=st.sampled_from(["mean", "sum"]),
    with_alpha=st.booleans(),
)
def test_integer_sample_weights_equal_repeated_rows_property(
    torch_path, data, seed, gamma, reduction, with_alpha
):
    rng = np.random.default_rng(seed)
    n = data.shape[0]
    target = torch.as_tensor(rng.integers(0, 4, size=n))
    counts = torch.as_tensor(rng.integers(0, 4, size=n))
    counts[0] += 1  # at least one counted row
    alpha = (
        torch.tensor([0.5, 2.0, 1.0, 3.0], dtype=torch.float64) if with_alpha else None
    )
    patch = _use_compiled_kernels(not torch_path)
    x = torch.as_tensor(data).requires_grad_()
    x_ref = torch.as_tensor(data).requires_grad_()
    repeat = torch.repeat_interleave(torch.arange(n), counts)
    with patch:
        criterion = FocalLoss(gamma=gamma, alpha=alpha, reduction=reduction)
        loss = criterion(x, target, sample_weight=counts)
        expected = criterion(x_ref[repeat], target[repeat])
    torch.testing.assert_close(loss, expected, rtol=1e-12, atol=1e-300)
    (grad,) = torch.autograd.grad(loss, x)
    (grad_ref,) = torch.autograd.grad(expected, x_ref)
    torch.testing.assert_close(grad, grad_ref, rtol=1e-12, atol=1e-300)


def test_unit_sample_weights_change_nothing_and_zero_weights_drop_rows(path):
    x = torch.randn(8, 4, dtype=torch.float64)
    target = torch.tensor([0, 1, 2, 3, 3, 2, 1, -100])
    criterion = FocalLoss(gamma=1.5, alpha=[1.0, 2.0, 0.5, 1.0], label_smoothing=0.1)
    torch.testing.assert_close(
        criterion(x, target, sample_weight=torch.ones(8)), criterion(x, target)
    )
    keep = torch.tensor([True, False, True, True, False, True, True, True])
    torch.testing.assert_close(
        criterion(x, target, sample_weight=keep.double()),
        criterion(x[keep], target[keep]),
    )


def test_sample_weights_with_probability_targets_divide_by_their_sum(path):
    x = torch.randn(5, 3, dtype=torch.float64)
    probs = torch.softmax(torch.randn(5, 3, dtype=torch.float64), dim=1)
    w = torch.tensor([1.0, 0.0, 2.0, 0.5, 1.0], dtype=torch.float64)
    per_sample = FocalLoss(gamma=2.0, reduction="none")(x, probs)
    torch.testing.assert_close(
        FocalLoss(gamma=2.0)(x, probs, sample_weight=w), (w * per_sample).sum() / 4.5
    )


@pytest.mark.parametrize(
    "sample_weight, error, match",
    [
        ([1.0, -1.0, 1.0], ValueError, "sample_weight .* row 1"),
        ([1.0, 1.0, math.nan], ValueError, "sample_weight .* row 2"),
        ([1.0, math.inf, 1.0], ValueError, "sample_weight .* row 1"),
        ([1.0, 1.0], ValueError, "sample_weight must have shape \\(3,\\)"),
        (["a", "b", "c"], TypeError, "sample_weight"),
    ],
)
def test_bad_sample_weight_raises_naming_it(sample_weight, error, match):
    x, target = torch.randn(3, 2), torch.tensor([0, 1, 0])
    with pytest.raises(error, match=match):
        FocalLoss()(x, target, sample_weight=sample_weight)
    with pytest.raises(error, match=match):
        focal_loss_with_logits(x, target, sample_weight=sample_weight)


def test_sample_weight_needs_batched_input():
    with pytest.raises(ValueError, match="batched input"):
        FocalLoss()(torch.randn(3), torch.tensor(1), sample_weight=[1.0])
