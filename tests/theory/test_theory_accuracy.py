"""Accuracy of :mod:`sklearn_focal.theory` against mpmath at 32 digits.

The references below are written from the paper's definitions (eqs. 10, 12
and 13 of Charoenphakdee et al., 2021, and the Lagrange conditions of the
focal-entropy minimum) in plain mpmath arithmetic. They share no code and no
algebraic rewriting with the implementation. Every test prints the largest
error it found, so ``pytest -rA`` shows the figures quoted in the notes.
"""

import functools

import mpmath
import numpy as np
import pytest
from mptestutils import mp_h, mp_phi, mp_psi
from sklearn.metrics import log_loss

from sklearn_focal.theory import (
    focal_entropy,
    focal_loss,
    focal_minimizer,
    h,
    min_focal_entropy,
    phi,
    psi,
    tau_oc,
    tau_uc,
)

mp = mpmath.mp
DIGITS = 32


@pytest.fixture(autouse=True)
def _reference_digits():
    # Set per test, not at import: mpmath's precision is global to the worker.
    with mpmath.workdps(DIGITS):
        yield


TINY = 1e-290  # outputs below this are exempt from the relative criterion
GAMMAS = (0.0, 0.01, 0.5, 1.0, 2.0, 5.0, 20.0, 50.0)


# --------------------------------------------------------------------------
# mpmath references, straight from the definitions
# --------------------------------------------------------------------------


def _mp_log_h_and_slope(t, gamma):
    """log h(q) and d log h / dt at q = 1/(1 + e^-t), from eq. 13."""
    g = mpmath.mpf(gamma)
    q = 1 / (1 + mpmath.exp(-t))
    one_minus = 1 / (1 + mpmath.exp(t))
    log_q = -mpmath.log1p(mpmath.exp(-t))  # q may round to 1 at 32 digits
    core = one_minus - g * q * log_q  # phi(q) / (1 - q)^(gamma - 1)
    log_h = log_q - (g - 1) * mpmath.log(one_minus) - mpmath.log(core)
    d_log_h_dq = 1 / q + (g - 1) / one_minus + (1 + g + g * log_q) / core
    return log_h, d_log_h_dq * q * one_minus, q


