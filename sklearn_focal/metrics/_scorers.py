"""Scorers for model selection, built from public scikit-learn pieces."""
# SPDX-License-Identifier: BSD-3-Clause

import copy
import warnings
from inspect import signature

import numpy as np
from sklearn.base import is_classifier
from sklearn.metrics import brier_score_loss, get_scorer, log_loss
from sklearn.utils.metadata_routing import MetadataRequest

from sklearn_focal.metrics._calibration_error import expected_calibration_error
from sklearn_focal.metrics._multilabel import (
    multilabel_brier_score,
    multilabel_calibration_error,
    multilabel_log_loss,
)
from sklearn_focal.metrics._scores import (
    multiclass_brier_score,
    posterior_kl_divergence,
)
from sklearn_focal.utils._compat import (
    BRIER_SCORE_LOSS_MULTICLASS,
    routing_enabled,
)
from sklearn_focal.utils.validation import (
    check_y_prob,
)


class _ProbaScorer:
    """Scorer ``scorer(estimator, X, y_true, sample_weight=None, **metadata)``.

    Scores ``estimator.predict_proba(X)`` with ``score_func`` and the
    estimator's ``classes_`` as ``labels``: a cross-validation fold may lack a
    class in its test part, while the columns of ``predict_proba`` still follow
    ``estimator.classes_``, which is what the metric needs to know. As with
    :func:`~sklearn.metrics.make_scorer` and ``response_method="predict_proba"``,
    a binary classifier's scores are the probabilities of ``classes_[-1]``.

    Built from public pieces only: a callable with the ``(estimator, X, y)``
    signature that scikit-learn accepts wherever it accepts a scorer, and a
    :class:`~sklearn.utils.metadata_routing.MetadataRequest` for
    ``set_score_request`` (metadata routing).

    Parameters
    ----------
    score_func : callable
        ``score_func(y_true, y_prob, *, labels=..., sample_weight=..., **kw)``,
        lower is better.
    **kwargs : dict
        Fixed keyword arguments of ``score_func``.
    """

    # Names of the second argument of a score function, never metadata.
    _IGNORED = frozenset({"y_true", "y_prob", "y_pred", "y_proba", "y_score"})

    def __init__(self, score_func, **kwargs):
        self._score_func = score_func
        self._kwargs = kwargs
        self._requests = None

    def __repr__(self):
        kwargs = "".join(f", {key}={value}" for key, value in self._kwargs.items())
        return (
            f"make_scorer({self._score_func.__name__}, greater_is_better=False, "
            f"response_method='predict_proba'{kwargs})"
        )

    def __call__(self, estimator, X, y_true, sample_weight=None, **metadata):
        """Minus ``score_func`` of ``estimator.predict_proba(X)``.

        Parameters
        ----------
        estimator : object
            Fitted estimator with ``predict_proba``.
        X : array-like of shape (n_samples, n_features)
            Test data.
        y_true : array-like of shape (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        **metadata : dict
            Further metadata requested with ``set_score_request``; only with
            metadata routing enabled.

        Returns
        -------
        score : float
            ``-score_func(y_true, proba, labels=estimator.classes_, ...)``.
        """
        if metadata and not routing_enabled():
            raise ValueError(
                f"passing extra keyword arguments ({sorted(metadata)}) to "
                f"{self!r} is only supported with metadata routing enabled: "
                "sklearn.set_config(enable_metadata_routing=True)"
            )
        proba = self._response(estimator, estimator.predict_proba(X), metadata)
        if sample_weight is not None:
            metadata["sample_weight"] = sample_weight
        return -self._score_func(y_true, proba, **{**self._kwargs, **metadata})

    def _response(self, estimator, proba, metadata):
        """The scores given to ``score_func``; adds ``labels`` to ``metadata``."""
        classes = getattr(estimator, "classes_", None)
        if is_classifier(estimator) and classes is not None and len(classes) <= 2:
            # make_scorer's binary rule: the column of the positive class,
            # the last of classes_.
            if np.ndim(proba) != 2 or proba.shape[1] < 2:
                raise ValueError(
                    f"Got predict_proba of shape {np.shape(proba)}, but need "
                    "classifier with two classes."
                )
            proba = proba[:, 1]
        if classes is not None and "labels" not in metadata:
            metadata["labels"] = classes
        return proba

    def _accept_sample_weight(self):
        # scikit-learn >= 1.9 asks every scorer of a multi-metric dict this
        # (without metadata routing, when fit gets sample_weight); a plain
        # function there raises AttributeError. Our scorers accept weights.
        return True

    def set_score_request(self, **kwargs):
        """Request metadata for the scorer (metadata routing).

        Parameters
        ----------
        **kwargs : dict
            ``param=alias``, with ``alias`` one of ``True`` (requested),
            ``False`` (not requested), ``None`` (error if passed) or a string
            (the name the metadata is passed under).

        Returns
        -------
        self : object
            The scorer, with the request replaced by ``kwargs``.
        """
        if not routing_enabled():
            raise RuntimeError(
                "This method is only available when metadata routing is enabled."
                " You can enable it using"
                " sklearn.set_config(enable_metadata_routing=True)."
            )
        overlap = set(self._kwargs).intersection(kwargs)
        if overlap:
            warnings.warn(
                "You are setting metadata request for parameters which are "
                "already set as kwargs for this metric. These set values will be "
                "overridden by passed metadata if provided. Overlapping "
                f"parameters are: {overlap}",
                UserWarning,
                stacklevel=2,
            )
        # Validate the aliases now, as scikit-learn does.
        request = MetadataRequest(owner=repr(self))
        for param, alias in kwargs.items():
            request.score.add_request(param=param, alias=alias)
        self._requests = dict(kwargs)
        return self

    def get_metadata_routing(self):
        """The metadata this scorer requests for ``score``.

        Without ``set_score_request``, every keyword of the score function is
        listed as not set (``None``): passing it through a meta-estimator
        raises until it is requested, as for scikit-learn's scorers.

        Returns
        -------
        routing : MetadataRequest
            The requests of the ``score`` method.
        """
        requests = self._requests
        if requests is None:
            parameters = list(signature(self._score_func).parameters.values())[1:]
            requests = {
                p.name: None
                for p in parameters
                if p.name not in self._IGNORED
                and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            }
        routing = MetadataRequest(owner=repr(self))
        for param, alias in requests.items():
            routing.score.add_request(param=param, alias=alias)
        return routing


