"""Tests for TemperatureScaling (TS_NLL, TS_FL) and its composition with Psi."""

import mpmath
import numpy as np
import pytest
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from mptestutils import mp_softmax
from scipy.optimize import minimize_scalar
from scipy.special import softmax
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, cross_val_predict, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC
from sklearn.utils.fixes import parse_version

from sklearn_focal import FocalPosteriorRecovery, TemperatureScaling, theory
from sklearn_focal.datasets import make_classification_with_posteriors

SKLEARN_HAS_TEMPERATURE = parse_version(sklearn.__version__) >= parse_version("1.8")


def reference_temperature(logits, y, gamma=0.0, weights=None):
    """Temperature minimizing the mean focal loss, computed in probability space.

    A plain scan over T followed by Brent's method: independent of the
    estimator's log-space objective.
    """

    def loss(T):
        p = softmax(logits / T, axis=1)[np.arange(len(y)), y]
        with np.errstate(divide="ignore"):
            return np.average(-((1 - p) ** gamma) * np.log(p), weights=weights)

    grid = np.exp(np.linspace(-4, 4, 161))
    best = int(np.argmin([loss(T) for T in grid]))
    result = minimize_scalar(
        loss,
        bounds=(grid[max(best - 1, 0)], grid[min(best + 1, 160)]),
        method="bounded",
        options={"xatol": 1e-10},
    )
    return result.x


@pytest.fixture(scope="module")
def overconfident():
    """Over-confident scores q = softmax(3 log eta) with labels drawn from eta."""
    _, y, eta = make_classification_with_posteriors(
        4000, 4, n_features=3, class_sep=1.0, random_state=0
    )
    return softmax(3.0 * np.log(eta), axis=1), y, eta


# --------------------------------------------------------------------------
# Transformer mode
# --------------------------------------------------------------------------


def test_nll_temperature_matches_reference(overconfident):
    q, y, _ = overconfident
    ts = TemperatureScaling().fit(q, y)
    assert ts.temperature_ == pytest.approx(reference_temperature(np.log(q), y), 1e-5)
    # The scores were eta sharpened by a factor 3: T comes out close to 3.
    assert ts.temperature_ == pytest.approx(3.0, rel=0.1)
    assert ts.gamma_ is None
    out = ts.transform(q)
    np.testing.assert_allclose(out, softmax(np.log(q) / ts.temperature_, axis=1))
    np.testing.assert_array_equal(out.argmax(axis=1), q.argmax(axis=1))


@pytest.mark.parametrize("gamma", [1.0, 3.0])
def test_focal_temperature_matches_reference(overconfident, gamma):
    q, y, _ = overconfident
    ts = TemperatureScaling(objective="focal", gamma=gamma).fit(q, y)
    expected = reference_temperature(np.log(q), y, gamma=gamma)
    assert ts.temperature_ == pytest.approx(expected, rel=1e-5)
    assert ts.gamma_ == gamma


def test_logits_input_equals_proba_input(overconfident):
    q, y, _ = overconfident
    logits = np.log(q) + 7.0  # a row constant does not change the softmax
    a = TemperatureScaling().fit(q, y)
    b = TemperatureScaling(input="logits").fit(logits, y)
    assert a.temperature_ == pytest.approx(b.temperature_, rel=1e-8)
    np.testing.assert_allclose(a.transform(q), b.transform(logits), rtol=1e-9)


@settings(max_examples=25)
@given(
    scale=st.floats(0.2, 5.0),
    gamma=st.sampled_from([None, 1.0, 3.0]),
    seed=st.integers(0, 2**16),
)
def test_temperature_is_equivariant_to_logit_scale(scale, gamma, seed):
    # softmax((c z) / (c T)) = softmax(z / T): scaling the logits by c scales
    # the optimal temperature by c, for any objective.
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=2.0, size=(300, 3))
    y = np.array([rng.choice(3, p=p) for p in softmax(0.5 * logits, axis=1)])
    params = {"input": "logits"}
    if gamma is not None:
        params |= {"objective": "focal", "gamma": gamma}
    base = TemperatureScaling(**params).fit(logits, y).temperature_
    scaled = TemperatureScaling(**params).fit(scale * logits, y).temperature_
    assert scaled == pytest.approx(scale * base, rel=1e-5)


