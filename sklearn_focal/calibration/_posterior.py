"""Posterior recovery for focal-loss classifiers: the Psi^gamma calibrator."""
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Real

import numpy as np
from sklearn.utils.validation import check_is_fitted

from sklearn_focal import theory
from sklearn_focal.calibration._base import (
    _BaseProbaPostprocessor,
    _calibration_rows,
    _indicator_losses,
    _label_proba,
    _minimize_on_interval,
    _minimize_with_slope,
    _validate_rows,
)
from sklearn_focal.calibration._guard import warn_if_recovery_hurts
from sklearn_focal.calibration._unwrap import (
    final_estimator,
    focal_alpha,
    focal_gamma,
    is_focal_classifier,
)
from sklearn_focal.theory._posterior_map import _SignedMapAtLabels
from sklearn_focal.utils._compat import HasMethods, Interval, StrOptions
from sklearn_focal.utils._compat import fit_context as _fit_context
from sklearn_focal.utils._dask import is_dask_array, map_row_blocks
from sklearn_focal.utils.validation import (
    as_float64_proba,
    check_alpha,
    check_gamma,
    check_label_proba,
    check_label_weights,
)

__all__ = ["FocalPosteriorRecovery"]

# Search range of the signed map's order for gamma="fit". Orders beyond 20
# move probabilities so far that held-out data cannot tell them apart.
_GAMMA_FIT_BOUNDS = (-20.0, 20.0)


def _signed_map(proba, gamma, alpha):
    """Psi of order gamma for gamma >= 0, its inverse of order -gamma below."""
    if gamma >= 0:
        return theory.psi(proba, gamma, alpha=alpha)
    return theory.focal_minimizer(proba, -gamma, alpha=alpha)


def _signed_binary_map(proba, gamma, alpha):
    """binary_psi of order gamma for gamma >= 0, its inverse of order -gamma."""
    if gamma >= 0:
        return theory.binary_psi(proba, gamma, alpha=alpha)
    return theory.binary_focal_minimizer(proba, -gamma, alpha=alpha)


def _per_label_map(proba, gamma, alpha, function):
    """``function(proba, gamma, alpha)`` with a shared or per-label gamma."""
    if np.ndim(gamma) == 0:
        return function(proba, float(gamma), alpha)
    out = np.empty_like(proba)
    for j in range(proba.shape[1]):  # one call per label, vectorized over rows
        label_alpha = alpha if np.ndim(alpha) == 0 else alpha[j]
        out[:, j] = function(proba[:, j], float(gamma[j]), label_alpha)
    return out