class _LabelProbaScorer(_ProbaScorer):
    """Scorer of per-label probabilities, for multi-label y.

    Scores ``estimator.predict_proba(X)`` of shape (n_samples, n_labels), or
    scikit-learn's list of (n_samples, 2) arrays, against the indicator
    ``y_true``. No ``labels`` are passed (the columns are the labels) and no
    binary column is taken.
    """

    def _response(self, estimator, proba, metadata):
        # The columns are the labels: the output as it is, no labels added.
        return proba


def _classes_aware_scorer(score_func, **kwargs):
    return _ProbaScorer(score_func, **kwargs)


def _posterior_kl_score(
    y_true, y_prob, *, p_true=None, labels=None, sample_weight=None
):
    """Score function of :data:`neg_posterior_kl_divergence` (``y_true`` unused)."""
    if p_true is None:
        raise ValueError(
            "neg_posterior_kl_divergence needs the true posteriors p_true: enable "
            "metadata routing (sklearn.set_config(enable_metadata_routing=True)), "
            "call scorer.set_score_request(p_true=True) and pass p_true=... to "
            "fit / cross_validate"
        )
    probs = check_y_prob(y_prob)
    eta = check_y_prob(p_true, "p_true")
    if labels is not None and len(labels) != eta.shape[1]:
        raise ValueError(
            f"the estimator knows {len(labels)} classes but p_true has "
            f"{eta.shape[1]} columns"
        )
    return posterior_kl_divergence(eta, probs, sample_weight=sample_weight)