def test_sample_weight_equals_repetition(overconfident):
    q, y, _ = overconfident
    q, y = q[:500], y[:500]
    weights = np.random.default_rng(0).integers(0, 4, size=len(y))
    a = TemperatureScaling().fit(q, y, sample_weight=weights)
    b = TemperatureScaling().fit(np.repeat(q, weights, axis=0), np.repeat(y, weights))
    assert a.temperature_ == pytest.approx(b.temperature_, rel=1e-6)


def test_rows_with_zero_true_probability_are_left_out(overconfident):
    q, y, _ = overconfident
    q_bad = q.copy()
    q_bad[0] = np.eye(4)[(y[0] + 1) % 4]
    a = TemperatureScaling().fit(q[1:], y[1:])
    b = TemperatureScaling().fit(q_bad, y)
    assert b.temperature_ == pytest.approx(a.temperature_, rel=1e-6)
    assert np.all(np.isfinite(b.transform(q_bad)))


def test_set_output_pandas_and_feature_names(overconfident):
    pd = pytest.importorskip("pandas")
    q, y, _ = overconfident
    frame = pd.DataFrame(q, columns=["a", "b", "c", "d"])
    out = TemperatureScaling().set_output(transform="pandas").fit(frame, y)
    result = out.transform(frame)
    assert list(result.columns) == ["a", "b", "c", "d"]


@pytest.mark.parametrize(
    "params, X, y, match",
    [
        ({"objective": "focal"}, None, None, "needs gamma"),
        ({"gamma": 2.0}, None, None, "only used with objective='focal'"),
        ({"objective": "focal", "gamma": "auto"}, None, None, "transformer mode"),
        ({}, np.array([[0.5, 0.6], [0.5, 0.5]]), [0, 1], "row 0 sums to"),
        ({}, np.array([[0.5, 0.5], [0.5, 0.5]]), [0, 2], "not a column index"),
        ({}, np.array([[0.5, 0.5], [0.5, 0.5]]), None, "requires y"),
        ({"input": "logits"}, np.array([[1.0], [2.0]]), [0, 0], "at least 2"),
        ({"objective": "cross-entropy"}, None, None, "objective"),
        ({"input": "scores"}, None, None, "input"),
    ],
)
def test_transformer_bad_input(params, X, y, match):
    if X is None:
        X, y = np.array([[0.7, 0.3], [0.2, 0.8]]), [0, 1]
    with pytest.raises(ValueError, match=match):
        TemperatureScaling(**params).fit(X, y)


def test_transformer_K_differs_between_fit_and_transform(overconfident):
    q, y, _ = overconfident
    ts = TemperatureScaling().fit(q, y)
    with pytest.raises(ValueError, match="3 features.*expecting 4"):
        ts.transform(np.full((2, 3), 1 / 3))


# --------------------------------------------------------------------------
# TS_FL followed by Psi: the pipeline of the paper's Sec. 6.1
# --------------------------------------------------------------------------


