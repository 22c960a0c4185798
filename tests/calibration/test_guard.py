"""The guard on blind recovery: FocalPosteriorRecovery(gamma='auto') warns when
Psi at the training order raises the calibration data's NLL above raw."""

import warnings

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_digits
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler

from sklearn_focal import FocalPosteriorRecovery, theory
from sklearn_focal.datasets import make_focal_synthetic
from sklearn_focal.exceptions import PosteriorRecoveryWarning


class FocalOutputs(ClassifierMixin, BaseEstimator):
    """A 'focal model' whose outputs are a fixed function of the true posterior.

    ``X`` holds the true posterior of each row; the output is
    ``focal_minimizer(eta, gamma)`` (a model at the focal-risk minimizer, for
    which Psi is exact) raised to the power ``sharpen`` and renormalized (an
    over-confident model for ``sharpen > 1``).
    """

    def __init__(self, gamma=2.0, sharpen=1.0):
        self.gamma = gamma
        self.sharpen = sharpen

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.gamma_ = self.gamma
        return self

    def predict_proba(self, X):
        q = theory.focal_minimizer(np.asarray(X), self.gamma)
        return softmax(self.sharpen * np.log(q), axis=1)


@pytest.fixture(scope="module")
def posterior_data():
    rng = np.random.default_rng(0)
    eta = softmax(1.5 * rng.standard_normal((3000, 3)), axis=1)
    y = (eta.cumsum(axis=1) < rng.random((3000, 1))).sum(axis=1)
    return eta, y


