"""Tests for FocalPosteriorRecovery: transformer and meta-estimator modes."""

import re
import warnings
from pathlib import Path

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from mptestutils import (
    ProbArg,
    assert_mpmath_equal,
    dump_references,
    load_references,
    mp_assert_allclose,
    mp_bracketed_root,
    mp_log_h_logit,
    mp_psi,
    mp_psi_rows,
    mp_thresholds,
    reference_psi,
)
from scipy.optimize import minimize, minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn import config_context
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import load_iris, make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    ShuffleSplit,
    StratifiedKFold,
    cross_val_predict,
    cross_val_score,
    train_test_split,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from sklearn_focal import FocalPosteriorRecovery, theory
from sklearn_focal.datasets import make_classification_with_posteriors

# --------------------------------------------------------------------------
# Independent references
# --------------------------------------------------------------------------


def reference_focal_minimizer(p, gamma):
    """argmin_q sum_i p_i (1 - q_i)^gamma log(1/q_i), by BFGS on logits."""
    p = np.asarray(p, dtype=np.float64)

    def risk(z):
        log_q = log_softmax(z)
        q = np.exp(log_q)
        return -np.sum(p * (1 - q) ** gamma * log_q)

    result = minimize(risk, np.log(p), method="BFGS", options={"gtol": 1e-12})
    return softmax(result.x)


def _reference_map(q, gamma):
    """The signed map of order ``gamma``: Psi^gamma for gamma >= 0 (closed
    form); for gamma < 0 the package's inverse, checked here to be the
    preimage under the closed-form Psi^-gamma."""
    if gamma >= 0:
        return reference_psi(q, gamma)
    mapped = FocalPosteriorRecovery(gamma=gamma).fit(q).transform(q)
    np.testing.assert_allclose(reference_psi(mapped, -gamma), q, rtol=1e-8, atol=1e-13)
    return mapped


def _reference_regime(q, gamma):
    """Def. 7 and Thm 8 from mpmath: the sign of max q - max Psi(q), and where
    max q lies against (tau_oc, tau_uc). No row sits on a tie or a threshold,
    so the codes are unambiguous."""
    max_q = q.max(axis=1)
    max_posterior = mp_psi_rows(q, gamma).max(axis=1)
    with mpmath.workdps(40):
        oc, uc = (float(t) for t in mp_thresholds(gamma))
    assert np.all(np.abs(max_q - max_posterior) > 1e-9)
    assert np.all(np.abs(max_q - oc) > 1e-9) and np.all(np.abs(max_q - uc) > 1e-9)
    confidence = np.sign(max_q - max_posterior)
    region = np.where(max_q <= oc, 1, np.where(max_q >= uc, -1, 0))
    return confidence, region, max_q, max_posterior


def _interior_rows(n, k, seed, concentration=1.0):
    rng = np.random.default_rng(seed)
    q = rng.dirichlet(np.full(k, concentration), size=n)
    q = np.clip(q, 1e-4, None)  # keep the naive reference formula well defined
    return q / q.sum(axis=1, keepdims=True)


class _RecordingClassifier(ClassifierMixin, BaseEstimator):
    """LogisticRegression that records the fit parameters it receives."""

    def __init__(self, gamma=None):
        self.gamma = gamma

    def fit(self, X, y, sample_weight=None):
        self.received_sample_weight_ = sample_weight
        self.model_ = LogisticRegression().fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.model_.classes_
        self.n_features_in_ = self.model_.n_features_in_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)

    def predict(self, X):
        return self.model_.predict(X)


class _NoWeightClassifier(ClassifierMixin, BaseEstimator):
    """A classifier whose fit takes no sample_weight."""

    def fit(self, X, y):
        self.model_ = LogisticRegression().fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)

    def predict(self, X):
        return self.model_.predict(X)


class _SkorchLikeClassifier(_NoWeightClassifier):
    """Exposes a skorch-style criterion__gamma parameter."""

    def __init__(self, criterion__gamma=1.5):
        self.criterion__gamma = criterion__gamma


@pytest.fixture(scope="module")
def iris_split():
    X, y = load_iris(return_X_y=True)
    return train_test_split(X, y, test_size=0.5, stratify=y, random_state=0)


# --------------------------------------------------------------------------
# Transformer mode
# --------------------------------------------------------------------------


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 5.0])
@pytest.mark.parametrize("k", [2, 3, 10])
def test_transform_is_psi(gamma, k):
    q = _interior_rows(50, k, seed=k)
    out = FocalPosteriorRecovery(gamma=gamma).fit(q).transform(q)
    np.testing.assert_allclose(out, reference_psi(q, gamma), rtol=1e-10)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(out.argmax(axis=1), q.argmax(axis=1))


def test_transform_with_alpha():
    q = _interior_rows(30, 4, seed=1)
    alpha = np.array([0.1, 0.2, 0.3, 0.4])
    recovery = FocalPosteriorRecovery(gamma=2.0, alpha=alpha).fit(q)
    out = recovery.transform(q)
    np.testing.assert_allclose(out, reference_psi(q, 2.0, alpha), rtol=1e-10)
    np.testing.assert_allclose(recovery.inverse_transform(out), q, rtol=1e-8)
    flatten = FocalPosteriorRecovery(gamma=-2.0, alpha=alpha).fit(out)
    np.testing.assert_allclose(flatten.transform(out), q, rtol=1e-8)


def _binary_rows(p):
    return np.column_stack([p, 1.0 - p])


@pytest.mark.parametrize("gamma", [1e-10, 0.01, 0.5, 1.0, 2.0, 5.0, 50.0, 1000.0])
def test_transform_matches_mpmath_at_every_order_of_magnitude(gamma):
    # Binary rows [p, 1 - p] with p from 1e-300 to one ulp below 1; the
    # reference is eq. 12 at 40 digits on the same two doubles.
    def transform(p):
        rows = _binary_rows(p)
        return FocalPosteriorRecovery(gamma=gamma).fit(rows).transform(rows)[:, 0]

    def reference(p):
        return mp_psi([p, mpmath.mpf(1.0 - float(p))], gamma)[0]

    assert_mpmath_equal(transform, reference, [ProbArg()], rtol=1e-12, n=60)


def _three_class_rows(p):
    middle = (1.0 - p) / 2
    return np.column_stack([p, middle, 1.0 - p - middle])


@pytest.mark.parametrize("gamma", [0.5, 2.0, 50.0])
def test_transform_with_alpha_matches_mpmath(gamma):
    # Rows [p, (1 - p) / 2, rest] with class weights: eq. 12 with 1 / alpha.
    alpha = [0.5, 1.0, 2.0]

    def transform(p):
        rows = _three_class_rows(p)
        recovery = FocalPosteriorRecovery(gamma=gamma, alpha=alpha).fit(rows)
        return recovery.transform(rows)[:, 0]

    def reference(p):
        row = _three_class_rows(np.array([float(p)]))[0]
        return mp_psi(list(row), gamma, alpha)[0]

    assert_mpmath_equal(transform, reference, [ProbArg()], rtol=1e-12, n=60)


def _mp_binary_focal_minimizer(p, gamma):
    """q_0 of the binary focal minimizer: the logit t with
    log h(sigmoid(t)) - log h(sigmoid(-t)) = log(p_0 / p_1)."""
    level = mpmath.log(p) - mpmath.log(mpmath.mpf(1.0 - float(p)))

    def excess(t):
        return mp_log_h_logit(t, gamma) - mp_log_h_logit(-t, gamma) - level

    coarse = mp_bracketed_root(excess, -800, 800, mpmath.mpf(10) ** -3)
    t = mpmath.findroot(excess, (coarse - 0.01, coarse + 0.01), solver="illinois")
    return 1 / (1 + mpmath.exp(-t))