@pytest.mark.parametrize("gamma", [2.0, 4.0])
def test_ts_fl_then_psi_recovers_the_posterior(gamma):
    # A model whose scores are the focal minimizer of eta, sharpened by a
    # factor 2 (as by an over-fitted network): TS_FL undoes the factor (the
    # focal risk is minimized by the focal minimizer), then Psi recovers eta.
    _, y, eta = make_classification_with_posteriors(
        20_000, 3, n_features=2, class_sep=1.2, random_state=1
    )
    eta = np.clip(eta, 1e-12, None)
    eta /= eta.sum(axis=1, keepdims=True)
    focal_output = theory.focal_minimizer(eta, gamma)
    q = softmax(2.0 * np.log(focal_output), axis=1)

    ts_fl = TemperatureScaling(objective="focal", gamma=gamma).fit(q, y)
    assert ts_fl.temperature_ == pytest.approx(2.0, rel=0.1)

    pipe = make_pipeline(
        TemperatureScaling(objective="focal", gamma=gamma),
        FocalPosteriorRecovery(gamma=gamma),
    ).fit(q, y)
    recovered = pipe.transform(q)

    def kl(p, r):
        return np.mean(np.sum(p * (np.log(p) - np.log(r)), axis=1))

    ts_nll = TemperatureScaling().fit(q, y).transform(q)
    kl_fl_psi = kl(eta, recovered)
    kl_fl = kl(eta, ts_fl.transform(q))
    kl_nll = kl(eta, ts_nll)
    print(
        f"\ngamma={gamma}: KL(eta||TS_FL)={kl_fl:.4f} "
        f"KL(eta||TS_NLL)={kl_nll:.4f} KL(eta||Psi(TS_FL))={kl_fl_psi:.5f}"
    )
    assert kl_fl_psi < 0.1 * kl_fl
    assert kl_fl_psi < kl_nll
    np.testing.assert_array_equal(recovered.argmax(axis=1), q.argmax(axis=1))


def test_psi_wraps_temperature_scaling_in_meta_mode():
    X, y = make_classification(
        900, n_features=5, n_informative=3, n_classes=3, random_state=0
    )
    X_fit, X_cal, y_fit, y_cal = train_test_split(X, y, random_state=0)
    clf = LogisticRegression().fit(X_fit, y_fit)
    ts = TemperatureScaling(FrozenEstimator(clf), objective="focal", gamma="auto")
    # gamma="auto" of TS cannot find an order in a LogisticRegression...
    with pytest.raises(ValueError, match="could not find the focal-loss order"):
        clone_fit = TemperatureScaling(
            FrozenEstimator(clf), objective="focal", gamma="auto"
        )
        clone_fit.fit(X_cal, y_cal)
    # ...but Psi reads the order from a TS_FL with an explicit gamma.
    ts = TemperatureScaling(FrozenEstimator(clf), objective="focal", gamma=2.0)
    model = FocalPosteriorRecovery(ts).fit(X_cal, y_cal)
    assert model.gamma_ == 2.0
    tempered = model.estimator_.predict_proba(X_cal)
    np.testing.assert_allclose(
        model.predict_proba(X_cal), theory.psi(tempered, 2.0), rtol=1e-10
    )
    np.testing.assert_array_equal(model.predict(X_cal), clf.predict(X_cal))


# --------------------------------------------------------------------------
# Meta-estimator mode
# --------------------------------------------------------------------------


def test_meta_frozen_fits_on_the_fit_data():
    X, y = make_classification(
        600, n_features=6, n_informative=4, n_classes=3, random_state=3
    )
    X_fit, X_cal, y_fit, y_cal = train_test_split(X, y, stratify=y, random_state=0)
    clf = LogisticRegression(C=100, max_iter=1000).fit(X_fit[:60], y_fit[:60])
    ts = TemperatureScaling(FrozenEstimator(clf)).fit(X_cal, y_cal)
    expected = reference_temperature(np.log(clf.predict_proba(X_cal)), y_cal)
    assert ts.temperature_ == pytest.approx(expected, rel=1e-5)
    np.testing.assert_allclose(
        ts.predict_proba(X_cal),
        softmax(np.log(clf.predict_proba(X_cal)) / ts.temperature_, axis=1),
    )
    np.testing.assert_array_equal(ts.predict(X_cal), clf.predict(X_cal))
    np.testing.assert_array_equal(ts.classes_, clf.classes_)


