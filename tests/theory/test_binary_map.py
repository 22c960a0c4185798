"""binary_psi and binary_focal_minimizer: the sigmoid focal loss's posterior map.

The references are written here from the loss itself, in mpmath, sharing no
formula with the package: the binary focal risk

``R(q) = eta A (1 - q)^gamma log(1/q) + (1 - eta) B q^gamma log(1/(1 - q))``

with ``A = alpha * pos_weight`` (``BCEWithLogitsLoss``'s ``pos_weight``
multiplies the positive term) and ``B = 1 - alpha``, and its derivative in
``q`` differentiated by hand from that definition.
"""

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sklearn_focal.theory import binary_focal_minimizer, binary_psi, psi
from tests.mptestutils import ProbArg

GAMMAS = (0.0, 1e-3, 0.5, 1.0, 2.0, 7.5, 50.0, 1000.0)
# (alpha, pos_weight): unweighted, torchvision's default, a pos_weight, tiny alpha.
WEIGHTINGS = ((None, None), (0.25, None), (0.9, 3.0), (1e-4, None), (None, 0.2))
RTOL = 1e-12
DPS = 40


def _weights(alpha, pos_weight):
    a = mpmath.mpf(1) if alpha is None else mpmath.mpf(alpha)
    b = mpmath.mpf(1) if alpha is None else 1 - mpmath.mpf(alpha)
    if pos_weight is not None:
        a *= mpmath.mpf(pos_weight)
    return a, b


def _risk_slopes(q, c, gamma):
    """``(-f'(q), g'(q))`` for ``f(q) = (1 - q)^gamma log(1/q)`` and
    ``g(q) = q^gamma log(1/(1 - q))``; ``c = 1 - q`` given exactly."""
    g = mpmath.mpf(gamma)
    log_q = mpmath.log(q)
    # Not log(c) for small q: 1 - q may round to 1 at any precision.
    log_c = mpmath.log1p(-q) if q < 0.5 else mpmath.log(c)
    if g == 0:
        return 1 / q, 1 / c
    minus_f_slope = g * c ** (g - 1) * (-log_q) + c**g / q
    g_slope = g * q ** (g - 1) * (-log_c) + q**g / c
    return minus_f_slope, g_slope


def mp_posterior_of_minimizer(q, gamma, alpha, pos_weight):
    """The eta for which ``q`` is the stationary point of the risk:
    ``eta A f'(q) + (1 - eta) B g'(q) = 0``."""
    with mpmath.workdps(DPS):
        q = mpmath.mpf(float(q))
        a, b = _weights(alpha, pos_weight)
        minus_f_slope, g_slope = _risk_slopes(q, 1 - q, gamma)
        return b * g_slope / (b * g_slope + a * minus_f_slope)


def mp_risk_slope(q, c, eta, gamma, alpha, pos_weight):
    """``dR/dq`` at ``q`` (``c = 1 - q``)."""
    a, b = _weights(alpha, pos_weight)
    minus_f_slope, g_slope = _risk_slopes(q, c, gamma)
    eta = mpmath.mpf(float(eta))
    return -eta * a * minus_f_slope + (1 - eta) * b * g_slope


def mp_risk_minimizer(eta, gamma, alpha, pos_weight):
    """argmin_q R(q): the zero of ``dR/dq``, written as the increasing
    ``log((1 - eta) B g'(q)) - log(eta A (-f'(q)))`` in the logit ``t`` of
    ``q``, by bisection then the Illinois method."""
    with mpmath.workdps(DPS):
        a, b = _weights(alpha, pos_weight)
        e = mpmath.mpf(float(eta))

        def excess(t):
            q = 1 / (1 + mpmath.exp(-t))
            c = 1 / (1 + mpmath.exp(t))
            minus_f_slope, g_slope = _risk_slopes(q, c, gamma)
            return mpmath.log((1 - e) * b * g_slope) - mpmath.log(e * a * minus_f_slope)

        low, high = mpmath.mpf(-750), mpmath.mpf(750)
        for _ in range(30):
            middle = (low + high) / 2
            if excess(middle) > 0:
                high = middle
            else:
                low = middle
        t = mpmath.findroot(excess, (low, high), solver="illinois", verify=False)
        assert abs(excess(t)) < mpmath.mpf(10) ** -25
        return 1 / (1 + mpmath.exp(-t))


def _compare(actual, desired, args):
    """Relative ``RTOL`` where the reference is a normal double; below 1e-300
    (out of double range, or about to be), the result must be as small."""
    actual = np.asarray(actual, dtype=np.float64)
    bad = []
    for i, (got, ref) in enumerate(zip(actual, desired, strict=True)):
        if ref < mpmath.mpf(10) ** -300:
            ok = got <= 1e-299
        else:
            ok = abs(mpmath.mpf(got) - ref) <= RTOL * ref
        if not ok:
            bad.append(f"{args[i]}: got {got!r}, mpmath {mpmath.nstr(ref, 17)}")
    assert not bad, f"{len(bad)} of {len(actual)} points off:\n" + "\n".join(bad[:15])


