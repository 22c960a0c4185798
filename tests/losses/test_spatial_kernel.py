"""The compiled kernel on (N, C, d1, ...) logits in their own layout (#17).

Class indices on segmentation-shaped logits run a kernel that reads the
classes strided and the positions contiguously (no copy to classes-last rows).
Expected values: 60-digit mpmath (``mptestutils.mp_softmax`` and a focal term
written here), ``F.cross_entropy`` for ``gamma = 0``, and the closed form in
float64 autograd.
"""

import math

import mpmath
import numpy as np
import pytest
from mptestutils import HARD_LOGIT_ROWS, mp_softmax

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

from sklearn_focal.losses import FocalLoss, focal_loss_with_logits  # noqa: E402
from sklearn_focal.losses._common import _use_compiled_kernels  # noqa: E402


@pytest.fixture(autouse=True)
def _sixty_digits():
    with mpmath.workdps(60):
        yield


def _mp_focal(row, t, gamma):
    """-(1 - p_t)^gamma log p_t in 60 digits, 1 - p_t summed over the others."""
    p = mp_softmax(row)  # doubles, or mpf kept at full precision
    one_minus = mpmath.fsum(p[j] for j in range(len(p)) if j != t)
    factor = one_minus ** mpmath.mpf(gamma) if gamma != 0 else mpmath.mpf(1)
    return -factor * mpmath.log(p[t])


# Saturated, tied, huge and tiny margins, and a -inf-bound target, as rows.
_ROWS = np.array(
    [
        *HARD_LOGIT_ROWS,
        [90.0, -20.0, 0.0],
        [-110.0, 0.0, 3.0],
        [3.0, -2.0, 0.5],
        [-1.0, 2.5, 2.4],
    ]
)


def _as_positions(rows):
    """(12, 3) rows -> (2, 3, 2, 3) logits: row ``r`` at sample ``r // 6``,
    position ``r % 6`` (positions contiguous, classes strided)."""
    return np.ascontiguousarray(rows.reshape(2, 6, 3).transpose(0, 2, 1)).reshape(
        2, 3, 2, 3
    )


@pytest.mark.parametrize(
    "dtype, rtol, atol", [(np.float64, 1e-12, 1e-300), (np.float32, 3e-7, 1e-44)]
)
@pytest.mark.parametrize("gamma", [0.0, 0.3, 2.0, 5.0])
def test_spatial_loss_and_gradient_match_mpmath(dtype, rtol, atol, gamma):
    # The row kernel's accuracy (test_losses.py) in the (N, C, S) layout.
    rows = _ROWS.astype(dtype)
    labels = np.arange(len(rows)) % 3
    x = torch.tensor(_as_positions(rows), requires_grad=True)
    t = torch.tensor(labels.reshape(2, 2, 3))
    got = focal_loss_with_logits(x, t, gamma=gamma, reduction="none")
    assert type(got.grad_fn).__name__ == "_CpuHardTargetFocalBackward"
    got.sum().backward()
    got_rows = got.detach().numpy().reshape(-1)
    grad_rows = x.grad.numpy().reshape(2, 3, 6).transpose(0, 2, 1).reshape(-1, 3)
    want = [
        float(_mp_focal(r, t_r, gamma)) for r, t_r in zip(rows, labels, strict=True)
    ]
    np.testing.assert_allclose(got_rows, want, rtol=rtol, atol=atol)
    for i, (row, t_r) in enumerate(zip(rows, labels, strict=True)):
        for k in range(3):

            def f(v, row=row, k=k, t_r=t_r):
                r = [mpmath.mpf(float(u)) for u in row]
                r[k] = v
                return _mp_focal(r, t_r, gamma)

            want_grad = float(mpmath.diff(f, mpmath.mpf(float(row[k]))))
            assert grad_rows[i, k] == pytest.approx(want_grad, rel=10 * rtol, abs=atol)


