"""ReliabilityDisplay of multi-label (per-label) probabilities."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.datasets import make_multilabel_classification  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.multiclass import OneVsRestClassifier  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402

from sklearn_focal.metrics import multilabel_calibration_error  # noqa: E402
from sklearn_focal.plotting import ReliabilityDisplay  # noqa: E402


def _data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    eta = rng.uniform(0.02, 0.98, size=(n, 3))
    Y = (rng.uniform(size=eta.shape) < eta).astype(int)
    P = np.clip(eta**1.5, 0.0, 1.0)  # under-confident for label 1 shapes
    return Y, P


def _bin_means(y, p, n_bins):
    """Mean score and fraction of ones of each non-empty equal-width bin."""
    edges = np.linspace(0, 1, n_bins + 1)
    bins = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, n_bins - 1)
    conf, freq = [], []
    for b in range(n_bins):
        inside = bins == b
        if inside.any():
            conf.append(p[inside].mean())
            freq.append(y[inside].mean())
    return np.array(conf), np.array(freq)


@pytest.mark.parametrize("label", [0, 2, "pooled", None])
def test_one_label_or_pooled(label):
    Y, P = _data()
    disp = ReliabilityDisplay.from_predictions(Y, P, label=label, n_bins=8, name="m")
    average = None if isinstance(label, int) else "pooled"
    expected = multilabel_calibration_error(Y, P, average=average, n_bins=8)
    if isinstance(label, int):
        expected = expected[label]
        y, p = Y[:, label], P[:, label]
        assert disp.estimator_name == f"m, label {label}"
    else:
        y, p = Y.ravel(), P.ravel()
        assert disp.estimator_name == "m, pooled labels"
    assert abs(disp.ece - expected) < 1e-12
    conf, freq = _bin_means(y, p, 8)
    occupied = np.atleast_2d(disp.bin_weight)[0] > 0
    np.testing.assert_allclose(np.atleast_2d(disp.mean_confidence)[0][occupied], conf)
    np.testing.assert_allclose(np.atleast_2d(disp.accuracy)[0][occupied], freq)
    assert disp.ax_.get_ylabel() == "fraction of positives"
    plt.close("all")


@pytest.mark.parametrize(
    "estimator",
    [OneVsRestClassifier(LogisticRegression()), KNeighborsClassifier(10)],
    ids=["(n,L)", "list-of-(n,2)"],
)
def test_from_estimator_with_multilabel_y(estimator):
    X, Y = make_multilabel_classification(
        200, n_features=5, n_classes=3, random_state=0
    )
    model = estimator.fit(X, Y)
    proba = model.predict_proba(X)
    if isinstance(proba, list):
        proba = np.column_stack([p[:, 1] for p in proba])
    disp = ReliabilityDisplay.from_estimator(model, X, Y, label=1, n_bins=5)
    expected = multilabel_calibration_error(Y, proba, average=None, n_bins=5)[1]
    assert abs(disp.ece - expected) < 1e-12
    assert "label 1" in disp.line_.get_label()
    plt.close("all")


def test_bad_label():
    Y, P = _data(n=50)
    with pytest.raises(ValueError, match="label=3 but y_prob has 3 labels"):
        ReliabilityDisplay.from_predictions(Y, P, label=3)
    with pytest.raises(ValueError, match="'pooled'"):
        ReliabilityDisplay.from_predictions(Y, P, label="all")
    with pytest.raises(ValueError, match="y_true has shape"):
        ReliabilityDisplay.from_predictions(Y[:, :2], P, label=0)
    plt.close("all")