def _sklearn_brier(y_true, y_prob, *, labels=None, sample_weight=None):
    """:func:`sklearn.metrics.brier_score_loss` with the estimator's classes."""
    if np.ndim(y_prob) == 1:
        pos_label = None if labels is None else labels[-1]
        return brier_score_loss(
            y_true, y_prob, pos_label=pos_label, sample_weight=sample_weight
        )
    if not BRIER_SCORE_LOSS_MULTICLASS:
        # scikit-learn < 1.7 scores binary probabilities only; 1.7 added
        # multiclass rows, unscaled (in [0, 2]), which is this package's metric.
        return multiclass_brier_score(
            y_true, y_prob, labels=labels, sample_weight=sample_weight
        )
    return brier_score_loss(y_true, y_prob, labels=labels, sample_weight=sample_weight)


def _sklearn_log_loss(y_true, y_prob, *, labels=None, sample_weight=None):
    """:func:`sklearn.metrics.log_loss` with the estimator's classes."""
    return log_loss(y_true, y_prob, labels=labels, sample_weight=sample_weight)


#: Scorer: minus the top-label ECE (10 equal-width bins), with the estimator's
#: ``classes_`` as ``labels``, so folds that lack a class stay aligned.
neg_expected_calibration_error = _classes_aware_scorer(expected_calibration_error)
#: Scorer: minus the classwise ECE (the mean over classes).
neg_classwise_calibration_error = _classes_aware_scorer(
    expected_calibration_error, kind="classwise"
)
#: Scorer: minus the maximum calibration error (``norm='max'``).
neg_maximum_calibration_error = _classes_aware_scorer(
    expected_calibration_error, norm="max"
)
#: Scorer: minus the multiclass Brier score (in [0, 2]).
neg_multiclass_brier_score = _classes_aware_scorer(multiclass_brier_score)
#: Scorer: minus the mean KL(eta || q) to known posteriors ``p_true``, routed
#: per fold with metadata routing (``set_score_request(p_true=True)``).
neg_posterior_kl_divergence = _classes_aware_scorer(_posterior_kl_score)
#: Scorer for multi-label y: minus the mean per-label log-loss.
neg_multilabel_log_loss = _LabelProbaScorer(multilabel_log_loss)
#: Scorer for multi-label y: minus the mean per-label Brier score.
neg_multilabel_brier_score = _LabelProbaScorer(multilabel_brier_score)
#: Scorer for multi-label y: minus the mean per-label ECE (10 bins).
neg_multilabel_calibration_error = _LabelProbaScorer(multilabel_calibration_error)
_neg_pooled_calibration_error = _LabelProbaScorer(
    multilabel_calibration_error, average="pooled"
)
_neg_log_loss = _classes_aware_scorer(_sklearn_log_loss)
_neg_brier_score = _classes_aware_scorer(_sklearn_brier)