def _mp_h_inverse(level, gamma, start):
    """The logit t with log h(sigmoid(t)) = level: safeguarded Newton.

    Below level -150, h(q) = q (1 + O(gamma q log q)) equals q to far more
    than the working precision, so q = e^level directly.
    """
    if level < -150:
        q = mpmath.exp(level)
        return mpmath.log(q / (1 - q)), 1 - q, q
    low, high = mpmath.mpf(-5000), mpmath.mpf(5000)
    t = mpmath.mpf(start)
    tolerance = mpmath.mpf(10) ** (-mp.dps // 2 - 3)  # Newton: one more step
    for _ in range(400):
        value, slope, q = _mp_log_h_and_slope(t, gamma)
        residual = value - level
        if residual > 0:
            high = t
        else:
            low = t
        step = max(min(residual / slope, 20), -20)
        candidate = t - step
        if not low < candidate < high:
            candidate = (low + high) / 2
        if abs(candidate - t) <= tolerance * (1 + abs(t)):
            return _mp_newton_step(candidate, level, gamma)
        t = candidate
    raise RuntimeError("mpmath h inverse did not converge")


def _mp_newton_step(t, level, gamma):
    value, slope, _ = _mp_log_h_and_slope(t, gamma)
    t = t - (value - level) / slope
    _, slope, q = _mp_log_h_and_slope(t, gamma)
    return t, slope, q


@functools.cache
def mp_focal_minimizer(p, gamma, alpha=None):
    """Solve h(q_i) = alpha_i p_i / lambda, sum(q) = 1 at 32 digits.

    ``p`` and ``alpha`` are tuples of floats; returns the mpf entries of q* and
    lambda. The unknown is t0, the logit of q_j for the class j of largest
    target alpha_j p_j: then lambda = alpha_j p_j / h(q_j), every other q_i
    solves h(q_i) = alpha_i p_i / lambda, and sum(q) is increasing in t0.
    Bisection-safeguarded Newton outside, safeguarded Newton per class inside.
    """
    weights = [1.0] * len(p) if alpha is None else list(alpha)
    targets = [mpmath.mpf(v) * mpmath.mpf(a) for v, a in zip(p, weights, strict=True)]
    active = [i for i, target in enumerate(targets) if target > 0]
    if len(active) == 1 or gamma == 0:
        total = mpmath.fsum(targets)
        return [target / total for target in targets], total
    top = max(active, key=targets.__getitem__)
    others = [i for i in active if i != top]
    log_ratio = {i: mpmath.log(targets[i] / targets[top]) for i in others}
    starts = {i: min(log_ratio[i], 0) for i in others}
    tolerance = mpmath.mpf(10) ** (-mp.dps + 5)

    def excess(t0):
        log_h0, slope0, q0 = _mp_log_h_and_slope(t0, gamma)
        # sum(q) - 1 = sum of the others - (1 - q_top): q_top may round to 1.
        one_minus0 = 1 / (1 + mpmath.exp(t0))
        total, derivative = -one_minus0, q0 * one_minus0
        scale = one_minus0  # the residual is relative to 1 - q_top
        solution = {top: q0}
        for i in others:
            t, slope, q = _mp_h_inverse(log_ratio[i] + log_h0, gamma, starts[i])
            starts[i] = t
            solution[i] = q
            total += q
            derivative += q * (1 - q) * slope0 / slope
        return total, derivative, solution, scale

    # q_top >= 1/K at the optimum (order is preserved), so sum(q) < 1 below.
    low = mpmath.log(mpmath.mpf(1) / (len(p) - 1)) - 1
    high = mpmath.mpf(8)
    while excess(high)[0] < 0:
        low, high = high, 2 * high
    t0 = (low + high) / 2
    for _ in range(300):
        value, derivative, solution, scale = excess(t0)
        if abs(value) < tolerance * scale:
            break
        if value > 0:
            high = t0
        else:
            low = t0
        candidate = t0 - value / derivative
        t0 = candidate if low < candidate < high else (low + high) / 2
    else:
        raise RuntimeError("mpmath focal minimizer did not converge")
    q = [solution.get(i, mpmath.mpf(0)) for i in range(len(p))]
    log_h0, _, _ = _mp_log_h_and_slope(t0, gamma)
    return q, targets[top] / mpmath.exp(log_h0)


def _mp_root(function, low, high):
    return mpmath.findroot(
        function, (mpmath.mpf(low), mpmath.mpf(high)), solver="anderson"
    )


@functools.cache
def mp_tau(gamma):
    """(tau_oc, tau_uc) from Thm 8's definitions: argmax phi and phi = 1.

    For gamma = 0 the limit gamma -> 0 is phi = 1 + gamma g(v) + O(gamma^2),
    so the thresholds of g(v) = d phi / d gamma at gamma = 0 are used.
    """
    if gamma == 0:

        def curve(v):
            return mpmath.log(1 - v) - v * mpmath.log(v) / (1 - v)

        level = 0
    else:

        def curve(v):
            return mp_phi(v, gamma)

        level = 1
    slope = functools.partial(mpmath.diff, curve)
    # Bracket the peak on a grid first, then solve phi'(v) = 0 inside.
    grid = [mpmath.mpf(k) / 2000 for k in range(1, 2000)]
    values = [curve(v) for v in grid]
    peak = max(range(len(grid)), key=values.__getitem__)
    oc = _mp_root(slope, grid[peak - 1], grid[peak + 1])
    crossing = next(k for k in range(peak, len(grid)) if values[k] < level)
    uc = _mp_root(lambda v: curve(v) - level, grid[crossing - 1], grid[crossing])
    return oc, uc


# --------------------------------------------------------------------------
# Hard inputs
# --------------------------------------------------------------------------


def _normalized_tail(row, tail):
    """Put 1 - sum(tail) in ``row[0]`` so the row sums to 1 in float64."""
    row = np.asarray(row, dtype=np.float64)
    row[1:] = tail
    row[0] = 1.0 - np.sum(tail)
    return row


def hard_rows():
    """(name, row) pairs: entries from 1e-300 to 1 - 1e-12, K from 2 to 1000."""
    rng = np.random.default_rng(20210619)
    rows = [
        ("K2_near_one", np.array([1 - 1e-12, 1e-12])),
        ("K2_tiny", np.array([1e-300, 1.0 - 1e-300])),
        ("K2_mid", np.array([0.3, 0.7])),
        ("K2_near_half", np.array([0.5 - 1e-9, 0.5 + 1e-9])),
        ("K3_spread", np.array([0.6, 0.3, 0.1])),
    ]
    for k in (3, 10, 100, 1000):
        tiny = np.logspace(-300, -13, k - 1)
        tiny *= 1e-12 / tiny.sum() if k > 2 else 1.0
        rows.append((f"K{k}_one_near_1", _normalized_tail(np.empty(k), tiny)))
    for k in (10, 100, 1000):
        spread = np.logspace(-300, np.log10(0.5), k - 1)
        spread *= 0.5 / spread.sum()
        rows.append((f"K{k}_span_1e-300_0.5", _normalized_tail(np.empty(k), spread)))
        uniformish = 1.0 + 0.01 * rng.standard_normal(k)
        rows.append((f"K{k}_uniformish", uniformish / uniformish.sum()))
    rows.append(("K10_dirichlet", rng.dirichlet(np.full(10, 0.3))))
    rows.append(("K1000_dirichlet_0.05", rng.dirichlet(np.full(1000, 0.05))))
    return rows


HARD_ROWS = hard_rows()
HARD_IDS = [name for name, _ in HARD_ROWS]
# The mpmath minimizer costs ~K seconds / 1000 per gamma: keep K = 1000 to a
# few gammas and to the two hardest rows.
MINIMIZER_ROWS = [
    (name, row)
    for name, row in HARD_ROWS
    if not name.startswith("K1000") or name in ("K1000_span_1e-300_0.5",)
]


def _relative_error(values, reference):
    """Max relative error over entries whose reference is >= TINY."""
    reference = np.asarray(reference, dtype=object)
    worst = 0.0
    for value, ref in zip(np.ravel(values), np.ravel(reference), strict=True):
        if ref == 0:
            assert value == 0, f"expected exact 0, got {value}"
            continue
        if ref > np.finfo(np.float64).max:
            assert value == np.inf, f"expected overflow to inf, got {value}"
            continue
        if ref < TINY:
            assert abs(value) <= 10 * TINY, f"{value} for reference {ref}"
            continue
        worst = max(worst, float(abs((mpmath.mpf(float(value)) - ref) / ref)))
    return worst


def _report(label, error):
    print(f"[accuracy] {label}: {error:.3e}")


# --------------------------------------------------------------------------
# phi and h
# --------------------------------------------------------------------------

GRID_V = np.concatenate(
    [
        [0.0, 1e-300, 1e-200, 1e-100, 1e-50, 1e-20, 1e-10, 1e-5, 1e-3],
        np.linspace(0.01, 0.99, 25),
        [0.5, 1 - 1e-5, 1 - 1e-9, 1 - 1e-12],
    ]
)


@pytest.mark.parametrize("gamma", GAMMAS)
def test_phi_and_h_match_mpmath(gamma):
    worst_phi = _relative_error(phi(GRID_V, gamma), [mp_phi(v, gamma) for v in GRID_V])
    worst_h = _relative_error(h(GRID_V, gamma), [mp_h(v, gamma) for v in GRID_V])
    _report(f"phi gamma={gamma}", worst_phi)
    _report(f"h gamma={gamma}", worst_h)
    assert worst_phi <= 1e-13
    assert worst_h <= 1e-13


@pytest.mark.parametrize("gamma", [g for g in GAMMAS if g > 0])
def test_phi_and_h_at_the_ends(gamma):
    np.testing.assert_array_equal(phi([0.0, 1.0], gamma), [1.0, 0.0])
    np.testing.assert_array_equal(h([0.0, 1.0], gamma), [0.0, np.inf])


# --------------------------------------------------------------------------
# psi
# --------------------------------------------------------------------------


@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("name, row", HARD_ROWS, ids=HARD_IDS)
def test_psi_matches_mpmath(name, row, gamma):
    reference = mp_psi(row, gamma)
    result = psi(row, gamma)
    worst = _relative_error(result, reference)
    _report(f"psi {name} gamma={gamma}", worst)
    assert worst <= 1e-12
    assert np.all(np.isfinite(result))


@pytest.mark.parametrize("gamma", [0.5, 2.0, 50.0])
def test_psi_batch_equals_rows(gamma):
    # Rows are independent: a batch of hard rows of one K equals row by row.
    rows = np.stack([row for name, row in HARD_ROWS if name.startswith("K10_")])
    batch = psi(rows, gamma)
    for row, result in zip(rows, batch, strict=True):
        np.testing.assert_array_equal(result, psi(row, gamma))


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 20.0])
def test_psi_with_alpha_matches_mpmath(gamma):
    rng = np.random.default_rng(3)
    alpha = rng.uniform(0.05, 3.0, size=10)
    worst = 0.0
    for _name, row in HARD_ROWS:
        if len(row) != 10:
            continue
        reference = mp_psi(row, gamma, alpha)
        worst = max(worst, _relative_error(psi(row, gamma, alpha=alpha), reference))
    _report(f"psi alpha gamma={gamma}", worst)
    assert worst <= 1e-12


