"""FocalPosteriorRecovery(gamma="fit"): the search by the objective's slope.

The fitted order is compared with a direct optimizer (scipy's bounded
minimize_scalar) on a transcription of the objective written here, the
labelled entries and their slopes with the public maps and finite
differences, and the slope search with the grid search it stands for.

For negative orders the bulk cases use the public ``focal_minimizer`` (fast
enough for thousands of rows); the labelled entries, the seeded cold starts
and the small fits are also checked against an independent reference written
here, which shares no code with the package: the focal-risk minimizer of each
row from ``log h(q_i) = log p_i + c``, ``sum q = 1`` (h transcribed from
its definition, nested ``brentq``), itself checked against a direct
minimization of the focal risk.
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mptestutils import reference_psi
from scipy.optimize import brentq, minimize, minimize_scalar
from scipy.special import log_expit, logsumexp, softmax

from sklearn_focal import FocalPosteriorRecovery, theory
from sklearn_focal.calibration import _base
from sklearn_focal.datasets import make_classification_with_posteriors
from sklearn_focal.exceptions import FlatCalibrationWarning
from sklearn_focal.theory import _posterior_map
from sklearn_focal.theory._posterior_map import _SignedMapAtLabels

# --------------------------------------------------------------------------
# The objective, transcribed
# --------------------------------------------------------------------------


def signed_map(p, g):
    """Psi^g (eqs. 12-13, naive float64) for g >= 0; for g < 0 the public
    focal_minimizer of order -g, the preimage of p under that Psi."""
    if g >= 0:
        return reference_psi(p, g)
    return theory.focal_minimizer(p, -g)


def log_h_of_logit(u, g):
    """``log h(v)`` at ``v = expit(u)``, from ``h(v) = v / phi(v)``,
    ``phi(v) = (1 - v)^g - g (1 - v)^(g - 1) v log v`` (eqs. 10 and 13)."""
    log_v, log_c = float(log_expit(u)), float(log_expit(-u))
    v, c = math.exp(log_v), math.exp(log_c)
    return log_v - (g - 1.0) * log_c - math.log(c - g * v * log_v)


def minimizer_reference(p, g):
    """The focal-risk minimizer of order ``g > 0`` of one row ``p``: the ``q``
    with ``log h(q_i) = log p_i + c`` on the nonzero entries and
    ``sum q = 1`` (zeros stay 0), by ``brentq`` in ``c`` around ``brentq`` in
    each entry's logit. About 2 ms per row of a few classes."""
    nonzero = np.flatnonzero(p > 0)
    q = np.zeros(len(p))
    if len(nonzero) == 1:
        q[nonzero] = 1.0
        return q
    log_p = np.log(p[nonzero])

    def log_q(c):
        logits = [
            brentq(
                lambda u, t=t: log_h_of_logit(u, g) - t,
                -800.0,
                60.0,
                xtol=1e-15,
                rtol=1e-15,
            )
            for t in log_p + c
        ]
        return log_expit(np.array(logits))

    top = log_p.max()
    low = log_h_of_logit(-math.log(len(nonzero) - 1.0), g) - top  # top q = 1/K
    high = log_h_of_logit(60.0, g) - top  # top q rounds to 1
    c = brentq(lambda c: logsumexp(log_q(c)), low, high, xtol=1e-15, rtol=1e-15)
    q[nonzero] = np.exp(log_q(c))
    return q


def risk_minimizer(p, g):
    """Minimizes the focal risk ``sum_i p_i (1 - q_i)^g log(1 / q_i)`` over
    ``q = softmax(z)`` directly (BFGS): the definition of the minimizer."""

    def risk(z):
        log_q = z - logsumexp(z)
        return -np.sum(p * (1 - np.exp(log_q)) ** g * log_q)

    result = minimize(risk, np.log(p), method="BFGS", options={"gtol": 1e-12})
    return softmax(result.x)


