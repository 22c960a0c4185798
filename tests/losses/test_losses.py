"""Tests for sklearn_focal.losses: exactness, CE equivalence, stability."""

import mpmath
import numpy as np
import pytest
from mptestutils import HARD_LOGIT_ROWS, mp_softmax

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402

from sklearn_focal.losses import (  # noqa: E402
    BinaryFocalLoss,
    FocalLoss,
    binary_focal_loss_with_logits,
    focal_loss_with_logits,
)
from sklearn_focal.losses._common import _use_compiled_kernels  # noqa: E402

GAMMAS = [0.0, 0.1, 0.5, 1.0, 2.0, 5.0, 50.0]


@pytest.fixture(params=["compiled", "torch"])
def path(request):
    """Run a test on the compiled CPU kernels and on the torch path (the one
    every non-CPU tensor takes)."""
    with _use_compiled_kernels(request.param == "compiled"):
        yield request.param


@pytest.fixture(autouse=True)
def _sixty_digits():
    # Set per test: other modules' tests may change mpmath's global precision.
    with mpmath.workdps(60):
        yield


# --------------------------------------------------------------------------- #
# independent high-precision references
# --------------------------------------------------------------------------- #
def _mp_focal_row(row, target_probs, gamma, weights=None):
    """-sum_j w_j y_j (1 - p_j)^gamma log p_j in 60-digit arithmetic."""
    p = mp_softmax(row)
    gamma = mpmath.mpf(gamma)
    total = mpmath.mpf(0)
    for j, (pj, yj) in enumerate(zip(p, target_probs, strict=True)):
        if yj == 0:
            continue
        one_minus = mpmath.fsum(p[k] for k in range(len(p)) if k != j)
        factor = one_minus**gamma if gamma != 0 else mpmath.mpf(1)
        wj = 1 if weights is None else weights[j]
        total += (
            -mpmath.mpf(float(wj)) * mpmath.mpf(float(yj)) * factor * mpmath.log(pj)
        )
    return total


def _mp_binary(x, y, gamma, alpha=None, pos_weight=1.0):
    x = x if isinstance(x, mpmath.mpf) else mpmath.mpf(float(x))
    p = 1 / (1 + mpmath.exp(-x))
    q = 1 / (1 + mpmath.exp(x))
    g = mpmath.mpf(gamma)
    pos = -(q**g if gamma else 1) * mpmath.log(p) * mpmath.mpf(pos_weight)
    neg = -(p**g if gamma else 1) * mpmath.log(q)
    a_pos, a_neg = (1, 1) if alpha is None else (alpha, 1 - alpha)
    return a_pos * float(y) * pos + a_neg * (1 - float(y)) * neg


def _hard_rows():
    """Logit rows over hard regions: saturated, tied, huge, tiny margins."""
    rng = np.random.default_rng(0)
    rows = [list(row) for row in HARD_LOGIT_ROWS]
    rows += list(rng.normal(scale=6.0, size=(8, 3)))
    return np.asarray(rows, dtype=np.float64)


# --------------------------------------------------------------------------- #
# accuracy against mpmath
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("gamma", [0.0, 0.3, 1.0, 2.0, 5.0])
@pytest.mark.parametrize("target_index", [0, 1, 2])
def test_hard_target_matches_mpmath(path, gamma, target_index):
    rows = _hard_rows()
    x = torch.tensor(rows)
    t = torch.full((len(rows),), target_index)
    got = focal_loss_with_logits(x, t, gamma=gamma, reduction="none").numpy()
    onehot = np.eye(3)[target_index]
    want = np.array([float(_mp_focal_row(r, onehot, gamma)) for r in rows])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("gamma", [0.0, 0.3, 2.0, 5.0])