# _mp_binary_focal_minimizer on ProbArg's rows, precomputed (about 10 s):
# regenerate with ``python tests/test_posterior.py``.
MINIMIZER_FILE = Path(__file__).parents[1] / "data" / "binary_focal_minimizer.json"
MINIMIZER_GAMMAS = (0.01, 0.5, 2.0, 50.0, 1000.0)


def _stored_minimizers(gamma):
    return [item for item in load_references(MINIMIZER_FILE) if item["gamma"] == gamma]


@pytest.mark.parametrize("gamma", MINIMIZER_GAMMAS)
def test_negative_order_matches_mpmath_at_every_order_of_magnitude(gamma):
    # The flattening map -gamma is the focal minimizer of order gamma: on
    # binary rows [p, 1 - p], p from 1e-300 to one ulp below 1, against a
    # 40-digit root of the definition.
    stored = _stored_minimizers(gamma)
    p = np.array([item["p"] for item in stored])
    assert len(p) >= 50 and p.min() < 1e-290 and 1 - p.max() < 1e-15
    rows = _binary_rows(p)
    flat = FocalPosteriorRecovery(gamma=-gamma).fit(rows).transform(rows)
    mp_assert_allclose(flat[:, 0], [item["q0"] for item in stored], rtol=1e-10)


def test_stored_binary_minimizers_are_mpmath():
    # Guard the data file: one row per order recomputed live.
    for gamma in MINIMIZER_GAMMAS:
        item = _stored_minimizers(gamma)[7]
        with mpmath.workdps(40):
            live = _mp_binary_focal_minimizer(mpmath.mpf(item["p"]), gamma)
            assert abs(mpmath.mpf(item["q0"]) - live) <= mpmath.mpf(10) ** -25 * live


@pytest.mark.parametrize("gamma", [1.0, 3.0])
def test_inverse_transform_is_the_focal_minimizer(gamma):
    p = _interior_rows(5, 3, seed=2)
    recovery = FocalPosteriorRecovery(gamma=gamma).fit(p)
    q = recovery.inverse_transform(p)
    expected = np.array([reference_focal_minimizer(row, gamma) for row in p])
    np.testing.assert_allclose(q, expected, atol=1e-6)


@given(
    q=arrays(
        np.float64,
        (4, 3),
        elements=st.floats(1e-3, 1.0, allow_nan=False, allow_infinity=False),
    ),
    gamma=st.floats(-8.0, 8.0),
)
def test_signed_map_round_trip(q, gamma):
    q = q / q.sum(axis=1, keepdims=True)
    recovery = FocalPosteriorRecovery(gamma=gamma).fit(q)
    there = recovery.transform(q)
    back = recovery.inverse_transform(there)
    np.testing.assert_allclose(back, q, rtol=1e-7, atol=1e-12)
    # The order of the classes is preserved: same predicted class, in the rows
    # whose top class is not tied within rounding.
    top, second = np.sort(q, axis=1)[:, :-3:-1].T
    clear = top > second * (1 + 1e-9)
    np.testing.assert_array_equal(there.argmax(axis=1)[clear], q.argmax(axis=1)[clear])


def test_negative_gamma_is_the_inverse_map():
    q = _interior_rows(20, 4, seed=3)
    flatten = FocalPosteriorRecovery(gamma=-2.0).fit(q).transform(q)
    inverse = FocalPosteriorRecovery(gamma=2.0).fit(q).inverse_transform(q)
    np.testing.assert_allclose(flatten, inverse, rtol=1e-12)
    # Flattening: the top probability goes down where it is above 1/2.
    confident = q.max(axis=1) > 0.5
    assert np.all(flatten.max(axis=1)[confident] < q.max(axis=1)[confident])


def test_map_is_continuous_at_zero():
    q = _interior_rows(20, 3, seed=4)
    for gamma in (1e-9, -1e-9, 0.0):
        out = FocalPosteriorRecovery(gamma=gamma).fit(q).transform(q)
        np.testing.assert_allclose(out, q, atol=1e-7)


def test_transformer_auto_gamma_explains_why():
    q = _interior_rows(5, 3, seed=0)
    with pytest.raises(ValueError, match="transformer mode.*no|there is none"):
        FocalPosteriorRecovery().fit(q)


def test_transformer_fit_records_features_and_ignores_y():
    q = _interior_rows(10, 3, seed=0)
    recovery = FocalPosteriorRecovery(gamma=1.0).fit(q, np.zeros(10))
    assert recovery.n_features_in_ == 3
    assert recovery.gamma_ == 1.0
    assert recovery.alpha_ is None
    np.testing.assert_array_equal(
        recovery.get_feature_names_out(), np.array(["x0", "x1", "x2"], dtype=object)
    )


def test_transformer_float32_is_preserved():
    q = _interior_rows(10, 3, seed=0).astype(np.float32)
    out = FocalPosteriorRecovery(gamma=2.0).fit(q).transform(q)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, reference_psi(q.astype(np.float64), 2.0), rtol=1e-5)


def test_set_output_pandas_keeps_class_columns():
    pd = pytest.importorskip("pandas")
    q = pd.DataFrame(_interior_rows(10, 3, seed=0), columns=["cat", "dog", "eel"])
    recovery = FocalPosteriorRecovery(gamma=2.0).set_output(transform="pandas")
    out = recovery.fit_transform(q)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["cat", "dog", "eel"]
    np.testing.assert_allclose(out.to_numpy(), reference_psi(q.to_numpy(), 2.0))
    np.testing.assert_array_equal(out.index, q.index)


def test_confidence_regime_transformer_mode():
    # 12 classes, peaked to nearly uniform rows: max q on both sides of
    # tau_oc(2) = 0.104 and tau_uc(2) = 0.298.
    q = np.vstack(
        [
            _interior_rows(20, 12, seed=s, concentration=c)
            for s, c in [(5, 0.3), (6, 30.0), (7, 300.0)]
        ]
    )
    recovery = FocalPosteriorRecovery(gamma=2.0).fit(q)
    result = recovery.confidence_regime(q)
    confidence, region, max_q, max_posterior = _reference_regime(q, 2.0)
    np.testing.assert_array_equal(result.confidence, confidence)
    np.testing.assert_array_equal(result.region, region)
    np.testing.assert_array_equal(result.max_q, max_q)
    np.testing.assert_allclose(result.max_posterior, max_posterior, rtol=1e-13)
    # the rows cover all three regions of Thm 8 and both confidence signs
    assert set(region) == {-1, 0, 1} and set(confidence) == {-1, 1}
    # Cor. 9: a focal output with max q > 1/2 is under-confident.
    confident = q.max(axis=1) > 0.5
    assert np.all(result.confidence[confident] == theory.Confidence.UNDERCONFIDENT)


def test_confidence_regime_of_a_flattening_map():
    # With gamma_ < 0 the raw probabilities are the sharper ones: rows with
    # max q > 1/2 are over-confident compared with the mapped output.
    q = _interior_rows(40, 3, seed=6)
    recovery = FocalPosteriorRecovery(gamma=-2.0).fit(q)
    result = recovery.confidence_regime(q)
    mapped = recovery.transform(q)
    np.testing.assert_allclose(result.max_q, q.max(axis=1))
    np.testing.assert_allclose(result.max_posterior, mapped.max(axis=1))
    confident = q.max(axis=1) > 0.5
    assert np.all(result.confidence[confident] == theory.Confidence.OVERCONFIDENT)
    expected = np.sign(q.max(axis=1) - mapped.max(axis=1))
    np.testing.assert_array_equal(result.confidence[confident], expected[confident])


