"""FocalPosteriorRecovery and TemperatureScaling with link='sigmoid'.

Per-label probabilities (n, L) of multi-label and detection models with a
multi-label indicator y. The references are written here: the objectives as
direct numpy transcriptions minimized by scipy, and data drawn from known
per-label posteriors.
"""

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.special import expit, xlogy
from sklearn.datasets import make_multilabel_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neighbors import KNeighborsClassifier

from sklearn_focal import FocalClassifier, FocalPosteriorRecovery, TemperatureScaling
from sklearn_focal.theory import binary_focal_minimizer, binary_psi


def _known_posteriors(n=4000, n_labels=3, seed=0):
    rng = np.random.default_rng(seed)
    eta = expit(rng.normal(-1.0, 1.5, size=(n, n_labels)))
    Y = (rng.uniform(size=eta.shape) < eta).astype(np.int64)
    return eta, Y


def _log_loss(p, Y):
    """Mean per-entry log-loss, transcribed."""
    return float(np.mean(-xlogy(Y, p) - xlogy(1 - Y, 1 - p)))


def _binary_focal(p, Y, gamma):
    """Mean per-entry binary focal loss (no alpha), transcribed."""
    return float(
        np.mean(-Y * (1 - p) ** gamma * np.log(p) - (1 - Y) * p**gamma * np.log(1 - p))
    )


def _posterior_of_output(q, gamma, alpha=None):
    """The eta whose binary focal risk is minimized at ``q``, transcribed.

    ``R(q) = eta A (1 - q)^gamma log(1/q) + (1 - eta) B q^gamma log(1/(1 - q))``
    (``A = alpha``, ``B = 1 - alpha``; both 1 without alpha) is stationary
    where ``eta A (-f'(q)) = (1 - eta) B g'(q)``; the derivatives by hand are
    sums of positive terms for 0 < q < 1.
    """
    q = np.asarray(q, dtype=np.float64)
    a = 1.0 if alpha is None else np.asarray(alpha, dtype=np.float64)
    b = 1.0 if alpha is None else 1.0 - a
    c = 1.0 - q
    minus_f_slope = gamma * c ** (gamma - 1) * -np.log(q) + c**gamma / q
    g_slope = gamma * q ** (gamma - 1) * -np.log1p(-q) + q**gamma / c
    return b * g_slope / (b * g_slope + a * minus_f_slope)


def _risk_minimizer(eta, gamma, alpha=None):
    """argmin over q of the binary focal risk at one eta, by scipy, transcribed."""
    a = 1.0 if alpha is None else alpha
    b = 1.0 if alpha is None else 1.0 - alpha

    def risk(t):  # in the logit of q, where the minimum is well conditioned
        q, c = expit(t), expit(-t)
        return -eta * a * c**gamma * np.log(q) - (1 - eta) * b * q**gamma * np.log(c)

    t = minimize_scalar(
        risk, bounds=(-40.0, 40.0), method="bounded", options={"xatol": 1e-10}
    ).x
    return float(expit(t))


# --------------------------------------------------------------------------
# FocalPosteriorRecovery
# --------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [None, 0.25, [0.25, 0.5, 0.9]])
def test_transformer_recovers_known_posteriors(alpha):
    # Outputs q of a model at the focal-risk minimizer and their posteriors
    # eta, from the loss transcribed here (not from the package).
    q = expit(np.random.default_rng(0).normal(-1.0, 1.5, size=(300, 3)))
    eta = _posterior_of_output(q, 2.0, alpha)
    recovery = FocalPosteriorRecovery(gamma=2.0, alpha=alpha, link="sigmoid").fit(q)
    assert recovery.link_ == "sigmoid"
    np.testing.assert_allclose(recovery.transform(q), eta, rtol=1e-12)
    np.testing.assert_allclose(recovery.inverse_transform(eta), q, rtol=1e-12)
    # inverse_transform is the risk minimizer, found by scipy per element.
    back = recovery.inverse_transform(eta)
    labels_alpha = np.broadcast_to(0.5 if alpha is None else alpha, (3,))
    for i, j in [(0, 0), (7, 1), (42, 2), (299, 0), (150, 2)]:
        weight = None if alpha is None else float(labels_alpha[j])
        assert back[i, j] == pytest.approx(
            _risk_minimizer(eta[i, j], 2.0, weight), abs=1e-7
        )