@pytest.mark.parametrize("target_index", [0, 1, 2])
def test_float32_hard_target_matches_mpmath(path, gamma, target_index):
    # The compiled float32 CPU path (its own vectorized exp): loss and
    # gradient to a few float32 ulps of the 60-digit value at the same inputs.
    rows = _hard_rows().astype(np.float32)
    rows = np.vstack([rows, [[90.0, -20.0, 0.0], [-110.0, 0.0, 3.0]]])
    x = torch.tensor(rows, requires_grad=True)
    t = torch.full((len(rows),), target_index)
    got = focal_loss_with_logits(x, t, gamma=gamma, reduction="none")
    got.sum().backward()
    onehot = np.eye(3)[target_index]
    want = [float(_mp_focal_row(r, onehot, gamma)) for r in rows]
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=3e-7, atol=1e-44)
    for i, row in enumerate(rows):
        for k in range(3):

            def f(v, row=row, k=k):
                r = [mpmath.mpf(float(u)) for u in row]
                r[k] = v
                return _mp_focal_row(r, onehot, gamma)

            want_grad = float(mpmath.diff(f, mpmath.mpf(float(row[k]))))
            assert x.grad[i, k].item() == pytest.approx(want_grad, rel=1e-6, abs=1e-44)


def test_float32_exp_kernel_matches_mpmath():
    from sklearn_focal.utils._fastmath import exp_nonpositive

    grid = np.concatenate(
        [-np.logspace(-300, np.log10(708.0), 4001), np.linspace(-708.0, 0.0, 4001)]
    )
    got = np.array([exp_nonpositive(d) for d in grid])
    want = np.array([float(mpmath.exp(mpmath.mpf(d))) for d in grid])
    np.testing.assert_allclose(got, want, rtol=2e-11, atol=0)
    assert exp_nonpositive(0.0) == 1.0
    assert np.isnan(exp_nonpositive(np.nan))
    # Below the normal range it stays at exp(-708): 0 once rounded to float32.
    assert np.float32(exp_nonpositive(-np.inf)) == 0.0


def test_float64_exp_kernel_matches_mpmath_to_one_ulp():
    from sklearn_focal.utils._fastmath import exp_nonpositive_accurate

    grid = np.concatenate(
        [-np.logspace(-300, np.log10(760.0), 2001), np.linspace(-760.0, 0.0, 2001)]
    )
    got = np.array([exp_nonpositive_accurate(d) for d in grid])
    want = np.array([float(mpmath.exp(mpmath.mpf(d))) for d in grid])
    normal = want >= np.finfo(float).tiny
    assert np.all(np.abs(got - want)[normal] <= np.spacing(want[normal]))
    # Subnormal results: within one step of the smallest subnormal; 0 below.
    assert np.all(np.abs(got - want)[~normal] <= 2.0**-1074)
    assert exp_nonpositive_accurate(-746.0) == 0.0
    assert exp_nonpositive_accurate(-np.inf) == 0.0
    assert exp_nonpositive_accurate(0.0) == 1.0
    assert np.isnan(exp_nonpositive_accurate(np.nan))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(
    "shape, label_smoothing", [((6, 4), 0.0), ((6, 4), 0.1), ((3, 4, 2), 0.0)]
)
def test_all_ignored_mean_gives_nan_loss_and_zero_gradient_like_cross_entropy(
    path, dtype, shape, label_smoothing
):
    x = torch.randn(shape, dtype=dtype, requires_grad=True)
    t = torch.full(shape[:1] + shape[2:], -100)
    loss = focal_loss_with_logits(x, t, gamma=2.0, label_smoothing=label_smoothing)
    loss.backward()
    want = F.cross_entropy(x, t, label_smoothing=label_smoothing)
    (want_grad,) = torch.autograd.grad(want, x)
    assert torch.isnan(loss) and torch.isnan(want)
    torch.testing.assert_close(x.grad, want_grad, rtol=0, atol=0)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_soft_target_matches_mpmath(path, gamma):
    rows = _hard_rows()
    rng = np.random.default_rng(1)
    targets = rng.dirichlet(np.ones(3), size=len(rows))
    weights = np.array([0.5, 2.0, 1.0])
    got = focal_loss_with_logits(
        torch.tensor(rows),
        torch.tensor(targets),
        gamma=gamma,
        alpha=weights,
        reduction="none",
    ).numpy()
    want = [
        float(_mp_focal_row(r, y, gamma, weights))
        for r, y in zip(rows, targets, strict=True)
    ]
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-300)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("soft", [False, True])
def test_gradient_matches_mpmath_derivative(path, gamma, soft):
    rows = _hard_rows()[[0, 1, 4, 5, 7, 9, 12]]
    rng = np.random.default_rng(2)
    targets = rng.dirichlet(np.ones(3), size=len(rows)) if soft else np.eye(3)[[1] * 7]
    x = torch.tensor(rows, requires_grad=True)
    t = torch.tensor(targets) if soft else torch.ones(len(rows), dtype=torch.long)
    focal_loss_with_logits(x, t, gamma=gamma, reduction="sum").backward()
    for i, row in enumerate(rows):
        for k in range(3):

            def f(v, i=i, k=k, row=row):
                r = list(row)
                r[k] = v
                return _mp_focal_row(r, targets[i], gamma)

            want = float(mpmath.diff(f, mpmath.mpf(float(row[k]))))
            assert x.grad[i, k].item() == pytest.approx(want, rel=1e-8, abs=1e-12)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("alpha", [None, 0.25])
