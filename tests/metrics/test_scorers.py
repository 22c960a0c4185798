"""The scorers of sklearn_focal.metrics, against independent references.

Each scorer is checked against the metric computed here from
``predict_proba`` with numpy, scipy or scikit-learn's own metrics (never with
the package's metric functions), called directly, in ``cross_validate`` and
in ``GridSearchCV`` with ``sample_weight`` routed by metadata routing.
"""

import copy
import pickle

import numpy as np
import pytest
import sklearn
from scipy.stats import entropy
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV, KFold, cross_validate

from sklearn_focal.metrics import (
    calibration_scorers,
    neg_classwise_calibration_error,
    neg_expected_calibration_error,
    neg_maximum_calibration_error,
    neg_multiclass_brier_score,
    neg_posterior_kl_divergence,
)
from sklearn_focal.utils._compat import SKLEARN_VERSION

EDGES = np.linspace(0.0, 1.0, 11)


# --------------------------------------------------------------------------
# Independent references (numpy / scipy / sklearn.metrics.log_loss)
# --------------------------------------------------------------------------


def _weights(n, sample_weight):
    return np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)


def _binned_gaps(scores, outcomes, w):
    """Per-bin |weighted mean outcome - weighted mean score| and bin masses."""
    index = np.searchsorted(EDGES[1:-1], scores, side="right")
    gaps, masses = [], []
    for b in range(len(EDGES) - 1):
        inside = index == b
        if w[inside].sum() == 0:
            continue
        acc = np.average(outcomes[inside], weights=w[inside])
        conf = np.average(scores[inside], weights=w[inside])
        gaps.append(abs(acc - conf))
        masses.append(w[inside].sum() / w.sum())
    return np.array(gaps), np.array(masses)


def _onehot(y, classes):
    return (np.asarray(y)[:, None] == np.asarray(classes)[None, :]).astype(float)


def ref_log_loss(y, proba, classes, w=None):
    return log_loss(y, proba, labels=classes, sample_weight=w)


def ref_log_loss_numpy(y, proba, classes, w=None):
    picked = (proba * _onehot(y, classes)).sum(axis=1)
    return float(np.average(-np.log(picked), weights=_weights(len(y), w)))


def ref_multiclass_brier(y, proba, classes, w=None):
    squared = ((proba - _onehot(y, classes)) ** 2).sum(axis=1)
    return float(np.average(squared, weights=_weights(len(y), w)))


def ref_brier(y, proba, classes, w=None):
    # scikit-learn's brier_score_loss: the positive class (classes[-1]) of a
    # binary problem, in [0, 1]; the unscaled sum over classes otherwise.
    if len(classes) == 2:
        outcome = (np.asarray(y) == classes[-1]).astype(float)
        squared = (proba[:, 1] - outcome) ** 2
        return float(np.average(squared, weights=_weights(len(y), w)))
    return ref_multiclass_brier(y, proba, classes, w)


def ref_top_label_ece(y, proba, classes, w=None, norm="l1"):
    w = _weights(len(y), w)
    scores = proba.max(axis=1)
    correct = (np.asarray(classes)[proba.argmax(axis=1)] == np.asarray(y)).astype(float)
    gaps, masses = _binned_gaps(scores, correct, w)
    return float(gaps.max()) if norm == "max" else float((gaps * masses).sum())


def ref_max_ce(y, proba, classes, w=None):
    return ref_top_label_ece(y, proba, classes, w, norm="max")


def ref_classwise_ece(y, proba, classes, w=None):
    w = _weights(len(y), w)
    onehot = _onehot(y, classes)
    per_class = []
    for k in range(len(classes)):
        gaps, masses = _binned_gaps(proba[:, k], onehot[:, k], w)
        per_class.append((gaps * masses).sum())
    return float(np.mean(per_class))


def ref_kl(p_true, proba, w=None):
    rows = [entropy(e, q) for e, q in zip(p_true, proba, strict=True)]
    return float(np.average(rows, weights=_weights(len(rows), w)))


REFERENCES = {
    "neg_log_loss": ref_log_loss,
    "neg_brier_score": ref_brier,
    "neg_multiclass_brier_score": ref_multiclass_brier,
    "neg_expected_calibration_error": ref_top_label_ece,
    "neg_classwise_calibration_error": ref_classwise_ece,
    "neg_maximum_calibration_error": ref_max_ce,
}


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------


@pytest.fixture
def metadata_routing():
    sklearn.set_config(enable_metadata_routing=True)
    try:
        yield
    finally:
        sklearn.set_config(enable_metadata_routing=False)


def _data(n_classes, seed=0, n_samples=150):
    X, y = make_classification(
        n_samples=n_samples,
        n_features=5,
        n_informative=3,
        n_redundant=0,
        n_classes=n_classes,
        random_state=seed,
    )
    w = np.random.default_rng(seed).integers(1, 6, n_samples).astype(float)
    return X, y, w


