"""Tests of sklearn_focal.rate_distortion against the statements of Dytso & Cardone.

References are independent of the code under test: hand-computed values,
brute-force partition enumeration, a bisection focal-entropy minimizer written
here, and mpmath.
"""

import math
import tracemalloc
import warnings

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar
from scipy.stats import binom

from sklearn_focal import rate_distortion as rd
from sklearn_focal.rate_distortion._entropy import _max_gamma_entropy_nats
from sklearn_focal.theory import psi

# --------------------------------------------------------------------------
# Independent references
# --------------------------------------------------------------------------


def _inv_h_reciprocal(t, gamma):
    """v with 1/h(v) = t, by bisection; 1/h(v) = (1-v)^(g-1) ((1-v)/v - g log v)."""
    lo, hi = np.zeros_like(t), np.ones_like(t)
    for _ in range(62):
        mid = 0.5 * (lo + hi)
        with np.errstate(all="ignore"):
            g = (1 - mid) ** (gamma - 1) * ((1 - mid) / mid - gamma * np.log(mid))
        lo, hi = np.where(g > t, mid, lo), np.where(g > t, hi, mid)
    return 0.5 * (lo + hi)


def ref_minimizer(rows, gamma):
    """Row-wise focal-entropy minimizer: p_i = lambda h(q_i), sum q = 1 (bisection)."""
    rows = np.atleast_2d(np.asarray(rows, dtype=float))
    pos = rows > 0
    safe = np.where(pos, rows, 1.0)
    lo, hi = np.full(rows.shape[0], -80.0), np.full(rows.shape[0], 80.0)
    for _ in range(64):
        mid = 0.5 * (lo + hi)
        q = np.where(pos, _inv_h_reciprocal(np.exp(mid)[:, None] / safe, gamma), 0.0)
        over = q.sum(1) > 1
        lo, hi = np.where(over, mid, lo), np.where(over, hi, mid)
    q = np.where(pos, _inv_h_reciprocal(np.exp(lo)[:, None] / safe, gamma), 0.0)
    q = q / q.sum(1, keepdims=True)
    return np.where((pos.sum(1) == 1)[:, None], pos.astype(float), q)


def ref_focal_entropy_bits(p, q, gamma):
    p, q = np.atleast_2d(p), np.atleast_2d(q)
    pos = p > 0
    qs = np.where(pos, q, 0.5)
    return np.where(pos, p * (1 - qs) ** gamma * -np.log2(qs), 0.0).sum(1)


def ref_subset_costs(p, gamma):
    """Cost R(S) minFE(R|S) in bits of every subset S (bit mask) of the alphabet."""
    n = p.size
    masks = np.arange(1 << n)
    rows = np.where(((masks[:, None] >> np.arange(n)) & 1) == 1, p, 0.0)
    mass = rows.sum(1)
    cond = np.where(mass[:, None] > 0, rows / np.where(mass > 0, mass, 1)[:, None], 0)
    cond[0, 0] = 1.0
    q = ref_minimizer(cond, gamma)
    return mass * ref_focal_entropy_bits(cond, q, gamma)


def set_partitions(n, max_blocks):
    """All partitions of range(n) into at most max_blocks blocks (as label lists)."""

    def grow(prefix, n_blocks):
        if len(prefix) == n:
            yield list(prefix)
            return
        for b in range(min(n_blocks + 1, max_blocks)):
            yield from grow(prefix + [b], max(n_blocks, b + 1))

    yield from grow([0], 1)


def brute_force_dstar(p, m, gamma):
    costs = ref_subset_costs(p, gamma)
    best = np.inf
    for labels in set_partitions(p.size, m):
        labels = np.array(labels)
        masks = [int(np.sum(1 << np.flatnonzero(labels == b))) for b in set(labels)]
        best = min(best, sum(costs[s] for s in masks))
    return best


def binomial(k=100, p=0.5):
    pmf = binom.pmf(np.arange(k + 1), k, p)
    return pmf / pmf.sum()


def entropy_bits(p):
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


# --------------------------------------------------------------------------
# Exact optimum
# --------------------------------------------------------------------------

SMALL_CASES = [(n, n) for n in range(3, 8)] + [(5, 1), (6, 1), (8, 0)]