def test_binary_matches_mpmath(path, gamma, alpha):
    x = np.array([-700.0, -40.0, -3.0, -1e-6, 0.0, 2.0, 36.0, 700.0])
    y = np.array([1.0, 0.0, 0.3, 1.0, 0.5, 0.0, 1.0, 0.0])
    got = binary_focal_loss_with_logits(
        torch.tensor(x), torch.tensor(y), gamma=gamma, alpha=alpha, reduction="none"
    ).numpy()
    want = [float(_mp_binary(a, b, gamma, alpha)) for a, b in zip(x, y, strict=True)]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("gamma", [0.0, 0.3, 2.0, 5.0])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_binary_loss_and_gradient_match_mpmath(path, gamma, dtype):
    # The compiled CPU path, float32 (its own exp and log1p) and float64.
    x = np.array([-90.0, -40.0, -3.0, -0.25, 0.0, 0.5, 2.0, 17.0, 36.0, 90.0])
    y = np.array([1.0, 0.0, 0.3, 1.0, 0.5, 0.0, 1.0, 0.0, 1.0, 0.0])
    logits = torch.tensor(x, dtype=dtype, requires_grad=True)
    got = binary_focal_loss_with_logits(
        logits,
        torch.tensor(y, dtype=dtype),
        gamma=gamma,
        alpha=0.25,
        pos_weight=2.0,
        reduction="none",
    )
    got.sum().backward()
    values = logits.detach().double().numpy()  # the inputs as rounded
    want = [
        float(_mp_binary(a, b, gamma, 0.25, 2.0))
        for a, b in zip(values, y, strict=True)
    ]
    want_grad = [
        float(
            mpmath.diff(
                lambda v, b=b: _mp_binary(v, b, gamma, 0.25, 2.0), mpmath.mpf(a)
            )
        )
        for a, b in zip(values, y, strict=True)
    ]
    if dtype == torch.float32 and path == "torch":
        # float32 arithmetic: exp(gamma log(1 - p)) carries the rounding of
        # its argument, gamma |log(1 - p)| ~ 10 here.
        loss_tol, grad_tol = dict(rtol=2e-6, atol=1e-44), dict(rtol=2e-6, atol=1e-44)
    elif dtype == torch.float32:
        loss_tol, grad_tol = dict(rtol=3e-7, atol=1e-44), dict(rtol=1e-6, atol=1e-44)
    else:
        loss_tol, grad_tol = dict(rtol=1e-12, atol=0), dict(rtol=1e-10, atol=0)
    np.testing.assert_allclose(got.detach().double().numpy(), want, **loss_tol)
    np.testing.assert_allclose(logits.grad.double().numpy(), want_grad, **grad_tol)


def test_float32_log1p_kernel_matches_mpmath():
    from sklearn_focal.utils._fastmath import log1p_unit

    grid = np.concatenate([[0.0], np.logspace(-300, 0, 3001), np.linspace(0, 1, 2001)])
    got = np.array([log1p_unit(e) for e in grid])
    want = np.array([float(mpmath.log1p(mpmath.mpf(e))) for e in grid])
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)