@pytest.mark.parametrize(
    "X, match",
    [
        (np.array([[0.5, 0.6], [0.5, 0.5]]), "row 0 sums to"),
        (np.array([[0.5, 0.5], [0.2, 0.7]]), "row 1 sums to"),
        (np.array([[1.5, -0.5], [0.5, 0.5]]), "Negative values"),
        (np.array([[0.5, np.nan], [0.5, 0.5]]), "NaN"),
        (np.array([[1.0], [1.0]]), "at least 2"),
    ],
)
def test_transformer_bad_probabilities(X, match):
    with pytest.raises(ValueError, match=match):
        FocalPosteriorRecovery(gamma=2.0).fit(X)


def test_transformer_K_differs_between_fit_and_transform():
    recovery = FocalPosteriorRecovery(gamma=2.0).fit(_interior_rows(5, 3, seed=0))
    with pytest.raises(ValueError, match="4 features.*expecting 3"):
        recovery.transform(_interior_rows(5, 4, seed=0))
    with pytest.raises(ValueError, match="4 features.*expecting 3"):
        recovery.inverse_transform(_interior_rows(5, 4, seed=0))


def test_transform_before_fit_raises():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        FocalPosteriorRecovery(gamma=1.0).transform(_interior_rows(2, 3, seed=0))