def test_meta_cross_validated_temperature():
    X, y = make_classification(
        600, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    cv = KFold(3, shuffle=True, random_state=0)
    ts = TemperatureScaling(LogisticRegression(), cv=cv).fit(X, y)
    held_out = cross_val_predict(
        LogisticRegression(), X, y, cv=cv, method="predict_proba"
    )
    assert ts.temperature_ == pytest.approx(
        reference_temperature(np.log(held_out), y), rel=1e-5
    )


@pytest.mark.parametrize("n_classes", [2, 3])
def test_meta_logits_from_decision_function(n_classes):
    X, y = make_classification(
        400, n_features=5, n_informative=3, n_classes=n_classes, random_state=0
    )
    X_fit, X_cal, y_fit, y_cal = train_test_split(X, y, random_state=0)
    svc = LinearSVC().fit(X_fit, y_fit)
    ts = TemperatureScaling(FrozenEstimator(svc), input="logits").fit(X_cal, y_cal)
    scores = svc.decision_function(X_cal)
    if n_classes == 2:
        scores = np.column_stack([np.zeros_like(scores), scores])
    assert ts.temperature_ == pytest.approx(
        reference_temperature(scores, y_cal), rel=1e-5
    )
    np.testing.assert_array_equal(ts.predict(X_cal), svc.predict(X_cal))
    assert ts.predict_proba(X_cal).shape == (len(y_cal), n_classes)


def test_meta_method_missing_for_input():
    X, y = make_classification(60, random_state=0)
    with pytest.raises(ValueError, match="predict_proba"):
        TemperatureScaling(LinearSVC()).fit(X, y)
    with pytest.raises(ValueError, match="decision_function"):
        TemperatureScaling(MLPClassifier(max_iter=5), input="logits").fit(X, y)


@pytest.mark.skipif(
    not SKLEARN_HAS_TEMPERATURE,
    reason="CalibratedClassifierCV(method='temperature') needs scikit-learn >= 1.8",
)
@pytest.mark.parametrize("n_classes", [2, 3, 5])
@pytest.mark.parametrize("seed", [0, 1])
def test_ts_nll_agrees_with_sklearn_temperature(n_classes, seed):
    # Both wrap the same frozen model and calibrate on the same data. sklearn
    # fits the inverse temperature beta on decision_function logits; ours
    # fits T on log predict_proba. For multiclass logistic regression the two
    # logits differ by a row constant, so beta = 1/T. For binary problems
    # sklearn turns the decision value z into the logits (-z, z) while log
    # predict_proba differs by z, so there beta = 1/(2T).
    X, y = make_classification(
        1500,
        n_features=8,
        n_informative=5,
        n_classes=n_classes,
        class_sep=0.8,
        random_state=seed,
    )
    X_fit, X_cal, y_fit, y_cal = train_test_split(X, y, random_state=seed)
    clf = LogisticRegression(C=1e3, max_iter=2000).fit(X_fit[:200], y_fit[:200])
    ours = TemperatureScaling(FrozenEstimator(clf)).fit(X_cal, y_cal)
    theirs = CalibratedClassifierCV(FrozenEstimator(clf), method="temperature")
    theirs.fit(X_cal, y_cal)
    beta = float(theirs.calibrated_classifiers_[0].calibrators[0].beta_)
    scale = 2.0 if n_classes == 2 else 1.0
    temperature_sklearn = 1.0 / (scale * beta)
    print(
        f"\nK={n_classes}: T ours={ours.temperature_:.6f} "
        f"sklearn={temperature_sklearn:.6f}"
    )
    assert abs(ours.temperature_ - temperature_sklearn) < 1e-3
    np.testing.assert_allclose(
        ours.predict_proba(X_cal), theirs.predict_proba(X_cal), atol=1e-4
    )


# --------------------------------------------------------------------------
# Trust at the edges (issue #11)
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def underconfident_logits():
    """Logits 0.25 log(eta) with labels drawn from eta: T comes out near 1/4."""
    _, y, eta = make_classification_with_posteriors(
        1500, 3, n_features=3, class_sep=1.0, random_state=4
    )
    return 0.25 * np.log(eta), y


def _mpmath_softmax(row, temperature):
    """softmax(row / temperature) in 60-digit arithmetic, from the exact floats."""
    with mpmath.workdps(60):
        return [float(t) for t in mp_softmax(row, float(temperature))]


_HUGE = np.finfo(np.float64).max
_HUGE_LOGITS = np.array(
    [
        [1e308, -1e308, 0.0],
        [1e308, 1e308, -1e308],
        [-1e308, -1e308, -1e308],
        [_HUGE, -_HUGE, 5.0],
        [-_HUGE, _HUGE, _HUGE],
        [1e300, 1e300 * (1 - 2e-16), -1e300],
        [2.0, 1.0, -3.0],
    ]
)


@pytest.fixture(scope="module")
def underconfident_ts(underconfident_logits):
    return TemperatureScaling(input="logits").fit(*underconfident_logits)


def test_huge_logits_give_the_exact_probabilities(underconfident_ts):
    ts = underconfident_ts
    assert ts.temperature_ < 0.5  # z / T would overflow for the huge rows
    out = ts.transform(_HUGE_LOGITS)
    assert np.all(np.isfinite(out))
    expected = [_mpmath_softmax(row, ts.temperature_) for row in _HUGE_LOGITS]
    np.testing.assert_allclose(out, expected, rtol=1e-13, atol=1e-300)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.lists(
            st.floats(allow_nan=False, allow_infinity=False), min_size=3, max_size=3
        ),
        min_size=1,
        max_size=4,
    )
)
def test_any_finite_logits_give_the_exact_probabilities(underconfident_ts, rows):
    ts = underconfident_ts
    rows = np.array(rows)
    out = ts.transform(rows)
    assert np.all(np.isfinite(out))
    expected = [_mpmath_softmax(row, ts.temperature_) for row in rows]
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("gamma", [None, 2.0])
def test_fit_on_huge_logits_gives_a_finite_temperature(underconfident_logits, gamma):
    # Rows with huge, correct logits have loss 0 at every temperature, and the
    # row (1e308, 1e308, -1e308) of class 0 loses log 2 at every temperature:
    # neither moves the optimum of the moderate rows.
    logits, y = underconfident_logits
    huge = np.array([[1e308, -1e308, 0.0], [-_HUGE, _HUGE, 1.0]] * 5)
    huge_y = np.array([0, 1] * 5)
    tie = np.array([[1e308, 1e308, -1e308]])
    X = np.vstack([logits, huge, tie])
    labels = np.r_[y, huge_y, 0]
    params = {} if gamma is None else {"objective": "focal", "gamma": gamma}
    ts = TemperatureScaling(input="logits", **params).fit(X, labels)
    assert np.isfinite(ts.temperature_)
    expected = reference_temperature(logits, y, gamma=gamma or 0.0)
    assert ts.temperature_ == pytest.approx(expected, rel=1e-5)