def test_auto_link_follows_y():
    eta, Y = _known_posteriors(n=500)
    q = binary_focal_minimizer(eta, 2.0)
    assert FocalPosteriorRecovery(gamma="fit").fit(q, Y).link_ == "sigmoid"
    # Without y, 'auto' is the softmax map: these rows do not sum to 1.
    with pytest.raises(ValueError, match="sum"):
        FocalPosteriorRecovery(gamma=2.0).fit(q)


@pytest.mark.slow
def test_gamma_fit_finds_the_training_order():
    # Outputs at the focal-risk minimizer, labels drawn from their posteriors
    # (the transcribed stationarity condition, not the package).
    rng = np.random.default_rng(1)
    q = expit(rng.normal(-1.0, 1.5, size=(20000, 3)))
    Y = (rng.uniform(size=q.shape) < _posterior_of_output(q, 2.0, 0.25)).astype(int)
    shared = FocalPosteriorRecovery(gamma="fit", alpha=0.25).fit(q, Y)
    assert abs(shared.gamma_ - 2.0) < 0.25
    orders = np.array([0.5, 2.0, 4.0])
    Y = (rng.uniform(size=q.shape) < _posterior_of_output(q, orders)).astype(int)
    per_label = FocalPosteriorRecovery(gamma="fit", per_label=True).fit(q, Y)
    assert per_label.gamma_.shape == (3,)
    np.testing.assert_allclose(per_label.gamma_, orders, atol=0.3)
    # Each order is the minimizer of that label's log-loss (scipy, the signed
    # map transcribed: for g >= 0 the posterior of which q is the output).
    for j in range(3):
        reference = minimize_scalar(
            lambda g, j=j: _log_loss(_posterior_of_output(q[:, j], g), Y[:, j]),
            bounds=(0.0, 20.0),
            method="bounded",
            options={"xatol": 1e-8},
        ).x
        assert abs(per_label.gamma_[j] - reference) < 1e-4


@pytest.mark.parametrize("per_label", [False, True])
@pytest.mark.parametrize("alpha", [0.25, [0.25, 0.75, 0.1]])
def test_gamma_fit_with_alpha_is_never_worse_than_raw(alpha, per_label):
    # Calibrated per-label probabilities: with alpha, gamma = 0 is not the
    # identity, so the raw output must be a candidate of its own, and win.
    from sklearn_focal.exceptions import PosteriorRecoveryWarning

    eta, Y = _known_posteriors(n=3000, seed=4)
    with pytest.warns(
        PosteriorRecoveryWarning, match="worse than the raw output"
    ) as record:
        recovery = FocalPosteriorRecovery(
            gamma="fit", alpha=alpha, link="sigmoid", per_label=per_label
        ).fit(eta, Y)
    assert record[0].filename == __file__  # points at the user's fit call
    np.testing.assert_array_equal(recovery.gamma_, 0.0)
    assert _log_loss(recovery.transform(eta), Y) <= _log_loss(eta, Y) + 1e-12
    if per_label:
        np.testing.assert_array_equal(recovery.alpha_, 0.5)  # no weighting
    else:
        assert recovery.alpha_ is None


def test_gamma_fit_with_alpha_flat_objective_is_the_identity():
    from sklearn_focal.exceptions import FlatCalibrationWarning

    Y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    with pytest.warns(FlatCalibrationWarning, match="identity map is used") as record:
        recovery = FocalPosteriorRecovery(gamma="fit", alpha=0.25, link="sigmoid").fit(
            Y.astype(float), Y
        )
    assert record[0].filename == __file__
    eta, _ = _known_posteriors(n=5, n_labels=2)
    np.testing.assert_allclose(recovery.transform(eta), eta, rtol=1e-15)


def test_gamma_fit_flattens_overconfident_scores():
    # Scores sharper than the posterior: the fitted signed order is negative.
    eta, Y = _known_posteriors(n=3000, seed=2)
    sharp = binary_psi(eta, 3.0)
    recovery = FocalPosteriorRecovery(gamma="fit", link="sigmoid").fit(sharp, Y)
    assert -4.0 < recovery.gamma_ < -2.0
    assert _log_loss(recovery.transform(sharp), Y) < _log_loss(sharp, Y)


def test_sample_weight_equals_repeated_rows():
    eta, Y = _known_posteriors(n=400, seed=3)
    q = binary_focal_minimizer(eta, 1.0)
    weights = np.arange(400) % 3
    weighted = FocalPosteriorRecovery(gamma="fit").fit(q, Y, sample_weight=weights)
    repeated = FocalPosteriorRecovery(gamma="fit").fit(
        np.repeat(q, weights, axis=0), np.repeat(Y, weights, axis=0)
    )
    assert abs(weighted.gamma_ - repeated.gamma_) < 1e-6