def test_numpy_references_agree_with_sklearn():
    # the references are trustworthy: the numpy log loss equals sklearn's
    X, y, w = _data(3)
    proba = LogisticRegression().fit(X, y).predict_proba(X)
    classes = np.arange(3)
    assert ref_log_loss_numpy(y, proba, classes, w) == pytest.approx(
        ref_log_loss(y, proba, classes, w), rel=1e-12
    )
    # and the binned reference ECE is not trivially zero on a real model
    assert ref_top_label_ece(y, proba, classes) > 1e-3


# --------------------------------------------------------------------------
# Direct calls
# --------------------------------------------------------------------------


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_scorer_equals_reference_on_predict_proba(name, weighted, n_classes):
    X, y, w = _data(n_classes)
    clf = LogisticRegression(C=0.05).fit(X, y)
    proba = clf.predict_proba(X)
    scorer = calibration_scorers()[name]
    kwargs = {"sample_weight": w} if weighted else {}
    expected = REFERENCES[name](y, proba, clf.classes_, w if weighted else None)
    assert scorer(clf, X, y, **kwargs) == pytest.approx(-expected, rel=1e-10)
    assert expected > 0  # the sign: lower is better, the scorer negates
    if weighted:
        # the weights matter: the unweighted score is a different number
        assert scorer(clf, X, y) != pytest.approx(-expected, rel=1e-6)


@pytest.mark.parametrize(
    "scorer, name",
    [
        (neg_expected_calibration_error, "neg_expected_calibration_error"),
        (neg_classwise_calibration_error, "neg_classwise_calibration_error"),
        (neg_maximum_calibration_error, "neg_maximum_calibration_error"),
        (neg_multiclass_brier_score, "neg_multiclass_brier_score"),
    ],
)
def test_module_level_scorers_equal_the_dict_entries(scorer, name):
    X, y, w = _data(3, seed=2)
    clf = LogisticRegression().fit(X, y)
    expected = REFERENCES[name](y, clf.predict_proba(X), clf.classes_, w)
    assert scorer(clf, X, y, sample_weight=w) == pytest.approx(-expected, rel=1e-10)
    assert repr(scorer) == repr(calibration_scorers()[name])


def test_binary_scorers_score_the_last_class_with_string_labels():
    X, y01, w = _data(2, seed=3)
    y = np.where(y01 == 1, "spam", "ham")
    clf = LogisticRegression().fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_array_equal(clf.classes_, ["ham", "spam"])
    scorers = calibration_scorers()
    got = scorers["neg_brier_score"](clf, X, y, sample_weight=w)
    outcome = (y == "spam").astype(float)
    expected = np.average((proba[:, 1] - outcome) ** 2, weights=w)
    assert got == pytest.approx(-expected, rel=1e-12)


def test_scorers_are_public_constructs():
    # no scikit-learn class in the scorers' ancestry: plain callables with
    # the (estimator, X, y, sample_weight=None) signature
    for name, scorer in calibration_scorers().items():
        if name == "accuracy":
            continue
        modules = [cls.__module__ for cls in type(scorer).__mro__]
        assert not any(m.startswith("sklearn.") for m in modules), (name, modules)
        assert callable(scorer)
        assert "greater_is_better=False" in repr(scorer)
        assert "response_method='predict_proba'" in repr(scorer)


def test_extra_keywords_need_metadata_routing():
    X, y, _ = _data(3)
    clf = LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match="enable_metadata_routing"):
        neg_expected_calibration_error(clf, X, y, p_true=np.ones((150, 3)) / 3)
    with pytest.raises(RuntimeError, match="enable_metadata_routing"):
        copy.deepcopy(neg_expected_calibration_error).set_score_request(
            sample_weight=True
        )


def test_scorers_survive_pickle_and_deepcopy(metadata_routing):
    X, y, w = _data(3)
    clf = LogisticRegression().fit(X, y)
    scorer = calibration_scorers()["neg_log_loss"].set_score_request(sample_weight=True)
    for clone in (pickle.loads(pickle.dumps(scorer)), copy.deepcopy(scorer)):
        assert clone(clf, X, y, sample_weight=w) == scorer(clf, X, y, sample_weight=w)
        assert clone.get_metadata_routing().score.requests == {"sample_weight": True}


# --------------------------------------------------------------------------
# Model selection, with and without metadata routing
# --------------------------------------------------------------------------


def _per_fold_references(X, y, w, cv, C, weighted):
    """Reference score of every scorer on every test fold (fits unweighted)."""
    rows = []
    for train, test in cv.split(X, y):
        clf = LogisticRegression(C=C).fit(X[train], y[train])
        proba = clf.predict_proba(X[test])
        wt = w[test] if weighted else None
        rows.append(
            {
                name: ref(y[test], proba, clf.classes_, wt)
                for name, ref in REFERENCES.items()
            }
        )
    return rows


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_grid_search_routes_sample_weight_to_the_scorers(
    metadata_routing, weighted, n_classes
):
    X, y, w = _data(n_classes, seed=4, n_samples=120)
    cv = KFold(3, shuffle=True, random_state=0)
    scorers = calibration_scorers()
    for name in REFERENCES:
        scorers[name].set_score_request(sample_weight=True)
    scorers["accuracy"].set_score_request(sample_weight=True)
    search = GridSearchCV(
        LogisticRegression().set_fit_request(sample_weight=False),
        {"C": [0.05, 1.0]},
        scoring=scorers,
        refit="neg_log_loss",
        cv=cv,
    )
    search.fit(X, y, **({"sample_weight": w} if weighted else {}))
    for i, C in enumerate([0.05, 1.0]):
        references = _per_fold_references(X, y, w, cv, C, weighted)
        for fold, expected in enumerate(references):
            for name, value in expected.items():
                got = search.cv_results_[f"split{fold}_test_{name}"][i]
                assert got == pytest.approx(-value, rel=1e-9), (name, fold, C)