_BAD_WEIGHTS = {
    "negative": lambda n: -np.ones(n),
    "mixed sign": lambda n: np.r_[-0.5, np.ones(n - 1)],
    "all zero": np.zeros,
    "infinite": lambda n: np.r_[np.inf, np.ones(n - 1)],
}


@pytest.mark.parametrize("weight", list(_BAD_WEIGHTS), ids=list(_BAD_WEIGHTS))
@pytest.mark.parametrize("mode", ["transformer", "frozen", "cross-validated"])
def test_bad_sample_weight_is_rejected(mode, weight):
    X, y = make_classification(60, n_classes=3, n_informative=3, random_state=0)
    sample_weight = _BAD_WEIGHTS[weight](len(y))
    if mode == "transformer":
        model = TemperatureScaling()
        X = LogisticRegression().fit(X, y).predict_proba(X)
    elif mode == "frozen":
        model = TemperatureScaling(FrozenEstimator(LogisticRegression().fit(X, y)))
    else:
        model = TemperatureScaling(LogisticRegression(), cv=2)
    with pytest.raises(ValueError, match="sample_weight"):
        model.fit(X, y, sample_weight=sample_weight)
    assert not hasattr(model, "temperature_")


def test_fit_rejects_weight_only_on_rows_no_temperature_can_change():
    q = np.array([[0.0, 0.5, 0.5], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8]])
    with pytest.raises(ValueError, match="positive sample_weight"):
        TemperatureScaling().fit(q, [0, 1, 2], sample_weight=[1.0, 0.0, 0.0])