# --------------------------------------------------------------------------
# focal_minimizer
# --------------------------------------------------------------------------


def _minimizer_gammas(row):
    if len(row) >= 1000:
        return (2.0,)
    return GAMMAS if len(row) < 100 else (0.5, 2.0, 50.0)


MINIMIZER_CASES = [
    pytest.param(
        row,
        gamma,
        id=f"{name}-{gamma}",
    )
    for name, row in MINIMIZER_ROWS
    for gamma in _minimizer_gammas(row)
]


@pytest.mark.parametrize("row, gamma", MINIMIZER_CASES)
def test_focal_minimizer_matches_mpmath(row, gamma):
    q, lam = focal_minimizer(row, gamma, return_lambda=True)
    reference, reference_lam = mp_focal_minimizer(tuple(row), gamma)
    worst = _relative_error(q, reference)
    round_trip = float(np.max(np.abs(psi(q, gamma) - row)))
    _report(f"focal_minimizer rel gamma={gamma} K={len(row)}", worst)
    _report(f"round trip gamma={gamma} K={len(row)}", round_trip)
    assert worst <= 1e-10
    assert round_trip <= 1e-12
    if reference_lam > 0:
        assert abs(lam - float(reference_lam)) <= 1e-10 * float(reference_lam)
    # The minimum value, against FE at the mpmath minimizer.
    reference_fe = mp_focal_entropy(row, reference, gamma, top_from_others=True)
    value = min_focal_entropy(row, gamma)
    fe_error = (
        float(abs((value - reference_fe) / reference_fe)) if reference_fe else value
    )
    _report(f"min_focal_entropy gamma={gamma} K={len(row)}", fe_error)
    assert fe_error <= 1e-12