def test_meta_mode_reads_a_multilabel_focal_classifier():
    X, y = make_multilabel_classification(
        200, n_features=5, n_classes=3, random_state=0
    )
    clf = FocalClassifier(
        gamma=2.0,
        alpha=0.25,
        pos_weight=[1.0, 2.0, 3.0],
        hidden_layer_sizes=(16,),
        max_epochs=10,
        random_state=0,
    )
    model = FocalPosteriorRecovery(clf).fit(X, y)
    assert model.link_ == "sigmoid" and model.gamma_ == 2.0
    # pos_weight folded into alpha: A / (A + B), A = 0.25 w, B = 0.75.
    w = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(model.alpha_, 0.25 * w / (0.25 * w + 0.75))
    inner = model.estimator_
    np.testing.assert_allclose(
        model.predict_proba(X), inner.predict_proba(X), rtol=1e-12
    )
    prediction = model.predict(X)
    assert prediction.shape == y.shape and prediction.dtype == y.dtype
    frozen = FocalPosteriorRecovery(FrozenEstimator(inner)).fit(X, y)
    np.testing.assert_allclose(frozen.predict_proba(X), inner.predict_proba(X))


@pytest.mark.parametrize(
    "estimator",
    [KNeighborsClassifier(10), OneVsRestClassifier(LogisticRegression())],
    ids=["list-of-(n,2)", "(n,L)"],
)
def test_meta_mode_with_scikit_learn_multilabel_estimators(estimator):
    X, y = make_multilabel_classification(
        240, n_features=5, n_classes=3, random_state=1
    )
    model = FocalPosteriorRecovery(estimator, gamma=1.0, link="sigmoid").fit(X, y)
    raw = model.estimator_.predict_proba(X)
    if isinstance(raw, list):
        raw = np.column_stack([p[:, 1] for p in raw])
    np.testing.assert_allclose(model.predict_proba(X), binary_psi(raw, 1.0))
    fitted = FocalPosteriorRecovery(estimator, gamma="fit", cv=3).fit(X, y)
    assert np.isfinite(fitted.gamma_)
    assert 0.0 <= fitted.score(X, y) <= 1.0


def test_confidence_regime_is_softmax_only():
    eta, _ = _known_posteriors(n=50)
    recovery = FocalPosteriorRecovery(gamma=2.0, link="sigmoid").fit(eta)
    with pytest.raises(ValueError, match="not defined for link='sigmoid'"):
        recovery.confidence_regime(eta)


# --------------------------------------------------------------------------
# TemperatureScaling
# --------------------------------------------------------------------------


@pytest.mark.parametrize("input", ["logits", "proba"])
def test_temperature_matches_scipy_on_the_transcribed_log_loss(input):
    rng = np.random.default_rng(4)
    z = rng.normal(0.0, 2.0, size=(3000, 3))
    Y = (rng.uniform(size=z.shape) < expit(z)).astype(int)
    scores = 3.0 * z
    X = scores if input == "logits" else expit(scores)
    ts = TemperatureScaling(input=input).fit(X, Y)
    assert ts.link_ == "sigmoid"
    reference = minimize_scalar(
        lambda t: _log_loss(expit(scores / t), Y),
        bounds=(0.5, 10.0),
        method="bounded",
        options={"xatol": 1e-10},
    ).x
    assert abs(ts.temperature_ - reference) < 1e-5 * reference
    assert abs(ts.temperature_ - 3.0) < 0.3
    np.testing.assert_allclose(ts.transform(X), expit(scores / ts.temperature_))


def test_per_label_and_focal_temperatures():
    rng = np.random.default_rng(5)
    z = rng.normal(0.0, 2.0, size=(3000, 3))
    Y = (rng.uniform(size=z.shape) < expit(z)).astype(int)
    scales = np.array([0.5, 1.0, 3.0])
    ts = TemperatureScaling(input="logits", per_label=True).fit(z * scales, Y)
    for j in range(3):
        reference = minimize_scalar(
            lambda t, j=j: _log_loss(expit(z[:, j] * scales[j] / t), Y[:, j]),
            bounds=(0.05, 20.0),
            method="bounded",
            options={"xatol": 1e-10},
        ).x
        assert abs(ts.temperature_[j] - reference) < 1e-5 * reference
    focal = TemperatureScaling(input="logits", objective="focal", gamma=2.0).fit(z, Y)
    reference = minimize_scalar(
        lambda t: _binary_focal(expit(z / t), Y, 2.0),
        bounds=(0.05, 50.0),
        method="bounded",
        options={"xatol": 1e-10},
    ).x
    assert abs(focal.temperature_ - reference) < 1e-5 * reference