@pytest.mark.parametrize("params", [{}, {"objective": "focal", "gamma": 2.0}])
def test_one_hot_calibration_rows_give_temperature_one(params):
    from sklearn_focal.exceptions import FlatCalibrationWarning

    y = np.array([0, 1, 2, 0, 1, 2, 2])
    q = np.eye(3)[[0, 1, 2, 0, 1, 2, 0]]  # the last row is confidently wrong
    with pytest.warns(FlatCalibrationWarning, match=r"TemperatureScaling\(.*flat"):
        ts = TemperatureScaling(**params).fit(q, y)
    assert ts.temperature_ == 1.0
    rows = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    np.testing.assert_allclose(ts.transform(rows), rows, rtol=1e-14)


@pytest.mark.parametrize("margin", [20.0, 40.0, 700.0])
@pytest.mark.parametrize("params", [{}, {"objective": "focal", "gamma": 2.0}])
def test_nearly_one_hot_correct_rows_give_temperature_one(margin, params):
    # Every row correct by a logit margin of 20 or more: the loss keeps
    # falling, by less than 1e-8 nats, towards T -> 0.
    from sklearn_focal.exceptions import FlatCalibrationWarning

    y = np.arange(30) % 3
    logits = np.zeros((30, 3))
    logits[np.arange(30), y] = margin
    with pytest.warns(FlatCalibrationWarning, match="bound log T = -10"):
        ts = TemperatureScaling(input="logits", **params).fit(logits, y)
    assert ts.temperature_ == 1.0


def test_temperature_at_a_bound_with_a_real_gain_is_kept():
    # Correct rows of probability 0.6: separated data (every true class
    # first), so the loss has no finite minimizer; the gain is real, so the
    # sharp temperature is kept, and a warning says the loss is unbounded.
    from sklearn_focal.exceptions import FlatCalibrationWarning

    q = np.tile([0.6, 0.4], (20, 1))
    y = np.zeros(20, dtype=int)
    with pytest.warns(FlatCalibrationWarning, match="no finite minimizer") as record:
        ts = TemperatureScaling().fit(q, y)
    assert record[0].filename == __file__
    assert len(record) == 1
    # The loss is 0 in floating point from T = 1e-3 down: any such T is kept.
    assert ts.temperature_ < 1e-3
    np.testing.assert_array_equal(ts.transform(q), np.tile([1.0, 0.0], (20, 1)))


@pytest.mark.parametrize("params", [{}, {"objective": "focal", "gamma": 2.0}])
def test_separated_rows_sharpen_to_the_bound_with_a_warning(params):
    # Margins of at most 1e-3: the loss (a direct transcription) decreases
    # all the way to log T = -10, where it is still resolved; the fit stops
    # at the bound and says the loss has no finite minimizer.
    from sklearn_focal.exceptions import FlatCalibrationWarning

    rng = np.random.default_rng(3)
    y = np.arange(45) % 3
    logits = rng.uniform(-1.0, 0.0, (45, 3))
    logits[np.arange(45), y] = logits.max(axis=1) + rng.uniform(1e-5, 1e-3, 45)
    gamma = params.get("gamma", 0.0)

    def loss(log_temperature):
        p = softmax(logits / np.exp(log_temperature), axis=1)[np.arange(45), y]
        return np.mean(-((1 - p) ** gamma) * np.log(p))

    values = [loss(t) for t in np.linspace(-10.0, 0.0, 41)]
    assert np.all(np.diff(values) > 0)
    with pytest.warns(FlatCalibrationWarning, match="no finite minimizer") as record:
        ts = TemperatureScaling(input="logits", **params).fit(logits, y)
    assert record[0].filename == __file__
    assert np.log(ts.temperature_) == pytest.approx(-10.0, abs=1e-5)
    assert loss(np.log(ts.temperature_)) < values[-1] - 0.1
    # One wrong row by a margin of 1 bounds the loss: no warning.
    predicted = y[0]
    y[0] = (predicted + 1) % 3
    logits[0, predicted] = logits[0].max() + 1.0
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", FlatCalibrationWarning)
        ts = TemperatureScaling(input="logits", **params).fit(logits, y)
    assert np.log(ts.temperature_) > -9.0