def test_unrequested_sample_weight_is_refused_under_routing(metadata_routing):
    # as for scikit-learn's own scorers: metadata passed but not requested
    X, y, w = _data(3, n_samples=60)
    scorer = calibration_scorers()["neg_expected_calibration_error"]
    search = GridSearchCV(
        LogisticRegression().set_fit_request(sample_weight=True),
        {"C": [1.0]},
        scoring=scorer,
        cv=2,
    )
    with pytest.raises(ValueError, match="sample_weight"):
        search.fit(X, y, sample_weight=w)
    # declined explicitly, the same search runs and scores unweighted
    scorer.set_score_request(sample_weight=False)
    search.fit(X, y, sample_weight=w)
    assert np.isfinite(search.best_score_)


def test_cross_validate_routes_posteriors_and_weights(metadata_routing):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 2))
    logits = np.column_stack([X[:, 0], X[:, 1], -X[:, 0]])
    P = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = (P.cumsum(axis=1) < rng.uniform(size=(90, 1))).sum(axis=1)
    w = rng.integers(1, 4, 90).astype(float)
    scorer = copy.deepcopy(neg_posterior_kl_divergence).set_score_request(
        p_true=True, sample_weight=True
    )
    cv = KFold(3, shuffle=True, random_state=1)
    results = cross_validate(
        LogisticRegression().set_fit_request(sample_weight=False),
        X,
        y,
        cv=cv,
        scoring={"kl": scorer},
        params={"p_true": P, "sample_weight": w},
    )
    for fold, (train, test) in enumerate(cv.split(X)):
        q = LogisticRegression().fit(X[train], y[train]).predict_proba(X[test])
        expected = ref_kl(P[test], q, w[test])
        assert results["test_kl"][fold] == pytest.approx(-expected, rel=1e-10)


def test_multimetric_search_without_routing_accepts_sample_weight():
    # routing off: scikit-learn >= 1.9 forwards fit's sample_weight to the
    # scorers of a multi-metric search (asking each whether it accepts
    # weights); older releases score unweighted. Either way it must run.
    X, y, w = _data(3, seed=5, n_samples=90)
    cv = KFold(3)
    search = GridSearchCV(
        LogisticRegression(),
        {"C": [1.0]},
        scoring=calibration_scorers(),
        refit="neg_log_loss",
        cv=cv,
    ).fit(X, y, sample_weight=w)
    for fold, (train, test) in enumerate(cv.split(X)):
        clf = LogisticRegression().fit(X[train], y[train], sample_weight=w[train])
        proba = clf.predict_proba(X[test])
        weighted = ref_log_loss_numpy(y[test], proba, clf.classes_, w[test])
        unweighted = ref_log_loss_numpy(y[test], proba, clf.classes_)
        assert weighted != pytest.approx(unweighted, rel=1e-6)
        got = search.cv_results_[f"split{fold}_test_neg_log_loss"][0]
        if SKLEARN_VERSION >= (1, 9):
            assert got == pytest.approx(-weighted, rel=1e-9)
        else:
            assert got in (pytest.approx(-weighted), pytest.approx(-unweighted))


def test_weighted_scores_of_a_test_fold_that_lacks_a_class(metadata_routing):
    # class 2 only in samples 0-4 and 20-24: the third unshuffled fold tests
    # on {0, 1}, yet predict_proba has three columns (estimator.classes_)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 60)
    y[0:5] = 2
    y[20:25] = 2
    X = rng.normal(size=(60, 3)) + y[:, None]
    w = rng.integers(1, 5, 60).astype(float)
    cv = KFold(3)
    scorers = calibration_scorers()
    for name in REFERENCES:
        scorers[name].set_score_request(sample_weight=True)
    results = cross_validate(
        LogisticRegression().set_fit_request(sample_weight=False),
        X,
        y,
        cv=cv,
        scoring={name: scorers[name] for name in REFERENCES},
        params={"sample_weight": w},
    )
    train, test = list(cv.split(X))[2]
    assert 2 not in y[test]
    clf = LogisticRegression().fit(X[train], y[train])
    proba = clf.predict_proba(X[test])
    assert proba.shape[1] == 3
    for name, ref in REFERENCES.items():
        expected = ref(y[test], proba, clf.classes_, w[test])
        assert results[f"test_{name}"][2] == pytest.approx(-expected, rel=1e-9), name