# --------------------------------------------------------------------------
# Accuracy against the risk minimization (mpmath)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("alpha, pos_weight", WEIGHTINGS)
@pytest.mark.parametrize("gamma", GAMMAS)
def test_binary_psi_matches_the_mpmath_risk_stationary_point(gamma, alpha, pos_weight):
    # q from 1e-300 to one ulp below 1: binary_psi(q) is the eta whose risk
    # is stationary at q.
    q = ProbArg().values(60)
    assert q.min() < 1e-290 and 1 - q.max() < 1e-15
    got = binary_psi(q, gamma, alpha=alpha, pos_weight=pos_weight)
    desired = [mp_posterior_of_minimizer(v, gamma, alpha, pos_weight) for v in q]
    _compare(got, desired, [f"q={v!r}" for v in q])


@pytest.mark.parametrize("alpha, pos_weight", WEIGHTINGS)
@pytest.mark.parametrize("gamma", GAMMAS)
def test_binary_focal_minimizer_brackets_the_mpmath_risk_minimum(
    gamma, alpha, pos_weight
):
    # The risk slope changes sign between q (1 - 1e-12) and q (1 + 1e-12):
    # the true minimizer lies within 1e-12 relative of the result.
    eta = ProbArg().values(45)
    q = binary_focal_minimizer(eta, gamma, alpha=alpha, pos_weight=pos_weight)
    bad = []
    with mpmath.workdps(DPS):
        for e, v in zip(eta, q, strict=True):
            if v < 1e-300:
                # Out of double range: the true minimizer must be as small.
                low_ok = True
                high = mpmath.mpf(10) ** -299
                c = 1 - high
            else:
                v_mp = mpmath.mpf(float(v))
                low = v_mp * (1 - mpmath.mpf(RTOL))
                low_ok = mp_risk_slope(low, 1 - low, e, gamma, alpha, pos_weight) < 0
                high = v_mp * (1 + mpmath.mpf(RTOL))
                c = 1 - high
                if c <= 0:  # q within 1e-12 of 1: test just below 1
                    c = max(1 - v_mp, mpmath.mpf(10) ** -300) * mpmath.mpf(10) ** -30
                    high = 1 - c
            high_ok = mp_risk_slope(high, c, e, gamma, alpha, pos_weight) > 0
            if not (low_ok and high_ok):
                bad.append(f"eta={e!r}: q={v!r} (low ok {low_ok}, high ok {high_ok})")
    assert not bad, "\n".join(bad[:15])


@pytest.mark.parametrize(
    "gamma, alpha, pos_weight",
    [(2.0, 0.25, None), (0.5, None, 4.0), (1000.0, 0.01, None), (7.5, 0.75, 0.5)],
)
def test_binary_focal_minimizer_equals_a_numerical_mpmath_minimization(
    gamma, alpha, pos_weight
):
    eta = np.array([1e-300, 3e-150, 1e-20, 1e-5, 0.1, 0.5, 0.97, 1 - 1e-9, 1 - 2e-16])
    got = binary_focal_minimizer(eta, gamma, alpha=alpha, pos_weight=pos_weight)
    desired = [mp_risk_minimizer(e, gamma, alpha, pos_weight) for e in eta]
    _compare(got, desired, [f"eta={e!r}" for e in eta])


@pytest.mark.parametrize("gamma", [0.5, 2.0, 50.0])
def test_per_label_alpha_and_pos_weight_act_on_the_last_axis(gamma):
    alpha = np.array([0.25, 0.5, 0.9])
    pos_weight = np.array([1.0, 3.0, 0.5])
    rng = np.random.default_rng(0)
    q = rng.uniform(0.01, 0.99, size=(4, 5, 3))
    got = binary_psi(q, gamma, alpha=alpha, pos_weight=pos_weight)
    assert got.shape == q.shape
    for j in range(3):
        desired = [
            mp_posterior_of_minimizer(v, gamma, alpha[j], pos_weight[j])
            for v in q[..., j].ravel()
        ]
        _compare(got[..., j].ravel(), desired, [f"label {j}"] * len(desired))
    eta = rng.uniform(0.01, 0.99, size=(4, 5, 3))
    q = binary_focal_minimizer(eta, gamma, alpha=alpha, pos_weight=pos_weight)
    for j in range(3):
        column = binary_focal_minimizer(
            eta[..., j], gamma, alpha=alpha[j], pos_weight=pos_weight[j]
        )
        np.testing.assert_array_equal(q[..., j], column)
    back = binary_psi(q, gamma, alpha=alpha, pos_weight=pos_weight)
    np.testing.assert_allclose(back, eta, rtol=RTOL, atol=0)


