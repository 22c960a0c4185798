"""Per-label metrics and scorers for multi-label (sigmoid) outputs.

References are transcriptions written here with explicit loops over the
labels and bins, and scikit-learn's binary metrics per column.
"""

import numpy as np
import pytest
from sklearn.datasets import make_multilabel_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.multiclass import OneVsRestClassifier

from sklearn_focal import FocalPosteriorRecovery
from sklearn_focal.metrics import (
    multilabel_brier_score,
    multilabel_calibration_error,
    multilabel_log_loss,
    multilabel_scorers,
    neg_multilabel_log_loss,
)


def _data(n=300, n_labels=4, seed=0):
    rng = np.random.default_rng(seed)
    eta = rng.uniform(0.02, 0.98, size=(n, n_labels))
    Y = (rng.uniform(size=eta.shape) < eta).astype(int)
    P = np.clip(eta + rng.normal(0, 0.1, size=eta.shape), 0.01, 0.99)
    return Y, P, rng.uniform(0.5, 2.0, size=n)


def _binned_ece(y, p, w, n_bins):
    """Equal-width bins, half-open except the last: sum_b w_b |acc_b - conf_b|."""
    edges = np.linspace(0, 1, n_bins + 1)
    total = 0.0
    for b in range(n_bins):
        last = b == n_bins - 1
        inside = (p >= edges[b]) & ((p <= edges[b + 1]) if last else (p < edges[b + 1]))
        if not inside.any():
            continue
        wb = w[inside]
        gap = abs(np.sum(wb * y[inside]) - np.sum(wb * p[inside])) / wb.sum()
        total += wb.sum() / w.sum() * gap
    return total


@pytest.mark.parametrize("weighted", [False, True])
def test_brier_and_log_loss_per_label(weighted):
    Y, P, w = _data()
    weight = w if weighted else None
    ones = np.ones(len(Y)) if weight is None else weight
    brier = [brier_score_loss(Y[:, j], P[:, j], sample_weight=weight) for j in range(4)]
    loss = [
        log_loss(Y[:, j], P[:, j], labels=[0, 1], sample_weight=weight)
        for j in range(4)
    ]
    np.testing.assert_allclose(
        multilabel_brier_score(Y, P, average=None, sample_weight=weight), brier
    )
    np.testing.assert_allclose(
        multilabel_log_loss(Y, P, average=None, sample_weight=weight), loss
    )
    # The macro average is the plain mean over labels (a transcription).
    direct = np.sum(ones[:, None] * (P - Y) ** 2) / (ones.sum() * 4)
    assert abs(multilabel_brier_score(Y, P, sample_weight=weight) - direct) < 1e-14
    assert abs(multilabel_log_loss(Y, P, sample_weight=weight) - np.mean(loss)) < 1e-14


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_bins", [5, 10])
def test_calibration_error_per_label_and_pooled(weighted, n_bins):
    Y, P, w = _data(seed=1)
    weight = w if weighted else None
    ones = np.ones(len(Y)) if weight is None else weight
    per_label = [_binned_ece(Y[:, j], P[:, j], ones, n_bins) for j in range(4)]
    got = multilabel_calibration_error(
        Y, P, average=None, n_bins=n_bins, sample_weight=weight
    )
    np.testing.assert_allclose(got, per_label, rtol=1e-12)
    macro = multilabel_calibration_error(Y, P, n_bins=n_bins, sample_weight=weight)
    assert abs(macro - np.mean(per_label)) < 1e-14
    pooled = _binned_ece(Y.ravel(), P.ravel(), np.repeat(ones, 4), n_bins)
    got = multilabel_calibration_error(
        Y, P, average="pooled", n_bins=n_bins, sample_weight=weight
    )
    assert abs(got - pooled) < 1e-12


def test_scikit_learn_list_output_and_sparse_y():
    import scipy.sparse as sp

    Y, P, _ = _data(seed=2)
    as_list = [np.column_stack([1 - P[:, j], P[:, j]]) for j in range(4)]
    for metric in (
        multilabel_brier_score,
        multilabel_log_loss,
        multilabel_calibration_error,
    ):
        assert metric(sp.csr_matrix(Y), as_list) == metric(Y, P)