@pytest.mark.parametrize("n", [50, 70000])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("per_label", [False, True])
def test_binary_cpu_kernel_matches_the_torch_path(n, dtype, reduction, per_label):
    # 70000 elements run on numba's threads, 50 on one. A target that needs
    # a gradient takes the torch path: the two must agree.
    gen = torch.Generator().manual_seed(n)
    x = (4 * torch.randn(n // 10, 10, generator=gen, dtype=dtype)).requires_grad_()
    y = torch.rand(n // 10, 10, generator=gen, dtype=dtype)
    pos_weight = torch.linspace(0.5, 3.0, 10, dtype=dtype) if per_label else 1.5
    kwargs = dict(gamma=2.0, alpha=0.3, pos_weight=pos_weight, reduction=reduction)
    got = binary_focal_loss_with_logits(x, y, **kwargs)
    (got_grad,) = torch.autograd.grad(got.sum(), x)
    want = binary_focal_loss_with_logits(x, y.clone().requires_grad_(), **kwargs)
    (want_grad,) = torch.autograd.grad(want.sum(), x)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == torch.float32 else {}
    torch.testing.assert_close(got, want.detach(), **tol)
    torch.testing.assert_close(got_grad, want_grad, **tol)
    bce = F.binary_cross_entropy_with_logits(x, y, reduction=reduction)
    torch.testing.assert_close(
        binary_focal_loss_with_logits(x, y, gamma=0.0, reduction=reduction),
        bce,
        **tol,
    )


# --------------------------------------------------------------------------- #
# gamma = 0 is cross-entropy, with every CrossEntropyLoss option
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("kind", ["index", "index_spatial", "index_ignore", "probs"])
def test_gamma_zero_equals_cross_entropy(
    path, dtype, reduction, weighted, label_smoothing, kind
):
    gen = torch.Generator().manual_seed(0)
    shape = (7, 5, 3, 2) if kind == "index_spatial" else (11, 5)
    x = (3 * torch.randn(shape, generator=gen, dtype=dtype)).requires_grad_()
    batch_shape = (shape[0],) + shape[2:]
    if kind == "probs":
        target = torch.softmax(torch.randn(shape, generator=gen, dtype=dtype), 1)
    else:
        target = torch.randint(0, 5, batch_shape, generator=gen)
        if kind == "index_ignore":
            target[::3] = -7
    weight = torch.rand(5, generator=gen, dtype=dtype) + 0.1 if weighted else None
    kwargs = dict(reduction=reduction, label_smoothing=label_smoothing)
    if kind == "index_ignore":
        kwargs["ignore_index"] = -7
    want = F.cross_entropy(x, target, weight=weight, **kwargs)
    (g_want,) = torch.autograd.grad(want.sum(), x)
    got = FocalLoss(gamma=0.0, alpha=weight, **kwargs)(x, target)
    (g_got,) = torch.autograd.grad(got.sum(), x)
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(g_got, g_want, rtol=1e-6, atol=1e-6)


def test_gamma_zero_unbatched_and_all_ignored_match_cross_entropy(path):
    x = torch.tensor([2.0, -1.0, 0.5])
    t = torch.tensor(2)
    torch.testing.assert_close(focal_loss_with_logits(x, t, 0.0), F.cross_entropy(x, t))
    xs = torch.randn(4, 3)
    ts = torch.full((4,), -100)
    assert torch.isnan(F.cross_entropy(xs, ts))
    assert torch.isnan(focal_loss_with_logits(xs, ts, 2.0))
    one_class = torch.randn(4, 1)
    zeros = torch.zeros(4, dtype=torch.long)
    assert focal_loss_with_logits(one_class, zeros, 2.0).item() == 0.0


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_gamma_zero_equals_bce_with_pos_weight(path, reduction):
    gen = torch.Generator().manual_seed(3)
    x = 4 * torch.randn(9, 4, generator=gen, dtype=torch.float64)
    y = (torch.rand(9, 4, generator=gen, dtype=torch.float64) > 0.5).double()
    pos_weight = torch.tensor([1.0, 3.0, 0.5, 2.0], dtype=torch.float64)
    want = F.binary_cross_entropy_with_logits(
        x, y, pos_weight=pos_weight, reduction=reduction
    )
    got = BinaryFocalLoss(gamma=0.0, pos_weight=pos_weight, reduction=reduction)(x, y)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


def test_alpha_weighted_mean_uses_cross_entropy_denominator(path):
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(10, 3, generator=gen, dtype=torch.float64)
    t = torch.randint(0, 3, (10,), generator=gen)
    alpha = torch.tensor([0.2, 1.0, 3.0], dtype=torch.float64)
    per_sample = focal_loss_with_logits(x, t, 2.0, reduction="none")
    want = (alpha[t] * per_sample).sum() / alpha[t].sum()
    torch.testing.assert_close(focal_loss_with_logits(x, t, 2.0, alpha=alpha), want)


# --------------------------------------------------------------------------- #
# stability: saturation, gamma < 1, low precision
# --------------------------------------------------------------------------- #
def _saturated_batch(dtype, n_classes=5):
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(64, n_classes, generator=gen) * 1e4
    x[:8] = 0.0
    x[:8, 0] = 1e4  # target 0 saturated correct: 1 - p_t underflows
    x[8:16] = 0.0
    x[8:16, 1] = 1e4  # target 0 saturated wrong: p_t underflows
    t = torch.randint(0, n_classes, (64,), generator=gen)
    t[:16] = 0
    return x.to(dtype), t


@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize(
    "dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16]
)
def test_finite_loss_and_gradients_at_saturation(path, gamma, soft, dtype):
    x, t = _saturated_batch(dtype)
    x.requires_grad_()
    target = F.one_hot(t, 5).to(dtype) * 0.9 + 0.02 if soft else t
    loss = focal_loss_with_logits(x, target, gamma=gamma, label_smoothing=0.1)
    loss.backward()
    assert torch.isfinite(loss) and loss.dtype in (torch.float32, torch.float64)
    assert torch.isfinite(x.grad).all() and x.grad.dtype == dtype


@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("autocast_dtype", [torch.float16, torch.bfloat16])
def test_finite_under_autocast(path, gamma, autocast_dtype):
    x, t = _saturated_batch(torch.float32)
    layer = torch.nn.Linear(5, 5)
    with torch.no_grad():
        layer.weight.copy_(torch.eye(5))
        layer.bias.zero_()
    y = (torch.rand(64, 5) > 0.5).float()
    with torch.autocast("cpu", dtype=autocast_dtype):
        logits = layer(x / 1e3) * 1e3
        assert logits.dtype == autocast_dtype
        losses = [
            FocalLoss(gamma=gamma)(logits, t),
            BinaryFocalLoss(gamma=gamma, alpha=0.25)(logits, y),
        ]
    for loss in losses:
        assert loss.dtype == torch.float32 and torch.isfinite(loss)
        layer.zero_grad()
        loss.backward(retain_graph=True)
        assert torch.isfinite(layer.weight.grad).all()


@pytest.mark.parametrize("gamma", GAMMAS)
def test_binary_finite_at_saturation(path, gamma):
    x = torch.tensor([-1e4, -100.0, 0.0, 100.0, 1e4] * 2, requires_grad=True)
    y = torch.tensor([1.0, 1.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0, 1.0])
    loss = binary_focal_loss_with_logits(x, y, gamma=gamma, pos_weight=2.0)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(x.grad).all()


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize(
    "case", ["index", "ignore_weight", "smooth", "probs", "binary"]
)
def test_gradcheck_float64(path, gamma, case):
    gen = torch.Generator().manual_seed(6)
    x = (2 * torch.randn(6, 4, generator=gen, dtype=torch.float64)).requires_grad_()
    t = torch.tensor([0, 1, 2, 3, -100, 1])
    alpha = torch.tensor([0.5, 1.0, 2.0, 1.5], dtype=torch.float64)
    probs = torch.softmax(torch.randn(6, 4, generator=gen, dtype=torch.float64), 1)

    def fn(inp):
        if case == "index":
            return focal_loss_with_logits(inp, t.clamp(min=0), gamma, reduction="none")
        if case == "ignore_weight":
            return focal_loss_with_logits(inp, t, gamma, alpha=alpha)
        if case == "smooth":
            return focal_loss_with_logits(
                inp, t, gamma, alpha=alpha, label_smoothing=0.3
            )
        if case == "probs":
            return focal_loss_with_logits(inp, probs, gamma, alpha=alpha)
        return binary_focal_loss_with_logits(inp, probs, gamma, alpha=0.3)

    assert torch.autograd.gradcheck(fn, (x,))


# --------------------------------------------------------------------------- #
# properties
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("compiled", [True, False])  # hypothesis: no fixture
@given(
    logits=arrays(
        np.float64, (4, 3), elements=st.floats(-50, 50, allow_subnormal=False)
    ),
    target=st.lists(st.integers(0, 2), min_size=4, max_size=4),
    gamma=st.floats(0.01, 10.0),
)
def test_focal_between_zero_and_cross_entropy_and_decreasing_in_gamma(
    compiled, logits, target, gamma
):
    # gamma=0 is cross-entropy (checked against torch above); torch's own
    # log_softmax rounds -log p_t near p_t = 1, so compare with our gamma=0.
    x = torch.tensor(logits)
    t = torch.tensor(target)
    with _use_compiled_kernels(compiled):
        ce = focal_loss_with_logits(x, t, 0.0, reduction="none")
        low = focal_loss_with_logits(x, t, gamma, reduction="none")
        high = focal_loss_with_logits(x, t, gamma + 1.0, reduction="none")
    torch.testing.assert_close(ce, F.cross_entropy(x, t, reduction="none"))
    assert (low >= 0).all() and (low <= ce * (1 + 1e-12)).all()
    assert (high <= low * (1 + 1e-12)).all()


def test_agrees_with_kornia_where_kornia_is_stable(path):
    kornia = pytest.importorskip("kornia")
    gen = torch.Generator().manual_seed(7)
    x = 2 * torch.randn(32, 6, generator=gen, dtype=torch.float64)
    t = torch.randint(0, 6, (32,), generator=gen)
    want = kornia.losses.focal_loss(x, t, alpha=None, gamma=2.0, reduction="none")
    got = focal_loss_with_logits(x, t, gamma=2.0, reduction="none")
    want = want.sum(1)
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------- #
# modules and validation
# --------------------------------------------------------------------------- #
def test_alpha_is_a_buffer_that_moves_with_the_module():
    criterion = FocalLoss(alpha=[1.0, 2.0, 3.0]).to(torch.float64)
    assert criterion.alpha.dtype == torch.float64
    assert "alpha" in criterion.state_dict()
    assert "gamma=2.0" in repr(criterion)
    x = torch.randn(4, 3, dtype=torch.float64)
    assert criterion(x, torch.tensor([0, 1, 2, 0])).dtype == torch.float64


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(gamma=-1.0), ValueError, "gamma"),
        (dict(gamma=float("nan")), ValueError, "gamma"),
        (dict(gamma="2"), TypeError, "gamma"),
        (dict(reduction="avg"), ValueError, "reduction"),
        (dict(label_smoothing=1.5), ValueError, "label_smoothing"),
        (dict(alpha=[1.0, 2.0]), ValueError, "alpha"),
        (dict(alpha=[[1.0, 2.0, 3.0]]), ValueError, "alpha"),
        (dict(alpha=[1.0, -2.0, 3.0]), ValueError, "alpha"),
    ],
)
def test_bad_parameters_raise(path, kwargs, error, match):
    x = torch.randn(4, 3)
    with pytest.raises(error, match=match):
        focal_loss_with_logits(x, torch.tensor([0, 1, 2, 0]), **kwargs)