# --------------------------------------------------------------------------
# Round trips, identities, order
# --------------------------------------------------------------------------


@pytest.mark.parametrize("alpha, pos_weight", WEIGHTINGS)
@pytest.mark.parametrize("gamma", GAMMAS)
def test_round_trips(gamma, alpha, pos_weight):
    kwargs = {"alpha": alpha, "pos_weight": pos_weight}
    values = ProbArg().values(400)
    q = binary_focal_minimizer(values, gamma, **kwargs)
    keep = q > 1e-300
    back = binary_psi(q[keep], gamma, **kwargs)
    np.testing.assert_allclose(back, values[keep], rtol=RTOL, atol=0)
    eta = binary_psi(values, gamma, **kwargs)
    # Where eta rounds near 1, 1 - q is carried by 1 - eta, which float64
    # holds to 1e-16 absolute only: q -> eta -> q is ill-conditioned there
    # (dq = (B / A) d eta as eta -> 1 for gamma = 0), whatever the code.
    keep = (eta > 1e-300) & (eta < 1 - 1e-3)
    again = binary_focal_minimizer(eta[keep], gamma, **kwargs)
    np.testing.assert_allclose(again, values[keep], rtol=RTOL, atol=0)


def test_gamma_zero_without_weights_is_the_identity():
    values = np.concatenate([[0.0, 1.0], ProbArg().values(200)])
    assert np.array_equal(binary_psi(values, 0.0), values)
    assert np.array_equal(binary_focal_minimizer(values, 0.0), values)
    single = np.float32([0.25, 0.75])
    assert binary_psi(single, 0.0).dtype == np.float32


def test_gamma_zero_with_alpha_is_the_prior_shift():
    # eta / (1 - eta) = ((1 - alpha) / alpha) q / (1 - q): a direct transcription.
    q = np.linspace(0.01, 0.99, 25)
    odds = (0.75 / 0.25) * q / (1 - q)
    np.testing.assert_allclose(binary_psi(q, 0.0, alpha=0.25), odds / (1 + odds))


def test_ends_are_fixed_and_shapes_and_dtypes_kept():
    for gamma in (0.0, 2.0):
        assert np.array_equal(binary_psi([0.0, 1.0], gamma, alpha=0.25), [0.0, 1.0])
        assert np.array_equal(
            binary_focal_minimizer([0.0, 1.0], gamma, alpha=0.25), [0.0, 1.0]
        )
    assert binary_psi(0.3, 2.0).shape == ()
    assert binary_psi(np.full((2, 3, 4), 0.3), 2.0).shape == (2, 3, 4)
    assert binary_psi(np.float32([0.3]), 2.0).dtype == np.float32
    assert binary_focal_minimizer(np.float32([0.3]), 2.0).dtype == np.float32
    assert binary_psi([1, 0], 2.0).dtype == np.float64


def test_agrees_with_two_class_psi():
    # Psi with class weights (A, B) on rows [q, 1 - q] is the same map.
    q = np.linspace(0.02, 0.98, 49)
    rows = np.column_stack([q, 1 - q])
    got = binary_psi(q, 2.0, alpha=0.25, pos_weight=2.0)
    desired = psi(rows, 2.0, alpha=[0.5, 0.75])[:, 0]
    np.testing.assert_allclose(got, desired, rtol=1e-12)


def test_large_inputs_take_the_parallel_kernel_with_the_same_values():
    rng = np.random.default_rng(3)
    q = rng.uniform(size=(40_000, 3))  # above PARALLEL_MIN_SIZE
    big = binary_psi(q, 2.0, alpha=[0.25, 0.5, 0.75])
    small = binary_psi(q[:1000], 2.0, alpha=[0.25, 0.5, 0.75])  # serial twin
    np.testing.assert_array_equal(big[:1000], small)
    minimizer = binary_focal_minimizer(q, 2.0, alpha=[0.25, 0.5, 0.75])
    serial = binary_focal_minimizer(q[:1000], 2.0, alpha=[0.25, 0.5, 0.75])
    np.testing.assert_array_equal(minimizer[:1000], serial)
    back = binary_psi(minimizer, 2.0, alpha=[0.25, 0.5, 0.75])
    np.testing.assert_allclose(back, q, rtol=RTOL, atol=0)


