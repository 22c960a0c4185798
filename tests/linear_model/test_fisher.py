"""Fisher information of 1-bit measurements against independent references.

References: the closed forms quoted in issue #14, the negative Hessian of the
expected log-likelihood by central finite differences (bit probabilities from
scipy.stats, written here), brute-force searches for the optimal threshold,
and the Proposition 1 property I - J >= 0 with hypothesis.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from sklearn_focal.linear_model import (
    efficiency,
    fisher_information,
    fisher_information_uncensored,
    optimal_threshold,
)


def test_issue_example_gaussian_closed_form():
    # alpha = sigma^2 = 1, w = (1, 1), tau = (0, 2): J = diag(0.877258, 0.219314)
    # in (alpha, sigma^2), I = diag(2, 1). Intercept-only: X has no column.
    X = np.zeros((2, 0))
    J = fisher_information(X, [], 1.0, threshold=[0.0, 2.0])
    np.testing.assert_allclose(J, np.diag([0.877258, 0.219314]), atol=5e-7)
    I = fisher_information_uncensored(X, [], 1.0, threshold=[0.0, 2.0])
    np.testing.assert_allclose(I, np.diag([2.0, 1.0]))


def test_issue_example_poisson_closed_form():
    # lambda = 1, tau = 1: J = 1 / (e - 1) about log lambda; I = lambda = 1
    J = fisher_information(np.zeros((1, 0)), [], 0.0, threshold=1.0, family="poisson")
    np.testing.assert_allclose(J, [[1.0 / (np.e - 1.0)]], rtol=1e-14)
    I = fisher_information_uncensored(np.zeros((1, 0)), [], 0.0, family="poisson")
    np.testing.assert_allclose(I, [[1.0]])


# --------------------------------------------------------------------------
# J = -Hessian of the expected log-likelihood (finite differences)
# --------------------------------------------------------------------------


def _expected_loglik_gaussian(theta, theta0, X, tau, coordinates):
    def prob(t):
        coef, b, last = t[:-2], t[-2], t[-1]
        sigma = np.sqrt(last) if coordinates == "variance" else last
        return stats.norm.sf((tau - X @ coef - b) / sigma)

    p0, p = prob(theta0), prob(theta)
    return np.sum(p0 * np.log(p) + (1 - p0) * np.log1p(-p))


def _expected_loglik_poisson(theta, theta0, X, tau, offset):
    k = np.ceil(tau) - 1

    def prob(t):
        return stats.poisson.sf(k, np.exp(X @ t[:-1] + t[-1] + offset))

    p0, p = prob(theta0), prob(theta)
    return np.sum(p0 * np.log(p) + (1 - p0) * np.log1p(-p))


def _negative_hessian(f, theta, h=1e-4):
    q = len(theta)
    H = np.empty((q, q))
    eye = np.eye(q) * h
    for i in range(q):
        for j in range(q):
            H[i, j] = (
                f(theta + eye[i] + eye[j])
                - f(theta + eye[i] - eye[j])
                - f(theta - eye[i] + eye[j])
                + f(theta - eye[i] - eye[j])
            ) / (4 * h * h)
    return -H


@pytest.mark.parametrize("coordinates", ["variance", "scale"])
def test_gaussian_J_is_the_negative_hessian(coordinates):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    tau = rng.uniform(-2, 2, size=40)
    coef, b, sigma = np.array([0.7, -0.4]), 0.3, 1.3
    last = sigma**2 if coordinates == "variance" else sigma
    theta0 = np.r_[coef, b, last]
    J = fisher_information(
        X, coef, b, threshold=tau, scale=sigma, coordinates=coordinates
    )
    H = _negative_hessian(
        lambda t: _expected_loglik_gaussian(t, theta0, X, tau, coordinates), theta0
    )
    np.testing.assert_allclose(J, H, rtol=1e-5, atol=1e-6 * np.abs(H).max())


def test_poisson_J_is_the_negative_hessian():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 2))
    tau = rng.uniform(0.2, 6, size=40)
    offset = rng.normal(0, 0.2, size=40)
    theta0 = np.array([0.3, -0.2, 1.1])
    J = fisher_information(
        X, theta0[:2], theta0[2], threshold=tau, family="poisson", offset=offset
    )
    H = _negative_hessian(
        lambda t: _expected_loglik_poisson(t, theta0, X, tau, offset), theta0
    )
    np.testing.assert_allclose(J, H, rtol=1e-5, atol=1e-6 * np.abs(H).max())


def test_no_intercept_and_weights():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 2))
    tau = rng.uniform(-1, 1, size=30)
    full = fisher_information(X, [0.5, 0.1], 0.2, threshold=tau)
    without = fisher_information(X, [0.5, 0.1], 0.2, threshold=tau, fit_intercept=False)
    keep = [0, 1, 3]  # the intercept row and column removed
    np.testing.assert_allclose(without, full[np.ix_(keep, keep)])
    w = rng.integers(0, 3, size=30)
    weighted = fisher_information(X, [0.5, 0.1], 0.2, threshold=tau, sample_weight=w)
    rows = np.repeat(np.arange(30), w)
    repeated = fisher_information(X[rows], [0.5, 0.1], 0.2, threshold=tau[rows])
    np.testing.assert_allclose(weighted, repeated)


@given(
    seed=st.integers(0, 2**32 - 1),
    sigma=st.floats(0.1, 10.0),
    spread=st.floats(0.1, 5.0),
)
def test_censoring_loses_information_gaussian(seed, sigma, spread):
    # Proposition 1: I_n - J_n is positive semidefinite
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(12, 2))
    tau = rng.normal(0, spread, size=12)
    args = (X, rng.normal(size=2), rng.normal())
    J = fisher_information(*args, threshold=tau, scale=sigma)
    I = fisher_information_uncensored(*args, threshold=tau, scale=sigma)
    scale = np.sqrt(np.outer(np.diag(I), np.diag(I)))
    assert np.linalg.eigvalsh((I - J) / scale).min() > -1e-12


@given(seed=st.integers(0, 2**32 - 1), level=st.floats(-3.0, 4.0))
def test_censoring_loses_information_poisson(seed, level):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(12, 2))
    tau = rng.uniform(0.01, 30, size=12)
    args = (X, rng.normal(0, 0.5, size=2), level)
    J = fisher_information(*args, threshold=tau, family="poisson")
    I = fisher_information_uncensored(*args, family="poisson")
    scale = np.sqrt(np.outer(np.diag(I), np.diag(I)))
    assert np.linalg.eigvalsh((I - J) / scale).min() > -1e-12


# --------------------------------------------------------------------------
# Per-sample efficiency
# --------------------------------------------------------------------------


def _r(z):
    return stats.norm.pdf(z) ** 2 / (stats.norm.cdf(z) * stats.norm.sf(z))


@given(z=st.floats(-30.0, 30.0), mean=st.floats(-5, 5), scale=st.floats(0.1, 10))
def test_gaussian_mean_efficiency_peaks_at_two_over_pi(z, mean, scale):
    tau = mean + scale * z
    z = (tau - mean) / scale  # the z the threshold really has, after rounding
    e = efficiency(tau, mean, scale)
    assert 0.0 <= e <= 2.0 / np.pi * (1 + 1e-15)
    if abs(z) < 8:
        np.testing.assert_allclose(e, _r(z), rtol=1e-12)
    es = efficiency(tau, mean, scale, parameter="scale")
    assert 0.0 <= es <= 1.0
    if abs(z) < 8:
        np.testing.assert_allclose(es, _r(z) * z * z / 2, rtol=1e-12, atol=1e-300)


def test_gaussian_efficiency_at_zero():
    np.testing.assert_allclose(efficiency(0.0, 0.0), 2.0 / np.pi, rtol=1e-15)
    assert efficiency(0.0, 0.0, parameter="scale") == 0.0


@given(lam=st.floats(1e-3, 40.0))
def test_poisson_efficiency_at_tau_one(lam):
    np.testing.assert_allclose(
        efficiency(1.0, lam, family="poisson"), lam / np.expm1(lam), rtol=1e-12
    )


@given(lam=st.floats(1e-2, 200.0), tau=st.floats(0.01, 300.0))
def test_poisson_efficiency_below_one(lam, tau):
    e = efficiency(tau, lam, family="poisson")
    assert 0.0 <= e <= 1.0


# --------------------------------------------------------------------------
# Optimal threshold: brute force with formulas written here
# --------------------------------------------------------------------------


@pytest.mark.parametrize("mean, scale", [(0.0, 1.0), (2.5, 0.3)])
def test_optimal_threshold_gaussian(mean, scale):
    assert optimal_threshold(mean, scale) == mean
    z = np.linspace(0.01, 5, 200001)
    z_star = z[np.argmax(_r(z) * z * z)]
    np.testing.assert_allclose(
        optimal_threshold(mean, scale, criterion="scale"),
        mean + scale * z_star,
        atol=1e-4 * scale,
    )


def test_optimal_threshold_determinant():
    # information so far about (mean, sigma^2): a few bits at the mean, which
    # say little about the variance; brute-force det(J0 + J(tau)) over tau
    J0 = np.array([[3.0, 0.2], [0.2, 0.4]])
    mean, scale = 1.0, 2.0
    tau = np.linspace(-15, 17, 320001)
    z = (tau - mean) / scale
    g = np.stack([np.ones_like(z) / scale, z / (2 * scale**2)])
    r = _r(z)
    dets = [
        np.linalg.det(J0 + r[i] * np.outer(g[:, i], g[:, i]))
        for i in range(0, len(z), 40)
    ]
    best = tau[::40][int(np.argmax(dets))]
    got = optimal_threshold(
        mean, scale, criterion="determinant", current_information=J0
    )
    assert abs(got - best) < 2e-3 * scale
    with pytest.raises(ValueError, match="needs current_information"):
        optimal_threshold(mean, scale, criterion="determinant")
    with pytest.raises(ValueError, match="positive definite"):
        optimal_threshold(0.0, criterion="determinant", current_information=-J0)


@pytest.mark.parametrize("lam", [0.05, 1.0, 3.7, 50.0])
def test_optimal_threshold_poisson(lam):
    k = np.arange(0, 200)
    k = k[stats.poisson.sf(k, lam) > 1e-100]  # where scipy's sf is accurate
    pmf = stats.poisson.pmf(k, lam)
    J = lam**2 * pmf**2 / (stats.poisson.cdf(k, lam) * stats.poisson.sf(k, lam))
    assert optimal_threshold(lam, family="poisson") == k[np.argmax(J)] + 1


_X2 = np.zeros((2, 1))
_J0 = np.array([[3.0, 0.2], [0.2, 0.4]])


@pytest.mark.parametrize(
    "call, error, match",
    [
        # options through validate_params (scikit-learn's message names them)
        (
            lambda: fisher_information(_X2, [0.0], threshold=0.0, family="binomial"),
            ValueError,
            "'family' parameter of fisher_information must be a str among",
        ),
        (
            lambda: fisher_information(_X2, [0.0], threshold=0.0, coordinates="sd"),
            ValueError,
            "'coordinates' parameter of fisher_information",
        ),
        (
            lambda: fisher_information_uncensored(_X2, [0.0], fit_intercept="yes"),
            ValueError,
            "'fit_intercept' parameter of fisher_information_uncensored",
        ),
        (
            lambda: efficiency(0.0, 0.0, parameter="location"),
            ValueError,
            "'parameter' parameter of efficiency",
        ),
        (
            lambda: optimal_threshold(0.0, criterion="variance"),
            ValueError,
            "'criterion' parameter of optimal_threshold",
        ),
        (
            lambda: fisher_information(_X2, [0.0], threshold=0.0, scale=0.0),
            ValueError,
            r"'scale' parameter of fisher_information must be .*\(0.0, inf\)",
        ),
        (
            lambda: fisher_information(_X2, [0.0], np.inf, threshold=0.0),
            ValueError,
            "'intercept' parameter of fisher_information",
        ),
        (
            lambda: optimal_threshold(np.nan),
            ValueError,
            "'mean' parameter of optimal_threshold",
        ),
        # a bool is never a number (validate_params lets it through as 1)
        (
            lambda: fisher_information(_X2, [0.0], threshold=0.0, scale=True),
            TypeError,
            "scale must be a real number, got bool",
        ),
        (
            lambda: fisher_information(_X2, [0.0], True, threshold=0.0),
            TypeError,
            "intercept must be a real number, got bool",
        ),
        (
            lambda: fisher_information(_X2, [0.0], threshold=[True, False]),
            TypeError,
            "threshold must hold real numbers, got dtype bool",
        ),
        # arrays: the parameter and the first bad row or index
        (
            lambda: fisher_information(_X2, [0.0, 1.0], threshold=0.0),
            ValueError,
            r"coef must have shape \(1,\), got an array of shape \(2,\)",
        ),
        (
            lambda: fisher_information(
                np.zeros((2, 3)), [0.0, np.inf, np.nan], 0.0, threshold=0.0
            ),
            ValueError,
            r"coef must be finite \(no NaN or inf\); row 1 is inf",
        ),
        (
            lambda: fisher_information([[0.0], [np.nan]], [0.0], threshold=0.0),
            ValueError,
            r"X must be finite \(no NaN or inf\); index \(1, 0\) is nan",
        ),
        (
            lambda: fisher_information_uncensored([[np.inf], [0.0]], [0.0]),
            ValueError,
            r"X must be finite \(no NaN or inf\); index \(0, 0\) is inf",
        ),
        (
            lambda: fisher_information(_X2, [0.0], threshold=[0.0, np.nan]),
            ValueError,
            r"threshold must be finite \(no NaN or inf\); row 1 is nan",
        ),
        (
            lambda: fisher_information(_X2, [0.0], threshold=[0.0, 1.0, 2.0]),
            ValueError,
            r"threshold must be a scalar or have shape \(2,\)",
        ),
        (
            lambda: fisher_information(
                _X2, [0.0], threshold=0.0, offset=[1.0, -np.inf]
            ),
            ValueError,
            r"offset must be finite \(no NaN or inf\); row 1 is -inf",
        ),
        (
            lambda: fisher_information(
                _X2, [0.0], threshold=0.0, sample_weight=[1, -1]
            ),
            ValueError,
            "sample_weight must be finite and >= 0; row 1 is -1.0",
        ),
        (
            lambda: fisher_information(
                _X2, [0.0], threshold=[1.0, 0.0], family="poisson"
            ),
            ValueError,
            r"threshold must be > 0 for the Poisson family \(a count .*; row 1 is 0.0",
        ),
        (
            lambda: efficiency([[0.0, 1.0], [np.nan, 0.0]], 0.0),
            ValueError,
            r"threshold must be finite \(no NaN or inf\); index \(1, 0\) is nan",
        ),
        (
            lambda: efficiency(0.0, [0.0, np.inf, 1.0]),
            ValueError,
            r"mean must be finite \(no NaN or inf\); row 1 is inf",
        ),
        (
            lambda: efficiency([1.0, 2.0, 3.0], [1.0, 2.0]),
            ValueError,
            r"threshold \(shape \(3,\)\) and mean \(shape \(2,\)\) do not broadcast",
        ),
        (
            lambda: efficiency([1.0, 2.0], [1.0, -2.0], family="poisson"),
            ValueError,
            r"mean must be > 0 for the Poisson family \(lambda\); row 1 is -2.0",
        ),
        (
            lambda: efficiency([1.0, -0.5], 1.0, family="poisson"),
            ValueError,
            "threshold must be > 0 for the Poisson family.*; row 1 is -0.5",
        ),
        (
            lambda: efficiency(1.0, 1.0, family="poisson", parameter="scale"),
            ValueError,
            "parameter='scale' applies to the Gaussian family only",
        ),
        (
            lambda: optimal_threshold(-1.0, family="poisson"),
            ValueError,
            "mean must be > 0, got -1.0",
        ),
        (
            lambda: optimal_threshold(1.0, family="poisson", criterion="scale"),
            ValueError,
            "one parameter: criterion='mean', got criterion='scale'",
        ),
        (
            lambda: optimal_threshold(0.0, criterion="determinant"),
            ValueError,
            "needs current_information",
        ),
        (
            lambda: optimal_threshold(0.0, current_information=_J0),
            ValueError,
            "current_information is used by criterion='determinant' only",
        ),
        (
            lambda: optimal_threshold(
                0.0, criterion="determinant", current_information=np.eye(3)
            ),
            ValueError,
            r"current_information must have shape \(2, 2\)",
        ),
        (
            lambda: optimal_threshold(
                0.0, criterion="determinant", current_information=[[1, 0], [np.nan, 1]]
            ),
            ValueError,
            r"current_information must be finite \(no NaN or inf\); "
            r"index \(1, 0\) is nan",
        ),
        (
            lambda: optimal_threshold(
                0.0, criterion="determinant", current_information=[[1, 0.5], [0, 1]]
            ),
            ValueError,
            r"current_information must be symmetric; entry \(0, 1\)",
        ),
        (
            lambda: optimal_threshold(
                0.0, criterion="determinant", current_information=-_J0
            ),
            ValueError,
            "current_information must be positive definite",
        ),
    ],
)
def test_bad_inputs_of_design_functions(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --------------------------------------------------------------------------
# The Poisson family has no scale: a scale is refused, not ignored
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda s: efficiency(1.0, 2.0, s, family="poisson"),
        lambda s: efficiency(1.0, 2.0, scale=s, family="poisson"),
        lambda s: optimal_threshold(2.0, s, family="poisson"),
        lambda s: fisher_information(
            _X2, [0.0], threshold=1.0, family="poisson", scale=s
        ),
        lambda s: fisher_information_uncensored(_X2, [0.0], family="poisson", scale=s),
    ],
)
@pytest.mark.parametrize("scale", [1.0, 3.0])
def test_poisson_refuses_a_scale(call, scale):
    # 1.0, the Gaussian default, too: the value would be ignored either way
    with pytest.raises(ValueError, match=r"scale applies to the Gaussian family only"):
        call(scale)


def test_poisson_refuses_gaussian_coordinates():
    with pytest.raises(ValueError, match="coordinates applies to the Gaussian family"):
        fisher_information(
            _X2, [0.0], threshold=1.0, family="poisson", coordinates="scale"
        )


def test_gaussian_defaults_are_unit_scale_and_variance_coordinates():
    # scale=None means sigma = 1; coordinates=None means (.., sigma**2):
    # r(z) z**2 / 2 and 2 / pi written here
    tau = np.array([-1.0, 0.5, 2.0])
    z = tau - 0.3
    expected = _r(z) * z * z / 2
    np.testing.assert_allclose(
        efficiency(tau, 0.3, parameter="scale"), expected, rtol=1e-13
    )
    np.testing.assert_allclose(
        efficiency(tau, 0.3, 2.0, parameter="scale"),
        _r(z / 2) * z * z / 8,
        rtol=1e-13,
    )
    X = np.zeros((3, 1))
    J = fisher_information(X, [0.0], 0.3, threshold=tau)
    assert J[-1, -1] == pytest.approx(np.sum(_r(z) * z**2 / 4), rel=1e-13)
    assert optimal_threshold(0.3) == 0.3