@pytest.mark.parametrize("n, seed", SMALL_CASES)
def test_exact_matches_brute_force_partitions(n, seed):
    gamma = [0.5, 2.0][seed % 2]
    rng = np.random.default_rng(100 * n + seed)
    p = rng.dirichlet(np.full(n, 0.8))
    for m in (2, 3):
        expected = brute_force_dstar(p, m, gamma)
        assert rd.exact_distortion(p, m, gamma) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_exact_code_is_consistent(seed):
    p = np.random.default_rng(seed).dirichlet(np.ones(7))
    code = rd.exact_distortion(p, 3, 1.5, return_code=True)
    assert code.optimal and code.method == "exact" and code.n_cells == 3
    # distortion of the returned code, evaluated directly
    q = code.codebook[code.encoder, np.arange(p.size)]
    direct = float(np.sum(p * (1 - q) ** 1.5 * -np.log2(q)))
    assert direct == pytest.approx(code.distortion, rel=1e-12)
    assert code.distortion == pytest.approx(rd.exact_distortion(p, 3, 1.5), rel=1e-12)
    # each codeword is the focal minimizer of the source restricted to its cell
    for c in range(code.n_cells):
        cell = np.where(code.encoder == c, p, 0.0)
        ref = ref_minimizer(cell / cell.sum(), 1.5)[0]
        np.testing.assert_allclose(code.codebook[c], ref, atol=1e-9)


@pytest.mark.parametrize("gamma", [0.0, 0.3, 1.0, 2.0, 5.0])
def test_uniform_ternary_closed_form(gamma):
    # A cell of two equiprobable symbols has the uniform decoder as optimum.
    expected = (2 / 3) * 0.5**gamma
    assert rd.exact_distortion([1 / 3] * 3, 2, gamma) == pytest.approx(expected)
    assert rd.optimized_code([1 / 3] * 3, 2, gamma).distortion == pytest.approx(
        expected
    )


def test_example1_skewed_ternary():
    """Example 1, R = [2/3, 1/4, 1/12]: d*(2; gamma) and its monotonicity (Fig. 2)."""
    p = np.array([2 / 3, 1 / 4, 1 / 12])
    gammas = np.linspace(0, 4, 5)
    values = np.array([rd.exact_distortion(p, 2, g) for g in gammas])
    # {a}, {b, c} is optimal: R({b,c}) = 1/3, conditional pmf (3/4, 1/4).
    for g, v in zip(gammas, values, strict=True):
        q = ref_minimizer([0.75, 0.25], g)
        assert v == pytest.approx(ref_focal_entropy_bits([0.75, 0.25], q, g)[0] / 3)
    assert np.all(np.diff(values) <= 1e-12)
    uniform = np.array([rd.exact_distortion([1 / 3] * 3, 2, g) for g in gammas])
    assert np.all(np.diff(uniform) < 0)
    assert np.all(values < uniform)


@pytest.mark.parametrize("n, m", [(1, 1), (3, 3), (4, 7), (5, 5)])
def test_zero_distortion_when_alphabet_fits(n, m):
    p = np.random.default_rng(n).dirichlet(np.ones(n))
    assert rd.exact_distortion(p, m, 1.0) == 0.0
    code = rd.optimized_code(p, m, 1.0)
    assert code.distortion == 0.0 and code.optimal
    np.testing.assert_array_equal(code.codebook[code.encoder, np.arange(n)], 1.0)
    assert rd.achievability_bounds(p, m, 1.0)["eq28"] == 0.0


def test_exact_refuses_large_alphabets_with_pointer():
    p = np.full(rd.EXACT_MAX_SUPPORT + 1, 1 / (rd.EXACT_MAX_SUPPORT + 1))
    with pytest.raises(ValueError, match="optimized_code"):
        rd.exact_distortion(p, 3, 1.0)
    # zero-probability symbols do not count toward the limit
    padded = np.r_[np.full(4, 0.25), np.zeros(rd.EXACT_MAX_SUPPORT)]
    assert rd.exact_distortion(padded, 2, 1.0) == pytest.approx(0.5 * 0.5 * 1.0 * 2)