def reference_map(p, g):
    """The signed map with the independent reference for ``g < 0``."""
    if g >= 0:
        return reference_psi(p, g)
    return np.array([minimizer_reference(row, -g) for row in p])


def nll(p, y, g, weight=None):
    mapped = signed_map(p, g)[np.arange(len(y)), y]
    return float(np.average(-np.log(mapped), weights=weight))


def direct_minimum(p, y, weight=None):
    """Scan the order on the grid of the search, then minimize_scalar
    (bounded, tight tolerance) between the neighbours of the best point."""
    grid = np.linspace(-20.0, 20.0, 17)
    values = [nll(p, y, g, weight) for g in grid]
    best = int(np.argmin(values))
    low, high = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    result = minimize_scalar(
        lambda g: nll(p, y, g, weight),
        bounds=(low, high),
        method="bounded",
        options={"xatol": 1e-10},
    )
    return result.x, result.fun


def overconfident(n, k, temperature, seed):
    """Sharp scores, labels drawn at a higher temperature (as the bench)."""
    rng = np.random.default_rng(seed)
    logits = 2.5 * rng.standard_normal((n, k))
    truth = softmax(logits / temperature, axis=1)
    y = (truth.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    return softmax(logits, axis=1), y


def focal_outputs(n, k, gamma, seed):
    """Under-confident scores: the focal minimizer of known posteriors."""
    _, y, eta = make_classification_with_posteriors(
        n, k, class_sep=1.0, random_state=seed
    )
    return theory.focal_minimizer(eta, gamma), y


CASES = {
    "overconfident, 10 classes": lambda: overconfident(3000, 10, 1.6, 0),
    "overconfident, 3 classes": lambda: overconfident(2500, 3, 2.5, 1),
    "underconfident, focal order 2": lambda: focal_outputs(3000, 3, 2.0, 2),
    "underconfident, focal order 7": lambda: focal_outputs(2000, 4, 7.0, 3),
    "nearly calibrated": lambda: overconfident(3000, 5, 1.0, 4),
}


@pytest.mark.parametrize("case", CASES)
def test_fitted_order_is_the_direct_minimum(case):
    p, y = CASES[case]()
    weight = np.random.default_rng(5).uniform(0.2, 2.0, size=len(y))
    for w in (None, weight):
        fitted = FocalPosteriorRecovery(gamma="fit").fit(p, y, sample_weight=w)
        x, fun = direct_minimum(p, y, w)
        # minimize_scalar works on values, whose rounding limits it to about
        # sqrt(eps / curvature) ~ 1e-7 in the order; the fit's slope is exact.
        assert fitted.gamma_ == pytest.approx(x, abs=2e-6)
        assert nll(p, y, fitted.gamma_, w) <= fun + 1e-13 * max(1.0, fun)


@pytest.mark.parametrize("case", CASES)
def test_slope_search_equals_the_grid_search(case, monkeypatch):
    p, y = CASES[case]()
    fitted = FocalPosteriorRecovery(gamma="fit").fit(p, y).gamma_

    def no_slope(value_and_slope, bounds, *, identity, fallback, **kwargs):
        return fallback()

    monkeypatch.setattr(
        "sklearn_focal.calibration._posterior._minimize_with_slope", no_slope
    )
    grid = FocalPosteriorRecovery(gamma="fit").fit(p, y).gamma_
    assert fitted == pytest.approx(grid, abs=2e-6)


def test_few_evaluations_and_one_on_the_far_side(monkeypatch):
    # Over-confident scores: the minimum is at a negative order; the other
    # side is abandoned after its first grid point (above the value at 0,
    # sloping back towards 0), and the grid search is not run.
    p, y = overconfident(3000, 10, 1.6, 0)
    orders = []
    call = _SignedMapAtLabels.__call__

    def counting(self, g):
        orders.append(g)
        return call(self, g)

    monkeypatch.setattr(_SignedMapAtLabels, "__call__", counting)
    fallback = []
    original = _base._minimize_on_interval
    monkeypatch.setattr(
        "sklearn_focal.calibration._posterior._minimize_on_interval",
        lambda *a, **k: fallback.append(1) or original(*a, **k),
    )
    gamma = FocalPosteriorRecovery(gamma="fit").fit(p, y).gamma_
    assert gamma < -1
    assert not fallback
    assert orders[0] == 0.0 and orders[-1] == 2.5
    assert all(g < 0 for g in orders[1:-1])
    assert len(orders) <= 10


# --------------------------------------------------------------------------
# The labelled entries and their slopes
# --------------------------------------------------------------------------


def hard_rows():
    rng = np.random.default_rng(7)
    rows = list(rng.dirichlet(np.full(5, 0.3), size=40))
    rows += [
        [1.0, 0.0, 0.0, 0.0, 0.0],  # one-hot: a fixed point
        [0.5, 0.5, 0.0, 0.0, 0.0],  # zeros stay 0
        [1 - 3e-12, 1e-12, 1e-12, 1e-12, 0.0],  # nearly one-hot
        [0.6, 0.4 - 2e-150, 1e-150, 1e-150, 0.0],  # below h(v) = v
        [0.2] * 5,
    ]
    rows = np.array(rows)
    return rows / rows.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("g", [0.0, 0.3, 1.0, 2.5, 6.2, 19.0, -0.3, -1.0, -4.7, -19.0])
def test_labelled_entries_are_the_public_maps(g):
    p = hard_rows()
    y = np.random.default_rng(8).integers(0, 5, size=len(p))
    y[-5:] = [0, 1, 0, 1, 3]  # labels with nonzero probability
    rows = np.arange(len(p))
    log_q, slope = _SignedMapAtLabels(p, y)(g)
    public = theory.psi(p, g) if g >= 0 else theory.focal_minimizer(p, -g)
    np.testing.assert_allclose(log_q, np.log(public[rows, y]), rtol=1e-13, atol=1e-13)

    def public_log(order):
        mapped = (
            theory.psi(p, order) if order >= 0 else theory.focal_minimizer(p, -order)
        )
        return np.log(mapped[rows, y])

    step = 1e-5
    if g == 0:  # one-sided: the two branches meet at 0 with one slope
        finite_difference = (public_log(step) - public_log(0.0)) / step
        tolerance = 1e-4
    else:
        finite_difference = (public_log(g + step) - public_log(g - step)) / (2 * step)
        tolerance = 1e-6
    np.testing.assert_allclose(slope, finite_difference, rtol=tolerance, atol=tolerance)
    assert np.all(slope[-5] == 0)  # the one-hot row does not move


def test_slope_is_continuous_at_zero():
    p = hard_rows()[:40]
    y = np.arange(len(p)) % 5
    at_labels = _SignedMapAtLabels(p, y)
    slope = at_labels(0.0)[1]
    for tiny in (1e-9, -1e-9):
        np.testing.assert_allclose(at_labels(tiny)[1], slope, rtol=1e-6, atol=1e-9)


def test_warm_start_gives_the_cold_answer():
    p, y = overconfident(2500, 6, 1.6, 9)  # the table start of large inputs
    warm = _SignedMapAtLabels(p, y)
    warm(-3.0)
    for g in (-3.001, -3.0012, -3.0012001):
        assert abs(-g - warm._state[0]) <= _posterior_map._WARM_MAX
        log_q, slope = warm(g)
        cold_q, cold_slope = _SignedMapAtLabels(p, y)(g)
        np.testing.assert_allclose(log_q, cold_q, rtol=1e-13, atol=1e-14)
        # The slopes are taken at Newton's last iterate, within a step below
        # 1e-7 of the solution (from a different start, warm or cold).
        np.testing.assert_allclose(slope, cold_slope, rtol=1e-6, atol=1e-8)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(2, 8),
    concentration=st.floats(0.2, 5.0),
    g=st.floats(-20.0, 20.0),
)
def test_labelled_entries_equal_the_maps_for_any_rows(seed, k, concentration, g):
    rng = np.random.default_rng(seed)
    p = np.clip(rng.dirichlet(np.full(k, concentration), size=30), 1e-200, None)
    p /= p.sum(axis=1, keepdims=True)  # no subnormal outputs: full precision
    y = (p.cumsum(axis=1) > rng.random((30, 1))).argmax(axis=1)
    keep = p[np.arange(30), y] > 0
    p, y = p[keep], y[keep]
    log_q, _ = _SignedMapAtLabels(p, y)(g)
    public = theory.psi(p, g) if g >= 0 else theory.focal_minimizer(p, -g)
    expected = np.log(public[np.arange(len(y)), y])
    np.testing.assert_allclose(log_q, expected, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------
# The slope search on objectives of known shape
# --------------------------------------------------------------------------


def _search(function, slope, bounds=(-20.0, 20.0)):
    calls = []

    def value_and_slope(x):
        calls.append(x)
        return function(x), slope(x)

    def fallback():
        calls.append("fallback")
        return "fallback"

    x = _base._minimize_with_slope(
        value_and_slope, bounds, identity=0.0, fallback=fallback
    )
    return x, calls


@pytest.mark.parametrize("center", [-13.7, -4.2, -0.01, 0.8, 3.3, 17.9])
def test_search_finds_a_smooth_minimum(center):
    x, calls = _search(
        lambda x: np.logaddexp(0, x - center) + np.logaddexp(0, center - x),
        lambda x: np.tanh((x - center) / 2),
    )
    assert x == pytest.approx(center, abs=1e-7)
    assert "fallback" not in calls
    # The other side of the identity: its first grid point only.
    assert [c for c in calls if c * center < 0] == [-2.5 if center > 0 else 2.5]
    assert len(calls) <= 16


@pytest.mark.parametrize("side", [-1.0, 1.0])
def test_search_stops_at_the_bound_it_falls_towards(side):
    x, calls = _search(lambda x: -side * x, lambda x: -side)
    assert x == 20.0 * side
    assert "fallback" not in calls


@pytest.mark.parametrize(
    "function, slope",
    [
        # Flat at the identity.
        (lambda x: (x - 3.0) ** 4, lambda x: 0.0 * x),
        # Not finite.
        (lambda x: np.inf if x < -1 else x * x + x, lambda x: 2 * x + 1),
        # A value that rises while the slope still falls.
        (
            lambda x: (x - 0.5) ** 2 if abs(x) < 1 else 5.0 - x,
            lambda x: 2 * (x - 0.5) if abs(x) < 1 else -1.0,
        ),
    ],
)
def test_search_leaves_other_shapes_to_the_grid_search(function, slope):
    x, calls = _search(function, slope)
    assert x == "fallback"


def test_search_leaves_a_flat_objective_to_the_grid_search():
    # Falls by less than the flatness tolerance towards the bound: the grid
    # search warns, as before.
    x, calls = _search(lambda x: -1e-9 * x, lambda x: -1e-9)
    assert x == "fallback"
    p = np.tile([[1 - 1e-12, 1e-12 / 2, 1e-12 / 2]], (50, 1))
    with pytest.warns(FlatCalibrationWarning):
        assert FocalPosteriorRecovery(gamma="fit").fit(p, np.zeros(50, int)).gamma_ == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p, y = overconfident(500, 3, 1.6, 3)
        FocalPosteriorRecovery(gamma="fit").fit(p, y)


@pytest.mark.parametrize("case", CASES)
def test_fitted_order_is_the_root_of_the_objectives_slope(case):
    # A sharper reference than minimize_scalar: the root of the central
    # difference of the transcribed objective, to the search's tolerance.
    p, y = CASES[case]()
    gamma = FocalPosteriorRecovery(gamma="fit").fit(p, y).gamma_
    step = 1e-4

    def slope(g):
        return (nll(p, y, g + step) - nll(p, y, g - step)) / (2 * step)

    root = brentq(slope, gamma - 0.01, gamma + 0.01, xtol=1e-12)
    assert abs(gamma - root) <= 2e-7


def _two_basins(near, far, depth_near, depth_far, width=1.0):
    """Two Gaussian wells at ``near`` and ``far``: value and slope."""

    def function(x):
        return -depth_near * np.exp(-((x - near) ** 2) / (2 * width**2)) - (
            depth_far * np.exp(-((x - far) ** 2) / (2 * width**2))
        )

    def slope(x):
        return depth_near * (x - near) / width**2 * np.exp(
            -((x - near) ** 2) / (2 * width**2)
        ) + depth_far * (x - far) / width**2 * np.exp(
            -((x - far) ** 2) / (2 * width**2)
        )

    return function, slope


@pytest.mark.parametrize("sign", [-1.0, 1.0])
@pytest.mark.parametrize("deeper", ["near", "far"])
def test_search_looks_at_both_sides(sign, deeper):
    # One well on each side of the identity; the slope at 0 points to the
    # near one. The deeper of the two is returned, wherever it is.
    near, far = 0.4 * sign, -3.1 * sign
    depths = (1.0, 2.0) if deeper == "far" else (2.0, 1.0)
    function, slope = _two_basins(near, far, *depths)
    x, calls = _search(function, slope)
    assert "fallback" not in calls
    expected = minimize_scalar(
        function,
        bounds=sorted((0.0, 2 * (far if deeper == "far" else near))),
        method="bounded",
        options={"xatol": 1e-10},
    ).x
    assert x == pytest.approx(expected, abs=1e-6)


def test_search_misses_a_basin_behind_a_rise():
    # The documented limitation: on the side the slope at 0 points to, the
    # walk refines the first minimum; a deeper one farther out, behind a rise
    # that the walk's grid points do not pass, is not seen.
    function, slope = _two_basins(1.0, 9.0, 1.0, 3.0)
    x, calls = _search(function, slope)  # the other side: abandoned
    assert x == pytest.approx(1.0, abs=1e-4)
    assert max(c for c in calls if c != "fallback") < 9.0 - 2.5
    assert function(9.0) < function(x)


# --------------------------------------------------------------------------
# Independent references for negative orders (finding: the bulk reference
# focal_minimizer shares the solver under test)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("g", [0.4, 2.0, 7.5])
def test_minimizer_reference_minimizes_the_focal_risk(g):
    rows = np.random.default_rng(11).dirichlet(np.full(4, 0.8), size=3)
    for p in rows:
        # BFGS on values stops within ~1e-8 of the minimizer.
        np.testing.assert_allclose(
            minimizer_reference(p, g), risk_minimizer(p, g), rtol=0, atol=2e-7
        )


@pytest.mark.parametrize("g", [-0.3, -1.0, -4.7, -19.0])
def test_labelled_entries_equal_the_independent_minimizer(g):
    p = hard_rows()[:40]
    y = np.random.default_rng(12).integers(0, 5, size=len(p))
    keep = p[np.arange(len(p)), y] > 1e-300
    p, y = p[keep], y[keep]
    rows = np.arange(len(p))
    log_q, slope = _SignedMapAtLabels(p, y)(g)
    expected = np.log(reference_map(p, g)[rows, y])
    np.testing.assert_allclose(log_q, expected, rtol=1e-12, atol=1e-12)
    # The slope in g against a central difference of the reference (10 rows).
    step = 1e-5
    few = slice(0, 10)
    difference = (
        np.log(reference_map(p[few], g + step)[rows[few], y[few]])
        - np.log(reference_map(p[few], g - step)[rows[few], y[few]])
    ) / (2 * step)
    np.testing.assert_allclose(slope[few], difference, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("k, concentration", [(3, 0.3), (6, 2.0)])
def test_seeded_cold_starts_give_the_independent_minimizer(
    k, concentration, monkeypatch
):
    # One evaluator through an order sequence: cold start, seeded starts from
    # a far kept solution (both directions, large jumps) and warm starts
    # (within _WARM_MAX), as the search makes them. The start each solve
    # really used is read from the kernel call (a spy on dispatch).
    from sklearn_focal.theory import _label_kernels
    from sklearn_focal.utils import _parallel

    names = {
        _label_kernels.COLD: "cold",
        _label_kernels.SEEDED: "seeded",
        _label_kernels.WARM: "warm",
    }
    used = []
    dispatch = _parallel.dispatch

    def spy(parallel, serial, *args, **kwargs):
        if parallel is _label_kernels.minimizer_label_rows:
            used.append(names[args[5]])  # p, log_p, labels, gamma, power, start
        return dispatch(parallel, serial, *args, **kwargs)

    monkeypatch.setattr(_parallel, "dispatch", spy)
    rng = np.random.default_rng(k)
    p = np.clip(rng.dirichlet(np.full(k, concentration), size=25), 1e-200, None)
    p /= p.sum(axis=1, keepdims=True)
    y = (p.cumsum(axis=1) > rng.random((len(p), 1))).argmax(axis=1)
    rows = np.arange(len(p))
    at_labels = _SignedMapAtLabels(p, y)
    orders = [-2.5, -5.0, -10.0, -20.0, -12.3, -12.3005, -12.301, -0.7, -0.7001]
    orders += [-19.99, 2.5, -3.3]
    for g in orders:
        log_q, _ = at_labels(g)
        expected = np.log(reference_map(p, g)[rows, y])
        np.testing.assert_allclose(log_q, expected, rtol=1e-12, atol=1e-12)
    # Orders 3e-3 apart or less are warm (_WARM_MAX), farther ones seeded.
    assert _posterior_map._WARM_MAX < 0.01
    assert (
        used
        == ["cold"]
        + ["seeded"] * 4
        + ["warm"] * 2
        + ["seeded", "warm"]
        + ["seeded"] * 2
    )


# --------------------------------------------------------------------------
# Two basins: the search must find the deeper one (regression)
# --------------------------------------------------------------------------

# 100 rows of 3 classes, 4 distinct probability rows; label counts per row.
BIMODAL = {
    (0.2884415955927333, 0.501930478326851, 0.20962792608041575): [1, 10, 3],
    (0.4007558750600336, 0.4947980947069355, 0.10444603023303098): [0, 15, 8],
    (0.4441386976081544, 0.2634710488998612, 0.2923902534919844): [10, 12, 7],
    (0.48772913013596064, 0.13054591764692844, 0.38172495221711095): [17, 4, 13],
}


def test_deeper_basin_on_the_other_side_is_found():
    # The slope at 0 points to a shallow minimum near +0.17; the deeper one
    # is near -2.6. The expected order is the minimum of a dense scan of the
    # transcribed objective (on the 4 distinct rows, weighted by counts),
    # refined by bounded minimize_scalar.
    distinct = np.array(list(BIMODAL))
    distinct /= distinct.sum(axis=1, keepdims=True)
    counts = np.array(list(BIMODAL.values()), dtype=float)

    def objective(g):
        log_m = np.log(reference_map(distinct, g))
        return float(-np.sum(counts * log_m) / counts.sum())

    scan = np.linspace(-20.0, 20.0, 161)
    values = np.array([objective(g) for g in scan])
    best = int(np.argmin(values))
    result = minimize_scalar(
        objective,
        bounds=(scan[best - 1], scan[best + 1]),
        method="bounded",
        options={"xatol": 1e-9},
    )
    assert result.x < -1.0 < 0.1 < scan[np.argmin(np.where(scan > 0, values, np.inf))]

    p = np.repeat(distinct, counts.sum(axis=1).astype(int), axis=0)
    y = np.concatenate([np.repeat(np.arange(3), c.astype(int)) for c in counts])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fitted = FocalPosteriorRecovery(gamma="fit").fit(p, y).gamma_
    assert fitted == pytest.approx(result.x, abs=2e-6)
    assert objective(fitted) <= result.fun + 1e-12
