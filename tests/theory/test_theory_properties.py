"""Property tests of :mod:`sklearn_focal.theory`: the papers' theorems, and bad input.

Theorem numbers refer to Charoenphakdee et al., CVPR 2021; the regimes to
Shah, Cardone and Dytso, "Functional Properties of the Focal-Entropy".
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize
from scipy.special import log_softmax, softmax

from sklearn_focal import theory
from sklearn_focal.theory import (
    Confidence,
    FocalRegime,
    ThresholdRegion,
    confidence_regime,
    focal_entropy,
    focal_loss,
    focal_minimizer,
    focal_regimes,
    h,
    min_focal_entropy,
    phi,
    psi,
    tau_oc,
    tau_uc,
)

# --------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------

gammas = st.one_of(
    st.sampled_from([0.0, 0.01, 0.5, 1.0, 2.0, 5.0, 20.0, 50.0]),
    st.floats(min_value=0.0, max_value=50.0),
)
positive_gammas = st.one_of(
    st.sampled_from([0.01, 0.5, 1.0, 2.0, 5.0, 20.0, 50.0]),
    st.floats(min_value=1e-3, max_value=50.0),
)
entries = st.one_of(
    st.floats(min_value=0.0, max_value=1.0),
    st.floats(min_value=-300.0, max_value=0.0).map(lambda e: 10.0**e),
    st.just(0.0),
)


@st.composite
def simplex_rows(draw, min_size=2, max_size=30, min_entry=0.0):
    """A probability row: hypothesis entries (tiny ones included), normalized."""
    values = np.array(draw(st.lists(entries, min_size=min_size, max_size=max_size)))
    assume(values.sum() > 0)
    row = values / values.sum()
    assume(row.min() >= min_entry)
    return row


@st.composite
def interior_rows(draw, min_size=2, max_size=10):
    """A row with every entry >= 0.01 / max_size (away from the boundary)."""
    values = np.array(
        draw(st.lists(st.floats(0.01, 1.0), min_size=min_size, max_size=max_size))
    )
    return values / values.sum()


@st.composite
def dirichlet_batches(draw, max_classes=50):
    """A (200, K) batch of Dirichlet rows: many rows per example, cheaply."""
    seed = draw(st.integers(0, 2**32 - 1))
    k = draw(st.integers(2, max_classes))
    concentration = draw(st.sampled_from([0.05, 0.3, 1.0, 5.0, 50.0]))
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.full(k, concentration), size=200)


# --------------------------------------------------------------------------
# psi: Prop. 12, Thm 3, Thm 11, Prop. 6
# --------------------------------------------------------------------------


@given(simplex_rows(), gammas)
def test_psi_preserves_argmax(q, gamma):
    # Prop. 12; ties within rounding are not a decision.
    top, second = np.sort(q)[::-1][:2]
    assume(top > second * (1 + 1e-9))
    assert np.argmax(psi(q, gamma)) == np.argmax(q)


@given(simplex_rows(), gammas)
def test_psi_preserves_strict_order(q, gamma):
    result = psi(q, gamma)
    lower, upper = np.meshgrid(q, q, indexing="ij")
    out_lower, out_upper = np.meshgrid(result, result, indexing="ij")
    smaller = lower < upper
    # psi is accurate to 1e-12 relative (test_theory_accuracy), so inputs an
    # ulp apart may swap order by that much, not more.
    assert np.all(out_lower[smaller] <= out_upper[smaller] * (1 + 2e-12))
    clearly = smaller & (upper > lower * (1 + 1e-9)) & (out_upper >= 1e-290)
    assert np.all(out_lower[clearly] < out_upper[clearly])
    equal = lower == upper
    assert np.all(out_lower[equal] == out_upper[equal])


@given(simplex_rows(), gammas)
def test_psi_rows_are_distributions(q, gamma):
    result = psi(q, gamma)
    assert np.all(np.isfinite(result))
    assert np.all(result >= 0)
    assert abs(result.sum() - 1.0) <= 1e-14 * len(q)
    np.testing.assert_array_equal(result[q == 0], 0.0)


@given(dirichlet_batches())
def test_psi_gamma_zero_is_identity(q):
    np.testing.assert_array_equal(psi(q, 0.0), q)
    np.testing.assert_array_equal(focal_minimizer(q, 0.0), q / q.sum(1, keepdims=1))


@given(st.integers(2, 1000), gammas)
def test_uniform_rows_are_fixed_points(k, gamma):
    uniform = np.full(k, 1.0 / k)
    np.testing.assert_allclose(psi(uniform, gamma), uniform, rtol=1e-13, atol=0)
    np.testing.assert_allclose(focal_minimizer(uniform, gamma), uniform, rtol=1e-12)


@given(st.integers(2, 200), st.data(), gammas)
def test_rows_in_s_k_are_fixed_points(k, data, gamma):
    # Prop. 6: a uniform distribution on a subset (one-hot included).
    size = data.draw(st.integers(1, k))
    support = data.draw(st.permutations(range(k)))[:size]
    row = np.zeros(k)
    row[support] = 1.0 / size
    np.testing.assert_allclose(psi(row, gamma), row, rtol=1e-13, atol=0)
    np.testing.assert_allclose(focal_minimizer(row, gamma), row, rtol=1e-12, atol=0)
    if size == 1:
        np.testing.assert_array_equal(psi(row, gamma), row)
        np.testing.assert_array_equal(focal_minimizer(row, gamma), row)


# --------------------------------------------------------------------------
# Thresholds and confidence: Thm 8, Def. 7, Cors. 9-10
# --------------------------------------------------------------------------


@given(st.one_of(positive_gammas, st.floats(min_value=1e-8, max_value=1e3)))
def test_thresholds_are_ordered(gamma):
    low, high = tau_oc(gamma), tau_uc(gamma)
    assert 0 < low < high < 0.5
    # tau_oc is the peak of phi and tau_uc its crossing of 1.
    grid = np.linspace(1e-6, 1 - 1e-6, 2001)
    assert phi(low, gamma) >= phi(grid, gamma).max() * (1 - 1e-12)
    assert abs(phi(high, gamma) - 1.0) <= 1e-12


@given(st.floats(min_value=0.0, max_value=1.0), positive_gammas)
def test_binary_rows_are_never_overconfident(a, gamma):
    # Cor. 10: underconfident unless uniform or one-hot.
    result = confidence_regime([a, 1.0 - a], gamma)
    assert result.confidence[0] != Confidence.OVERCONFIDENT
    if 1e-6 < min(a, 1 - a) and abs(a - 0.5) > 1e-6 and gamma >= 0.01:
        assert result.confidence[0] == Confidence.UNDERCONFIDENT


@given(
    st.floats(min_value=0.5, max_value=1.0, exclude_min=True, exclude_max=True),
    dirichlet_batches(max_classes=20),
    positive_gammas,
)
def test_max_above_half_is_underconfident(top, batch, gamma):
    # Cor. 9: put mass ``top`` on class 0, spread the rest.
    rows = np.concatenate([np.full((len(batch), 1), top), (1 - top) * batch], axis=1)
    result = confidence_regime(rows, gamma)
    assert np.all(result.confidence != Confidence.OVERCONFIDENT)
    # Rows with top = 0.5 + 1 ulp and 0.5 - 1 ulp are uniform up to rounding.
    assert np.all(result.max_posterior >= result.max_q * (1 - 1e-14))
    if top - 0.5 > 1e-3 and top < 1 - 1e-6:
        assert np.all(result.confidence == Confidence.UNDERCONFIDENT)


@given(dirichlet_batches(), positive_gammas)
def test_threshold_regions_agree_with_definition(q, gamma):
    # Thm 8: max q <= tau_oc is overconfident, >= tau_uc underconfident.
    result = confidence_regime(q, gamma)
    max_q = q.max(axis=1)
    np.testing.assert_array_equal(result.max_q, max_q)
    np.testing.assert_array_equal(result.max_posterior, psi(q, gamma).max(axis=1))
    low, high = tau_oc(gamma), tau_uc(gamma)
    np.testing.assert_array_equal(
        result.region == ThresholdRegion.OVERCONFIDENT, max_q <= low
    )
    np.testing.assert_array_equal(
        result.region == ThresholdRegion.UNDERCONFIDENT, max_q >= high
    )
    over = result.region == ThresholdRegion.OVERCONFIDENT
    under = result.region == ThresholdRegion.UNDERCONFIDENT
    assert np.all(result.confidence[over] != Confidence.UNDERCONFIDENT)
    assert np.all(result.confidence[under] != Confidence.OVERCONFIDENT)
    # Def. 7 itself, away from the rounding band.
    difference = max_q - result.max_posterior
    clear = np.abs(difference) > 1e-12
    np.testing.assert_array_equal(
        result.confidence[clear], np.sign(difference[clear]).astype(np.int8)
    )


def test_overconfident_regime_exists_for_many_classes():
    # Fig. 2b: with 1000 classes and a small max, the minimizer is overconfident.
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(1000), size=5)
    q = focal_minimizer(p, 0.5)
    result = confidence_regime(q, 0.5)
    assert np.all(result.region == ThresholdRegion.OVERCONFIDENT)
    assert np.all(result.confidence == Confidence.OVERCONFIDENT)
    assert np.all(q.max(axis=1) > p.max(axis=1))


def test_confidence_regime_exact_for_gamma_zero():
    result = confidence_regime([[0.7, 0.2, 0.1]], 0.0)
    assert result.confidence[0] == Confidence.EXACT
    assert result.region[0] == ThresholdRegion.AMBIGUOUS


# --------------------------------------------------------------------------
# Focal-entropy: convexity, minimum, inverse
# --------------------------------------------------------------------------


@given(
    interior_rows(),
    st.data(),
    st.floats(min_value=0.0, max_value=50.0),
    st.floats(min_value=0.05, max_value=0.95),
)
def test_focal_entropy_is_strictly_convex_in_q(p, data, gamma, t):
    k = len(p)
    a = data.draw(interior_rows(min_size=k, max_size=k))
    b = data.draw(interior_rows(min_size=k, max_size=k))
    assume(np.max(np.abs(a - b)) > 1e-2)
    chord = t * focal_entropy(p, a, gamma) + (1 - t) * focal_entropy(p, b, gamma)
    middle = focal_entropy(p, t * a + (1 - t) * b, gamma)
    assert middle < chord


@given(simplex_rows(max_size=20), st.data(), gammas)
def test_min_focal_entropy_is_a_lower_bound(p, data, gamma):
    q = data.draw(simplex_rows(min_size=len(p), max_size=len(p)))
    lowest = min_focal_entropy(p, gamma)
    assert np.isfinite(lowest)
    # Slack: storing q in float64 moves FE by about p_top * ulp(1).
    assert lowest <= focal_entropy(p, q, gamma) * (1 + 1e-13) + 4e-16


@given(simplex_rows(), gammas)
def test_psi_inverts_focal_minimizer(p, gamma):
    q, lam = focal_minimizer(p, gamma, return_lambda=True)
    assert np.all(np.isfinite(q))
    assert abs(q.sum() - 1.0) <= 1e-14 * len(p)
    np.testing.assert_array_equal(q[p == 0], 0.0)
    np.testing.assert_allclose(psi(q, gamma), p, rtol=0, atol=1e-12)
    assert lam >= 0
    if gamma > 0 and np.count_nonzero(p) > 1:
        # lambda = sum_i p_i phi(q_i) lies in (0, max phi].
        assert 0 < lam <= phi(tau_oc(gamma), gamma) * (1 + 1e-12)


@given(dirichlet_batches(), gammas)
def test_focal_minimizer_batch_round_trip(p, gamma):
    q = focal_minimizer(p, gamma)
    np.testing.assert_allclose(psi(q, gamma), p, rtol=0, atol=1e-12)
    np.testing.assert_allclose(focal_minimizer(psi(q, gamma), gamma), q, atol=1e-12)


def _alpha_focal_objective(q, p, alpha, gamma):
    return float(np.sum(p * alpha * (1 - q) ** gamma * -np.log(q)))


@settings(max_examples=25)
@given(
    interior_rows(max_size=6),
    st.floats(min_value=0.0, max_value=5.0),
    st.data(),
)
def test_alpha_balanced_minimizer_minimizes_weighted_focal_entropy(p, gamma, data):
    k = len(p)
    alpha = np.array(data.draw(st.lists(st.floats(0.05, 5.0), min_size=k, max_size=k)))
    q = focal_minimizer(p, gamma, alpha=alpha)

    def objective(z):
        # The simplex through softmax; log q from log_softmax, no clipping.
        log_q = log_softmax(z)
        return np.sum(p * alpha * (-np.expm1(log_q)) ** gamma * -log_q)

    found = minimize(objective, np.log(p), method="BFGS", options={"gtol": 1e-12})
    q_scipy = softmax(found.x)
    ours = _alpha_focal_objective(q, p, alpha, gamma)
    assert ours <= _alpha_focal_objective(q_scipy, p, alpha, gamma) * (1 + 1e-12)
    np.testing.assert_allclose(q, q_scipy, atol=2e-5)
    np.testing.assert_allclose(psi(q, gamma, alpha=alpha), p, rtol=0, atol=1e-12)


def test_alpha_balanced_psi_weights_by_inverse_alpha():
    # Derived: h(q_i) = alpha_i p_i / lambda, so psi_i is proportional to h/alpha.
    q = np.array([0.5, 0.3, 0.2])
    alpha = np.array([0.25, 1.0, 4.0])
    expected = h(q, 2.0) / alpha
    np.testing.assert_allclose(
        psi(q, 2.0, alpha=alpha), expected / expected.sum(), rtol=1e-14
    )
    constant = np.full(3, 7.0)
    np.testing.assert_allclose(psi(q, 2.0, alpha=constant), psi(q, 2.0), rtol=1e-14)


# --------------------------------------------------------------------------
# focal_regimes: amplification, suppression, over-suppression
# --------------------------------------------------------------------------


def _is_level_crossing(t, level, gamma):
    """phi(t) = level to 1e-12, or phi - level changes sign within 4 ulps of t."""
    if abs(phi(t, gamma) - level) <= 1e-12 * max(level, 1):
        return True
    step = 4 * np.spacing(t)
    around = phi(np.clip([t - step, t + step], 0, 1), gamma) - level
    return around[0] * around[1] <= 0


def _check_regimes(p, gamma):
    result = focal_regimes(p, gamma)
    p = np.atleast_2d(p)
    q, lam, thresholds = result.q, result.lam, result.thresholds
    np.testing.assert_allclose(q, focal_minimizer(p, gamma), rtol=0, atol=0)
    gap = 8 * np.finfo(float).eps * np.maximum(p, q)
    amplified = result.regime == FocalRegime.AMPLIFIED
    below = np.isin(
        result.regime, [FocalRegime.SUPPRESSED, FocalRegime.OVER_SUPPRESSED]
    )
    np.testing.assert_array_equal(amplified, q - p > gap)
    np.testing.assert_array_equal(below, q - p < -gap)
    over = result.regime == FocalRegime.OVER_SUPPRESSED
    assert np.all(lam[np.any(over, axis=1)] > 1)
    assert np.all(q[over] <= np.broadcast_to(thresholds[:, :1], q.shape)[over])
    peak = phi(tau_oc(gamma), gamma) if gamma > 0 else 1.0
    for row_lam, (low, high) in zip(lam, thresholds, strict=True):
        if gamma == 0 or row_lam == 0 or row_lam >= peak:
            continue
        assert _is_level_crossing(high, row_lam, gamma)
        if row_lam > 1:
            assert _is_level_crossing(low, row_lam, gamma)
            assert 0 < low < tau_oc(gamma) < high
        else:
            assert low == 0
    return result


@settings(max_examples=30)
@given(dirichlet_batches(max_classes=30), positive_gammas)
def test_focal_regimes_follow_their_definitions(p, gamma):
    _check_regimes(p[:40], gamma)


@pytest.mark.parametrize("gamma", [0.01, 0.05])
@pytest.mark.parametrize("level", [0.7066606988712589, 0.75, 0.9])
def test_upper_threshold_within_ulps_of_one_is_a_crossing(gamma, level):
    # Small gamma puts phi(t) = level within a few ulps of 1 (hypothesis found
    # gamma=0.01, level=0.70666...): the threshold must still be the crossing.
    from sklearn_focal.theory._regimes import _phi_level_thresholds

    _, high = _phi_level_thresholds(level, gamma, tau_oc(gamma))
    assert _is_level_crossing(high, level, gamma)


def test_focal_regimes_extreme_imbalance_over_suppresses():
    # Many mid-size classes and a few tiny ones: lambda > 1 and the tiny
    # classes fall below t_low.
    p = np.concatenate([np.full(40, 0.02), np.full(199, 0.2 / 199), [1e-9]])
    p = p / p.sum()
    result = _check_regimes(p, 2.0)
    assert result.lam[0] > 1
    assert result.regime[0, -1] == FocalRegime.OVER_SUPPRESSED
    assert result.q[0, -1] < p[-1]
    assert result.regime[0, 0] in (FocalRegime.AMPLIFIED, FocalRegime.SUPPRESSED)


def test_focal_regimes_binary_example():
    result = _check_regimes(np.array([0.7, 0.3]), 2.0)
    assert list(result.regime[0]) == [FocalRegime.SUPPRESSED, FocalRegime.AMPLIFIED]
    assert result.lam[0] < 1


# --------------------------------------------------------------------------
# Bad input, dtypes
# --------------------------------------------------------------------------

ROW = np.array([0.6, 0.3, 0.1])
DISTRIBUTION_FUNCTIONS = {
    "psi": lambda x, **kw: psi(x, 2.0, **kw),
    "focal_minimizer": lambda x, **kw: focal_minimizer(x, 2.0, **kw),
    "confidence_regime": lambda x, **kw: confidence_regime(x, 2.0, **kw),
    "focal_regimes": lambda x: focal_regimes(x, 2.0),
    "focal_entropy_p": lambda x: focal_entropy(x, np.full(np.shape(x), 1 / 3), 2.0),
    "focal_entropy_q": lambda x: focal_entropy(np.full(np.shape(x), 1 / 3), x, 2.0),
    "min_focal_entropy": lambda x: min_focal_entropy(x, 2.0),
    "focal_loss": lambda x: focal_loss(x, np.full(np.shape(x), 1 / 3), 2.0),
}
WITH_ALPHA = ["psi", "focal_minimizer", "confidence_regime"]


@pytest.mark.parametrize("name", DISTRIBUTION_FUNCTIONS)
@pytest.mark.parametrize(
    "bad, message",
    [
        ([[0.6, 0.3, 0.1], [np.nan, 0.5, 0.5]], "NaN or inf.*row 1"),
        ([[0.6, 0.3, 0.1], [np.inf, 0.5, 0.5]], "NaN or inf.*row 1"),
        ([[0.6, 0.3, 0.1], [1.2, -0.1, -0.1]], "negative.*row 1"),
        ([[0.6, 0.3, 0.1], [0.6, 0.3, 0.1], [0.5, 0.3, 0.1]], "sum to 1.*row 2"),
        ([0.5, 0.4, 0.2], "sum to 1.*row 0"),
        (np.empty((0, 3)), "empty"),
        (np.empty((2, 0)), "empty"),
        ([[1.0], [1.0]], "at least 2 classes"),
        ([1.0], "at least 2 classes"),
        (np.full((2, 2, 2), 0.5), "1-D .* or 2-D"),
    ],
)
def test_distribution_functions_reject_bad_rows(name, bad, message):
    with pytest.raises(ValueError, match=message):
        DISTRIBUTION_FUNCTIONS[name](np.asarray(bad, dtype=float))


@pytest.mark.parametrize("name", DISTRIBUTION_FUNCTIONS)
def test_distribution_functions_reject_non_numbers(name):
    with pytest.raises((TypeError, ValueError)):
        DISTRIBUTION_FUNCTIONS[name](np.array(["a", "b"]))
    with pytest.raises((TypeError, ValueError)):
        DISTRIBUTION_FUNCTIONS[name]([[0.5, 0.5], [1.0]])


@pytest.mark.parametrize("name", DISTRIBUTION_FUNCTIONS)
def test_distribution_functions_accept_ints_and_lists(name):
    for good in ([[1, 0, 0], [0, 0, 1]], [0, 1, 0], np.eye(3, dtype=np.int32)):
        result = DISTRIBUTION_FUNCTIONS[name](good)
        for value in result if isinstance(result, tuple) else (result,):
            assert not np.any(np.isnan(np.asarray(value, dtype=float)))


@pytest.mark.parametrize("name", WITH_ALPHA)
@pytest.mark.parametrize(
    "alpha, message",
    [
        ([1.0, 0.0, 1.0], "alpha must be finite and > 0"),
        ([1.0, -1.0, 1.0], "alpha must be finite and > 0"),
        ([1.0, np.nan, 1.0], "alpha must be finite and > 0"),
        ([1.0, np.inf, 1.0], "alpha must be finite and > 0"),
        ([1.0, 1.0], "one weight per class"),
        ([[1.0, 1.0, 1.0]], "one weight per class"),
    ],
)
def test_alpha_is_validated(name, alpha, message):
    with pytest.raises(ValueError, match=message):
        DISTRIBUTION_FUNCTIONS[name](ROW, alpha=alpha)


GAMMA_FUNCTIONS = {
    "phi": lambda g: phi(ROW, g),
    "h": lambda g: h(ROW, g),
    "psi": lambda g: psi(ROW, g),
    "focal_minimizer": lambda g: focal_minimizer(ROW, g),
    "confidence_regime": lambda g: confidence_regime(ROW, g),
    "focal_regimes": lambda g: focal_regimes(ROW, g),
    "focal_entropy": lambda g: focal_entropy(ROW, ROW, g),
    "min_focal_entropy": lambda g: min_focal_entropy(ROW, g),
    "focal_loss": lambda g: focal_loss(ROW, ROW, g),
    "tau_oc": tau_oc,
    "tau_uc": tau_uc,
}


@pytest.mark.parametrize("name", GAMMA_FUNCTIONS)
@pytest.mark.parametrize(
    "gamma, message",
    [(-0.5, ">= 0"), (np.nan, "finite"), (np.inf, "finite"), (-np.inf, "finite")],
)
def test_gamma_is_validated(name, gamma, message):
    with pytest.raises(ValueError, match=message):
        GAMMA_FUNCTIONS[name](gamma)


@pytest.mark.parametrize("name", ["tau_oc", "tau_uc"])
def test_threshold_gamma_arrays_are_validated(name):
    function = GAMMA_FUNCTIONS[name]
    with pytest.raises(ValueError, match=">= 0"):
        function([1.0, -1.0])
    with pytest.raises(ValueError, match="finite"):
        function([1.0, np.nan])
    with pytest.raises(ValueError, match="empty"):
        function([])


@pytest.mark.parametrize("function", [phi, h])
@pytest.mark.parametrize(
    "bad, message",
    [
        ([0.5, np.nan], "NaN or inf"),
        ([0.5, np.inf], "NaN or inf"),
        ([0.5, -0.1], r"\[0, 1\]"),
        ([0.5, 1.1], r"\[0, 1\]"),
        ([], "empty"),
    ],
)
def test_elementwise_functions_reject_bad_values(function, bad, message):
    with pytest.raises(ValueError, match=message):
        function(np.asarray(bad, dtype=float), 2.0)


def test_focal_entropy_shapes_and_base_are_validated():
    with pytest.raises(ValueError, match="same shape"):
        focal_entropy(ROW, [0.5, 0.5], 2.0)
    for base in (0.0, 1.0, -2.0, np.inf, np.nan):
        with pytest.raises(ValueError, match="base"):
            focal_entropy(ROW, ROW, 2.0, base=base)
        with pytest.raises(ValueError, match="base"):
            min_focal_entropy(ROW, 2.0, base=base)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_float_dtype_is_preserved(dtype, gamma):
    rows = np.random.default_rng(0).dirichlet(np.ones(4), size=5).astype(dtype)
    one = rows[0]
    for function in (psi, focal_minimizer):
        assert function(rows, gamma).dtype == dtype
        assert function(one, gamma).dtype == dtype
        assert function(one, gamma).shape == (4,)
    assert phi(one, gamma).dtype == dtype
    assert h(one, gamma).dtype == dtype
    assert focal_entropy(rows, rows, gamma).dtype == dtype
    assert min_focal_entropy(rows, gamma).dtype == dtype
    assert focal_loss(rows, rows, gamma).dtype == dtype
    assert focal_regimes(rows, gamma).q.dtype == dtype
    assert isinstance(focal_entropy(one, one, gamma), float)
    # float32 results agree with float64 to float32 precision.
    wide = rows.astype(np.float64)
    wide /= wide.sum(axis=1, keepdims=True)  # float64 checks sums to 1.5e-8
    np.testing.assert_allclose(psi(rows, gamma), psi(wide, gamma), rtol=1e-5)


def test_int_input_gives_float64():
    assert psi([0, 1], 2.0).dtype == np.float64
    assert focal_minimizer([[1, 0], [0, 1]], 2.0).dtype == np.float64
    assert phi([0, 1], 2.0).dtype == np.float64
    assert h(np.array([0, 1], dtype=np.int64), 2.0).dtype == np.float64


def test_float32_rows_use_a_float32_tolerance():
    # Sums off by float32 rounding pass; a real error still fails.
    rows = np.random.default_rng(1).dirichlet(np.ones(1000), size=3).astype(np.float32)
    assert np.all(np.isfinite(psi(rows, 2.0)))
    with pytest.raises(ValueError, match="row 0"):
        psi(rows * np.float32(1.01), 2.0)


@pytest.mark.parametrize("gamma", [0.01, 2.0, 50.0])
def test_no_nan_on_extreme_valid_input(gamma):
    rows = np.array(
        [
            [1.0, 0.0, 0.0],
            [1 - 2e-16, 2e-16, 0.0],
            [1e-300, 1e-300, 1 - 2e-300],
            [0.5, 0.5, 0.0],
            [5e-324, 0.5, 0.5],
        ]
    )
    for function in (psi, focal_minimizer):
        result = function(rows, gamma)
        assert np.all(np.isfinite(result))
        np.testing.assert_allclose(result.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    assert np.all(np.isfinite(min_focal_entropy(rows, gamma)))
    regimes = focal_regimes(rows, gamma)
    assert np.all(np.isfinite(regimes.thresholds))


def test_public_names():
    for name in theory.__all__:
        assert hasattr(theory, name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "value, message",
    [(np.nan, "NaN or inf"), (np.inf, "NaN or inf"), (-0.25, "negative"), (0.9, "sum")],
)
def test_large_inputs_name_the_first_bad_row_like_small_ones(dtype, value, message):
    # Above 65536 entries the checks run in one compiled pass.
    rng = np.random.default_rng(0)
    rows = rng.dirichlet(np.ones(8), size=20_000).astype(dtype)
    bad = [12_345, 17_000]
    for row in bad:
        rows[row, 3] = value
    for data in (rows, rows[bad[0] - 2 : bad[0] + 3]):
        first = bad[0] if data is rows else 2
        with pytest.raises(ValueError, match=message) as info:
            theory.psi(data, 2.0)
        assert f"row {first}" in str(info.value)