def test_transformer_has_no_predict():
    recovery = FocalPosteriorRecovery(gamma=1.0)
    for method in ("predict", "predict_proba", "predict_log_proba", "score"):
        assert not hasattr(recovery, method)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"gamma": "sharp"}, "gamma"),
        ({"gamma": np.inf}, "gamma.*inf"),
        ({"gamma": 2.0, "alpha": [1.0, 2.0]}, "alpha"),
        ({"gamma": 2.0, "alpha": [1.0, -2.0, 1.0]}, "alpha"),
        ({"gamma": 2.0, "cv": "folds"}, "cv"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        FocalPosteriorRecovery(**params).fit(_interior_rows(4, 3, seed=0))


# --------------------------------------------------------------------------
# gamma="fit"
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gaussian_posteriors():
    X, y, eta = make_classification_with_posteriors(
        20_000, 3, n_features=2, class_sep=1.5, random_state=0
    )
    return y, np.clip(eta, 1e-12, None) / np.clip(eta, 1e-12, None).sum(
        axis=1, keepdims=True
    )


@pytest.mark.parametrize("true_gamma", [3.0, 1.0])
def test_fit_recovers_the_focal_order_of_underconfident_scores(
    gaussian_posteriors, true_gamma
):
    # Scores equal to the focal minimizer of the true posterior: the
    # likelihood is maximal when the map undoes exactly that order.
    y, eta = gaussian_posteriors
    q = theory.focal_minimizer(eta, true_gamma)
    recovery = FocalPosteriorRecovery(gamma="fit").fit(q, y)
    assert recovery.gamma_ == pytest.approx(true_gamma, abs=0.4)


def test_fit_flattens_overconfident_scores(gaussian_posteriors):
    # Over-confident scores: a temperature below 1 applied to the posterior.
    y, eta = gaussian_posteriors
    q = softmax(2.0 * np.log(eta), axis=1)
    recovery = FocalPosteriorRecovery(gamma="fit").fit(q, y)
    assert recovery.gamma_ < -0.5
    nll_raw = log_loss(y, q)
    nll_fit = log_loss(y, recovery.transform(q))
    assert nll_fit < nll_raw
    np.testing.assert_array_equal(recovery.transform(q).argmax(axis=1), q.argmax(1))


def test_fit_objective_is_the_nll():
    # The fitted order minimizes the NLL of the mapped scores: a brute-force
    # scan over gamma with sklearn's log_loss finds the same minimum.
    y, eta = make_classification_with_posteriors(
        3000, 3, class_sep=1.0, random_state=1
    )[1:]
    q = theory.focal_minimizer(eta, 2.0)
    recovery = FocalPosteriorRecovery(gamma="fit").fit(q, y)
    grid = np.linspace(0.0, 4.0, 81)
    losses = [
        log_loss(
            y, FocalPosteriorRecovery(gamma=g).fit(q).transform(q), labels=[0, 1, 2]
        )
        for g in grid
    ]
    best = grid[int(np.argmin(losses))]
    assert recovery.gamma_ == pytest.approx(best, abs=0.06)
    fitted = log_loss(y, recovery.transform(q), labels=[0, 1, 2])
    assert fitted <= min(losses) + 1e-9


def test_fit_integer_weights_equal_repetition():
    y, eta = make_classification_with_posteriors(400, 3, random_state=2)[1:]
    q = theory.focal_minimizer(eta, 1.5)
    weights = np.random.default_rng(0).integers(0, 4, size=len(y))
    weighted = FocalPosteriorRecovery(gamma="fit").fit(q, y, sample_weight=weights)
    repeated = FocalPosteriorRecovery(gamma="fit").fit(
        np.repeat(q, weights, axis=0), np.repeat(y, weights)
    )
    assert weighted.gamma_ == pytest.approx(repeated.gamma_, abs=1e-6)


def test_fit_ignores_rows_with_zero_true_probability():
    y, eta = make_classification_with_posteriors(2000, 3, random_state=3)[1:]
    q = theory.focal_minimizer(eta, 2.0)
    q_zero = q.copy()
    q_zero[0] = np.eye(3)[(y[0] + 1) % 3]  # a confidently wrong row
    a = FocalPosteriorRecovery(gamma="fit").fit(q[1:], y[1:])
    b = FocalPosteriorRecovery(gamma="fit").fit(q_zero, y)
    assert np.isfinite(b.gamma_)
    assert b.gamma_ == pytest.approx(a.gamma_, abs=1e-6)


def test_fit_with_alpha_searches_nonnegative_orders(gaussian_posteriors):
    y, eta = gaussian_posteriors
    alpha = np.array([0.5, 1.0, 2.0])
    q = theory.focal_minimizer(eta, 2.0, alpha=alpha)
    recovery = FocalPosteriorRecovery(gamma="fit", alpha=alpha).fit(q, y)
    assert recovery.gamma_ == pytest.approx(2.0, abs=0.4)


def test_transformer_fit_needs_column_index_labels():
    q = _interior_rows(6, 3, seed=0)
    with pytest.raises(ValueError, match="pass y"):
        FocalPosteriorRecovery(gamma="fit").fit(q)
    with pytest.raises(ValueError, match=re.escape("y[2] = 3 is not a column index")):
        FocalPosteriorRecovery(gamma="fit").fit(q, [0, 1, 3, 0, 1, 2])
    with pytest.raises(ValueError, match="Unknown label type.*searchsorted"):
        FocalPosteriorRecovery(gamma="fit").fit(q, ["a", "b", "c", "a", "b", "c"])


# --------------------------------------------------------------------------
# Meta-estimator mode
# --------------------------------------------------------------------------


def test_meta_predict_proba_is_psi_of_the_estimator(iris_split):
    X_train, X_test, y_train, _ = iris_split
    model = FocalPosteriorRecovery(LogisticRegression(), gamma=2.0).fit(
        X_train, y_train
    )
    reference = LogisticRegression().fit(X_train, y_train)
    expected = reference_psi(reference.predict_proba(X_test), 2.0)
    np.testing.assert_allclose(model.predict_proba(X_test), expected, rtol=1e-9)
    np.testing.assert_allclose(model.transform(X_test), expected, rtol=1e-9)
    np.testing.assert_allclose(
        model.predict_log_proba(X_test), np.log(expected), rtol=1e-9
    )
    np.testing.assert_array_equal(model.predict(X_test), reference.predict(X_test))
    np.testing.assert_array_equal(model.classes_, reference.classes_)
    assert model.n_features_in_ == 4
    assert model.gamma_ == 2.0
    assert model.score(X_test, iris_split[3]) == reference.score(X_test, iris_split[3])


def test_meta_string_labels_and_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = load_iris(return_X_y=True, as_frame=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    model = FocalPosteriorRecovery(LogisticRegression(max_iter=500), gamma=1.0)
    model.fit(X, labels)
    np.testing.assert_array_equal(model.classes_, ["setosa", "versicolor", "virginica"])
    np.testing.assert_array_equal(model.feature_names_in_, X.columns)
    assert set(model.predict(X)) <= set(labels)
    reference = LogisticRegression(max_iter=500).fit(X, labels)
    np.testing.assert_array_equal(model.predict(X), reference.predict(X))
    np.testing.assert_allclose(
        model.predict_proba(X),
        reference_psi(reference.predict_proba(X), 1.0),
        rtol=1e-9,
    )
    names = model.get_feature_names_out()
    assert list(names) == ["proba_setosa", "proba_versicolor", "proba_virginica"]
    out = model.set_output(transform="pandas").transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(names)


def test_meta_frozen_estimator_is_used_as_is(iris_split):
    X_train, X_test, y_train, y_test = iris_split
    clf = LogisticRegression(max_iter=500).fit(X_train, y_train)
    coef = clf.coef_.copy()
    frozen = FrozenEstimator(clf)
    # Fit on other data: a frozen model must not be refitted.
    model = FocalPosteriorRecovery(frozen, gamma="fit").fit(X_test, y_test)
    assert model.estimator_ is frozen
    np.testing.assert_array_equal(clf.coef_, coef)
    # The calibration data are the fit data.
    direct = FocalPosteriorRecovery(gamma="fit").fit(
        clf.predict_proba(X_test), np.searchsorted(clf.classes_, y_test)
    )
    assert model.gamma_ == pytest.approx(direct.gamma_, abs=1e-8)


def test_meta_fit_uses_cross_validated_probabilities():
    X, y = make_classification(
        600, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    cv = KFold(4, shuffle=True, random_state=0)
    model = FocalPosteriorRecovery(LogisticRegression(), gamma="fit", cv=cv).fit(X, y)
    held_out = cross_val_predict(
        LogisticRegression(), X, y, cv=cv, method="predict_proba"
    )
    direct = FocalPosteriorRecovery(gamma="fit").fit(held_out, y)
    assert model.gamma_ == pytest.approx(direct.gamma_, abs=1e-8)

    # ... and that order minimizes the log loss of the signed map of the
    # held-out probabilities: a scan with the reference maps finds it.
    def nll(gamma):
        return log_loss(y, _reference_map(held_out, gamma))

    grid = np.linspace(-2.0, 2.0, 9)
    best = int(np.argmin([nll(g) for g in grid]))
    assert 0 < best < len(grid) - 1  # an interior minimum
    scan = minimize_scalar(
        nll, bounds=(grid[best - 1], grid[best + 1]), options={"xatol": 1e-6}
    )
    assert model.gamma_ == pytest.approx(scan.x, abs=1e-3)
    assert nll(model.gamma_) <= scan.fun + 1e-9
    # The final estimator is refitted on all the data.
    full = LogisticRegression().fit(X, y)
    np.testing.assert_allclose(model.estimator_.coef_, full.coef_)


def test_meta_fit_rejects_cv_that_does_not_partition():
    X, y = make_classification(100, n_classes=2, random_state=0)
    cv = ShuffleSplit(n_splits=2, test_size=0.2, random_state=0)
    with pytest.raises(ValueError, match="partition"):
        FocalPosteriorRecovery(LogisticRegression(), gamma="fit", cv=cv).fit(X, y)


def test_meta_fit_reports_a_class_missing_from_a_fold():
    X, y = make_classification(60, n_classes=2, random_state=0)
    y = y.copy()
    y[:3] = 2  # a rare class, all in the first fold of an unshuffled KFold
    with pytest.raises(ValueError, match=r"Classes \[2\] are missing"):
        FocalPosteriorRecovery(LogisticRegression(), gamma="fit", cv=KFold(3)).fit(X, y)


def test_meta_frozen_with_unknown_calibration_label(iris_split):
    X_train, X_test, y_train, y_test = iris_split
    keep = y_train < 2
    clf = LogisticRegression().fit(X_train[keep], y_train[keep])
    with pytest.raises(ValueError, match="not one of the estimator's classes"):
        FocalPosteriorRecovery(FrozenEstimator(clf), gamma="fit").fit(X_test, y_test)


def test_meta_estimator_without_predict_proba():
    X, y = make_classification(50, random_state=0)
    with pytest.raises(ValueError, match="predict_proba"):
        FocalPosteriorRecovery(LinearSVC(), gamma=1.0).fit(X, y)


def test_meta_requires_y():
    X, _ = make_classification(20, random_state=0)
    with pytest.raises(ValueError, match="requires y"):
        FocalPosteriorRecovery(LogisticRegression(), gamma=1.0).fit(X)


def test_auto_gamma_from_estimator_parameters():
    X, y = make_classification(80, random_state=0)
    model = FocalPosteriorRecovery(_RecordingClassifier(gamma=3.0)).fit(X, y)
    assert model.gamma_ == 3.0
    assert model.alpha_ is None  # alpha is read from focal models only
    model = FocalPosteriorRecovery(_SkorchLikeClassifier(criterion__gamma=1.5))
    assert model.fit(X, y).gamma_ == 1.5
    # Through a Pipeline and a FrozenEstimator too.
    inner = make_pipeline(StandardScaler(), _RecordingClassifier(gamma=0.5)).fit(X, y)
    model = FocalPosteriorRecovery(FrozenEstimator(inner)).fit(X, y)
    assert model.gamma_ == 0.5


def test_auto_gamma_missing_is_a_clear_error():
    X, y = make_classification(40, random_state=0)
    with pytest.raises(ValueError, match="could not find the focal-loss order"):
        FocalPosteriorRecovery(LogisticRegression()).fit(X, y)
    with pytest.raises(ValueError, match="not a focal-loss order"):
        FocalPosteriorRecovery(_RecordingClassifier(gamma="scale")).fit(X, y)


def test_meta_confidence_regime(iris_split):
    X_train, X_test, y_train, _ = iris_split
    model = FocalPosteriorRecovery(LogisticRegression(), gamma=2.0).fit(
        X_train, y_train
    )
    result = model.confidence_regime(X_test)
    q = LogisticRegression().fit(X_train, y_train).predict_proba(X_test)
    confidence, region, max_q, max_posterior = _reference_regime(q, 2.0)
    np.testing.assert_array_equal(result.confidence, confidence)
    np.testing.assert_array_equal(result.region, region)
    np.testing.assert_array_equal(result.max_q, max_q)
    np.testing.assert_allclose(result.max_posterior, max_posterior, rtol=1e-13)


def test_inverse_transform_in_meta_mode(iris_split):
    X_train, X_test, y_train, _ = iris_split
    model = FocalPosteriorRecovery(LogisticRegression(), gamma=2.0).fit(
        X_train, y_train
    )
    raw = model.estimator_.predict_proba(X_test)
    np.testing.assert_allclose(
        model.inverse_transform(model.predict_proba(X_test)), raw, rtol=1e-8
    )
    with pytest.raises(ValueError, match="4 columns but the estimator has 3"):
        model.inverse_transform(_interior_rows(3, 4, seed=0))


# --------------------------------------------------------------------------
# Integration: Pipeline, GridSearchCV, cross_val_score, metadata routing
# --------------------------------------------------------------------------


def test_last_step_of_a_pipeline(iris_split):
    X_train, X_test, y_train, y_test = iris_split
    pipe = make_pipeline(
        StandardScaler(), FocalPosteriorRecovery(LogisticRegression(), gamma=1.0)
    ).fit(X_train, y_train)
    proba = pipe.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert pipe.score(X_test, y_test) > 0.8
    # By hand: scale with the training statistics, then Psi^1 of the model.
    scaler = StandardScaler().fit(X_train)
    reference = LogisticRegression().fit(scaler.transform(X_train), y_train)
    q = reference.predict_proba(scaler.transform(X_test))
    np.testing.assert_allclose(proba, reference_psi(q, 1.0), rtol=1e-9)
    accuracy = np.mean(reference.classes_[q.argmax(axis=1)] == y_test)
    assert pipe.score(X_test, y_test) == accuracy


def test_grid_search_and_cross_val_score():
    X, y = make_classification(
        300, n_features=5, n_informative=3, n_classes=3, random_state=0
    )
    gammas, Cs = [-1.0, 0.0, 1.0], [0.1, 1.0]
    search = GridSearchCV(
        FocalPosteriorRecovery(LogisticRegression()),
        {"gamma": gammas, "estimator__C": Cs},
        scoring="neg_log_loss",
        cv=3,
    ).fit(X, y)
    # By hand: cv=3 is StratifiedKFold(3) for a classifier; each candidate's
    # score is the mean over folds of minus the log loss of the signed map
    # applied to a LogisticRegression trained on the other folds.
    folds = list(StratifiedKFold(3).split(X, y))
    hand = {}
    for gamma in gammas:
        for C in Cs:
            fold_scores = []
            for train, test in folds:
                q = (
                    LogisticRegression(C=C)
                    .fit(X[train], y[train])
                    .predict_proba(X[test])
                )
                mapped = _reference_map(q, gamma)
                fold_scores.append(-log_loss(y[test], mapped, labels=[0, 1, 2]))
            hand[gamma, C] = np.mean(fold_scores)
    best, runner_up = sorted(hand, key=hand.get, reverse=True)[:2]
    assert hand[best] - hand[runner_up] > 1e-4  # a clear winner
    assert search.best_params_ == {"gamma": best[0], "estimator__C": best[1]}
    assert search.best_score_ == pytest.approx(hand[best], rel=1e-9)
    for params, score in zip(
        search.cv_results_["params"], search.cv_results_["mean_test_score"], strict=True
    ):
        assert score == pytest.approx(
            hand[params["gamma"], params["estimator__C"]], rel=1e-9
        )

    scores = cross_val_score(
        FocalPosteriorRecovery(LogisticRegression(), gamma="fit", cv=3),
        X,
        y,
        cv=3,
        scoring="neg_log_loss",
    )
    assert scores.shape == (3,)
    assert np.all(np.isfinite(scores))
    # Each outer fold scores the map of the order fitted on its training part
    # applied to a LogisticRegression refitted on all of that part.
    for score, (train, test) in zip(scores, folds, strict=True):
        fitted = FocalPosteriorRecovery(LogisticRegression(), gamma="fit", cv=3)
        gamma = fitted.fit(X[train], y[train]).gamma_
        q = LogisticRegression().fit(X[train], y[train]).predict_proba(X[test])
        expected = -log_loss(y[test], _reference_map(q, gamma), labels=[0, 1, 2])
        assert score == pytest.approx(expected, rel=1e-9)


def test_sample_weight_reaches_the_inner_fit():
    X, y = make_classification(80, random_state=0)
    weight = np.linspace(0.5, 2.0, len(y))
    model = FocalPosteriorRecovery(_RecordingClassifier(), gamma=1.0)
    model.fit(X, y, sample_weight=weight)
    np.testing.assert_array_equal(model.estimator_.received_sample_weight_, weight)
    weighted = LogisticRegression().fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(model.estimator_.model_.coef_, weighted.coef_)


def test_sample_weight_unsupported_warns():
    X, y = make_classification(80, random_state=0)
    with pytest.warns(UserWarning, match="does not accept sample_weight"):
        FocalPosteriorRecovery(_NoWeightClassifier(), gamma=1.0).fit(
            X, y, sample_weight=np.ones(len(y))
        )


def test_metadata_routing_of_sample_weight():
    X, y = make_classification(80, random_state=0)
    weight = np.linspace(0.5, 2.0, len(y))
    with config_context(enable_metadata_routing=True):
        inner = _RecordingClassifier().set_fit_request(sample_weight=True)
        model = FocalPosteriorRecovery(inner, gamma="fit", cv=2)
        model.fit(X, y, sample_weight=weight)
        np.testing.assert_array_equal(model.estimator_.received_sample_weight_, weight)
        # The routed weight changes the result as a hand-weighted computation
        # says: the refitted model is the weighted fit, and the order is fitted
        # to weighted cross-validated probabilities with the weighted NLL.
        weighted = LogisticRegression().fit(X, y, sample_weight=weight)
        unweighted = LogisticRegression().fit(X, y)
        assert not np.allclose(weighted.coef_, unweighted.coef_, rtol=1e-3)
        np.testing.assert_allclose(model.estimator_.model_.coef_, weighted.coef_)
        held_out = np.zeros((len(y), 2))
        for train, test in StratifiedKFold(2).split(X, y):
            fold = LogisticRegression().fit(
                X[train], y[train], sample_weight=weight[train]
            )
            held_out[test] = fold.predict_proba(X[test])
        direct = FocalPosteriorRecovery(gamma="fit").fit(
            held_out, y, sample_weight=weight
        )
        assert model.gamma_ == pytest.approx(direct.gamma_, abs=1e-8)

        not_requested = _RecordingClassifier().set_fit_request(sample_weight=False)
        model = FocalPosteriorRecovery(not_requested, gamma=1.0)
        model.fit(X, y, sample_weight=weight)
        assert model.estimator_.received_sample_weight_ is None
        np.testing.assert_allclose(model.estimator_.model_.coef_, unweighted.coef_)

        # The router sends fit's sample_weight to the estimator's fit, and
        # nowhere when the estimator does not request it.
        router = FocalPosteriorRecovery(inner, gamma=1.0).get_metadata_routing()
        routed = router.route_params(caller="fit", params={"sample_weight": weight})
        assert set(routed) == {"estimator", "splitter"}
        assert dict(routed.splitter.split) == {}  # the CV splitter takes no weight
        np.testing.assert_array_equal(routed.estimator.fit["sample_weight"], weight)
        router = FocalPosteriorRecovery(not_requested, gamma=1.0).get_metadata_routing()
        routed = router.route_params(caller="fit", params={"sample_weight": weight})
        assert dict(routed.estimator.fit) == {}


def test_clone_and_repr():
    model = FocalPosteriorRecovery(LogisticRegression(C=2.0), gamma="fit", cv=3)
    cloned = clone(model)
    assert cloned.get_params()["estimator__C"] == 2.0
    assert cloned.estimator is not model.estimator
    assert cloned.get_params(deep=False).keys() == model.get_params(deep=False).keys()
    assert (cloned.gamma, cloned.cv, cloned.alpha) == ("fit", 3, "auto")
    assert not hasattr(cloned, "gamma_")
    # sklearn's repr: the parameters that differ from the defaults, sorted
    assert repr(model) == (
        "FocalPosteriorRecovery(cv=3, estimator=LogisticRegression(C=2.0), gamma='fit')"
    )


def test_import_does_not_import_torch():
    import subprocess
    import sys

    code = (
        "import sys, numpy as np, sklearn_focal; "
        "from sklearn_focal import FocalPosteriorRecovery, TemperatureScaling; "
        "from sklearn_focal.datasets import make_focal_synthetic; "
        "from sklearn.linear_model import LogisticRegression; "
        "X, y, _ = make_focal_synthetic(200, random_state=0); "
        "q = FocalPosteriorRecovery(LogisticRegression(), gamma='fit', cv=2)"
        ".fit(X, y).predict_proba(X); "
        "TemperatureScaling().fit(q, y).transform(q); "
        "loaded = [m for m in ('torch', 'skorch') if m in sys.modules]; "
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------
# Trust at the edges (issue #11)
# --------------------------------------------------------------------------


class _TrainedOrderClassifier(ClassifierMixin, BaseEstimator):
    """Stand-in for FocalClassifier(gamma=2.0, criterion__gamma=5.0).

    Its ``gamma`` parameter says 2, but the order and class weights it
    "trained" with are the fitted attributes ``gamma_ = 5`` and ``alpha_``.
    """

    def __init__(self, gamma=2.0):
        self.gamma = gamma

    def fit(self, X, y):
        self.model_ = LogisticRegression().fit(X, y)
        self.classes_ = self.model_.classes_
        self.n_features_in_ = self.model_.n_features_in_
        self.gamma_ = 5.0
        self.alpha_ = np.linspace(0.5, 1.5, len(self.classes_))
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)

    def predict(self, X):
        return self.model_.predict(X)


def _wrapped_trained_order(kind):
    clf = _TrainedOrderClassifier(gamma=2.0)
    if kind == "pipeline":
        return make_pipeline(StandardScaler(), clf)
    if kind == "grid search":
        return GridSearchCV(clf, {"gamma": [2.0]}, cv=2)
    return clf


@pytest.mark.parametrize("frozen", [False, True])
@pytest.mark.parametrize("kind", ["bare", "pipeline", "grid search"])
def test_auto_reads_the_fitted_order_not_the_parameter(iris_split, kind, frozen):
    from sklearn_focal import TemperatureScaling

    X_train, X_test, y_train, _ = iris_split
    estimator = _wrapped_trained_order(kind)
    if frozen:
        estimator = FrozenEstimator(estimator.fit(X_train, y_train))
    model = FocalPosteriorRecovery(estimator).fit(X_train, y_train)
    assert model.gamma_ == 5.0
    np.testing.assert_array_equal(model.alpha_, [0.5, 1.0, 1.5])
    q = model.estimator_.predict_proba(X_test)
    expected = reference_psi(q, 5.0, alpha=[0.5, 1.0, 1.5])
    np.testing.assert_allclose(model.predict_proba(X_test), expected, rtol=1e-9)
    ts = TemperatureScaling(estimator, objective="focal", gamma="auto", cv=2)
    assert ts.fit(X_train, y_train).gamma_ == 5.0


def test_auto_reports_a_bad_fitted_order():
    X, y = make_classification(40, random_state=0)
    clf = _TrainedOrderClassifier().fit(X, y)
    clf.gamma_ = -1.0
    with pytest.raises(ValueError, match=r"_TrainedOrderClassifier\.gamma_.*>= 0"):
        FocalPosteriorRecovery(FrozenEstimator(clf)).fit(X, y)


_BAD_WEIGHTS = {
    "negative": lambda n: -np.ones(n),
    "mixed sign": lambda n: np.r_[-0.5, np.ones(n - 1)],
    "all zero": np.zeros,
    "infinite": lambda n: np.r_[np.inf, np.ones(n - 1)],
}


@pytest.mark.parametrize("weight", list(_BAD_WEIGHTS), ids=list(_BAD_WEIGHTS))
@pytest.mark.parametrize("mode", ["transformer", "frozen", "cross-validated"])
def test_bad_sample_weight_is_rejected(iris_split, mode, weight):
    X_train, _, y_train, _ = iris_split
    sample_weight = _BAD_WEIGHTS[weight](len(y_train))
    if mode == "transformer":
        model = FocalPosteriorRecovery(gamma="fit")
        X = LogisticRegression().fit(X_train, y_train).predict_proba(X_train)
    elif mode == "frozen":
        fitted = LogisticRegression().fit(X_train, y_train)
        model, X = FocalPosteriorRecovery(FrozenEstimator(fitted), gamma="fit"), X_train
    else:
        model = FocalPosteriorRecovery(_RecordingClassifier(), gamma="fit", cv=2)
        X = X_train
    with pytest.raises(ValueError, match="sample_weight"):
        model.fit(X, y_train, sample_weight=sample_weight)
    assert not hasattr(model, "gamma_")


@pytest.mark.parametrize("weight", list(_BAD_WEIGHTS), ids=list(_BAD_WEIGHTS))
def test_score_rejects_bad_sample_weight(iris_split, weight):
    X_train, X_test, y_train, y_test = iris_split
    model = FocalPosteriorRecovery(LogisticRegression(), gamma=1.0)
    model.fit(X_train, y_train)
    with pytest.raises(ValueError, match="sample_weight"):
        model.score(X_test, y_test, sample_weight=_BAD_WEIGHTS[weight](len(y_test)))


def test_fit_rejects_weight_only_on_rows_no_map_can_change():
    q = _interior_rows(6, 3, seed=0)
    q[0] = [0.0, 0.5, 0.5]  # its true class 0 has probability 0
    y = [0, 1, 2, 0, 1, 2]
    with pytest.raises(ValueError, match="positive sample_weight"):
        FocalPosteriorRecovery(gamma="fit").fit(q, y, sample_weight=[1, 0, 0, 0, 0, 0])


def _one_hot_calibration_set(n_classes, labels, predicted):
    return np.eye(n_classes)[predicted], np.asarray(labels)


@settings(max_examples=50, deadline=None)
@given(
    n_classes=st.integers(2, 5),
    data=st.data(),
)
def test_fit_on_one_hot_rows_is_the_identity_with_a_warning(n_classes, data):
    from sklearn_focal.exceptions import FlatCalibrationWarning

    n = data.draw(st.integers(1, 12))
    labels = data.draw(st.lists(st.integers(0, n_classes - 1), min_size=n, max_size=n))
    wrong = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    wrong[0] = False  # at least one row gives its class a probability > 0
    predicted = [
        (c + 1) % n_classes if w else c for c, w in zip(labels, wrong, strict=True)
    ]
    q, y = _one_hot_calibration_set(n_classes, labels, predicted)
    with pytest.warns(
        FlatCalibrationWarning, match=r"FocalPosteriorRecovery\(gamma='fit'\).*flat"
    ):
        recovery = FocalPosteriorRecovery(gamma="fit").fit(q, y)
    assert recovery.gamma_ == 0.0
    rows = _interior_rows(5, n_classes, seed=n_classes)
    np.testing.assert_allclose(recovery.transform(rows), rows, rtol=1e-14)


def test_fit_on_one_hot_rows_with_alpha_gives_gamma_zero():
    from sklearn_focal.exceptions import FlatCalibrationWarning

    q, y = _one_hot_calibration_set(3, [0, 1, 2, 2], [0, 1, 2, 0])
    alpha = np.array([0.5, 1.0, 2.0])
    with pytest.warns(FlatCalibrationWarning, match="whole search interval"):
        recovery = FocalPosteriorRecovery(gamma="fit", alpha=alpha).fit(q, y)
    assert recovery.gamma_ == 0.0
    # The warning says the identity map is used: it is (with alpha, Psi of
    # order 0 would reweight the rows).
    assert recovery.alpha_ is None
    rows = _interior_rows(5, 3, seed=3)
    np.testing.assert_allclose(recovery.transform(rows), rows, rtol=1e-14)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("alpha", [[0.25, 0.5, 0.25], [1.0, 3.0, 0.5]])
def test_fit_with_alpha_is_never_worse_than_raw(seed, alpha):
    # Calibrated rows (y drawn from them): every weighted map moves them away
    # from the posterior, so the raw output (the identity, not a member of the
    # alpha family) must be chosen, and said.
    from sklearn_focal.exceptions import PosteriorRecoveryWarning

    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(3), size=2000)
    y = (rng.uniform(size=(2000, 1)) > np.cumsum(p, axis=1)).sum(axis=1)

    def nll(q):  # transcribed
        return float(np.mean(-np.log(q[np.arange(len(y)), y])))

    with pytest.warns(
        PosteriorRecoveryWarning, match="worse than the raw output"
    ) as record:
        recovery = FocalPosteriorRecovery(gamma="fit", alpha=alpha).fit(p, y)
    assert record[0].filename == __file__  # points at the user's fit call
    assert recovery.gamma_ == 0.0
    assert recovery.alpha_ is None
    assert nll(recovery.transform(p)) <= nll(p) + 1e-12


def test_fit_with_matching_alpha_keeps_the_weighted_map(gaussian_posteriors):
    # The raw-output candidate does not displace a weighted map that fits.
    y, eta = gaussian_posteriors
    alpha = np.array([0.5, 1.0, 2.0])
    q = theory.focal_minimizer(eta, 2.0, alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        recovery = FocalPosteriorRecovery(gamma="fit", alpha=alpha).fit(q, y)
    assert recovery.alpha_ is not None
    nll = lambda r: float(np.mean(-np.log(r[np.arange(len(y)), y])))  # noqa: E731
    assert nll(recovery.transform(q)) < nll(q)


@pytest.mark.parametrize("eps", [1e-7, 1e-10, 1e-13])
def test_fit_on_nearly_one_hot_correct_rows_is_the_identity(eps):
    # Every row correct with probability 1 - eps: the NLL keeps falling, by
    # less than eps, towards the sharpest map; the data cannot fit gamma.
    from sklearn_focal.exceptions import FlatCalibrationWarning

    y = np.arange(30) % 3
    q = np.full((30, 3), eps / 2)
    q[np.arange(30), y] = 1 - eps
    with pytest.warns(FlatCalibrationWarning, match="bound gamma = 20"):
        recovery = FocalPosteriorRecovery(gamma="fit").fit(q, y)
    assert recovery.gamma_ == 0.0


def test_fit_at_a_bound_with_a_real_gain_is_kept():
    # Every row correct with probability 0.6: the NLL falls by about 0.5 nats
    # towards the sharpest map, a real gain: no warning, the bound is kept.
    from sklearn_focal.exceptions import FlatCalibrationWarning

    q = np.tile([0.6, 0.4], (20, 1))
    y = np.zeros(20, dtype=int)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FlatCalibrationWarning)
        recovery = FocalPosteriorRecovery(gamma="fit").fit(q, y)
    assert recovery.gamma_ > 19.9
    np.testing.assert_allclose(
        recovery.transform(q), reference_psi(q, recovery.gamma_), rtol=1e-9
    )


# --------------------------------------------------------------------------
# With FocalClassifier (torch)
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def focal_iris():
    pytest.importorskip("torch")
    pytest.importorskip("skorch")
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X).astype(np.float32)
    return X, y


def _small_focal(**params):
    from sklearn_focal import FocalClassifier

    defaults = dict(
        hidden_layer_sizes=(16,), max_epochs=8, lr=0.02, random_state=0, verbose=0
    )
    return FocalClassifier(**(defaults | params))


@pytest.mark.parametrize("posterior", ["recovered", "raw"])
def test_psi_is_never_applied_twice(focal_iris, posterior):
    X, y = focal_iris
    clf = _small_focal(gamma=2.0, posterior=posterior).fit(X, y)
    q = clf.predict_raw_proba(X)
    expected = reference_psi(q, 2.0)
    # Frozen model, meta-estimator mode fitting a clone, and inside a Pipeline.
    frozen = FocalPosteriorRecovery(FrozenEstimator(clf)).fit(X, y)
    np.testing.assert_allclose(frozen.predict_proba(X), expected, rtol=1e-8)
    refit = FocalPosteriorRecovery(_small_focal(gamma=2.0, posterior=posterior))
    refit.fit(X, y)
    np.testing.assert_allclose(
        refit.predict_proba(X),
        reference_psi(refit.estimator_.predict_raw_proba(X), 2.0),
        rtol=1e-8,
    )
    pipe = make_pipeline(StandardScaler(), _small_focal(gamma=2.0, posterior=posterior))
    wrapped = FocalPosteriorRecovery(pipe).fit(X, y)
    inner = wrapped.estimator_
    raw = inner[-1].predict_raw_proba(inner[:-1].transform(X))
    np.testing.assert_allclose(
        wrapped.predict_proba(X), reference_psi(raw, 2.0), rtol=1e-8
    )
    # Recovering once is what the classifier itself reports when recovered.
    if posterior == "recovered":
        np.testing.assert_allclose(frozen.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(frozen.predict(X), clf.predict(X))


def test_gamma_fit_starts_from_raw_focal_output(focal_iris):
    X, y = focal_iris
    clf = _small_focal(gamma=3.0, posterior="recovered").fit(X, y)
    model = FocalPosteriorRecovery(FrozenEstimator(clf), gamma="fit").fit(X, y)
    direct = FocalPosteriorRecovery(gamma="fit").fit(clf.predict_raw_proba(X), y)
    assert model.gamma_ == pytest.approx(direct.gamma_, abs=1e-8)


def test_auto_reads_gamma_and_alpha_from_focal_classifier(focal_iris):
    X, y = focal_iris
    keep = np.r_[0:50, 50:70, 100:150]  # imbalanced classes
    clf = _small_focal(gamma=1.5, alpha="balanced").fit(X[keep], y[keep])
    model = FocalPosteriorRecovery(FrozenEstimator(clf)).fit(X[keep], y[keep])
    assert model.gamma_ == 1.5
    np.testing.assert_allclose(model.alpha_, clf.alpha_)
    q = clf.predict_raw_proba(X)
    np.testing.assert_allclose(
        model.predict_proba(X), reference_psi(q, 1.5, clf.alpha_), rtol=1e-8
    )


def test_auto_reads_the_trained_order_not_a_changed_parameter(focal_iris):
    # set_params after fit changes the parameter, not the trained network:
    # gamma="auto" must read the order it trained with, gamma_.
    from sklearn_focal import TemperatureScaling

    X, y = focal_iris
    clf = _small_focal(gamma=2.0, max_epochs=2).fit(X, y)
    clf.set_params(gamma=5.0)
    model = FocalPosteriorRecovery(FrozenEstimator(clf)).fit(X, y)
    assert model.gamma_ == 2.0
    q = clf.predict_raw_proba(X)
    np.testing.assert_allclose(model.predict_proba(X), reference_psi(q, 2.0), rtol=1e-8)
    ts = TemperatureScaling(FrozenEstimator(clf), objective="focal", gamma="auto")
    assert ts.fit(X, y).gamma_ == 2.0


def test_temperature_scaling_reads_raw_focal_output(focal_iris):
    from sklearn_focal import TemperatureScaling

    X, y = focal_iris
    clf = _small_focal(gamma=2.0, posterior="recovered").fit(X, y)
    ts = TemperatureScaling(FrozenEstimator(clf), objective="focal", gamma="auto")
    ts.fit(X, y)
    direct = TemperatureScaling(objective="focal", gamma=2.0).fit(
        clf.predict_raw_proba(X), y
    )
    assert ts.gamma_ == 2.0
    assert ts.temperature_ == pytest.approx(direct.temperature_, rel=1e-8)


def test_grid_search_over_estimator_gamma(focal_iris):
    X, y = focal_iris
    model = FocalPosteriorRecovery(_small_focal(max_epochs=4))
    search = GridSearchCV(
        model, {"estimator__gamma": [0.0, 2.0]}, scoring="neg_log_loss", cv=2
    ).fit(X, y)
    assert search.best_estimator_.gamma_ == search.best_params_["estimator__gamma"]
    scores = cross_val_score(model, X, y, cv=2, scoring="neg_log_loss")
    assert np.all(np.isfinite(scores))
    # By hand: in each fold, Psi of the order the network trained with,
    # applied to its raw outputs, scored by sklearn's log loss.
    folds = list(StratifiedKFold(2).split(X, y))
    hand = {}
    for gamma in (0.0, 2.0):
        fold_scores = []
        for train, test in folds:
            net = _small_focal(max_epochs=4, gamma=gamma).fit(X[train], y[train])
            q = net.predict_raw_proba(X[test]).astype(np.float64)
            fold_scores.append(-log_loss(y[test], reference_psi(q, gamma)))
        hand[gamma] = np.array(fold_scores)
        candidate = search.cv_results_["params"].index({"estimator__gamma": gamma})
        for fold in range(2):
            assert search.cv_results_[f"split{fold}_test_score"][
                candidate
            ] == pytest.approx(hand[gamma][fold], rel=1e-6)
    best = max(hand, key=lambda gamma: hand[gamma].mean())
    assert search.best_params_ == {"estimator__gamma": best}
    default_gamma = model.estimator.gamma
    np.testing.assert_allclose(scores, hand[default_gamma], rtol=1e-6)


# --------------------------------------------------------------------------
# Evidence (the paper's Fig. 3 claim, and the signed map on a real dataset)
# --------------------------------------------------------------------------


@pytest.mark.slow
def test_evidence_psi_recovers_posterior_on_focal_synthetic():
    pytest.importorskip("torch")
    from sklearn_focal import FocalClassifier, TemperatureScaling
    from sklearn_focal.datasets import make_focal_synthetic
    from sklearn_focal.metrics import (
        expected_calibration_error,
        posterior_kl_divergence,
    )

    X, y, _ = make_focal_synthetic(3000, random_state=0)
    X_val, y_val, _ = make_focal_synthetic(2000, random_state=100)
    X_test, y_test, eta = make_focal_synthetic(5000, random_state=200)
    clf = FocalClassifier(
        gamma=5.0,
        hidden_layer_sizes=(32, 32),
        max_epochs=20,
        lr=0.01,
        batch_size=256,
        random_state=0,
    ).fit(X, y)

    raw = clf.predict_raw_proba(X_test)
    psi = FocalPosteriorRecovery(FrozenEstimator(clf)).fit(X, y).predict_proba(X_test)
    ts_nll = TemperatureScaling(FrozenEstimator(clf)).fit(X_val, y_val)
    tempered = ts_nll.predict_proba(X_test)
    # The paper's Sec. 6.1 pipeline: TS with the focal loss, then Psi.
    ts_fl_psi = FocalPosteriorRecovery(
        TemperatureScaling(FrozenEstimator(clf), objective="focal", gamma=5.0)
    ).fit(X_val, y_val)
    fl_psi = ts_fl_psi.predict_proba(X_test)

    results = {}
    for name, proba in [
        ("raw", raw),
        ("Psi", psi),
        ("TS_NLL", tempered),
        ("TS_FL + Psi", fl_psi),
    ]:
        results[name] = (
            posterior_kl_divergence(eta, proba),
            expected_calibration_error(y_test, proba, n_bins=10),
            np.mean(proba.argmax(axis=1) != y_test),
        )
        kl, ece, err = results[name]
        print(f"\nfocal synthetic, gamma=5, {name}: ", end="")
        print(f"KL={kl:.4f} ECE={ece:.4f} ERR={err:.4f}")
    print(
        f"TS_NLL temperature: {ts_nll.temperature_:.3f}, TS_FL temperature: "
        f"{ts_fl_psi.estimator_.temperature_:.3f}"
    )

    kl_raw, kl_psi, kl_ts = (results[k][0] for k in ("raw", "Psi", "TS_NLL"))
    assert kl_psi <= 0.5 * kl_raw
    # Psi preserves the decision rule: identical predictions and error rates.
    np.testing.assert_array_equal(psi.argmax(axis=1), raw.argmax(axis=1))
    assert results["Psi"][2] == results["raw"][2]
    # TS_NLL moves the scores towards eta but does not reach Psi's KL.
    assert kl_ts > kl_psi
    assert results["TS_FL + Psi"][0] < kl_raw
    np.testing.assert_array_equal(fl_psi.argmax(axis=1), raw.argmax(axis=1))


@pytest.mark.slow
def test_evidence_signed_map_on_overconfident_digits_mlp():
    from sklearn.datasets import load_digits
    from sklearn.neural_network import MLPClassifier

    from sklearn_focal import TemperatureScaling
    from sklearn_focal.metrics import expected_calibration_error

    X, y = load_digits(return_X_y=True)
    X_train, X_rest, y_train, y_rest = train_test_split(
        X, y, train_size=0.5, stratify=y, random_state=0
    )
    X_cal, X_test, y_cal, y_test = train_test_split(
        X_rest, y_rest, train_size=0.5, stratify=y_rest, random_state=0
    )
    # Cross-entropy trained far past the point of fitting the training set.
    mlp = make_pipeline(
        StandardScaler(),
        MLPClassifier(
            hidden_layer_sizes=(64,),
            alpha=1e-5,
            max_iter=400,
            tol=0.0,
            n_iter_no_change=1000,
            random_state=0,
        ),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp.fit(X_train, y_train)
    assert mlp.score(X_train, y_train) == 1.0

    signed = FocalPosteriorRecovery(FrozenEstimator(mlp), gamma="fit")
    signed.fit(X_cal, y_cal)
    ts_nll = TemperatureScaling(FrozenEstimator(mlp)).fit(X_cal, y_cal)

    results = {}
    for name, proba in [
        ("raw", mlp.predict_proba(X_test)),
        ("signed Psi, gamma='fit'", signed.predict_proba(X_test)),
        ("TS_NLL", ts_nll.predict_proba(X_test)),
    ]:
        results[name] = (
            log_loss(y_test, proba, labels=np.arange(10)),
            expected_calibration_error(y_test, proba, n_bins=10),
            np.mean(proba.argmax(axis=1) != y_test),
        )
        nll, ece, err = results[name]
        print(f"\ndigits MLP, {name}: NLL={nll:.4f} ECE={ece:.4f} ERR={err:.4f}")
    print(f"gamma_={signed.gamma_:.3f}, TS temperature={ts_nll.temperature_:.3f}")

    # Over-confident network: the fitted map flattens (gamma_ < 0) and lowers
    # the test NLL without changing a single prediction.
    assert signed.gamma_ < 0
    assert results["signed Psi, gamma='fit'"][0] < results["raw"][0]
    assert results["signed Psi, gamma='fit'"][2] == results["raw"][2]


if __name__ == "__main__":
    with mpmath.workdps(40):
        dump_references(
            MINIMIZER_FILE,
            [
                {"p": p, "gamma": gamma, "q0": _mp_binary_focal_minimizer(p, gamma)}
                for gamma in MINIMIZER_GAMMAS
                for p in ProbArg().values(60).tolist()
            ],
        )