def test_exact_twelve_symbols_three_cells_is_fast():
    import time

    p = np.random.default_rng(0).dirichlet(np.ones(12))
    rd.exact_distortion(p[:4] / p[:4].sum(), 2, 1.0)  # compile the kernels
    start = time.perf_counter()
    d_star = rd.exact_distortion(p, 3, 1.0)
    assert time.perf_counter() - start < 10
    assert (
        rd.converse_bound(p, 3, 1.0)
        <= d_star
        <= rd.optimized_code(p, 3, 1.0).distortion * (1 + 1e-12)
    )


# --------------------------------------------------------------------------
# Chain of bounds and the optimized code
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("gamma", [0.0, 0.7, 3.0])
def test_converse_exact_optimized_achievability_chain(seed, gamma):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(8, 0.7))
    for m in (2, 3):
        conv = rd.converse_bound(p, m, gamma)
        exact = rd.exact_distortion(p, m, gamma)
        opt = rd.optimized_code(p, m, gamma).distortion
        ach = rd.achievability_bounds(p, m, gamma)
        tol = 1e-12
        assert conv <= exact + tol
        assert exact <= opt + tol
        assert opt <= ach["eq28"] + tol
        assert ach["eq28"] < ach["eq22"] < ach["eq23"]
        # any auxiliary F: d* <= (28) < (22) < (23)
        f = rng.dirichlet(np.ones(8))
        ach_f = rd.achievability_bounds(p, m, gamma, auxiliary=f)
        assert exact <= ach_f["eq28"] + tol
        assert ach_f["eq28"] < ach_f["eq22"] < ach_f["eq23"]