def calibration_scorers(*, posterior_kl: bool = False) -> dict:
    """Scorers for multi-metric model selection of probabilistic classifiers.

    Returns fresh copies, ready for ``GridSearchCV(scoring=...)`` or
    :func:`~sklearn.model_selection.cross_validate`. All probabilistic scorers
    pass ``labels=estimator.classes_`` to the metric, so a test fold that
    lacks a class still scores the right columns.

    Parameters
    ----------
    posterior_kl : bool, default=False
        Also include ``"neg_posterior_kl_divergence"`` with ``p_true``
        requested, for data with known posteriors. It needs metadata routing
        (``sklearn.set_config(enable_metadata_routing=True)``); pass the
        posteriors as ``search.fit(X, y, p_true=P)``.

    Returns
    -------
    scorers : dict
        ``"neg_log_loss"``, ``"neg_brier_score"`` (scikit-learn's metrics),
        ``"neg_multiclass_brier_score"``, ``"neg_expected_calibration_error"``,
        ``"neg_classwise_calibration_error"``,
        ``"neg_maximum_calibration_error"`` and ``"accuracy"``.

    Notes
    -----
    Use ``refit="neg_log_loss"``, not an ECE. The log loss (like the Brier
    score) is a strictly proper scoring rule: its expectation is minimized
    only by the true class posteriors, so it rewards both calibration and
    sharpness. The ECE is not proper: a model that predicts the class
    frequencies for every input has an ECE near zero but is useless, and the
    binned estimate is biased and depends on the number of bins. Select with
    the log loss, and report the ECE alongside.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn_focal.metrics import calibration_scorers
    >>> X, y = load_iris(return_X_y=True)
    >>> search = GridSearchCV(
    ...     LogisticRegression(max_iter=1000),
    ...     {"C": [0.1, 1.0]},
    ...     scoring=calibration_scorers(),
    ...     refit="neg_log_loss",
    ... ).fit(X, y)
    >>> sorted(search.cv_results_)[:2]
    ['mean_fit_time', 'mean_score_time']
    >>> "mean_test_neg_expected_calibration_error" in search.cv_results_
    True
    """
    scorers = {
        "neg_log_loss": _neg_log_loss,
        "neg_brier_score": _neg_brier_score,
        "neg_multiclass_brier_score": neg_multiclass_brier_score,
        "neg_expected_calibration_error": neg_expected_calibration_error,
        "neg_classwise_calibration_error": neg_classwise_calibration_error,
        "neg_maximum_calibration_error": neg_maximum_calibration_error,
    }
    scorers = {name: copy.deepcopy(scorer) for name, scorer in scorers.items()}
    scorers["accuracy"] = get_scorer("accuracy")
    if posterior_kl:
        scorer = copy.deepcopy(neg_posterior_kl_divergence)
        scorers["neg_posterior_kl_divergence"] = scorer.set_score_request(p_true=True)
    return scorers


def multilabel_scorers() -> dict:
    """Scorers for model selection with multi-label (indicator) y.

    Returns fresh copies, ready for ``GridSearchCV(scoring=...)`` or
    :func:`~sklearn.model_selection.cross_validate` on estimators whose
    ``predict_proba`` gives per-label probabilities (shape (n, L), or
    scikit-learn's list of (n, 2) arrays), such as a multi-label
    :class:`~sklearn_focal.FocalClassifier` or a calibrator with
    ``link="sigmoid"``.

    Returns
    -------
    scorers : dict
        ``"neg_multilabel_log_loss"``, ``"neg_multilabel_brier_score"``,
        ``"neg_multilabel_calibration_error"`` (mean of the labels' ECEs),
        ``"neg_pooled_calibration_error"`` (all entries in one curve) and
        ``"accuracy"`` (subset accuracy of ``predict``).

    Notes
    -----
    As for :func:`calibration_scorers`, select with a proper score
    (``refit="neg_multilabel_log_loss"``) and report the calibration errors
    alongside.

    Examples
    --------
    >>> from sklearn.datasets import make_multilabel_classification
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from sklearn_focal.metrics import multilabel_scorers
    >>> X, Y = make_multilabel_classification(100, n_classes=3, random_state=0)
    >>> search = GridSearchCV(
    ...     KNeighborsClassifier(),
    ...     {"n_neighbors": [10, 20]},
    ...     scoring=multilabel_scorers(),
    ...     refit="neg_multilabel_brier_score",
    ... ).fit(X, Y)
    >>> "mean_test_neg_multilabel_calibration_error" in search.cv_results_
    True
    """
    scorers = {
        "neg_multilabel_log_loss": neg_multilabel_log_loss,
        "neg_multilabel_brier_score": neg_multilabel_brier_score,
        "neg_multilabel_calibration_error": neg_multilabel_calibration_error,
        "neg_pooled_calibration_error": _neg_pooled_calibration_error,
    }
    scorers = {name: copy.deepcopy(scorer) for name, scorer in scorers.items()}
    scorers["accuracy"] = get_scorer("accuracy")
    return scorers