@pytest.mark.parametrize("per_label", [False, True])
def test_sigmoid_separated_labels_sharpen_to_the_bound_with_a_warning(per_label):
    # Every entry of labels 0 and 2 on its label's side; label 1 has an
    # error. Per label, only the separated labels warn, each by its index.
    from sklearn_focal.exceptions import FlatCalibrationWarning

    rng = np.random.default_rng(5)
    Y = rng.integers(0, 2, (40, 3))
    logits = np.where(Y == 1, 1.0, -1.0) * rng.uniform(1e-5, 1e-3, Y.shape)
    logits[0, 1] = 1.0 - 2.0 * Y[0, 1]  # wrong side, by 1
    ts = TemperatureScaling(input="logits", link="sigmoid", per_label=per_label)
    if per_label:
        with pytest.warns(FlatCalibrationWarning) as record:
            ts.fit(logits, Y)
        assert [str(w.message).split(":")[1].strip() for w in record] == [
            "label 0",
            "label 2",
        ]
        assert np.log(ts.temperature_[[0, 2]]) == pytest.approx(-10.0, abs=1e-5)
        assert np.log(ts.temperature_[1]) > -9.0
    else:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("error", FlatCalibrationWarning)
            ts.fit(logits, Y)
        Y[0, 1] = 1 - Y[0, 1]  # now separated
        logits[0, 1] *= 1e-3  # on its (new) label's side, by 1e-3
        with pytest.warns(FlatCalibrationWarning, match="side of 0") as record:
            ts.fit(logits, Y)
        assert len(record) == 1
        assert np.log(ts.temperature_) == pytest.approx(-10.0, abs=1e-5)


@pytest.mark.parametrize("params", [{}, {"objective": "focal", "gamma": 2.0}])
def test_rows_with_the_true_class_tied_for_first_are_separated(params):
    # Separated rows (margins <= 1e-3) and 9 rows whose true class ties for
    # first place with another class: the tied rows' loss falls too, towards
    # that of probability 1/2, so the loss (a direct transcription) still
    # decreases all the way to log T = -10; it has no finite minimizer, and
    # the fit says so.
    from sklearn_focal.exceptions import FlatCalibrationWarning

    rng = np.random.default_rng(3)
    y = np.arange(45) % 3
    logits = rng.uniform(-1.0, 0.0, (45, 3))
    logits[np.arange(45), y] = logits.max(axis=1) + rng.uniform(1e-5, 1e-3, 45)
    tied = np.arange(0, 45, 5)
    logits[tied, (y[tied] + 1) % 3] = logits[tied, y[tied]]
    gamma = params.get("gamma", 0.0)

    def loss(log_temperature):
        p = softmax(logits / np.exp(log_temperature), axis=1)[np.arange(45), y]
        return np.mean(-((1 - p) ** gamma) * np.log(p))

    values = [loss(t) for t in np.linspace(-10.0, 0.0, 41)]
    assert np.all(np.diff(values) > 0)
    # The tied rows' limit, 0.5^gamma log 2 each: the loss stays above it.
    assert values[0] > 9 / 45 * 0.5**gamma * np.log(2.0)
    with pytest.warns(FlatCalibrationWarning, match="no finite minimizer") as record:
        ts = TemperatureScaling(input="logits", **params).fit(logits, y)
    assert len(record) == 1
    assert np.log(ts.temperature_) == pytest.approx(-10.0, abs=1e-5)