_SHAPES = [
    (3, 5, 7, 11),  # positions fewer than one block
    (2, 4, 300),  # a partial second block
    (3, 3000, 5),  # many classes: the smallest block
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(
    "dtype, shape",
    [(dtype, shape) for dtype in (torch.float32, torch.float64) for shape in _SHAPES]
    # 2 x 40 x 2257 = 180560 entries run on numba's threads (float32 only: each
    # parallel kernel costs seconds to compile).
    + [(torch.float32, (2, 40, 61, 37))],
)
def test_spatial_kernel_matches_cross_entropy_and_the_closed_form(
    dtype, reduction, shape
):
    gen = torch.Generator().manual_seed(sum(shape))
    x = (4 * torch.randn(shape, generator=gen, dtype=dtype)).requires_grad_()
    n_classes = shape[1]
    t = torch.randint(0, n_classes, shape[:1] + shape[2:], generator=gen)
    t.view(-1)[::5] = 1  # ignore_index, itself a class index
    weight = torch.rand(n_classes, generator=gen, dtype=dtype) + 0.1
    kwargs = dict(alpha=weight, reduction=reduction, ignore_index=1)
    # float32 cross_entropy rounds in float32 (the kernel computes in
    # float64): it is itself a few ulps of the sums away.
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == torch.float32 else {}

    got = focal_loss_with_logits(x, t, 0.0, **kwargs)
    (got_grad,) = torch.autograd.grad(got.sum(), x)
    want = F.cross_entropy(x, t, weight=weight, reduction=reduction, ignore_index=1)
    (want_grad,) = torch.autograd.grad(want.sum(), x)
    torch.testing.assert_close(got, want, **tol)
    torch.testing.assert_close(got_grad, want_grad, **tol)

    got = focal_loss_with_logits(x, t, 2.0, **kwargs)
    (got_grad,) = torch.autograd.grad(got.sum(), x)
    x64 = x.detach().double().requires_grad_()
    valid = t != 1
    log_pt = torch.log_softmax(x64, 1).gather(1, t.unsqueeze(1)).squeeze(1)
    position_weight = weight.double()[t] * valid
    losses = -position_weight * (-torch.expm1(log_pt)) ** 2 * log_pt
    want = {
        "none": losses,
        "sum": losses.sum(),
        "mean": losses.sum() / position_weight.sum(),
    }[reduction]
    (want_grad,) = torch.autograd.grad(want.sum(), x64)
    tol = (
        dict(rtol=2e-6, atol=1e-7)
        if dtype == torch.float32
        else dict(rtol=1e-10, atol=1e-15)
    )
    assert got.shape == want.shape
    torch.testing.assert_close(got.double(), want.detach(), **tol)
    torch.testing.assert_close(got_grad.double(), want_grad, **tol)


def test_ignored_positions_get_zero_loss_and_gradient_whatever_their_logits():
    x = torch.randn(2, 4, 3, 5, dtype=torch.float64)
    x[0, :, 1, 2] = math.nan
    x[1, 2, 0, 0] = math.inf
    x.requires_grad_()
    t = torch.randint(0, 4, (2, 3, 5))
    t[0, 1, 2] = -100
    t[1, 0, 0] = -100
    loss = FocalLoss(gamma=2.0, reduction="none")(x, t)
    loss.sum().backward()
    assert loss[0, 1, 2].item() == 0.0 and loss[1, 0, 0].item() == 0.0
    assert torch.all(x.grad[0, :, 1, 2] == 0) and torch.all(x.grad[1, :, 0, 0] == 0)
    assert torch.isfinite(loss).all() and torch.isfinite(x.grad).all()


def test_spatial_nan_logit_gives_nan_like_cross_entropy():
    x = torch.randn(1, 3, 4)
    x[0, 1, 2] = math.nan
    t = torch.zeros(1, 4, dtype=torch.long)
    got = focal_loss_with_logits(x, t, gamma=2.0, reduction="none")
    want = F.cross_entropy(x, t, reduction="none")
    assert torch.equal(torch.isnan(got), torch.isnan(want))
    assert torch.isnan(got[0, 2])


def test_spatial_out_of_range_target_names_its_flat_index():
    x = torch.randn(2, 4, 3, 5)
    t = torch.zeros(2, 3, 5, dtype=torch.long)
    t[1, 2, 3] = 4  # flat index 15 + 10 + 3 = 28
    with pytest.raises(IndexError, match=r"Target 4 is out of bounds .*row 28"):
        FocalLoss()(x, t)
    with _use_compiled_kernels(False):
        with pytest.raises(IndexError, match=r"Target 4 is out of bounds .*row 28"):
            FocalLoss()(x, t)


def test_non_contiguous_spatial_logits():
    gen = torch.Generator().manual_seed(1)
    base = torch.randn(2, 6, 5, 4, generator=gen)
    x = base.transpose(2, 3).requires_grad_()  # (2, 6, 4, 5), not contiguous
    t = torch.randint(0, 6, (2, 4, 5), generator=gen)
    got = focal_loss_with_logits(x, t, gamma=0.0)
    (got_grad,) = torch.autograd.grad(got, x)
    want = F.cross_entropy(x, t)
    (want_grad,) = torch.autograd.grad(want, x)
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(got_grad, want_grad)


def test_reduced_spatial_backward_hands_over_the_stored_gradient():
    x = torch.randn(2, 5, 8, 8, dtype=torch.float64, requires_grad=True)
    t = torch.randint(0, 5, (2, 8, 8))
    loss = FocalLoss(gamma=0.5)(x, t)
    stored = loss.grad_fn.saved_tensors[0].data_ptr()
    loss.backward()
    assert x.grad.data_ptr() == stored  # no new buffer
    assert x.grad.shape == x.shape
