"""skops.io round trips of the calibrators built from numpy/scikit-learn parts.

``skops.io`` loads only the types a user trusts; ``get_untrusted_types`` must
list sklearn_focal's own types and nothing else, so that trusting the package
is enough. FocalRateDistortion's round trips are in
test_rate_distortion_estimator.py, FocalClassifier's (skorch safetensors) in
test_classifier.py.
"""

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.svm import LinearSVC

from sklearn_focal import FocalPosteriorRecovery, TemperatureScaling

sio = pytest.importorskip("skops.io")


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    X_fit, X_cal, y_fit, y_cal = train_test_split(
        X, y, test_size=0.5, stratify=y, random_state=0
    )
    clf = LogisticRegression(max_iter=1000).fit(X_fit, y_fit)
    return clf, X_cal, y_cal


def _lr():
    return LogisticRegression(max_iter=1000)


# name -> (estimator, whether it takes probability rows as X)
CASES = {
    "psi transformer": (lambda clf: FocalPosteriorRecovery(gamma=2.0), True),
    "psi transformer alpha": (
        lambda clf: FocalPosteriorRecovery(gamma=1.5, alpha=[0.5, 1.0, 2.0]),
        True,
    ),
    "psi transformer fit": (lambda clf: FocalPosteriorRecovery(gamma="fit"), True),
    "psi frozen": (
        lambda clf: FocalPosteriorRecovery(FrozenEstimator(clf), gamma=2.0),
        False,
    ),
    "psi frozen fit": (
        lambda clf: FocalPosteriorRecovery(FrozenEstimator(clf), gamma="fit"),
        False,
    ),
    "psi cv": (lambda clf: FocalPosteriorRecovery(_lr(), gamma=1.0, cv=3), False),
    "psi cv fit": (
        lambda clf: FocalPosteriorRecovery(_lr(), gamma="fit", cv=3),
        False,
    ),
    "ts transformer": (lambda clf: TemperatureScaling(), True),
    "ts transformer logits": (lambda clf: TemperatureScaling(input="logits"), True),
    "ts frozen": (lambda clf: TemperatureScaling(FrozenEstimator(clf)), False),
    "ts cv": (lambda clf: TemperatureScaling(_lr(), cv=3), False),
    "ts focal cv": (
        lambda clf: TemperatureScaling(_lr(), objective="focal", gamma=2.0, cv=3),
        False,
    ),
    "ts svc logits": (
        lambda clf: TemperatureScaling(LinearSVC(), input="logits", cv=3),
        False,
    ),
    "psi of ts_fl": (
        lambda clf: FocalPosteriorRecovery(
            TemperatureScaling(FrozenEstimator(clf), objective="focal", gamma=2.0)
        ),
        False,
    ),
}


def _outputs(model, X):
    if model.estimator is None:
        return {"transform": model.transform(X)}
    return {
        "predict_proba": model.predict_proba(X),
        "predict": model.predict(X),
        "transform": model.transform(X),
    }


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_skops_round_trip(iris, case):
    clf, X, y = iris
    make, takes_rows = CASES[case]
    model = make(clf)
    if takes_rows:
        X = clf.predict_proba(X)
        if getattr(model, "input", "proba") == "logits":
            X = clf.decision_function(iris[1])
    model.fit(X, y)
    before = _outputs(model, X)  # using the model must not make it unsavable

    data = sio.dumps(model)
    untrusted = sio.get_untrusted_types(data=data)
    assert f"{type(model).__module__}.{type(model).__name__}" in untrusted
    assert all(name.startswith("sklearn_focal.") for name in untrusted), untrusted
    loaded = sio.loads(data, trusted=untrusted)

    assert type(loaded) is type(model)
    assert loaded.get_params(deep=False).keys() == model.get_params(deep=False).keys()
    for name in ("gamma_", "temperature_", "alpha_", "classes_", "n_features_in_"):
        if hasattr(model, name):
            np.testing.assert_array_equal(getattr(loaded, name), getattr(model, name))
    after = _outputs(loaded, X)
    for method, expected in before.items():
        np.testing.assert_array_equal(after[method], expected, err_msg=method)


def test_skops_refuses_untrusted_calibrators(iris):
    clf, X, y = iris
    data = sio.dumps(TemperatureScaling(FrozenEstimator(clf)).fit(X, y))
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.loads(data)


def test_skops_round_trip_keeps_feature_names(iris):
    pd = pytest.importorskip("pandas")
    clf, X, y = iris
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    model = FocalPosteriorRecovery(_lr(), gamma="fit", cv=3).fit(frame, y)
    data = sio.dumps(model)
    untrusted = sio.get_untrusted_types(data=data)
    assert all(name.startswith("sklearn_focal.") for name in untrusted), untrusted
    loaded = sio.loads(data, trusted=untrusted)
    np.testing.assert_array_equal(loaded.feature_names_in_, ["a", "b", "c", "d"])
    np.testing.assert_array_equal(
        loaded.predict_proba(frame), model.predict_proba(frame)
    )