def test_bad_targets_raise(path):
    x = torch.randn(4, 3)
    with pytest.raises(ValueError, match="shape"):
        focal_loss_with_logits(x, torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="shape of input"):
        focal_loss_with_logits(x, torch.rand(4, 2))
    with pytest.raises(TypeError, match="class indices"):
        focal_loss_with_logits(x, torch.tensor([True, False, True, True]))
    with pytest.raises(TypeError, match="floating-point"):
        focal_loss_with_logits(
            torch.ones(4, 3, dtype=torch.long), torch.zeros(4).long()
        )
    with pytest.raises(ValueError, match="shape"):
        binary_focal_loss_with_logits(torch.randn(4), torch.rand(5))
    with pytest.raises(ValueError, match="alpha"):
        binary_focal_loss_with_logits(torch.randn(4), torch.rand(4), alpha=1.5)


def test_losses_module_is_not_imported_by_the_package():
    import subprocess
    import sys

    code = (
        "import sys, sklearn_focal; "
        "assert 'torch' not in sys.modules; "
        "assert 'sklearn_focal.losses' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- #
# the compiled CPU kernel: serial (small) and parallel (>= 65536 entries)
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("n_rows", [64, 2000])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cpu_kernel_matches_references_serial_and_parallel(
    path, n_rows, dtype, reduction
):
    # 2000 x 40 = 80000 entries run on numba's threads, 64 x 40 on one.
    gen = torch.Generator().manual_seed(n_rows)
    x = (4 * torch.randn(n_rows, 40, generator=gen, dtype=dtype)).requires_grad_()
    t = torch.randint(0, 40, (n_rows,), generator=gen)
    t[::7] = -100
    weight = torch.rand(40, generator=gen, dtype=dtype) + 0.1
    tol = dict(rtol=2e-6, atol=1e-7) if dtype == torch.float32 else {}

    # gamma = 0: cross-entropy, weights and ignored rows included.
    got = focal_loss_with_logits(x, t, 0.0, alpha=weight, reduction=reduction)
    (got_grad,) = torch.autograd.grad(got.sum(), x)
    want = F.cross_entropy(x, t, weight=weight, reduction=reduction)
    (want_grad,) = torch.autograd.grad(want.sum(), x)
    torch.testing.assert_close(got, want, **tol)
    torch.testing.assert_close(got_grad, want_grad, **tol)

    # gamma = 2 against the closed form in float64 autograd (moderate logits).
    got = focal_loss_with_logits(x, t, 2.0, alpha=weight, reduction=reduction)
    (got_grad,) = torch.autograd.grad(got.sum(), x)
    x64 = x.detach().double().requires_grad_()
    valid = t != -100
    labels = torch.where(valid, t, 0)
    log_p = torch.log_softmax(x64, 1).gather(1, labels[:, None])[:, 0]
    row_weight = weight.double()[labels] * valid
    rows = -row_weight * (-torch.expm1(log_p)) ** 2 * log_p
    want = {"none": rows, "sum": rows.sum(), "mean": rows.sum() / row_weight.sum()}[
        reduction
    ]
    (want_grad,) = torch.autograd.grad(want.sum(), x64)
    if dtype == torch.float64:
        tol = dict(rtol=1e-10, atol=1e-15)
    torch.testing.assert_close(got.double(), want.detach(), **tol)
    torch.testing.assert_close(got_grad.double(), want_grad, **tol)


@pytest.mark.parametrize("n_rows", [8, 2000])
@pytest.mark.parametrize("bad", [40, -3])
def test_out_of_range_target_raises_naming_the_row(path, n_rows, bad):
    x = torch.randn(n_rows, 40)
    t = torch.zeros(n_rows, dtype=torch.long)
    t[5] = bad
    with pytest.raises(IndexError, match=rf"Target {bad} is out of bounds .*row 5"):
        FocalLoss()(x, t)


def test_float16_cpu_logits_get_float16_gradients_from_the_kernel(path):
    x = (3 * torch.randn(32, 6)).half().requires_grad_()
    t = torch.randint(0, 6, (32,))
    loss = FocalLoss(gamma=2.0)(x, t)
    loss.backward()
    want = FocalLoss(gamma=2.0)(x.detach().float(), t)
    assert loss.dtype == torch.float32 and x.grad.dtype == torch.float16
    torch.testing.assert_close(loss, want)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_float32_soft_target_matches_mpmath(path, gamma):
    rows = np.vstack([_hard_rows(), [[90.0, -20.0, 0.0], [-110.0, 0.0, 3.0]]])
    rows = rows.astype(np.float32)
    rng = np.random.default_rng(5)
    targets = rng.dirichlet(np.ones(3), size=len(rows)).astype(np.float32)
    weights = np.array([0.5, 2.0, 1.0])
    x = torch.tensor(rows, requires_grad=True)
    got = focal_loss_with_logits(
        x, torch.tensor(targets), gamma=gamma, alpha=weights, reduction="none"
    )
    got.sum().backward()
    targets64 = targets.astype(np.float64)
    want = [
        float(_mp_focal_row(r, y, gamma, weights))
        for r, y in zip(rows, targets64, strict=True)
    ]
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-6, atol=1e-44)
    for i, row in enumerate(rows):
        for k in range(3):

            def f(v, row=row, k=k, y=targets64[i]):
                r = [mpmath.mpf(float(u)) for u in row]
                r[k] = v
                return _mp_focal_row(r, y, gamma, weights)

            want_grad = float(mpmath.diff(f, mpmath.mpf(float(row[k]))))
            assert x.grad[i, k].item() == pytest.approx(want_grad, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("n_rows", [64, 2000])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_soft_target_cpu_kernel_matches_the_torch_path(n_rows, dtype, reduction):
    # 2000 x 40 entries run on numba's threads. A target that needs a gradient
    # takes the torch path; smoothed labels equal their smoothed one-hot rows.
    gen = torch.Generator().manual_seed(n_rows)
    x = (4 * torch.randn(n_rows, 40, generator=gen, dtype=dtype)).requires_grad_()
    probs = torch.softmax(2 * torch.randn(n_rows, 40, generator=gen, dtype=dtype), 1)
    weight = torch.rand(40, generator=gen, dtype=dtype) + 0.1
    kwargs = dict(gamma=2.0, alpha=weight, reduction=reduction, label_smoothing=0.1)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == torch.float32 else {}

    got = focal_loss_with_logits(x, probs, **kwargs)
    (got_grad,) = torch.autograd.grad(got.sum(), x)
    want = focal_loss_with_logits(x, probs.clone().requires_grad_(), **kwargs)
    (want_grad,) = torch.autograd.grad(want.sum(), x)
    torch.testing.assert_close(got, want.detach(), **tol)
    torch.testing.assert_close(got_grad, want_grad, **tol)

    labels = torch.randint(0, 40, (n_rows,), generator=gen)
    labels[::5] = -100
    got = focal_loss_with_logits(x, labels, **{**kwargs, "reduction": "none"})
    (got_grad,) = torch.autograd.grad(got.sum(), x)
    valid = labels != -100
    onehot = F.one_hot(torch.where(valid, labels, 0), 40).to(dtype)
    smoothed = (onehot * 0.9 + 0.1 / 40) * valid[:, None]
    want = focal_loss_with_logits(
        x,
        smoothed.requires_grad_(),
        gamma=2.0,
        alpha=weight,
        reduction="none",
    )
    (want_grad,) = torch.autograd.grad(want.sum(), x)
    torch.testing.assert_close(got, want.detach(), **tol)
    torch.testing.assert_close(got_grad, want_grad, **tol)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(4,), (3, 4, 5, 2)])