@pytest.mark.parametrize("gamma", [0.5, 2.0, 5.0])
def test_focal_minimizer_with_alpha_matches_mpmath(gamma):
    rng = np.random.default_rng(11)
    alpha = rng.uniform(0.05, 3.0, size=10)
    worst = 0.0
    for _name, row in HARD_ROWS:
        if len(row) != 10:
            continue
        q = focal_minimizer(row, gamma, alpha=alpha)
        reference, _ = mp_focal_minimizer(tuple(row), gamma, tuple(alpha))
        worst = max(worst, _relative_error(q, reference))
        np.testing.assert_allclose(psi(q, gamma, alpha=alpha), row, rtol=0, atol=1e-12)
    _report(f"focal_minimizer alpha gamma={gamma}", worst)
    assert worst <= 1e-10


def test_mpmath_minimizer_is_a_minimum():
    # Guard the reference itself: FE at q* is below FE at nearby simplex points.
    p = (0.6, 0.3, 0.1)
    q, _ = mp_focal_minimizer(p, 2.0)

    def fe(point):
        return mpmath.fsum(
            pi * (1 - qi) ** 2 * -mpmath.log(qi)
            for pi, qi in zip(p, point, strict=True)
        )

    best = fe(q)
    for direction in ([1, -1, 0], [0, 1, -1], [1, 0, -1]):
        for step in (1e-6, -1e-6):
            moved = [qi + step * d for qi, d in zip(q, direction, strict=True)]
            assert fe(moved) > best