def fit_recording(recovery, X, y, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        recovery.fit(X, y, **kwargs)
    return [w for w in caught if issubclass(w.category, PosteriorRecoveryWarning)]


def test_warns_on_an_overconfident_model(posterior_data):
    eta, y = posterior_data
    model = FocalOutputs(sharpen=3.0).fit(eta, y)
    caught = fit_recording(FocalPosteriorRecovery(FrozenEstimator(model)), eta, y)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "gamma='fit'" in message and "FocalTemperatureScaling" in message
    assert caught[0].filename == __file__  # points at the user's fit call
    # The NLLs it quotes are those of the raw and the mapped probabilities.
    raw = model.predict_proba(eta)
    mapped = theory.psi(raw, 2.0)
    assert f"{log_loss(y, raw):.4g}" in message
    assert f"{log_loss(y, mapped):.4g}" in message
    assert log_loss(y, mapped) > log_loss(y, raw)


def test_silent_at_the_focal_risk_minimizer(posterior_data):
    eta, y = posterior_data
    model = FocalOutputs(sharpen=1.0).fit(eta, y)
    recovery = FocalPosteriorRecovery(FrozenEstimator(model))
    assert fit_recording(recovery, eta, y) == []
    # and Psi indeed lowers the NLL there
    raw = model.predict_proba(eta)
    assert log_loss(y, theory.psi(raw, 2.0)) < log_loss(y, raw)


def test_silent_where_the_check_does_not_apply(posterior_data):
    eta, y = posterior_data
    model = FocalOutputs(sharpen=3.0)
    # A fixed or fitted order, or a model refitted on the data (training
    # data, not calibration data): no check.
    frozen = FrozenEstimator(model.fit(eta, y))
    assert fit_recording(FocalPosteriorRecovery(frozen, gamma=2.0), eta, y) == []
    assert fit_recording(FocalPosteriorRecovery(frozen, gamma="fit"), eta, y) == []
    assert fit_recording(FocalPosteriorRecovery(model), eta, y) == []


def test_sample_weight_enters_the_comparison(posterior_data):
    eta, y = posterior_data
    model = FocalOutputs(sharpen=3.0).fit(eta, y)
    frozen = FrozenEstimator(model)
    raw = model.predict_proba(eta)
    mapped = theory.psi(raw, 2.0)
    rows = np.arange(len(y))
    # Weight only the rows where Psi helps: the weighted NLL then falls.
    helps = mapped[rows, y] >= raw[rows, y]
    caught = fit_recording(
        FocalPosteriorRecovery(frozen), eta, y, sample_weight=helps.astype(float)
    )
    assert caught == []


# --------------------------------------------------------------------------
# link="sigmoid": per-label outputs, binary_psi
# --------------------------------------------------------------------------


class LabelOutputs(BaseEstimator):
    """A multi-label 'focal model': per-label outputs of known posteriors.

    ``X`` holds the true per-label posteriors ``eta``; the output is ``eta``
    itself (``at_minimizer=False``: calibrated already, so binary_psi, which
    sharpens, can only hurt) or the binary focal-risk minimizer of ``eta``
    (``at_minimizer=True``: binary_psi recovers ``eta`` exactly).
    """

    def __init__(self, gamma=2.0, at_minimizer=False):
        self.gamma = gamma
        self.at_minimizer = at_minimizer

    def fit(self, X, Y):
        self.gamma_ = self.gamma
        return self

    def predict_proba(self, X):
        eta = np.asarray(X, dtype=float)
        if self.at_minimizer:
            return theory.binary_focal_minimizer(eta, self.gamma)
        return eta


@pytest.fixture(scope="module")
def label_data():
    rng = np.random.default_rng(1)
    eta = rng.uniform(0.02, 0.98, size=(3000, 3))
    Y = (rng.random(eta.shape) < eta).astype(int)
    return eta, Y


def per_label_log_loss(Y, proba):
    # The mean binary log-loss per entry, by scikit-learn's log_loss.
    return log_loss(Y.ravel(), proba.ravel(), labels=[0, 1])


def test_sigmoid_warns_where_binary_psi_worsens_calibrated_outputs(label_data):
    eta, Y = label_data
    model = LabelOutputs(gamma=2.0).fit(eta, Y)
    recovery = FocalPosteriorRecovery(FrozenEstimator(model), link="sigmoid")
    caught = fit_recording(recovery, eta, Y)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "gamma='fit', link='sigmoid'" in message
    assert "TemperatureScaling(link='sigmoid')" in message
    assert caught[0].filename == __file__
    raw_nll = per_label_log_loss(Y, eta)
    mapped_nll = per_label_log_loss(Y, theory.binary_psi(eta, 2.0))
    assert mapped_nll > raw_nll
    assert f"{raw_nll:.4g}" in message and f"{mapped_nll:.4g}" in message


def test_sigmoid_order_zero_with_alpha_is_checked_too(label_data):
    # At gamma = 0, alpha = 0.25 still multiplies the odds by 3: on calibrated
    # outputs that hurts, and the guard must not skip it as an identity.
    eta, Y = label_data
    model = LabelOutputs(gamma=0.0).fit(eta, Y)
    recovery = FocalPosteriorRecovery(
        FrozenEstimator(model), link="sigmoid", alpha=0.25
    )
    caught = fit_recording(recovery, eta, Y)
    odds = 3.0 * eta / (1.0 - eta)
    mapped_nll = per_label_log_loss(Y, odds / (1.0 + odds))
    assert mapped_nll > per_label_log_loss(Y, eta)
    assert len(caught) == 1
    assert f"{mapped_nll:.4g}" in str(caught[0].message)


def test_sigmoid_silent_at_the_focal_risk_minimizer(label_data):
    eta, Y = label_data
    model = LabelOutputs(gamma=2.0, at_minimizer=True).fit(eta, Y)
    recovery = FocalPosteriorRecovery(FrozenEstimator(model), link="sigmoid")
    assert fit_recording(recovery, eta, Y) == []
    raw = model.predict_proba(eta)
    assert per_label_log_loss(Y, theory.binary_psi(raw, 2.0)) < per_label_log_loss(
        Y, raw
    )


def test_sigmoid_silent_where_the_check_does_not_apply(label_data):
    eta, Y = label_data
    model = LabelOutputs(gamma=2.0)
    frozen = FrozenEstimator(model.fit(eta, Y))
    for recovery in (
        FocalPosteriorRecovery(frozen, gamma=2.0, link="sigmoid"),
        FocalPosteriorRecovery(frozen, gamma="fit", link="sigmoid"),
        FocalPosteriorRecovery(model, link="sigmoid"),  # refitted: training data
        FocalPosteriorRecovery(FrozenEstimator(LabelOutputs(gamma=0.0).fit(eta, Y))),
    ):
        assert fit_recording(recovery, eta, Y) == []


def test_sigmoid_leaves_out_entries_no_map_changes(label_data):
    eta, Y = label_data
    eta = eta.copy()
    # A raw 0 on a positive and a raw 1 on a negative: infinite raw losses,
    # the same for every map (binary_psi keeps 0 and 1), left out.
    eta[0, 0], Y[0, 0] = 0.0, 1
    eta[1, 1], Y[1, 1] = 1.0, 0
    model = LabelOutputs(gamma=2.0).fit(eta, Y)
    recovery = FocalPosteriorRecovery(FrozenEstimator(model), link="sigmoid")
    caught = fit_recording(recovery, eta, Y)
    assert len(caught) == 1
    keep = np.ones(eta.shape, dtype=bool)
    keep[0, 0] = keep[1, 1] = False
    mapped = theory.binary_psi(eta, 2.0)
    raw_nll = log_loss(Y[keep], eta[keep], labels=[0, 1])
    mapped_nll = log_loss(Y[keep], mapped[keep], labels=[0, 1])
    message = str(caught[0].message)
    assert f"{raw_nll:.4g}" in message and f"{mapped_nll:.4g}" in message


def test_sigmoid_sample_weight_enters_the_comparison(label_data):
    eta, Y = label_data
    model = LabelOutputs(gamma=2.0).fit(eta, Y)
    mapped = theory.binary_psi(eta, 2.0)
    # Weight only the rows where binary_psi lowers every label's loss.
    raw_loss = np.where(Y == 1, -np.log(eta), -np.log1p(-eta))
    mapped_loss = np.where(Y == 1, -np.log(mapped), -np.log1p(-mapped))
    helps = np.all(mapped_loss <= raw_loss, axis=1)
    assert 0 < helps.sum() < len(helps)
    recovery = FocalPosteriorRecovery(FrozenEstimator(model), link="sigmoid")
    assert fit_recording(recovery, eta, Y, sample_weight=helps.astype(float)) == []
    assert len(fit_recording(recovery, eta, Y, sample_weight=~helps * 1.0)) == 1


# --------------------------------------------------------------------------
# Networks
# --------------------------------------------------------------------------


@pytest.mark.slow
def test_warns_on_an_overfit_network_on_digits():
    pytest.importorskip("torch")
    from sklearn_focal import FocalClassifier

    X, y = load_digits(return_X_y=True)
    scaler = StandardScaler().fit(X[:300])
    X = scaler.transform(X).astype(np.float32)
    net = FocalClassifier(
        gamma=3.0,
        posterior="raw",
        hidden_layer_sizes=(64,),
        lr=3e-3,
        max_epochs=80,
        random_state=0,
    ).fit(X[:300], y[:300])
    caught = fit_recording(
        FocalPosteriorRecovery(FrozenEstimator(net)), X[300:900], y[300:900]
    )
    assert len(caught) == 1


@pytest.mark.slow
def test_silent_on_the_synthetic_problem():
    pytest.importorskip("torch")
    from sklearn_focal import FocalClassifier

    X, y, _ = make_focal_synthetic(2000, random_state=0)
    X_cal, y_cal, _ = make_focal_synthetic(1000, random_state=1)
    net = FocalClassifier(
        gamma=3.0,
        posterior="raw",
        hidden_layer_sizes=(64, 64),
        lr=3e-3,
        max_epochs=40,
        random_state=0,
    ).fit(X.astype(np.float32), y)
    recovery = FocalPosteriorRecovery(FrozenEstimator(net))
    assert fit_recording(recovery, X_cal.astype(np.float32), y_cal) == []