def test_a_tied_row_among_correct_rows_warns_at_the_plateau():
    # The review's case: 20 correct rows and one whose true class ties for
    # first. From log T of about -8.75 down, the loss is its infimum in
    # floating point, log(2) / 21 (the tied row at probability 1/2, the
    # others at 1): the fit stops on that plateau, and warns.
    from sklearn_focal.exceptions import FlatCalibrationWarning

    q = np.vstack([np.tile([0.6, 0.3, 0.1], (20, 1)), [[0.45, 0.45, 0.1]]])
    y = np.zeros(21, dtype=int)
    with pytest.warns(FlatCalibrationWarning, match="no finite minimizer") as record:
        ts = TemperatureScaling().fit(q, y)
    assert len(record) == 1
    p = softmax(np.log(q) / ts.temperature_, axis=1)[:, 0]
    assert np.mean(-np.log(p)) == pytest.approx(np.log(2.0) / 21, rel=1e-12)


@pytest.mark.parametrize("params", [{}, {"objective": "focal", "gamma": 2.0}])
def test_wholly_tied_rows_are_flat(params):
    # Every row ties its true class with all the classes its probability
    # allows (the others at probability 0): the loss is the same at every T,
    # so the flat rule keeps T = 1, with its one warning, as before.
    from sklearn_focal.exceptions import FlatCalibrationWarning

    q = np.array([[0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.0, 0.5, 0.5]] * 4)
    y = np.array([0, 2, 1] * 4)
    with pytest.warns(FlatCalibrationWarning, match="flat") as record:
        ts = TemperatureScaling(**params).fit(q, y)
    assert len(record) == 1
    assert ts.temperature_ == 1.0


@pytest.mark.parametrize("case", ["logit at 0", "probability 0 on a 1"])
@pytest.mark.parametrize("per_label", [False, True])
def test_sigmoid_entries_at_zero_or_left_out_still_separated(case, per_label):
    # Entries on their label's side by at most 1e-3, plus entry (0, 0): a
    # logit of exactly 0 (loss log 2 at every T), or a probability of 0 on
    # a 1 (infinite loss at every T, left out of the loss). Either way the
    # loss over the entries it keeps (a direct transcription) falls down to
    # log T = -10: no finite minimizer, and the fit says so.
    from sklearn_focal.exceptions import FlatCalibrationWarning

    rng = np.random.default_rng(5)
    Y = rng.integers(0, 2, (40, 3))
    proba = np.where(Y == 1, 0.5, -0.5) * rng.uniform(1e-5, 1e-3, Y.shape) + 0.5
    if case == "logit at 0":
        proba[0, 0] = 0.5
    else:
        proba[0, 0], Y[0, 0] = 0.0, 1

    def loss(log_temperature, columns):
        with np.errstate(divide="ignore"):
            z = np.log(proba[:, columns]) - np.log1p(-proba[:, columns])
            p = 1.0 / (1.0 + np.exp(-z / np.exp(log_temperature)))
            losses = -np.log(np.where(Y[:, columns] == 1, p, 1.0 - p))
        return np.mean(losses[np.isfinite(losses)])

    for columns in ([0], [1], [2], [0, 1, 2]):
        values = [loss(t, columns) for t in np.linspace(-10.0, 0.0, 41)]
        assert np.all(np.diff(values) > 0)
    ts = TemperatureScaling(link="sigmoid", per_label=per_label)
    with pytest.warns(FlatCalibrationWarning, match="no finite minimizer") as record:
        ts.fit(proba, Y)
    assert len(record) == (3 if per_label else 1)
    assert np.log(ts.temperature_) == pytest.approx(-10.0, abs=1e-5)
