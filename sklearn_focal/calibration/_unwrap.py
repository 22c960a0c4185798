"""The focal model inside scikit-learn wrappers: its raw output, gamma and alpha.

One home for the questions the calibrators and the Displays both ask of a
fitted estimator that may be wrapped in a :class:`~sklearn.pipeline.Pipeline`,
a :class:`~sklearn.frozen.FrozenEstimator` or a fitted search estimator
(:class:`~sklearn.model_selection.GridSearchCV` and the like, through
``best_estimator_``):

- which model is at the end of the chain (:func:`final_estimator`);
- what that model outputs before any posterior recovery, the softmax output
  ``q`` of a focal-trained network (:func:`raw_proba`);
- which focal order ``gamma`` and class weights ``alpha`` it was trained with
  (:func:`focal_gamma`, :func:`focal_alpha`): the fitted attributes
  ``gamma_`` and ``alpha_`` first, parameters only for estimators that have
  none.

Everything is duck-typed, so torch is never imported to answer.
"""
# SPDX-License-Identifier: BSD-3-Clause

import sys

import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline

from sklearn_focal.utils.validation import check_gamma


def _steps(estimator, X):
    """Walk the wrappers down to the final model, carrying ``X`` along.

    Yields ``(model, X)`` pairs, the outermost first; ``X`` is transformed by
    the steps of each Pipeline passed (only when it is not None).
    """
    while True:
        yield estimator, X
        if isinstance(estimator, FrozenEstimator):
            estimator = estimator.estimator
        elif isinstance(estimator, Pipeline):
            if X is not None and len(estimator.steps) > 1:
                X = estimator[:-1].transform(X)
            estimator = estimator.steps[-1][1]
        elif hasattr(estimator, "best_estimator_"):  # a fitted search
            estimator = estimator.best_estimator_
        else:
            return


def final_estimator(estimator):
    """The model inside FrozenEstimator, Pipeline and fitted search wrappers."""
    *_, (model, _) = _steps(estimator, None)
    return model


def is_focal_classifier(estimator):
    """Whether ``estimator`` gives raw focal-loss outputs via predict_raw_proba."""
    module = sys.modules.get("sklearn_focal.neural_network._classifier")
    if module is not None and isinstance(estimator, module.FocalClassifier):
        return True
    return callable(getattr(type(estimator), "predict_raw_proba", None))


def raw_proba(estimator, X, *, fallback=True):
    """Raw probabilities of a fitted, possibly wrapped, estimator.

    When the final model is a focal classifier (it has ``predict_raw_proba``,
    as :class:`~sklearn_focal.FocalClassifier` does), this is its softmax
    output ``q`` on ``X`` passed through the transform steps of the
    Pipelines on the way, whatever its ``posterior`` setting: the output
    before any posterior recovery, so that Psi is never applied twice.

    Parameters
    ----------
    estimator : fitted estimator
        A classifier, or a wrapper around one.
    X : array-like
        Input of ``estimator``.
    fallback : bool, default=True
        What to do when the final model is not a focal classifier: return
        ``estimator.predict_proba(X)`` (True) or raise a ``ValueError``.

    Returns
    -------
    proba : ndarray of shape (n_samples, n_classes)
    """
    model = final_estimator(estimator)
    if is_focal_classifier(model):
        *_, (model, Xt) = _steps(estimator, X)  # through the transform steps
        return model.predict_raw_proba(Xt)
    if not fallback:
        raise ValueError(
            f"{type(estimator).__name__} has no predict_raw_proba: its final "
            f"model {type(model).__name__} is not a focal-loss classifier."
        )
    return estimator.predict_proba(X)


def focal_gamma(estimator, asker):
    """The focal order a fitted, possibly wrapped, estimator was trained with.

    The final model's fitted attribute ``gamma_`` when it has one (the order
    of the criterion a :class:`~sklearn_focal.FocalClassifier` trained with,
    the resolved order of a calibrator), else its ``gamma`` or skorch
    ``criterion__gamma`` parameter.

    Parameters
    ----------
    estimator : estimator instance
        A classifier, or a wrapper around one.
    asker : str
        Who asks, for the error messages, such as
        ``"FocalPosteriorRecovery(gamma='auto')"``.

    Returns
    -------
    gamma : float
    """
    model = final_estimator(estimator)
    name = type(model).__name__
    fitted = getattr(model, "gamma_", None)
    if fitted is not None:
        return check_gamma(fitted, f"{name}.gamma_ (read by {asker})")
    params = model.get_params(deep=False) if hasattr(model, "get_params") else {}
    for key in ("gamma", "criterion__gamma"):
        value = params.get(key)
        if value is None:
            continue
        if isinstance(value, str):
            raise ValueError(
                f"{asker} cannot use {name}.{key} = {value!r}: it is not a "
                "focal-loss order (a real number >= 0). Pass gamma explicitly."
            )
        return check_gamma(value, f"{name}.{key} (read by {asker})")
    raise ValueError(
        f"{asker} could not find the focal-loss order of {name}: it is not a "
        "FocalClassifier and exposes no fitted 'gamma_' nor a 'gamma' or "
        "'criterion__gamma' parameter. Pass gamma explicitly."
    )


def focal_alpha(estimator):
    """Per-class weights a fitted, possibly wrapped, focal model trained with.

    Read from the fitted attribute ``alpha_`` of a focal model (a focal
    classifier, or any estimator that exposes a fitted ``gamma_``), else from
    a skorch ``criterion__alpha`` parameter. An ``alpha`` parameter or an
    ``alpha_`` attribute of other estimators is never read: it is usually a
    regularization strength, not a class weight.

    Returns
    -------
    alpha : ndarray of shape (n_classes,) or None
    """
    model = final_estimator(estimator)
    focal = is_focal_classifier(model) or getattr(model, "gamma_", None) is not None
    if focal and hasattr(model, "alpha_"):
        alpha = model.alpha_
        return None if alpha is None else np.asarray(alpha, dtype=np.float64)
    params = model.get_params(deep=False) if hasattr(model, "get_params") else {}
    alpha = params.get("criterion__alpha")
    if alpha is None or isinstance(alpha, str):
        return None
    return np.asarray(alpha, dtype=np.float64)