class FocalPosteriorRecovery(_BaseProbaPostprocessor):
    """Recover class posteriors from focal-loss outputs with Psi^gamma.

    A model trained with the focal loss of order ``gamma`` does not output the
    class posterior: its softmax output ``q`` is the minimizer of the focal
    risk, which is under-confident where a class dominates. The map
    :math:`\\Psi^\\gamma` of Charoenphakdee et al. (2021, Thm. 11) undoes this
    exactly, in closed form and without changing the predicted class:

    .. math::

        \\Psi^\\gamma_i(q) = \\frac{h^\\gamma(q_i) / \\alpha_i}
        {\\sum_l h^\\gamma(q_l) / \\alpha_l}, \\qquad
        h^\\gamma(v) = \\frac{v}{(1-v)^\\gamma - \\gamma (1-v)^{\\gamma-1} v \\log v}.

    The estimator has two modes, the way
    :class:`~sklearn.discriminant_analysis.LinearDiscriminantAnalysis` is both
    a classifier and a transformer:

    - **transformer mode** (``estimator=None``): ``X`` holds probability rows
      (for example ``clf.predict_proba(X)``); :meth:`transform` maps them and
      :meth:`inverse_transform` maps posteriors to what a focal-trained model
      outputs;
    - **meta-estimator mode**: wraps a classifier in the style of
      :class:`~sklearn.calibration.CalibratedClassifierCV`;
      :meth:`predict_proba` maps its probabilities. A
      :class:`~sklearn_focal.FocalClassifier` is always read through its raw
      softmax output, whatever its ``posterior`` setting, so the map is never
      applied twice.

    With ``gamma="fit"`` the order is estimated on held-out data. The map is
    then *signed*: ``gamma >= 0`` applies :math:`\\Psi^\\gamma`, which
    sharpens, and ``gamma < 0`` applies its inverse of order ``-gamma``
    (:func:`~sklearn_focal.theory.focal_minimizer`), which flattens. This
    one-parameter family preserves the predicted class and calibrates any
    classifier, over- or under-confident, not only focal-trained ones.

    Parameters
    ----------
    estimator : estimator instance or None, default=None
        Classifier with ``fit`` and ``predict_proba``, fitted as a clone in
        :meth:`fit`, or a fitted one wrapped in
        :class:`~sklearn.frozen.FrozenEstimator`, used as it is. ``None``
        selects transformer mode.

    gamma : float, "auto" or "fit", default="auto"
        Order of the map. A number ``>= 0`` applies :math:`\\Psi^\\gamma`; a
        negative number applies the inverse map of order ``-gamma``.

        - ``"auto"`` (meta-estimator mode only) reads the order the wrapped
          model was trained with, also through a Pipeline, a FrozenEstimator
          or a fitted search estimator: its fitted ``gamma_`` (a
          FocalClassifier's is the order of its criterion), else any
          ``gamma`` or skorch ``criterion__gamma`` parameter. An error is
          raised when there is none. In transformer mode there is no model
          to read it from, so ``"auto"`` raises a ``ValueError``. Around a
          :class:`~sklearn.frozen.FrozenEstimator`, the fit data are taken as
          calibration data: when Psi raises their negative log-likelihood
          above the raw output's (an over-fitted, over-confident model), a
          :class:`~sklearn_focal.exceptions.PosteriorRecoveryWarning` names
          the better choices, ``gamma="fit"`` and
          :class:`~sklearn_focal.FocalTemperatureScaling` (with
          ``link="sigmoid"``: the per-label log-loss of
          :func:`~sklearn_focal.theory.binary_psi`, and ``gamma="fit"`` or
          :class:`~sklearn_focal.TemperatureScaling` with ``link="sigmoid"``).
        - ``"fit"`` minimizes the negative log-likelihood of the mapped
          probabilities on calibration data over ``gamma`` in ``[-20, 20]``
          (``[0, 20]`` when ``alpha`` is set, where the two branches do not
          meet at 0). With ``alpha`` set, the order-0 map reweights the
          odds, so the raw output (the identity) is a candidate of its own:
          when it fits the calibration data better than every weighted map,
          it is kept (``gamma_ = 0``, ``alpha_`` without weights) with a
          :class:`~sklearn_focal.exceptions.PosteriorRecoveryWarning`; the
          fitted map is never worse than the raw output on the calibration
          objective. In meta-estimator mode the calibration data are
          cross-validated predictions (see ``cv``), or the fit data for a
          FrozenEstimator; in transformer mode they are ``X`` and ``y``.
          When the calibration data cannot tell the identity from the most
          extreme map (every row one-hot, or correct and nearly one-hot;
          see Notes), ``gamma_`` is 0 and a
          :class:`~sklearn_focal.exceptions.FlatCalibrationWarning` is raised.

    alpha : array-like of shape (n_classes,), float, "auto" or None, default="auto"
        Per-class weights of an alpha-balanced focal loss
        :math:`-\\alpha_y (1-q_y)^\\gamma \\log q_y`. ``"auto"`` reads the
        fitted weights ``alpha_`` of a wrapped focal model (a FocalClassifier,
        or any model with a fitted ``gamma_``), else a skorch
        ``criterion__alpha``, and means no weights otherwise, including in
        transformer mode. With ``link="sigmoid"``: the weight of positives of
        the sigmoid focal loss, a float in (0, 1) or one per label
        (torchvision's and mmdet's ``alpha=0.25``; torchvision's
        ``alpha=-1``, fvcore's default and Keras without class balancing are
        None); ``"auto"`` reads a multi-label FocalClassifier's ``alpha_``
        and ``pos_weight_``.

    cv : int, cross-validation generator, iterable or None, default=None
        Splitting strategy for the held-out predictions of ``gamma="fit"``
        with a non-frozen estimator; ignored otherwise. ``None`` gives
        stratified 5-fold cross-validation (plain 5-fold for multi-label y).
        The splits must partition the samples.

    link : {"auto", "softmax", "sigmoid"}, default="auto"
        What the probabilities are. ``"softmax"``: rows of class
        probabilities, mapped by :func:`~sklearn_focal.theory.psi`.
        ``"sigmoid"``: per-label probabilities of shape (n_samples, n_labels)
        of a multi-label or detection model trained with the sigmoid focal
        loss, mapped elementwise by :func:`~sklearn_focal.theory.binary_psi`;
        ``y`` is then a multi-label indicator matrix, in both modes. In meta
        mode the estimator's ``predict_proba`` may return (n, L) or
        scikit-learn's list of L arrays of shape (n, 2); a multi-label
        FocalClassifier is read through its raw sigmoid outputs. ``"auto"``
        is ``"sigmoid"`` when ``y`` is a multi-label indicator matrix, else
        ``"softmax"`` (in transformer mode without ``y``, pass
        ``link="sigmoid"`` explicitly).

    per_label : bool, default=False
        With ``link="sigmoid"`` and ``gamma="fit"``: fit one order per label
        (``gamma_`` of shape (n_labels,)) instead of one shared order.

    Attributes
    ----------
    gamma_ : float or ndarray of shape (n_labels,)
        The order of the map that is applied; negative values flatten. One
        per label with ``link="sigmoid"``, ``gamma="fit"`` and
        ``per_label=True``.

    alpha_ : ndarray of shape (n_classes,) or None
        The per-class weights in use (None when ``gamma="fit"`` kept the raw
        output). With the sigmoid link: the weight of
        positives in (0, 1), a float or one per label (a model's
        ``pos_weight_`` folded in: the map depends on ``alpha * pos_weight``
        against ``1 - alpha`` only, which is the single weight
        ``alpha * w / (alpha * w + 1 - alpha)``), or None. A label for which
        ``gamma="fit"`` kept the raw output has weight 0.5 (no weighting).

    link_ : {"softmax", "sigmoid"}
        The link in use.

    estimator_ : estimator instance
        The fitted estimator (the FrozenEstimator itself when one is given).
        Meta-estimator mode only.

    classes_ : ndarray of shape (n_classes,)
        Class labels, from the estimator. Meta-estimator mode only.

    n_features_in_ : int
        Number of input features: the estimator's in meta-estimator mode, the
        number of classes K in transformer mode.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the input features, when they are all strings.

    See Also
    --------
    sklearn_focal.TemperatureScaling : The temperature-scaling baselines
        TS_NLL and TS_FL.
    sklearn_focal.theory.psi : The map itself.
    sklearn_focal.theory.focal_minimizer : Its inverse.
    sklearn.calibration.CalibratedClassifierCV : Sigmoid, isotonic and
        temperature calibration.

    Notes
    -----
    :math:`\\Psi^\\gamma` is exact for the minimizer of the focal risk; a
    trained network only approximates it, so the recovered posterior is as
    good as the network's fit. Temperature scaling fitted with the focal loss
    (TS_FL) before the map gives a closer approximation of that minimizer; a
    ``FocalPosteriorRecovery`` wrapped around a
    :class:`~sklearn_focal.TemperatureScaling` implements this pipeline of
    the paper's Sec. 6.1.

    ``gamma="auto"`` reads any fitted attribute ``gamma_`` or parameter
    called ``gamma``. Estimators for which ``gamma`` means something else,
    such as the kernel coefficient of :class:`~sklearn.svm.SVC`, need an
    explicit ``gamma``.

    With ``gamma="fit"`` the objective is *flat* when the identity map and a
    bound of the search interval other than 0 both come within
    ``1e-6 * max(1, nll(0))`` nats per sample of the minimum: the data cannot
    tell them apart. This happens when every calibration row is one-hot (the
    objective is constant) or correct and nearly one-hot (it falls, by next
    to nothing, towards the sharpest map). A map fitted to such data would
    be an arbitrary point of a plateau, or the most extreme map of the
    search, and would distort every row that is not one-hot; the identity
    (``gamma_ = 0``) is used instead, with a
    :class:`~sklearn_focal.exceptions.FlatCalibrationWarning`.

    Without ``alpha``, ``gamma="fit"`` finds the order from the exact slope
    of the negative log-likelihood, on both sides of 0: on each side it walks
    outward from the identity in steps of 2.5 (the grid below) while the
    slope falls away from 0, then refines the bracket where the slope changes
    sign by cubic interpolation of values and slopes; the lower of the two
    sides' minima is returned (the one nearer 0 on a tie). The side the slope
    at 0 rises into is abandoned after its first point (2.5 or -2.5) when
    that point is above the value at 0 and its slope points back towards 0;
    this costs one evaluation there (on the negative side, a Newton solve
    per row). What the search can still miss is a basin behind a rise of
    the objective on a side: a deeper minimum farther out than the first
    minimum of a side, or before or beyond the first point of an abandoned
    side. Where the objective is flat or not finite, or a side does not
    behave as one with a single minimum at the grid's resolution, the
    order is found as with ``alpha``: a grid of 17
    orders over the search range, then Brent's method between the
    neighbours of the best (which finds such a basin only when one of its
    grid points there is the lowest of the grid). On an objective with a
    single minimum both give the same order, to ``1e-7``.

    ``sample_weight`` must be finite, non-negative and not all zero, as in
    the metrics of :mod:`sklearn_focal.metrics`; otherwise a ``ValueError``
    is raised before anything is fitted.

    References
    ----------
    .. [1] N. Charoenphakdee, J. Vongkulbhisal, N. Chairatanakul and
       M. Sugiyama, "On Focal Loss for Class-Posterior Probability Estimation:
       A Theoretical Perspective", CVPR 2021.

    Examples
    --------
    Transformer mode, on the outputs of a model trained with gamma = 2:

    >>> import numpy as np
    >>> from sklearn_focal import FocalPosteriorRecovery
    >>> q = np.array([[0.6, 0.3, 0.1], [0.4, 0.35, 0.25]])
    >>> recovery = FocalPosteriorRecovery(gamma=2.0).fit(q)
    >>> recovery.transform(q).round(3)
    array([[0.795, 0.162, 0.044],
           [0.447, 0.347, 0.206]])
    >>> np.allclose(recovery.inverse_transform(recovery.transform(q)), q)
    True

    Meta-estimator mode, estimating the order of the map on held-out data:

    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> model = FocalPosteriorRecovery(
    ...     LogisticRegression(max_iter=1000), gamma="fit"
    ... ).fit(X, y)
    >>> bool(np.all(model.predict(X) == model.estimator_.predict(X)))
    True
    >>> model.predict_proba(X[:2]).shape
    (2, 3)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "gamma": [
            Interval(Real, None, None, closed="neither"),
            StrOptions({"auto", "fit"}),
        ],
        "alpha": [
            StrOptions({"auto"}),
            "array-like",
            Interval(Real, 0, 1, closed="neither"),
            None,
        ],
        "cv": ["cv_object"],
        "link": [StrOptions({"auto", "softmax", "sigmoid"})],
        "per_label": ["boolean"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        gamma="auto",
        alpha="auto",
        cv=None,
        link="auto",
        per_label=False,
    ):
        self.estimator = estimator
        self.gamma = gamma
        self.alpha = alpha
        self.cv = cv
        self.link = link
        self.per_label = per_label

    @_fit_context(
        # FocalPosteriorRecovery.estimator is not validated yet
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y=None, sample_weight=None, **fit_params):
        """Fit the estimator (meta mode) and resolve the order of the map.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data in meta-estimator mode; probability rows of shape
            (n_samples, n_classes) in transformer mode.

        y : array-like of shape (n_samples,), default=None
            Target labels. Required in meta-estimator mode. In transformer
            mode only ``gamma="fit"`` uses it, and it holds the column index
            of each row's class.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights of the calibration objective of ``gamma="fit"``.
            In meta-estimator mode they are also passed to the estimator's
            ``fit`` when it accepts them (or, with metadata routing enabled,
            when it requests them).

        **fit_params : dict
            Meta-estimator mode: parameters passed to the estimator's ``fit``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if not isinstance(self.gamma, str):
            # The one gamma rule: sklearn's Interval(Real) lets a bool through.
            check_gamma(self.gamma, signed=True)
        if self.estimator is None and self.gamma == "auto":
            raise ValueError(
                "FocalPosteriorRecovery(gamma='auto') reads gamma from the "
                "wrapped model, but in transformer mode (estimator=None) there "
                "is none. Pass the focal-loss order the probabilities were "
                "trained with, e.g. gamma=2.0, or gamma='fit' with labels y to "
                "estimate it."
            )
        return self._fit(X, y, sample_weight, fit_params)

    # ---- hooks ------------------------------------------------------------

    def _needs_calibration_data(self):
        return isinstance(self.gamma, str) and self.gamma == "fit"

    def _missing_y_message(self):
        return (
            "FocalPosteriorRecovery(gamma='fit') in transformer mode estimates "
            "gamma from labelled probabilities: pass y, the column index of "
            "each row's class."
        )

    def _fit_meta(self, X, y, sample_weight, fit_params):
        super()._fit_meta(X, y, sample_weight, fit_params)
        # gamma="auto" around a FrozenEstimator: X, y are calibration data, and
        # Psi may be checked on them (warns when it raises their NLL).
        warn_if_recovery_hurts(self, X, y, sample_weight, stacklevel=5)
        return self

    def _fit_sigmoid_meta(self, X, y, sample_weight, fit_params):
        super()._fit_sigmoid_meta(X, y, sample_weight, fit_params)
        # The same check per label (binary_psi against the raw outputs).
        warn_if_recovery_hurts(self, X, y, sample_weight, stacklevel=5)
        return self

    def _resolve_alpha(self, n_classes, estimator):
        if isinstance(self.alpha, str):  # "auto"
            alpha = None if estimator is None else focal_alpha(estimator)
        else:
            alpha = self.alpha
        if alpha is None:
            return None
        return check_alpha(alpha, n_classes)

    def _fit_map(self, scores, y, sample_weight, estimator):
        n_classes = len(self.classes_) if estimator is not None else self.n_features_in_
        self.alpha_ = self._resolve_alpha(n_classes, estimator)
        if isinstance(self.gamma, str) and self.gamma == "auto":
            self.gamma_ = focal_gamma(estimator, f"{type(self).__name__}(gamma='auto')")
        elif isinstance(self.gamma, str):  # "fit"
            self.gamma_ = self._fit_gamma(scores, y, sample_weight)
        else:
            self.gamma_ = check_gamma(self.gamma, signed=True)

    def _fit_gamma(self, proba, y, sample_weight):
        # Rows that give their true class probability 0 keep it at 0 under
        # every map of the family: a constant +inf that cannot move the
        # argmin, so they are left out of the objective.
        keep = proba[np.arange(len(y)), y] > 0
        proba, y, weight = _calibration_rows(proba, y, sample_weight, keep)

        rows = np.arange(len(y))
        owner = "FocalPosteriorRecovery(gamma='fit')"

        def nll(mapped):
            with np.errstate(divide="ignore"):
                return float(np.average(-np.log(mapped[rows, y]), weights=weight))

        def objective(gamma):
            return nll(_signed_map(proba, gamma, self.alpha_))

        if self.alpha_ is None:
            # The same search with the objective's slope: a few evaluations of
            # the labelled entries only, on rows checked once (the grid search
            # decides where the objective is flat or not unimodal).
            at_labels = _SignedMapAtLabels(proba, y)

            def value_and_slope(gamma):
                log_q, slope = at_labels(gamma)
                with np.errstate(invalid="ignore"):
                    return (
                        np.average(-log_q, weights=weight),
                        np.average(-slope, weights=weight),
                    )

            return _minimize_with_slope(
                value_and_slope,
                _GAMMA_FIT_BOUNDS,
                identity=0.0,
                fallback=lambda: self._fit_order(objective, None, owner),
            )
        gamma = self._fit_order(objective, nll(proba), owner)
        if gamma is None:  # the raw output: no weights, order 0
            self.alpha_ = None
            return 0.0
        return gamma

    def _fit_order(self, objective, raw_objective, owner, alpha=None):
        """The order minimizing ``objective``, or None for the raw output.

        Without class weights the signed family contains the identity
        (gamma = 0) and is searched over ``[-20, 20]``. With weights
        (``alpha``, default ``self.alpha_``), gamma = 0 reweights the odds,
        the family is searched over ``[0, 20]`` and the raw output, whose
        objective is ``raw_objective``, is a separate candidate: None is
        returned when it is better (with a PosteriorRecoveryWarning) or when
        the objective is flat (with a FlatCalibrationWarning).
        """
        alpha = self.alpha_ if alpha is None else alpha
        common = dict(identity=0.0, parameter="gamma", owner=owner)
        if alpha is None:
            return _minimize_on_interval(
                objective, _GAMMA_FIT_BOUNDS, identity_text="gamma_ = 0", **common
            )
        return _minimize_on_interval(
            objective,
            (0.0, 20.0),
            identity_value=raw_objective,
            identity_text="gamma_ = 0 without the weights alpha",
            identity_hint=(
                " The weights do not match these probabilities: check alpha, "
                "or pass alpha=None to fit the unweighted family, which "
                "contains the identity."
            ),
            **common,
        )

    def _transformer_scores(self, X):
        # X passed check_probability_rows (_check_transformer_input) in this
        # fit: float64 rows need no second check, float32 rows are converted.
        if X.dtype == np.float64:
            return X
        return super()._transformer_scores(X)

    def _map(self, proba):
        return _signed_map(proba, self.gamma_, self.alpha_)

    # ---- the sigmoid link -------------------------------------------------

    def _sigmoid_scores(self, estimator, X):
        return _label_proba(estimator, X)

    def _sigmoid_transformer_scores(self, X):
        return check_label_proba(X, "X")

    def _resolve_label_alpha(self, n_labels, estimator):
        """The weight of positives per label (or shared), pos_weight folded in.

        The map depends on ``A / B`` only (``A = alpha * pos_weight``,
        ``B = 1 - alpha``), so a model's ``alpha_`` and ``pos_weight_`` are
        one alpha, ``A / (A + B)``.
        """
        alpha, pos_weight = self.alpha, None
        if isinstance(alpha, str):  # "auto": the wrapped focal model's
            alpha = None
            if estimator is not None:
                model = final_estimator(estimator)
                if is_focal_classifier(model) or hasattr(model, "gamma_"):
                    alpha = getattr(model, "alpha_", None)
                    pos_weight = getattr(model, "pos_weight_", None)
        alpha = check_label_weights(alpha, "alpha", n_labels, unit_interval=True)
        pos_weight = check_label_weights(pos_weight, "pos_weight", n_labels)
        if pos_weight is None:
            return alpha
        positive = (1.0 if alpha is None else alpha) * pos_weight
        negative = 1.0 if alpha is None else 1.0 - alpha
        return positive / (positive + negative)

    def _fit_sigmoid_map(self, proba, Y, sample_weight, estimator):
        n_labels = len(self.classes_) if estimator is not None else self.n_features_in_
        self.alpha_ = self._resolve_label_alpha(n_labels, estimator)
        if isinstance(self.gamma, str) and self.gamma == "auto":
            self.gamma_ = focal_gamma(estimator, f"{type(self).__name__}(gamma='auto')")
        elif isinstance(self.gamma, str):  # "fit"
            self.gamma_ = self._fit_label_gamma(proba, Y, sample_weight)
        else:
            self.gamma_ = check_gamma(self.gamma, signed=True)

    def _fit_label_gamma(self, proba, Y, weight):
        """gamma minimizing the per-label log-loss, shared or per label.

        With weights alpha, a label (or all, when shared) whose raw output
        beats every map of the family keeps it: gamma 0 and alpha 0.5 (no
        weighting), or ``alpha_ = None`` when shared.
        """

        def nll(mapped, columns):
            with np.errstate(divide="ignore"):
                return _indicator_losses(
                    -np.log(mapped), -np.log1p(-mapped), Y[:, columns], weight
                )

        def fit(columns):
            alpha = self.alpha_
            if np.ndim(alpha) == 1:
                alpha = alpha[columns]
            return self._fit_order(
                lambda gamma: nll(
                    _signed_binary_map(proba[:, columns], gamma, alpha), columns
                ),
                nll(proba[:, columns], columns),
                "FocalPosteriorRecovery(gamma='fit', link='sigmoid')",
                alpha=alpha,
            )

        if not self.per_label:
            gamma = fit(slice(None))
            if gamma is None:  # the raw output: no weights, order 0
                self.alpha_ = None
                return 0.0
            return gamma
        gammas = [fit([j]) for j in range(proba.shape[1])]
        raw = [j for j, gamma in enumerate(gammas) if gamma is None]
        if raw:  # alpha 0.5 weighs both values alike: the identity at order 0
            alpha = np.broadcast_to(self.alpha_, (proba.shape[1],)).astype(float)
            alpha[raw] = 0.5
            self.alpha_ = alpha
        return np.array([0.0 if gamma is None else gamma for gamma in gammas])

    def _sigmoid_map(self, proba):
        return _per_label_map(proba, self.gamma_, self.alpha_, _signed_binary_map)

    # ---- transformer API --------------------------------------------------

    def transform(self, X):
        """Map probabilities to recovered posteriors.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Transformer mode: probability rows of shape (n_samples,
            n_classes). Meta-estimator mode: samples, as accepted by the
            estimator; the result is :meth:`predict_proba`.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_classes)
            The mapped probabilities; rows sum to 1. In transformer mode a
            dask array ``X`` (chunked along rows) gives a lazy dask array
            with the same row chunks; a bad row raises when computed, naming
            its global row.
        """
        check_is_fitted(self)
        if self.estimator is not None:
            return self.predict_proba(X)
        if is_dask_array(X):  # lazily, chunk by chunk, same row chunks
            dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
            return map_row_blocks(self._transform_rows, X, dtype=dtype, name="X")
        return self._transform_rows(X)

    def _transform_rows(self, X):
        if self._link() == "sigmoid":
            X = self._transform_sigmoid_input(X)
            return self._sigmoid_map(X).astype(X.dtype, copy=False)
        return self._map(self._transform_input(X))

    def _transform_sigmoid_input(self, X):
        X = _validate_rows(self, X, reset=False)
        check_label_proba(X, "X")
        return X

    def inverse_transform(self, X):
        """Map posteriors to the output of a focal-trained model.

        This is the inverse of :meth:`transform` on probability rows: for
        ``gamma_ >= 0`` it is the focal-entropy minimizer
        :func:`~sklearn_focal.theory.focal_minimizer` of order ``gamma_``,
        the output a model trained with that focal loss converges to.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_classes)
            Probability rows (posteriors).

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_classes)
            The probability rows that :meth:`transform` maps to ``X``.
        """
        check_is_fitted(self)
        if self._link() == "sigmoid":
            if self.estimator is None:
                X = self._transform_sigmoid_input(X)
            else:
                X = check_label_proba(X, "X")
            return _per_label_map(
                np.asarray(X), -np.asarray(self.gamma_), self.alpha_, _signed_binary_map
            )
        if self.estimator is None:
            X = self._transform_input(X)
        else:
            X = as_float64_proba(X, "X")
            if X.shape[1] != len(self.classes_):
                raise ValueError(
                    f"X has {X.shape[1]} columns but the estimator has "
                    f"{len(self.classes_)} classes."
                )
        return _signed_map(X, -self.gamma_, self.alpha_)

    def confidence_regime(self, X):
        """Per-sample over- or under-confidence of the raw probabilities.

        Compares each raw output with its recovered posterior (Def. 7 of
        Charoenphakdee et al.) and places it in the regions of their Thm. 8,
        through :func:`sklearn_focal.theory.confidence_regime`. For a
        flattening map (``gamma_ < 0``) the roles are swapped: the mapped
        output is the focal-type output of order ``-gamma_`` and the raw one
        the posterior, so the codes are negated to keep describing the raw
        probabilities.

        Parameters
        ----------
        X : array-like
            Transformer mode: probability rows of shape (n_samples,
            n_classes). Meta-estimator mode: samples, as accepted by the
            estimator.

        Returns
        -------
        regime : sklearn_focal.theory.ConfidenceRegime
            Named tuple of per-row arrays: ``confidence`` (-1 under-confident,
            0 exact, 1 over-confident), ``region`` (Thm. 8), ``max_q`` (the
            largest raw probability) and ``max_posterior`` (the largest
            recovered probability).
        """
        check_is_fitted(self)
        if self._link() == "sigmoid":
            raise ValueError(
                "confidence_regime describes softmax rows (Thm. 8 of "
                "Charoenphakdee et al.); it is not defined for link='sigmoid'."
            )
        if self.estimator is None:
            proba = self._transform_input(X)
        else:
            proba = self._scores(self.estimator_, X)
        if self.gamma_ >= 0:
            return theory.confidence_regime(proba, self.gamma_, alpha=self.alpha_)
        mapped = self._map(proba)
        swapped = theory.confidence_regime(mapped, -self.gamma_, alpha=self.alpha_)
        return theory.ConfidenceRegime(
            confidence=-swapped.confidence,
            region=-swapped.region,
            max_q=proba.max(axis=1),
            max_posterior=swapped.max_q,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.estimator is None:
            tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