def test_unbatched_and_spatial_logits_match_the_closed_form(path, reduction, shape):
    # (C,) and (N, C, d1, ...) logits run through the (M, C) kernel.
    gen = torch.Generator().manual_seed(9)
    x = (3 * torch.randn(shape, generator=gen)).requires_grad_()
    batch_shape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    t = torch.randint(0, 4, batch_shape, generator=gen)
    if t.ndim:
        t.view(-1)[::4] = -100
    weight = torch.tensor([0.5, 1.0, 2.0, 1.5])
    got = focal_loss_with_logits(x, t, 2.0, alpha=weight, reduction=reduction)
    (got_grad,) = torch.autograd.grad(got.sum(), x)

    x64 = x.detach().double().requires_grad_()
    log_p = torch.log_softmax(x64, dim=0 if len(shape) == 1 else 1)
    valid = t != -100
    labels = torch.where(valid, t, 0)
    log_pt = log_p.gather(
        0 if len(shape) == 1 else 1, labels.unsqueeze(0 if len(shape) == 1 else 1)
    ).squeeze(0 if len(shape) == 1 else 1)
    row_weight = weight.double()[labels] * valid
    rows = -row_weight * (-torch.expm1(log_pt)) ** 2 * log_pt
    want = {"none": rows, "sum": rows.sum(), "mean": rows.sum() / row_weight.sum()}[
        reduction
    ]
    (want_grad,) = torch.autograd.grad(want.sum(), x64)
    assert got.shape == want.shape
    torch.testing.assert_close(got.double(), want.detach(), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(got_grad.double(), want_grad, rtol=1e-5, atol=1e-6)


def test_backend_switch_routes_cpu_tensors_and_restores_on_exit():
    x = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    t = torch.tensor([0, 1, 2, 0])
    probs = torch.softmax(torch.randn(4, 3, dtype=torch.float64), 1)

    def backward_names():
        return [
            type(focal_loss_with_logits(x, t).grad_fn).__name__,
            type(focal_loss_with_logits(x, probs).grad_fn).__name__,
            type(binary_focal_loss_with_logits(x, probs).grad_fn).__name__,
        ]

    compiled = [
        "_CpuHardTargetFocalBackward",
        "_CpuSoftTargetFocalBackward",
        "_CpuBinaryFocalBackward",
    ]
    assert backward_names() == compiled
    with pytest.raises(RuntimeError, match="inside"):
        with _use_compiled_kernels(False):
            names = backward_names()
            raise RuntimeError("inside")
    assert names[0] == "_HardTargetFocalBackward"
    assert not set(names) & set(compiled)
    assert backward_names() == compiled  # restored, even after an exception