@pytest.mark.parametrize("seed", range(12))
def test_optimized_code_reaches_exact_on_small_alphabets(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 10))
    p = rng.dirichlet(np.full(n, rng.choice([0.3, 1.0, 3.0])))
    for m in (2, 3):
        for gamma in (0.5, 2.0):
            exact = rd.exact_distortion(p, m, gamma)
            code = rd.optimized_code(p, m, gamma)
            assert code.distortion == pytest.approx(exact, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("gamma", [0.1, 1.0, 2.0, 4.0])
def test_optimized_code_beats_eq28_on_binomial(gamma):
    p = binomial(100, 0.5)
    for m in (4, 8) if gamma <= 1 else (4,):
        code = rd.optimized_code(p, m, gamma)
        ach = rd.achievability_bounds(p, m, gamma)
        assert code.distortion <= ach["eq28"]
        assert code.distortion >= rd.converse_bound(p, m, gamma)
        # the reported distortion is the one of the returned code
        q = code.codebook[code.encoder, np.arange(p.size)]
        direct = float(np.sum(p * (1 - q) ** gamma * -np.log2(q)))
        assert direct == pytest.approx(code.distortion, rel=1e-9)
        assert code.codebook.shape == (m, p.size)
        np.testing.assert_allclose(code.codebook.sum(1), 1.0)


def test_optimized_code_memory_is_quadratic_not_cubic_in_the_support():
    """The swap search scored all k**2 / 2 swaps at once: 941 MB for k = 250."""
    p = np.full(150, 1 / 150)
    tracemalloc.start()
    try:
        code = rd.optimized_code(p, 3, 1.0, n_restarts=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20  # about 200 MB before
    # a uniform source: the best 3-cell code has near-equal cells, and its
    # distortion lies between the converse and the code (26)-(28)
    assert np.bincount(code.encoder).max() - np.bincount(code.encoder).min() <= 1
    assert rd.converse_bound(p, 3, 1.0) <= code.distortion
    assert code.distortion <= rd.achievability_bounds(p, 3, 1.0)["eq28"] + 1e-12


def test_greedy_code_uses_optimal_decoders():
    p = binomial(30, 0.3)
    greedy = rd.optimized_code(p, 4, 2.0, max_iter=0)
    assert greedy.method == "greedy" and greedy.n_iter == 0
    assert greedy.distortion <= rd.achievability_bounds(p, 4, 2.0)["eq28"]
    assert rd.optimized_code(p, 4, 2.0).distortion <= greedy.distortion


# --------------------------------------------------------------------------
# Achievability formulas: hand-computed values, masking, broadcasting
# --------------------------------------------------------------------------


def test_achievability_hand_computed():
    # F = R = (1/2, 1/4, 1/4), M = 2: code (26) = {a}, {b, c}.
    b = rd.achievability_bounds([0.5, 0.25, 0.25], 2, 1.0)
    assert b["eq28"] == pytest.approx(2 * 0.25 * 0.5 * 1.0)
    # t = 1 / (M F) = 2 on A = {b, c}: (2/3) log2(3)
    assert b["eq22"] == pytest.approx(0.5 * (2 / 3) * math.log2(3))
    # (1 - M F / 2) (log2(1 / (M F)) + 1) = 0.75 * 2
    assert b["eq23"] == pytest.approx(0.5 * 0.75 * 2)
    nats = rd.achievability_bounds([0.5, 0.25, 0.25], 2, 1.0, base=None)
    assert nats["eq23"] == pytest.approx(0.5 * 0.75 * math.log(4))


def test_achievability_has_no_nan_for_large_m_and_zero_masses():
    p = binomial(100, 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        b = rd.achievability_bounds(
            p, [1, 2, 50, 1000, 10**6], [0.3, 1.7, 2.5, 0.5, 3.3]
        )
    for values in b.values():
        assert np.all(np.isfinite(values)) and np.all(values >= 0)
    assert b["eq28"][-1] == 0.0
    q = np.array([0.5, 0.5, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # F vanishes where R does not: the code never decodes that symbol
        inf = rd.achievability_bounds([0.4, 0.4, 0.2], 2, 1.5, auxiliary=q)
        zero_mass = rd.achievability_bounds([0.5, 0.5, 0.0], 1, 1.5, auxiliary=q)
    assert all(v == np.inf for v in inf.values())
    assert all(np.isfinite(v) for v in zero_mass.values())


def test_bound_functions_broadcast():
    p = binomial(20, 0.3)
    m = np.array([[2], [4], [8]])
    g = np.array([0.5, 1.0])
    conv = rd.converse_bound(p, m, g)
    ach = rd.achievability_bounds(p, m, g)
    assert conv.shape == ach["eq22"].shape == (3, 2)
    for i in range(3):
        for j in range(2):
            assert conv[i, j] == rd.converse_bound(p, int(m[i, 0]), g[j])
            assert (
                ach["eq23"][i, j]
                == rd.achievability_bounds(p, int(m[i, 0]), g[j])["eq23"]
            )


def test_example2_bounds_decrease_with_gamma_and_m():
    """Example 2 (Figs. 3-4): bounds for Binomial(100, p) fall with M and gamma."""
    for p, m_values in ((0.5, [2, 4, 8, 16, 32]), (0.1, [8])):
        pmf = binomial(100, p)
        gammas = np.linspace(0, 4, 9)
        mm, gg = np.meshgrid(m_values, gammas, indexing="ij")
        conv = rd.converse_bound(pmf, mm, gg)
        ach = rd.achievability_bounds(pmf, mm, gg)
        for values in (conv, ach["eq22"], ach["eq23"], ach["eq28"]):
            assert np.all(np.diff(values, axis=1) <= 1e-12)
            assert np.all(np.diff(values, axis=0) <= 1e-12)
        assert np.all(conv <= ach["eq28"])


# --------------------------------------------------------------------------
# Entropies
# --------------------------------------------------------------------------


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 3.0])
def test_gamma_entropy_hand_values(gamma):
    # uniform binary: log2(2 * (1/2)**((1/2)**gamma)) = 1 - (1/2)**gamma
    assert rd.gamma_entropy([0.5, 0.5], gamma) == pytest.approx(1 - 0.5**gamma)
    assert rd.gamma_entropy([1.0, 0.0, 0.0], gamma) == 0.0


pmfs = st.lists(st.floats(0, 1), min_size=1, max_size=12).filter(
    lambda v: sum(v) > 1e-3
)


@given(pmfs, st.floats(0, 20), st.floats(0, 20))
def test_gamma_entropy_monotone_nonnegative_and_bounded(weights, g1, g2):
    p = np.array(weights) / sum(weights)
    lo, hi = sorted((g1, g2))
    h_lo, h_hi = rd.gamma_entropy(p, lo), rd.gamma_entropy(p, hi)
    assert 0.0 <= h_lo <= h_hi + 1e-12
    assert rd.gamma_entropy(p, 0.0) == pytest.approx(0.0, abs=1e-12)
    assert h_hi <= rd.max_gamma_entropy(p.size, hi) + 1e-10


def _mp_eq15(n, gamma):
    """h_gamma(n) by eq. (15) with mpmath: grid, then golden section on peaks."""
    with mpmath.workdps(30):
        return _mp_eq15_search(n, gamma)


def _mp_eq15_search(n, gamma):
    g = mpmath.mpf(gamma)

    def f(q, d):
        first = (1 - q) ** (q**g) if q < 1 else mpmath.mpf(0)
        second = d * (q / d) ** ((1 - q / d) ** g) if q > 0 else mpmath.mpf(0)
        return first + second

    best = mpmath.mpf(0)
    grid = [mpmath.mpf(i) / 200 for i in range(201)]
    invphi = (mpmath.sqrt(5) - 1) / 2
    for d in range(1, n):
        values = [f(q, d) for q in grid]
        peaks = sorted(range(201), key=lambda i: -values[i])[:3]
        for i in peaks:
            a, b = grid[max(i - 1, 0)], grid[min(i + 1, 200)]
            for _ in range(70):
                c, e = b - invphi * (b - a), a + invphi * (b - a)
                if f(c, d) >= f(e, d):
                    b = e
                else:
                    a = c
            best = max(best, f((a + b) / 2, d), values[i])
    return float(mpmath.log(best, 2))


@pytest.mark.parametrize("n", [2, 3, 5, 12])
@pytest.mark.parametrize("gamma", [0.25, 1.0, 3.0, 10.0])
def test_max_gamma_entropy_matches_mpmath(n, gamma):
    assert abs(rd.max_gamma_entropy(n, gamma) - _mp_eq15(n, gamma)) <= 1e-10


def test_max_gamma_entropy_is_attained_and_below_eq16():
    gammas = [0.0, 0.1, 1.0, 4.0, 10.0, 40.0]
    bound16 = rd.gamma_entropy_upper_bound(gammas)
    previous = np.zeros(len(gammas))
    for n in [2, 3, 5, 13, 101, 3000, 10**9]:
        h = rd.max_gamma_entropy(n, gammas)
        assert np.all(h <= bound16)
        assert np.all(h >= previous - 1e-12)  # non-decreasing in n
        previous = h
    assert rd.max_gamma_entropy(1, 2.0) == 0.0
    # h_2(3) is attained by a pmf (1 - q, q/d, ..., q/d): sample the family
    qs = np.linspace(0, 1, 401)
    family = [rd.gamma_entropy([1 - q, q / 2, q / 2], 2.0) for q in qs]
    family += [rd.gamma_entropy([1 - q, q, 0.0], 2.0) for q in qs]
    assert max(family) <= rd.max_gamma_entropy(3, 2.0) + 1e-12
    assert max(family) >= rd.max_gamma_entropy(3, 2.0) - 1e-5


def test_eq16_closed_form():
    assert rd.gamma_entropy_upper_bound(3.0) == pytest.approx(
        math.log2(1 + math.exp(3 / math.e))
    )
    assert rd.gamma_entropy_upper_bound(0.2) == rd.gamma_entropy_upper_bound(1.0)


def _direct_eq15(d_values, gamma):
    """max over d in d_values and q in [0, 1] of eq. (15), in bits.

    Written independently of the module: plain powers on a 4001-point grid,
    then a bounded Brent search around the best grid points.
    """
    q = np.linspace(0.0, 1.0, 4001)

    def f(q, d):
        return (1 - q) ** (q**gamma) + d * (q / d) ** ((1 - q / d) ** gamma)

    d = np.asarray(d_values, dtype=float)
    grid = f(q[None, :], d[:, None])
    best = grid.max()
    for row in np.argsort(-grid.max(axis=1))[:5]:
        c = int(np.argmax(grid[row]))
        res = minimize_scalar(
            lambda x, d=d[row]: -f(x, d),
            bounds=(q[max(c - 1, 0)], q[min(c + 1, q.size - 1)]),
            method="bounded",
            options={"xatol": 1e-13},
        )
        best = max(best, -res.fun)
    return math.log2(best)


@pytest.mark.parametrize("gamma", [0.5, 5.0, 60.0])
def test_max_gamma_entropy_for_huge_n_matches_a_direct_search(gamma):
    """h_gamma(n) for n = 10**12: a direct search over every d up to 300 and a
    geometric sample of d up to 10**12 finds nothing higher."""
    d_values = np.unique(
        np.r_[np.arange(1, 301), np.round(np.geomspace(301, 10**12 - 1, 60))]
    )
    assert rd.max_gamma_entropy(10**12, gamma) == pytest.approx(
        _direct_eq15(d_values, gamma), abs=1e-9
    )


def test_max_gamma_entropy_memory_does_not_grow_with_n():
    """It took 7.1 GB and 19 s for (10**6, 1e5); now O(1) memory in n."""
    _max_gamma_entropy_nats.cache_clear()
    tracemalloc.start()
    try:
        h = rd.max_gamma_entropy(10**15, 2e4)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 * 2**20
    assert 0 < h <= rd.gamma_entropy_upper_bound(2e4)
    # a huge gamma on a small alphabet scans only d < n
    assert 0 < rd.max_gamma_entropy(40, 1e9) <= rd.gamma_entropy_upper_bound(1e9)


@pytest.mark.parametrize("gamma", [1e-320, 1e-30, 1e-6])
def test_max_gamma_entropy_tiny_gamma_on_huge_alphabets(gamma):
    """h_gamma -> 0 as gamma -> 0; a tiny gamma must not trip the scan limit
    (u(x) underflows there, its slope must not)."""
    h = rd.max_gamma_entropy(10**15, gamma, base=None)
    d_values = np.unique(np.r_[np.arange(1, 50), np.geomspace(50, 1e15, 30).round()])
    assert abs(h - _direct_eq15(d_values, gamma) * math.log(2)) <= 1e-12


def test_max_gamma_entropy_refuses_unreasonable_requests_cheaply():
    _max_gamma_entropy_nats.cache_clear()
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="MAX_GAMMA_ENTROPY_SCAN") as info:
            rd.max_gamma_entropy(10**9, 1e7)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.match("gamma=10000000.0") and info.match("n=1000000000")
    assert peak < 2**20


# --------------------------------------------------------------------------
# Converse, asymptotics, re-weighting
# --------------------------------------------------------------------------


def test_converse_formula():
    assert rd.converse_bound(np.full(1024, 1 / 1024), 2, 0.0) == pytest.approx(9.0)
    p = binomial(100, 0.5)
    for gamma in (0.1, 4.0):
        expected = entropy_bits(p) - 3 - rd.max_gamma_entropy(101, gamma)
        assert rd.converse_bound(p, 8, gamma) == pytest.approx(max(expected, 0.0))
    assert rd.converse_bound(p, 10**6, 1.0) == 0.0


def test_asymptotic_distortion_values():
    p = np.array([0.25] * 4)
    np.testing.assert_allclose(
        rd.asymptotic_distortion(p, [0, 0.5, 2, 3]), [2, 1.5, 0, 0]
    )
    assert rd.asymptotic_distortion(p, 1.0, base=4) == pytest.approx(0.0)


def test_asymptotic_distortion_is_gamma_free():
    """Thm 3 on a memoryless binary source: the normalized single-shot bounds of
    different gammas approach the same [H - R]^+ as the block length grows."""
    p1 = np.array([0.8, 0.2])
    gammas = [0.5, 1.0, 4.0]
    spreads = []
    for n in (4, 12):
        pn = p1
        for _ in range(n - 1):
            pn = np.outer(pn, p1).ravel()
        m = 2 ** round(0.3 * n)
        rate = math.log2(m) / n
        target = rd.asymptotic_distortion(p1, rate)
        upper = [rd.achievability_bounds(pn, m, g)["eq22"] / n for g in gammas]
        lower = [rd.converse_bound(pn, m, g) / n for g in gammas]
        for g, lo in zip(gammas, lower, strict=True):
            # converse/n = [H - R - h_gamma(2^n)/n]^+ and h_gamma <= (16)
            assert target - rd.gamma_entropy_upper_bound(g) / n - 1e-12 <= lo <= target
        spreads.append(max(upper) - min(lower))
    assert spreads[1] < spreads[0] / 2


def test_reweight():
    np.testing.assert_allclose(rd.reweight([0.5, 0.5], [3.0, 1.0]), [0.75, 0.25])
    np.testing.assert_allclose(rd.reweight([0.2, 0.8], [5, 5]), [0.2, 0.8])
    with pytest.raises(ValueError, match="positive"):
        rd.reweight([1.0, 0.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="shape"):
        rd.reweight([0.5, 0.5], [1.0])


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pmf, match",
    [
        ([0.5, 0.6], "sum to 1"),
        ([1.2, -0.2], "nonnegative"),
        ([np.nan, 1.0], "finite"),
        ([[0.5, 0.5]], "1-D"),
        ([], "empty"),
        (["a", "b"], "real numbers"),
    ],
)
@pytest.mark.parametrize(
    "func",
    [
        lambda p: rd.gamma_entropy(p, 1.0),
        lambda p: rd.converse_bound(p, 2, 1.0),
        lambda p: rd.achievability_bounds(p, 2, 1.0),
        lambda p: rd.asymptotic_distortion(p, 1.0),
        lambda p: rd.exact_distortion(p, 2, 1.0),
        lambda p: rd.optimized_code(p, 2, 1.0),
        lambda p: rd.reweight(p, [1.0, 1.0]),
    ],
)
def test_pmf_validation(pmf, match, func):
    with pytest.raises(ValueError, match=match):
        func(pmf)


def test_float32_pmf_tolerance():
    p = np.array([0.1] * 10, dtype=np.float32)  # sums to 1 only within float32
    assert rd.gamma_entropy(p, 0.0) == pytest.approx(0.0, abs=1e-12)


GAMMA_FUNCTIONS = [
    lambda g: rd.gamma_entropy([0.5, 0.5], g),
    lambda g: rd.max_gamma_entropy(3, g),
    lambda g: rd.gamma_entropy_upper_bound(g),
    lambda g: rd.converse_bound([0.5, 0.5], 2, g),
    lambda g: rd.achievability_bounds([0.5, 0.5], 2, g),
    lambda g: rd.exact_distortion([0.5, 0.5], 2, g),
    lambda g: rd.optimized_code([0.5, 0.5], 2, g),
]


@pytest.mark.parametrize("gamma", [-0.1, np.nan, np.inf, [1.0, -1.0]])
@pytest.mark.parametrize("func", GAMMA_FUNCTIONS)
def test_gamma_value_errors(gamma, func):
    if np.ndim(gamma) and func in GAMMA_FUNCTIONS[-2:]:
        gamma = gamma[1]
    with pytest.raises(ValueError, match="gamma"):
        func(gamma)


@pytest.mark.parametrize("gamma", ["2", True, np.True_, None, [True, False], ["1"]])
@pytest.mark.parametrize("func", GAMMA_FUNCTIONS)
def test_gamma_type_errors_agree_with_theory(gamma, func):
    """A bool or a string is not a focus parameter: TypeError, as theory.psi."""
    if np.ndim(gamma) == 0:
        with pytest.raises(TypeError, match="gamma"):
            psi([0.5, 0.5], gamma)
    with pytest.raises(TypeError, match="gamma"):
        func(gamma)


INTEGER_FUNCTIONS = [
    lambda m: rd.converse_bound([0.5, 0.5], m, 1.0),
    lambda m: rd.achievability_bounds([0.5, 0.5], m, 1.0),
    lambda m: rd.exact_distortion([0.5, 0.5], m, 1.0),
    lambda m: rd.optimized_code([0.5, 0.5], m, 1.0),
]


@pytest.mark.parametrize("m", [0, -1, np.int64(0)])
@pytest.mark.parametrize("func", INTEGER_FUNCTIONS)
def test_n_codewords_value_errors(m, func):
    with pytest.raises(ValueError, match="n_codewords must be an integer >= 1"):
        func(m)


@pytest.mark.parametrize("m", [1.5, 2.0, True, np.True_, "two", None])
@pytest.mark.parametrize("func", INTEGER_FUNCTIONS)
def test_n_codewords_type_errors(m, func):
    """One rule: ints only; no bool (True is not 1), no float, not even 2.0."""
    with pytest.raises(TypeError, match="n_codewords must be an integer"):
        func(m)


@pytest.mark.parametrize("m", [[2, 4.0], [True, 2], np.array([2.0, 4.0])])
def test_n_codewords_arrays_must_hold_ints(m):
    with pytest.raises(TypeError, match="n_codewords must hold integers"):
        rd.converse_bound([0.5, 0.5], m, 1.0)


def test_integer_parameters_accept_numpy_ints():
    p = [0.5, 0.25, 0.25]
    assert rd.exact_distortion(p, np.int64(2), 1.0) == rd.exact_distortion(p, 2, 1.0)
    assert rd.max_gamma_entropy(np.int32(2), 1.0) == rd.max_gamma_entropy(2, 1.0)
    np.testing.assert_array_equal(
        rd.converse_bound(p, np.array([1, 2], dtype=np.uint8), 0.0),
        [rd.converse_bound(p, 1, 0.0), rd.converse_bound(p, 2, 0.0)],
    )


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n": True}, TypeError, "n must be an integer"),
        ({"n": 3.0}, TypeError, "n must be an integer"),
        ({"n": 0}, ValueError, "n must be an integer >= 1"),
    ],
)
def test_max_gamma_entropy_n_validation(kwargs, error, match):
    with pytest.raises(error, match=match):
        rd.max_gamma_entropy(gamma=1.0, **kwargs)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"max_iter": True}, TypeError, "max_iter must be an integer"),
        ({"max_iter": 5.0}, TypeError, "max_iter must be an integer"),
        ({"max_iter": -1}, ValueError, "max_iter must be an integer >= 0"),
        ({"n_restarts": False}, TypeError, "n_restarts must be an integer"),
        ({"n_restarts": -1}, ValueError, "n_restarts must be an integer >= 0"),
    ],
)
def test_optimized_code_integer_options(kwargs, error, match):
    # the support fits in one message: validation must not depend on the data
    with pytest.raises(error, match=match):
        rd.optimized_code([1.0], 2, 1.0, **kwargs)