def test_temperature_meta_mode():
    X, y = make_multilabel_classification(
        240, n_features=5, n_classes=3, random_state=1
    )
    estimator = OneVsRestClassifier(LogisticRegression())
    ts = TemperatureScaling(estimator, input="logits", cv=3).fit(X, y)
    logits = ts.estimator_.decision_function(X)
    np.testing.assert_allclose(ts.predict_proba(X), expit(logits / ts.temperature_))
    frozen = TemperatureScaling(FrozenEstimator(ts.estimator_), per_label=True)
    assert frozen.fit(X, y).temperature_.shape == (3,)


# --------------------------------------------------------------------------
# Softmax path unchanged, bad input
# --------------------------------------------------------------------------


def test_softmax_link_is_the_default_for_1d_y():
    rng = np.random.default_rng(6)
    proba = rng.dirichlet(np.ones(3), size=200)
    y = rng.integers(0, 3, size=200)
    auto = FocalPosteriorRecovery(gamma="fit").fit(proba, y)
    explicit = FocalPosteriorRecovery(gamma="fit", link="softmax").fit(proba, y)
    assert auto.link_ == "softmax" and auto.gamma_ == explicit.gamma_
    ts = TemperatureScaling().fit(proba, y)
    assert ts.link_ == "softmax"


def test_bad_sigmoid_input():
    eta, Y = _known_posteriors(n=50)
    with pytest.raises(ValueError, match="link='sigmoid'.* indicator y .* 1 dimension"):
        FocalPosteriorRecovery(gamma="fit", link="sigmoid").fit(eta, Y[:, 0])
    bad = eta.copy()
    bad[3, 1] = 1.5
    with pytest.raises(ValueError, match=r"first bad value 1.5 at index \(3, 1\)"):
        FocalPosteriorRecovery(gamma=2.0, link="sigmoid").fit(bad)
    with pytest.raises(ValueError, match=r"y\[2, 0\] = 2"):
        Y2 = Y.copy()
        Y2[2, 0] = 2
        TemperatureScaling(link="sigmoid").fit(eta, Y2)
    with pytest.raises(ValueError, match="has shape"):
        TemperatureScaling(link="sigmoid").fit(eta, Y[:, :2])
    with pytest.raises(ValueError, match="'alpha' parameter"):
        FocalPosteriorRecovery(gamma=2.0, alpha=1.0, link="sigmoid").fit(eta)
    with pytest.raises(ValueError, match="alpha must be in the open .* index 1"):
        FocalPosteriorRecovery(gamma=2.0, alpha=[0.5, 1.0, 0.5], link="sigmoid").fit(
            eta
        )
    with pytest.raises(ValueError, match="alpha has 2 entries"):
        FocalPosteriorRecovery(gamma=2.0, alpha=[0.5, 0.5], link="sigmoid").fit(eta)
    fitted = FocalPosteriorRecovery(gamma=2.0, link="sigmoid").fit(eta)
    with pytest.raises(ValueError, match="features"):
        fitted.transform(eta[:, :2])


@pytest.mark.parametrize(
    "calibrator",
    [
        lambda est, cv: FocalPosteriorRecovery(est, gamma="fit", cv=cv),
        lambda est, cv: TemperatureScaling(est, cv=cv),
    ],
)
def test_meta_fit_reports_a_label_constant_in_a_training_fold(calibrator):
    # As a class missing from a fold on the softmax path: the clone of that
    # fold cannot score the label, so fitting stops with a clear error.
    from sklearn.model_selection import KFold

    X, Y = make_multilabel_classification(n_samples=90, n_classes=3, random_state=0)
    Y[:, 1] = 0
    Y[:30, 1] = 1  # only in the first fold's rows: constant in its training fold
    model = calibrator(OneVsRestClassifier(LogisticRegression()), KFold(3))
    with (
        pytest.warns(UserWarning, match="Label"),
        pytest.raises(
            ValueError, match=r"Labels \[1\] take a single value in a training fold"
        ),
    ):
        model.fit(X, Y)
