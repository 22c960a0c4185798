"""Tests for sklearn_focal.plotting: artists and data, not pixels."""

import io
import subprocess
import sys

import mpmath
import numpy as np
import pytest
from mptestutils import mp_phi, reference_psi
from scipy.optimize import minimize_scalar
from scipy.stats import binomtest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sklearn_focal.plotting import (  # noqa: E402
    ConfidenceRelationDisplay,
    FocalPhiDisplay,
    ReliabilityDisplay,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def fitted():
    X, y = make_classification(
        n_samples=600, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    clf = LogisticRegression().fit(X[:300], y[:300])
    return clf, X[300:], y[300:]


def _brute_force_bins(scores, outcomes, n_bins):
    """Mean score, frequency, count of each non-empty equal-width bin."""
    edges = np.linspace(0, 1, n_bins + 1)
    rows = []
    for b in range(n_bins):
        last = b == n_bins - 1
        inside = (scores >= edges[b]) & (
            (scores <= edges[b + 1]) if last else (scores < edges[b + 1])
        )
        if inside.any():
            rows.append(
                (scores[inside].mean(), outcomes[inside].mean(), int(inside.sum()))
            )
    return np.array(rows)


def _span_x(patch):
    """x-extent of an axvspan artist (Rectangle or Polygon)."""
    if hasattr(patch, "get_x"):
        return patch.get_x(), patch.get_x() + patch.get_width()
    xs = patch.get_xy()[:, 0]
    return xs.min(), xs.max()


# --------------------------------------------------------------------------
# Optional matplotlib
# --------------------------------------------------------------------------


def test_import_does_not_import_matplotlib():
    code = (
        "import sys, sklearn_focal.plotting, sklearn_focal.metrics; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_public_names():
    import sklearn_focal.plotting as plotting

    assert set(plotting.__all__) == {
        "ConfidenceRelationDisplay",
        "FocalPhiDisplay",
        "RateDistortionDisplay",
        "ReliabilityDisplay",
    }
    for name in plotting.__all__:
        assert hasattr(plotting, name)
        # each public name is a Display class of that name, sklearn-style: a
        # plot method and from_* constructors
        display = getattr(plotting, name)
        assert isinstance(display, type) and display.__name__ == name
        assert callable(display.plot)
        assert any(attr.startswith("from_") for attr in vars(display))


@pytest.mark.parametrize(
    "make",
    [
        lambda: ReliabilityDisplay.from_predictions([0, 1], [0.2, 0.8]),
        lambda: FocalPhiDisplay.from_gammas([1.0]),
        lambda: ConfidenceRelationDisplay.from_gammas([1.0]),
    ],
)
def test_missing_matplotlib_says_how_to_install(monkeypatch, make):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install \"sklearn-focal\[plot\]\""):
        make()


# --------------------------------------------------------------------------
# ReliabilityDisplay
# --------------------------------------------------------------------------


def test_reliability_top_label_data_legend_and_labels(fitted):
    clf, X, y = fitted
    disp = ReliabilityDisplay.from_estimator(clf, X, y, n_bins=10)
    probs = clf.predict_proba(X)
    conf = probs.max(axis=1)
    correct = (clf.classes_[probs.argmax(axis=1)] == y).astype(float)
    expected = _brute_force_bins(conf, correct, 10)
    np.testing.assert_allclose(disp.line_.get_xdata(), expected[:, 0], atol=1e-12)
    np.testing.assert_allclose(disp.line_.get_ydata(), expected[:, 1], atol=1e-12)
    ece = np.sum(expected[:, 2] / len(y) * np.abs(expected[:, 1] - expected[:, 0]))
    assert disp.ece == pytest.approx(ece, abs=1e-12)
    label = disp.line_.get_label()
    assert label == f"LogisticRegression (ECE = {ece:.3f})"
    legend_texts = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert label in legend_texts
    assert disp.ax_.get_ylabel() == "accuracy"
    assert disp.ax_.get_xlabel() == "confidence"
    assert disp.figure_ is disp.ax_.figure
    # the histogram lives on a twin axis and counts every sample once
    assert sum(bar.get_height() for bar in disp.hist_) == pytest.approx(len(y))
    assert disp.hist_ax_ is not None and disp.hist_ax_ is not disp.ax_
    # a twin: same x axis (the confidence), its own y axis (the count)
    assert disp.hist_ax_.get_shared_x_axes().joined(disp.ax_, disp.hist_ax_)
    assert disp.hist_ax_.get_xlim() == disp.ax_.get_xlim()
    assert disp.hist_ax_.get_ylabel() == "count"
    # renders
    disp.figure_.savefig(io.BytesIO(), format="png")


def test_reliability_histogram_counts():
    y = np.array([0, 1, 1, 0, 1])
    p = np.array([0.05, 0.15, 0.16, 0.95, 0.97])
    w = np.array([1.0, 2.0, 1.0, 0.5, 1.0])
    disp = ReliabilityDisplay.from_predictions(y, p, kind="binary", sample_weight=w)
    heights = [bar.get_height() for bar in disp.hist_]
    np.testing.assert_allclose(heights, [1, 3, 0, 0, 0, 0, 0, 0, 0, 1.5])
    lefts = [bar.get_x() for bar in disp.hist_]
    np.testing.assert_allclose(lefts, np.linspace(0, 0.9, 10), atol=1e-12)
    # the bars stay in the bottom quarter of the diagram
    assert disp.hist_ax_.get_ylim()[1] == pytest.approx(4 * 3)
    none = ReliabilityDisplay.from_predictions(y, p, kind="binary", histogram=False)
    assert none.hist_ is None


def test_empty_bins_are_not_drawn():
    # confidences only in 3 of 10 bins
    y = np.array([0, 1, 1, 0, 1, 1])
    p = np.array([0.05, 0.06, 0.55, 0.56, 0.95, 0.99])
    disp = ReliabilityDisplay.from_predictions(y, p, kind="binary")
    np.testing.assert_allclose(disp.line_.get_xdata(), [0.055, 0.555, 0.97])
    np.testing.assert_allclose(disp.line_.get_ydata(), [0.5, 0.5, 1.0])
    assert np.all(np.isfinite(disp.line_.get_xydata()))
    assert disp.ax_.get_ylabel() == "fraction of positives"
    assert disp.ax_.get_xlabel() == "mean predicted probability"


def test_clopper_pearson_bands_match_binomtest():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=400)
    y = (rng.uniform(size=400) < p).astype(int)
    disp = ReliabilityDisplay.from_predictions(y, p, kind="binary", bands=True)
    assert len(disp.band_) == 1
    edges = np.linspace(0, 1, 11)
    for b in range(10):
        inside = (p >= edges[b]) & ((p < edges[b + 1]) if b < 9 else (p <= 1))
        ci = binomtest(int(y[inside].sum()), int(inside.sum())).proportion_ci(
            confidence_level=0.95, method="exact"
        )
        assert disp.ci_low[0, b] == pytest.approx(ci.low, abs=1e-9)
        assert disp.ci_high[0, b] == pytest.approx(ci.high, abs=1e-9)
    # the drawn band spans the interval at each drawn point
    band_y = disp.band_[0].get_paths()[0].vertices[:, 1]
    assert band_y.min() == pytest.approx(np.nanmin(disp.ci_low), abs=1e-12)
    assert band_y.max() == pytest.approx(np.nanmax(disp.ci_high), abs=1e-12)
    # bands are optional
    plain = ReliabilityDisplay.from_predictions(y, p, kind="binary")
    assert plain.band_ == []


def test_overlay_on_the_same_axes(fitted):
    clf, X, y = fitted
    raw = ReliabilityDisplay.from_estimator(clf, X, y, name="raw")
    smoothed = 0.5 * clf.predict_proba(X) + 0.5 / 3
    other = ReliabilityDisplay.from_predictions(
        y, smoothed, labels=clf.classes_, name="smoothed", ax=raw.ax_
    )
    assert other.ax_ is raw.ax_
    assert other.hist_ax_ is raw.hist_ax_
    labels = [line.get_label() for line in raw.ax_.get_lines()]
    assert labels.count("perfectly calibrated") == 1
    # each curve's legend carries its own ECE, computed here by brute force
    eces, curves = {}, {}
    for name, probs in [("raw", clf.predict_proba(X)), ("smoothed", smoothed)]:
        correct = (clf.classes_[probs.argmax(axis=1)] == y).astype(float)
        bins = curves[name] = _brute_force_bins(probs.max(axis=1), correct, 10)
        eces[name] = np.sum(bins[:, 2] / len(y) * np.abs(bins[:, 1] - bins[:, 0]))
        assert f"{name} (ECE = {eces[name]:.3f})" in labels
    assert other.ece == pytest.approx(eces["smoothed"], abs=1e-12)
    assert raw.ece == pytest.approx(eces["raw"], abs=1e-12)
    # plot() again on a stored display overlays without recomputing
    n_lines = len(raw.ax_.get_lines())
    again = raw.plot(ax=raw.ax_, name="raw again", histogram=False)
    assert again.line_.get_label() == f"raw again (ECE = {eces['raw']:.3f})"
    assert len(raw.ax_.get_lines()) == n_lines + 1
    np.testing.assert_allclose(again.line_.get_xydata(), curves["raw"][:, :2])


def test_classwise_curves_with_string_labels():
    rng = np.random.default_rng(0)
    labels = np.array(["ant", "bee", "cat"])
    probs = rng.dirichlet(np.ones(3), size=300)
    y = labels[(probs.cumsum(axis=1) < rng.uniform(size=(300, 1))).sum(axis=1)]
    disp = ReliabilityDisplay.from_predictions(y, probs, kind="classwise", name="m")
    assert isinstance(disp.line_, list) and len(disp.line_) == 3
    for k, line in enumerate(disp.line_):
        expected = _brute_force_bins(probs[:, k], (y == labels[k]).astype(float), 10)
        np.testing.assert_allclose(line.get_xdata(), expected[:, 0], atol=1e-12)
        np.testing.assert_allclose(line.get_ydata(), expected[:, 1], atol=1e-12)
        ece_k = np.sum(expected[:, 2] / 300 * np.abs(expected[:, 1] - expected[:, 0]))
        assert line.get_label() == f"m, class {labels[k]} (ECE = {ece_k:.3f})"
    assert disp.ax_.get_ylabel() == "fraction of positives"


def test_from_estimator_uses_classes_for_a_subset_missing_a_class(fitted):
    clf, X, y = fitted
    keep = y != 1
    disp = ReliabilityDisplay.from_estimator(clf, X[keep], y[keep])
    probs = clf.predict_proba(X[keep])
    correct = (clf.classes_[probs.argmax(axis=1)] == y[keep]).astype(float)
    expected = _brute_force_bins(probs.max(axis=1), correct, 10)
    np.testing.assert_allclose(disp.line_.get_ydata(), expected[:, 1], atol=1e-12)


def test_from_estimator_requires_fitted_probabilistic_classifier(fitted):
    _, X, y = fitted
    from sklearn.exceptions import NotFittedError
    from sklearn.svm import LinearSVC

    with pytest.raises(NotFittedError):
        ReliabilityDisplay.from_estimator(LogisticRegression(), X, y)
    with pytest.raises(ValueError, match="predict_proba"):
        ReliabilityDisplay.from_estimator(LinearSVC().fit(X, y), X, y)


# --------------------------------------------------------------------------
# FocalPhiDisplay
# --------------------------------------------------------------------------


def _phi_reference(v, gamma):
    """Eq. 10 at 40 digits (mptestutils.mp_phi), rounded to doubles."""
    with mpmath.workdps(40):
        return np.array([float(mp_phi(x, gamma)) for x in np.ravel(v)]).reshape(
            np.shape(v)
        )


def test_focal_phi_curves_and_regions():
    disp = FocalPhiDisplay.from_gammas([0.5, 1.0, 2.0], highlight_gamma=1.0)
    assert len(disp.lines_) == 3
    for gamma, line in zip([0.5, 1.0, 2.0], disp.lines_, strict=True):
        v, values = line.get_xdata(), line.get_ydata()
        interior = (v > 0) & (v < 1)
        np.testing.assert_allclose(
            values[interior], _phi_reference(v[interior], gamma), rtol=1e-13
        )
        assert line.get_label() == f"γ = {gamma:g}"
    assert disp.line_ is disp.lines_[1]
    # gamma = 1: tau_oc = e^-2, tau_uc = e^-1
    assert disp.tau_oc == pytest.approx(np.exp(-2), rel=1e-9)
    assert disp.tau_uc == pytest.approx(np.exp(-1), rel=1e-9)
    oc, amb, uc = (
        disp.regions_[k] for k in ("overconfident", "ambiguous", "underconfident")
    )
    assert _span_x(oc) == pytest.approx((0.0, np.exp(-2)))
    assert _span_x(amb) == pytest.approx((np.exp(-2), np.exp(-1)))
    assert _span_x(uc) == pytest.approx((np.exp(-1), 1.0))
    # tau_oc is the peak of phi, tau_uc where it comes back to 1
    v, values = disp.line_.get_xdata(), disp.line_.get_ydata()
    assert abs(v[np.argmax(values)] - np.exp(-2)) <= 1 / 500
    legend = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert any("ηOC" in t for t in legend) and any("ηUC" in t for t in legend)
    disp.figure_.savefig(io.BytesIO(), format="png")


def test_focal_phi_highlight_is_added_and_regions_optional():
    disp = FocalPhiDisplay.from_gammas([1.0], highlight_gamma=3.0)
    np.testing.assert_array_equal(disp.gammas, [1.0, 3.0])
    v = disp.line_.get_xdata()
    peak = v[np.argmax(disp.line_.get_ydata())]
    # peak of phi^3 solves 2(1 - v) + (1 - 3v) log v = 0
    root = minimize_scalar(
        lambda t: -_phi_reference(t, 3.0), bounds=(1e-6, 0.5), method="bounded"
    ).x
    assert disp.tau_oc == pytest.approx(root, abs=1e-5)
    assert abs(peak - root) <= 1 / 500
    none = FocalPhiDisplay.from_gammas([1.0, 2.0], highlight_gamma=None)
    assert none.regions_ == {}


class _FakeFocal(ClassifierMixin, BaseEstimator):
    """A fitted stand-in with a gamma and fixed outputs."""

    def __init__(self, gamma=2.0, probs=None):
        self.gamma = gamma
        self.probs = probs

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return self.probs[: len(X)]


def test_focal_phi_from_estimator_draws_a_rug():
    probs = np.array([[0.05, 0.9, 0.05], [0.4, 0.3, 0.3], [0.34, 0.33, 0.33]])
    est = _FakeFocal(gamma=2.0, probs=probs).fit(np.zeros((3, 1)), [0, 1, 2])
    disp = FocalPhiDisplay.from_estimator(est, np.zeros((3, 1)))
    assert disp.highlight_gamma == 2.0
    np.testing.assert_allclose(disp.rug_.get_xdata(), [0.9, 0.4, 0.34])
    assert disp.line_.get_label() == "_FakeFocal: γ = 2"
    with pytest.raises(ValueError, match="gamma"):
        FocalPhiDisplay.from_estimator(
            _FakeFocal(gamma="auto", probs=probs).fit(np.zeros((3, 1)), [0, 1, 2]),
            np.zeros((3, 1)),
        )


# --------------------------------------------------------------------------
# ConfidenceRelationDisplay
# --------------------------------------------------------------------------


def _symmetric_minimizer(t, k, gamma):
    """max q* for eta = (t, r, ..., r) by a 1-D bounded search.

    By symmetry q* = (a, b, ..., b) with b = (1 - a)/(k - 1).
    """
    r = (1 - t) / (k - 1)

    def risk(a):
        b = (1 - a) / (k - 1)
        return -(t * (1 - a) ** gamma * np.log(a)) - (k - 1) * r * (
            1 - b
        ) ** gamma * np.log(b)

    return minimize_scalar(
        risk, bounds=(1e-12, 1 - 1e-12), method="bounded", options={"xatol": 1e-12}
    ).x


@pytest.mark.parametrize("n_classes", [2, 1000])
def test_confidence_relation_matches_brute_force(n_classes):
    gammas = [0.0, 1.0, 3.0]
    disp = ConfidenceRelationDisplay.from_gammas(
        gammas, n_classes=n_classes, n_points=21
    )
    assert len(disp.lines_) == 3
    assert disp.ax_.get_title() == f"K = {n_classes}"
    for gamma, line in zip(gammas, disp.lines_, strict=True):
        x, y = line.get_xdata(), line.get_ydata()
        assert x[0] == pytest.approx(1 / n_classes) and x[-1] == pytest.approx(1.0)
        for i in [3, 10, 17]:
            assert y[i] == pytest.approx(
                _symmetric_minimizer(x[i], n_classes, gamma), abs=1e-6
            )
        if gamma == 0:
            np.testing.assert_allclose(y, x, atol=1e-9)
    labels = [line.get_label() for line in disp.ax_.get_lines()]
    assert labels.count("max q* = max η") == 1


def test_confidence_relation_regimes():
    # binary: always underconfident; 1000 classes, gamma = 1: overconfident
    # for small max eta (Fig. 2b)
    binary = ConfidenceRelationDisplay.from_gammas([1.0, 3.0], n_classes=2)
    for line in binary.lines_:
        assert np.all(line.get_ydata() <= line.get_xdata() + 1e-12)
    many = ConfidenceRelationDisplay.from_gammas([1.0], n_classes=1000)
    x, y = many.line_.get_xdata(), many.line_.get_ydata()
    assert np.any(y > x + 1e-3) and np.any(y < x - 1e-3)


def test_confidence_relation_from_predictions_scatters_recovered_posteriors():
    gamma = 2.0
    etas = np.array([0.6, 0.75, 0.9])
    q_max = np.array([_symmetric_minimizer(t, 2, gamma) for t in etas])
    y_prob = np.column_stack([q_max, 1 - q_max])
    disp = ConfidenceRelationDisplay.from_predictions(y_prob, gamma=gamma)
    offsets = disp.scatter_.get_offsets()
    np.testing.assert_allclose(offsets[:, 0], etas, atol=1e-6)
    np.testing.assert_allclose(offsets[:, 1], q_max, atol=1e-12)
    est = _FakeFocal(gamma=gamma, probs=y_prob).fit(np.zeros((3, 1)), [0, 1, 1])
    overlay = ConfidenceRelationDisplay.from_estimator(
        est, np.zeros((3, 1)), ax=disp.ax_
    )
    assert overlay.ax_ is disp.ax_
    assert overlay.line_.get_label() == "_FakeFocal: γ = 2"


@pytest.mark.parametrize(
    "kwargs, error", [({"n_classes": 1}, ValueError), ({"n_classes": 2.5}, TypeError)]
)
def test_confidence_relation_bad_n_classes(kwargs, error):
    with pytest.raises(error, match="n_classes"):
        ConfidenceRelationDisplay.from_gammas([1.0], **kwargs)


class _FakeFocalWithRaw(_FakeFocal):
    """Like FocalClassifier: predict_proba is recovered, predict_raw_proba raw."""

    def predict_proba(self, X):
        return np.full((len(X), self.probs.shape[1]), 1 / self.probs.shape[1])

    def predict_raw_proba(self, X):
        return self.probs[: len(X)]


def test_theory_displays_use_raw_outputs_and_reliability_response_method():
    probs = np.array([[0.9, 0.1], [0.3, 0.7], [0.8, 0.2]])
    est = _FakeFocalWithRaw(gamma=1.0, probs=probs).fit(np.zeros((3, 1)), [0, 1, 0])
    X = np.zeros((3, 1))
    relation = ConfidenceRelationDisplay.from_estimator(est, X)
    np.testing.assert_allclose(relation.scatter_.get_offsets()[:, 1], [0.9, 0.7, 0.8])
    phi = FocalPhiDisplay.from_estimator(est, X)
    np.testing.assert_allclose(phi.rug_.get_xdata(), [0.9, 0.7, 0.8])
    raw = ReliabilityDisplay.from_estimator(
        est, X, [0, 1, 0], response_method="predict_raw_proba", kind="binary"
    )
    np.testing.assert_allclose(sorted(raw.line_.get_xdata()), [0.1, 0.2, 0.7])
    recovered = ReliabilityDisplay.from_estimator(est, X, [0, 1, 0], kind="binary")
    np.testing.assert_allclose(recovered.line_.get_xdata(), [0.5])


# --------------------------------------------------------------------------
# Estimators inside wrappers (issue #11)
# --------------------------------------------------------------------------


class _SoftmaxFocal(ClassifierMixin, BaseEstimator):
    """A focal-model stand-in whose raw output depends on X.

    ``predict_raw_proba`` is the softmax of the first two features;
    ``predict_proba`` recovers the posterior with the order it trained with,
    the fitted ``gamma_ = 3``, which its ``gamma`` parameter does not say
    (as FocalClassifier(gamma=1.0, criterion__gamma=3.0)).
    """

    def __init__(self, gamma=1.0):
        self.gamma = gamma

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.n_features_in_ = np.asarray(X).shape[1]
        self.gamma_ = 3.0
        return self

    def predict_raw_proba(self, X):
        z = np.asarray(X)[:, :2]
        return np.exp(z - np.logaddexp(z[:, :1], z[:, 1:]))

    def predict_proba(self, X):
        return reference_psi(self.predict_raw_proba(X), self.gamma_)

    def predict(self, X):
        return self.predict_raw_proba(X).argmax(axis=1)


@pytest.fixture(scope="module")
def shifted_data():
    rng = np.random.default_rng(0)
    X = rng.normal(loc=4.0, scale=0.5, size=(40, 3))  # scaling changes X a lot
    y = (X[:, 0] > X[:, 1]).astype(int)
    scaled = (X - X.mean(axis=0)) / X.std(axis=0)
    q = np.exp(scaled[:, :2] - np.logaddexp(scaled[:, :1], scaled[:, 1:2]))
    return X, y, q


def _wrap(kind, X, y):
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipe = make_pipeline(StandardScaler(), _SoftmaxFocal(gamma=1.0))
    if kind == "grid search":
        pipe = GridSearchCV(pipe, {"_softmaxfocal__gamma": [1.0]}, cv=2)
    pipe.fit(X, y)
    return FrozenEstimator(pipe) if kind == "frozen pipeline" else pipe


@pytest.mark.parametrize("kind", ["pipeline", "frozen pipeline", "grid search"])
@pytest.mark.parametrize("gamma", [None, 3.0])
def test_displays_read_raw_outputs_through_wrappers(shifted_data, kind, gamma):
    X, y, q = shifted_data
    estimator = _wrap(kind, X, y)
    relation = ConfidenceRelationDisplay.from_estimator(estimator, X, gamma=gamma)
    np.testing.assert_array_equal(relation.gammas, [3.0])
    np.testing.assert_allclose(relation.points_q, q.max(axis=1), rtol=1e-12)
    np.testing.assert_allclose(
        relation.points_eta, reference_psi(q, 3.0).max(axis=1), rtol=1e-10
    )
    phi = FocalPhiDisplay.from_estimator(estimator, X, gamma=gamma)
    assert phi.highlight_gamma == 3.0
    np.testing.assert_allclose(phi.rug_.get_xdata(), q.max(axis=1), rtol=1e-12)
    raw = ReliabilityDisplay.from_estimator(
        estimator, X, y, response_method="predict_raw_proba"
    )
    # By brute force: the top-label curve of the raw probabilities q.
    np.testing.assert_allclose(np.ravel(raw.scores), q.max(axis=1), rtol=1e-12)
    correct = (q.argmax(axis=1) == y).astype(float)
    bins = _brute_force_bins(q.max(axis=1), correct, 10)
    np.testing.assert_allclose(raw.line_.get_xdata(), bins[:, 0], rtol=1e-12)
    np.testing.assert_allclose(raw.line_.get_ydata(), bins[:, 1], rtol=1e-12)


def test_reliability_raw_response_of_a_model_without_raw_outputs(fitted):
    clf, X, y = fitted
    with pytest.raises(ValueError, match="predict_raw_proba.*LogisticRegression"):
        ReliabilityDisplay.from_estimator(
            clf, X, y, response_method="predict_raw_proba"
        )


def test_confidence_relation_of_a_focal_classifier_pipeline():
    # The example: psi is applied once, to predict_raw_proba.
    pytest.importorskip("torch")
    pytest.importorskip("skorch")
    from sklearn.datasets import load_iris
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sklearn_focal import FocalClassifier

    X, y = load_iris(return_X_y=True)
    X = X.astype(np.float32)
    clf = FocalClassifier(
        gamma=3.0, hidden_layer_sizes=(8,), max_epochs=2, random_state=0, verbose=0
    )
    pipe = make_pipeline(StandardScaler(), clf).fit(X, y)
    q = pipe[-1].predict_raw_proba(pipe[:-1].transform(X))
    # A parameter changed after fit does not change the trained order.
    pipe.set_params(focalclassifier__gamma=5.0)
    for gamma in (3.0, None):
        disp = ConfidenceRelationDisplay.from_estimator(pipe, X, gamma=gamma)
        np.testing.assert_array_equal(disp.gammas, [3.0])
        np.testing.assert_allclose(disp.points_q, q.max(axis=1), rtol=1e-12)
        np.testing.assert_allclose(
            disp.points_eta, reference_psi(q, 3.0).max(axis=1), rtol=1e-9
        )


class _WeightedSoftmaxFocal(_SoftmaxFocal):
    """The stand-in trained with class weights alpha_ = (0.25, 0.75)."""

    def fit(self, X, y):
        super().fit(X, y)
        self.alpha_ = np.array([0.25, 0.75])
        return self


def test_confidence_relation_recovers_with_the_class_weights(shifted_data):
    """Psi of an alpha-balanced model divides h by alpha: the points use it."""
    X, y, _ = shifted_data
    model = _WeightedSoftmaxFocal().fit(X, y)
    q = model.predict_raw_proba(X)
    weighted = reference_psi(q, 3.0, alpha=[0.25, 0.75]).max(axis=1)
    unweighted = reference_psi(q, 3.0).max(axis=1)
    assert np.max(np.abs(weighted - unweighted)) > 0.05  # the weights matter here

    read = ConfidenceRelationDisplay.from_estimator(model, X)
    np.testing.assert_allclose(read.points_eta, weighted, rtol=1e-10)
    given = ConfidenceRelationDisplay.from_predictions(q, gamma=3.0, alpha=[0.25, 0.75])
    np.testing.assert_allclose(given.points_eta, weighted, rtol=1e-10)
    plain = ConfidenceRelationDisplay.from_estimator(model, X, alpha=None)
    np.testing.assert_allclose(plain.points_eta, unweighted, rtol=1e-10)