# --------------------------------------------------------------------------
# Thresholds
# --------------------------------------------------------------------------


@pytest.mark.parametrize("gamma", GAMMAS)
def test_thresholds_match_mpmath(gamma):
    oc, uc = mp_tau(gamma)
    error_oc = abs(tau_oc(gamma) - float(oc))
    error_uc = abs(tau_uc(gamma) - float(uc))
    _report(f"tau_oc gamma={gamma} abs", error_oc)
    _report(f"tau_uc gamma={gamma} abs", error_uc)
    assert error_oc <= 1e-12
    assert error_uc <= 1e-12


def test_thresholds_at_gamma_one_are_closed_form():
    assert abs(tau_oc(1.0) - np.exp(-2)) <= 1e-15
    assert abs(tau_uc(1.0) - np.exp(-1)) <= 1e-15
    assert abs(float(mp_tau(1.0)[0]) - np.exp(-2)) <= 1e-15
    assert abs(float(mp_tau(1.0)[1]) - np.exp(-1)) <= 1e-15


def test_thresholds_accept_arrays():
    gammas = np.array([[0.5, 1.0], [2.0, 5.0]])
    oc, uc = tau_oc(gammas), tau_uc(gammas)
    assert oc.shape == uc.shape == (2, 2)
    for g, a, b in zip(gammas.ravel(), oc.ravel(), uc.ravel(), strict=True):
        assert a == tau_oc(float(g))
        assert b == tau_uc(float(g))


# --------------------------------------------------------------------------
# Focal-entropy and focal loss
# --------------------------------------------------------------------------


def mp_focal_entropy(p, q, gamma, *, top_from_others=False):
    """FE; ``top_from_others`` takes 1 - max q as the sum of the other entries.

    That is exact for a minimizer (sum(q) = 1) whose largest entry rounds to 1
    at the working precision (q = 1 - 1e-300).
    """
    q = [mpmath.mpf(qi) for qi in q]
    top = max(range(len(q)), key=q.__getitem__)
    total = mpmath.mpf(0)
    for i, (pi, qi) in enumerate(zip(p, q, strict=True)):
        if pi == 0:
            continue
        if qi == 0:
            return mpmath.inf
        if top_from_others and i == top:
            complement = mpmath.fsum(q[:i] + q[i + 1 :])
            surprise = -mpmath.log1p(-complement)
        else:
            complement, surprise = 1 - qi, -mpmath.log(qi)
        total += mpmath.mpf(pi) * complement**gamma * surprise
    return total


@pytest.mark.parametrize("gamma", GAMMAS)
def test_focal_entropy_matches_mpmath(gamma):
    rng = np.random.default_rng(5)
    worst = 0.0
    for _name, p in HARD_ROWS:
        q = rng.dirichlet(np.full(len(p), 0.5))
        q = np.where(q == 0, 1e-300, q)
        value = focal_entropy(p, q, gamma)
        reference = mp_focal_entropy(p, q, gamma)
        worst = max(worst, float(abs((value - reference) / reference)))
        bits = focal_entropy(p, q, gamma, base=2)
        assert abs(bits - float(reference / mpmath.log(2))) <= 1e-12 * bits
    _report(f"focal_entropy gamma={gamma}", worst)
    assert worst <= 1e-12


def test_focal_entropy_is_infinite_where_q_misses_p():
    assert focal_entropy([0.5, 0.5], [1.0, 0.0], 2.0) == np.inf
    assert focal_entropy([1.0, 0.0], [1.0, 0.0], 2.0) == 0.0


@pytest.mark.parametrize("k", [2, 5, 100])
def test_focal_loss_gamma_zero_is_log_loss(k):
    rng = np.random.default_rng(k)
    proba = rng.dirichlet(np.ones(k), size=200)
    y = rng.integers(0, k, size=200)
    onehot = np.eye(k)[y]
    losses = focal_loss(proba, onehot, 0.0)
    np.testing.assert_allclose(losses, -np.log(proba[np.arange(200), y]), rtol=1e-14)
    expected = log_loss(y, proba, labels=np.arange(k))
    assert abs(losses.mean() - expected) <= 1e-13 * expected