def test_scikit_learn_list_output_is_validated():
    Y, P, _ = _data(n=20)
    as_list = [np.column_stack([1 - P[:, j], P[:, j]]) for j in range(4)]
    # A (n, 2) part is a probability row per sample: [0.9, 0.9] is not.
    as_list[2][5] = [0.9, 0.9]
    with pytest.raises(ValueError, match=r"y_prob\[2\] rows must sum to 1; row 5"):
        multilabel_brier_score(Y, as_list)
    as_list[2][5] = [-0.5, 1.5]
    with pytest.raises(ValueError, match=r"y_prob\[2\] contains negative .* row 5"):
        multilabel_log_loss(Y, as_list)
    # Parts of different lengths: an error naming y_prob, not numpy's.
    short = [np.column_stack([1 - P[:, j], P[:, j]]) for j in range(4)]
    short[3] = short[3][:-1]
    with pytest.raises(ValueError, match="y_prob is a list .* different lengths"):
        multilabel_brier_score(Y, short)


def test_log_loss_is_not_clipped():
    assert multilabel_log_loss([[1, 0]], [[0.0, 0.5]]) == np.inf
    assert np.isfinite(multilabel_log_loss([[0, 0]], [[0.0, 0.5]]))


def test_bad_input():
    Y, P, w = _data(n=20)
    bad = P.copy()
    bad[4, 2] = np.nan
    with pytest.raises(
        ValueError,
        match=r"y_prob must hold finite values in \[0, 1\]; "
        r"first bad value nan at index \(4, 2\)",
    ):
        multilabel_brier_score(Y, bad)
    Y2 = Y.copy()
    Y2[7, 1] = 3
    with pytest.raises(ValueError, match=r"y_true\[7, 1\] = 3"):
        multilabel_log_loss(Y2, P)
    with pytest.raises(ValueError, match="y_true has shape"):
        multilabel_calibration_error(Y[:, :3], P)
    with pytest.raises(ValueError, match="shape \\(n_samples, n_labels\\)"):
        multilabel_log_loss(Y[:, 0], P[:, 0])
    with pytest.raises(ValueError, match="sample_weight"):
        multilabel_log_loss(Y, P, sample_weight=-w)
    with pytest.raises(ValueError, match="average"):
        multilabel_log_loss(Y, P, average="pooled")


# --------------------------------------------------------------------------
# Scorers in model selection
# --------------------------------------------------------------------------


def test_scorers_in_grid_search_with_multilabel_y():
    X, Y = make_multilabel_classification(
        150, n_features=6, n_classes=3, random_state=0
    )
    cv = KFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(
        OneVsRestClassifier(LogisticRegression()),
        {"estimator__C": [0.1, 1.0]},
        scoring=multilabel_scorers(),
        refit="neg_multilabel_log_loss",
        cv=cv,
    ).fit(X, Y)
    for i, C in enumerate([0.1, 1.0]):
        losses, eces = [], []
        for train, test in cv.split(X):
            model = OneVsRestClassifier(LogisticRegression(C=C)).fit(X[train], Y[train])
            P = model.predict_proba(X[test])
            losses.append(
                np.mean(
                    [log_loss(Y[test][:, j], P[:, j], labels=[0, 1]) for j in range(3)]
                )
            )
            eces.append(
                np.mean(
                    [
                        _binned_ece(Y[test][:, j], P[:, j], np.ones(len(test)), 10)
                        for j in range(3)
                    ]
                )
            )
        results = search.cv_results_
        assert (
            abs(results["mean_test_neg_multilabel_log_loss"][i] + np.mean(losses))
            < 1e-12
        )
        assert (
            abs(
                results["mean_test_neg_multilabel_calibration_error"][i] + np.mean(eces)
            )
            < 1e-12
        )


def test_scorers_with_a_sigmoid_calibrator_and_sample_weight():
    X, Y = make_multilabel_classification(
        150, n_features=6, n_classes=3, random_state=1
    )
    search = GridSearchCV(
        FocalPosteriorRecovery(
            OneVsRestClassifier(LogisticRegression()), link="sigmoid"
        ),
        {"gamma": [0.0, 1.0]},
        scoring=multilabel_scorers(),
        refit="neg_multilabel_brier_score",
        cv=3,
    ).fit(X, Y)
    assert search.best_params_["gamma"] in (0.0, 1.0)
    assert np.all(np.isfinite(search.cv_results_["mean_test_neg_multilabel_log_loss"]))
    w = np.linspace(0.5, 2.0, len(Y))
    model = search.best_estimator_
    got = neg_multilabel_log_loss(model, X, Y, sample_weight=w)
    expected = -multilabel_log_loss(Y, model.predict_proba(X), sample_weight=w)
    assert got == expected