BASE_FUNCTIONS = [
    lambda b: rd.gamma_entropy([0.5, 0.5], 1.0, base=b),
    lambda b: rd.max_gamma_entropy(3, 1.0, base=b),
    lambda b: rd.gamma_entropy_upper_bound(1.0, base=b),
    lambda b: rd.converse_bound([0.5, 0.5], 1, 1.0, base=b),
    lambda b: rd.achievability_bounds([0.5, 0.5], 1, 1.0, base=b),
    lambda b: rd.asymptotic_distortion([0.5, 0.5], 0.5, base=b),
    lambda b: rd.exact_distortion([0.25] * 4, 2, 1.0, base=b),
    lambda b: rd.optimized_code([0.25] * 4, 2, 1.0, base=b),
]


@pytest.mark.parametrize("base", [0, 1, -2, 0.5, 1.0, np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("func", BASE_FUNCTIONS)
def test_base_must_exceed_one(base, func):
    """A base in (0, 1) would make every distortion negative."""
    with pytest.raises(ValueError, match="base"):
        func(base)


@pytest.mark.parametrize("base", ["e", "2", True, np.True_, [2.0]])
@pytest.mark.parametrize("func", BASE_FUNCTIONS)
def test_base_type_errors(base, func):
    with pytest.raises(TypeError, match="base"):
        func(base)


def test_base_scales_every_quantity():
    p = binomial(12, 0.3)
    factor = math.log(2)
    assert rd.exact_distortion(p[:8] / p[:8].sum(), 2, 1.0, base=None) == pytest.approx(
        rd.exact_distortion(p[:8] / p[:8].sum(), 2, 1.0) * factor
    )
    assert rd.converse_bound(p, 2, 1.0, base=None) == pytest.approx(
        rd.converse_bound(p, 2, 1.0) * factor
    )
    assert rd.max_gamma_entropy(5, 2.0, base=None) == pytest.approx(
        rd.max_gamma_entropy(5, 2.0) * factor
    )