@pytest.mark.parametrize("gamma", [0.5, 2.0, 50.0])
def test_focal_loss_matches_mpmath(gamma):
    rng = np.random.default_rng(1)
    u = rng.dirichlet(np.full(10, 0.2), size=20)
    u = np.where(u == 0, 1e-300, u)
    v = np.eye(10)[rng.integers(0, 10, size=20)]
    values = focal_loss(u, v, gamma)
    worst = max(
        float(
            abs(
                (value - mp_focal_entropy(vi, ui, gamma))
                / mp_focal_entropy(vi, ui, gamma)
            )
        )
        for value, ui, vi in zip(values, u, v, strict=True)
    )
    _report(f"focal_loss gamma={gamma}", worst)
    assert worst <= 1e-12


# --------------------------------------------------------------------------
# focal_minimizer on large inputs (start from the inverse table)
# --------------------------------------------------------------------------


def _table_rows():
    from sklearn_focal.theory._kernels import TABLE_MIN_ROWS

    return TABLE_MIN_ROWS


@pytest.mark.parametrize("row, gamma", MINIMIZER_CASES)
def test_focal_minimizer_table_start_matches_mpmath(row, gamma):
    # Enough rows for the table start; every copy must match the reference.
    tiled = np.tile(row, (_table_rows(), 1))
    q, lam = focal_minimizer(tiled, gamma, return_lambda=True)
    assert np.array_equal(q, np.broadcast_to(q[0], q.shape))
    reference, reference_lam = mp_focal_minimizer(tuple(row), gamma)
    worst = _relative_error(q[-1], reference)
    round_trip = float(np.max(np.abs(psi(q[-1], gamma) - row)))
    _report(f"focal_minimizer table rel gamma={gamma} K={len(row)}", worst)
    assert worst <= 1e-10
    assert round_trip <= 1e-12
    if reference_lam > 0:
        assert abs(lam[-1] - float(reference_lam)) <= 1e-10 * float(reference_lam)


@pytest.mark.parametrize("gamma", [g for g in GAMMAS if g > 0])
@pytest.mark.parametrize("k", [2, 3, 10, 50])
def test_focal_minimizer_table_start_equals_small_batches(k, gamma):
    # Random rows (spiky Dirichlet, zeros, alpha): the table start and the
    # start q = p of small inputs converge to the same rounding-level answer.
    rng = np.random.default_rng(k)
    n = 2 * _table_rows()
    p = rng.dirichlet(np.full(k, rng.choice([0.02, 0.3, 3.0])), size=n)
    p[rng.random((n, k)) < 0.1] = 0.0
    p[p.sum(axis=1) == 0, 0] = 1.0
    p /= p.sum(axis=1, keepdims=True)
    alpha = rng.uniform(0.1, 3.0, size=k)
    for weights in (None, alpha):
        big = focal_minimizer(p, gamma, alpha=weights)
        small = np.vstack(
            [
                focal_minimizer(p[i : i + 1000], gamma, alpha=weights)
                for i in range(0, n, 1000)
            ]
        )
        assert np.array_equal(big == 0, small == 0)
        positive = small > 0
        worst = float(np.max(np.abs(big - small)[positive] / small[positive]))
        round_trip = float(np.max(np.abs(psi(big, gamma, alpha=weights) - p)))
        _report(f"table vs small gamma={gamma} K={k}", worst)
        assert worst <= 1e-12
        assert round_trip <= 1e-12


@pytest.mark.parametrize("gamma", [1e-19, 1e-10, 1e-3, 1000.0])
def test_focal_minimizer_table_start_extreme_gammas(gamma):
    # Tiny gamma: no table (its slope cancels to 0); huge gamma: coarse table.
    rng = np.random.default_rng(5)
    p = rng.dirichlet(np.full(10, 0.05), size=2 * _table_rows())
    p[0] = [1 - 1e-12] + [1e-12 / 9] * 9
    big = focal_minimizer(p, gamma)
    small = np.vstack(
        [focal_minimizer(p[i : i + 1000], gamma) for i in range(0, len(p), 1000)]
    )
    positive = small > 0
    worst = float(np.max(np.abs(big - small)[positive] / small[positive]))
    _report(f"table vs small gamma={gamma}", worst)
    assert worst <= 1e-12
    assert np.max(np.abs(psi(big, gamma) - p)) <= 1e-12