def test_subnormal_scores_and_bad_entries_of_large_inputs():
    # Subnormal scores take the exact pass; the result is the mpmath value.
    q = np.array([5e-324, 1e-310, 2.2250738585072014e-308, 0.5])
    got = binary_psi(q, 0.5, alpha=0.25)
    desired = [mp_posterior_of_minimizer(v, 0.5, 0.25, None) for v in q]
    for value, reference in zip(got, desired, strict=True):
        if reference < mpmath.mpf(10) ** -300:
            assert value <= 1e-299
        else:
            assert abs(mpmath.mpf(value) - reference) <= RTOL * reference
    # A bad entry deep in a large (parallel) input is named by its index.
    big = np.full((40_000, 2), 0.25)
    big[31_234, 1] = np.nan
    with pytest.raises(ValueError, match=r"index \(31234, 1\)"):
        binary_psi(big, 2.0)
    big[31_234, 1] = 0.25
    big[39_999, 0] = -0.5
    with pytest.raises(ValueError, match=r"index \(39999, 0\)"):
        binary_psi(big, 2.0, alpha=[0.25, 0.5])


@settings(max_examples=60, deadline=None)
@given(
    q=arrays(
        np.float64,
        st.integers(2, 30),
        elements=st.floats(0.0, 1.0, allow_nan=False, allow_subnormal=False),
    ),
    gamma=st.floats(0.0, 1000.0),
    alpha=st.one_of(st.none(), st.floats(1e-6, 1 - 1e-6)),
)
def test_binary_psi_is_monotone(q, gamma, alpha):
    # Thresholds keep their order: sorted outputs of sorted inputs.
    q = np.sort(q)
    eta = binary_psi(q, gamma, alpha=alpha)
    assert np.all(np.diff(eta) >= 0)
    back = binary_focal_minimizer(np.sort(eta), gamma, alpha=alpha)
    assert np.all(np.diff(back) >= 0)


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "function, name", [(binary_psi, "p"), (binary_focal_minimizer, "eta")]
)
@pytest.mark.parametrize(
    "values, where",
    [
        ([0.2, np.nan, 0.3], "index 1"),
        ([[0.2, 0.3], [0.4, 1.5]], r"index \(1, 1\)"),
        ([[0.2, -0.1], [0.4, np.inf]], r"index \(0, 1\)"),
        ([0.2, 0.3, np.inf], "index 2"),
    ],
)
def test_values_outside_the_unit_interval_are_named(function, name, values, where):
    for gamma in (0.0, 2.0):
        with pytest.raises(ValueError, match=rf"^{name} must .*{where}"):
            function(values, gamma)
        with pytest.raises(ValueError, match=rf"^{name} must .*{where}"):
            function(values, gamma, alpha=0.25)


@pytest.mark.parametrize("function", [binary_psi, binary_focal_minimizer])
def test_bad_parameters(function):
    q = np.full((3, 2), 0.5)
    with pytest.raises(ValueError, match="alpha must be in the open interval"):
        function(q, 2.0, alpha=1.0)
    with pytest.raises(ValueError, match="alpha .* got -1.0"):
        function(q, 2.0, alpha=-1)  # torchvision's "off" is None here
    with pytest.raises(ValueError, match="alpha must .* got 0.0 at index 1"):
        function(q, 2.0, alpha=[0.5, 0.0])
    with pytest.raises(ValueError, match="alpha has 3 entries .* 2 labels"):
        function(q, 2.0, alpha=[0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="pos_weight must be finite and > 0; got inf"):
        function(q, 2.0, pos_weight=[1.0, np.inf])
    with pytest.raises(ValueError, match="pos_weight"):
        function(q, 2.0, pos_weight=-1.0)
    with pytest.raises(ValueError, match="pos_weight has 2 entries .* no label axis"):
        function(0.5, 2.0, pos_weight=[1.0, 2.0])
    with pytest.raises(TypeError, match="alpha"):
        function(q, 2.0, alpha=True)
    with pytest.raises(ValueError, match="gamma"):
        function(q, -1.0)
    with pytest.raises(ValueError, match="empty"):
        function([], 2.0)
    with pytest.raises(TypeError):
        function(["a"], 2.0)


@pytest.mark.parametrize("gamma", GAMMAS[1:])
def test_exact_pass_alone_matches_mpmath(gamma):
    # Every entry through the exact pass (the package's compiled log h, in
    # logit form), not only those the vectorized pass leaves.
    from sklearn_focal.theory import _binary_kernels

    q = np.concatenate(
        [
            10.0 ** -np.arange(1.0, 320.0, 23.0),
            [0.3, 0.5],
            1.0 - 2.0 ** -np.arange(2, 53, 5),
        ]
    )
    offset = float(np.log(0.75 / 0.25))  # alpha = 0.25
    out = np.full_like(q, -1.0)
    assert _binary_kernels.binary_psi_exact_pass_serial(q, offset, gamma, out) == 0
    for value, v in zip(out, q, strict=True):
        reference = mp_posterior_of_minimizer(v, gamma, 0.25, None)
        if reference < mpmath.mpf(10) ** -300:
            assert value <= 1e-299
        else:
            assert abs(mpmath.mpf(value) - reference) <= RTOL * reference, v
