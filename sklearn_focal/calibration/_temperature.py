"""Temperature scaling with the NLL or the focal loss as objective (TS_NLL, TS_FL)."""
# SPDX-License-Identifier: BSD-3-Clause

import warnings
from numbers import Real

import numpy as np
from scipy.special import expit, log_softmax
from sklearn.utils.validation import check_is_fitted

from sklearn_focal.calibration._base import (
    _BaseProbaPostprocessor,
    _calibration_rows,
    _indicator_losses,
    _label_proba,
    _minimize_on_interval,
    _user_stacklevel,
    _validate_rows,
)
from sklearn_focal.calibration._unwrap import focal_gamma, raw_proba
from sklearn_focal.exceptions import FlatCalibrationWarning
from sklearn_focal.theory._focal_terms import focal_terms, log1mexp
from sklearn_focal.utils._compat import HasMethods, Interval, StrOptions
from sklearn_focal.utils._compat import fit_context as _fit_context
from sklearn_focal.utils._dask import is_dask_array, map_row_blocks
from sklearn_focal.utils.validation import (
    as_float64_proba,
    check_gamma,
    check_label_proba,
    check_probability_rows,
)

__all__ = ["TemperatureScaling"]

# Search range of log T: T from about 4.5e-5 to 2.2e4, as scikit-learn's.
_LOG_TEMPERATURE_BOUNDS = (-10.0, 10.0)


def _scaled_log_softmax(logits, temperature):
    """``log softmax(logits / temperature)`` by rows, for any finite logits.

    The row maximum is taken off before dividing, so that ``z / T`` cannot
    overflow for huge ``z`` and small ``T``; and it is taken off in halves,
    ``2 * ((z/2 - max/2) / T)``, so that the difference of two finite logits
    (``-1e308 - 1e308``) cannot overflow either. Halving and doubling are
    exact, so the result is that of ``(z - max) / T`` wherever that is finite;
    it is ``-inf`` only where the exact value is below ``-1.8e308``, whose
    probability is 0.
    """
    top = np.max(logits, axis=1, keepdims=True)
    with np.errstate(over="ignore"):
        shifted = ((0.5 * logits - 0.5 * top) / temperature) * 2.0
    return log_softmax(shifted, axis=1)


def _separated(logits, y, weight):
    """Whether no row of positive weight ranks another class above its true class.

    The true class is first, alone or tied with ``k - 1`` others. As
    ``T -> 0`` its probability rises (its NLL and focal loss fall) towards
    1, or towards ``1 / k`` when tied, and the classes below it go to 0;
    no map of temperature scaling or of the signed focal map does better on
    such a row (tied classes get equal probabilities, at most ``1 / k``),
    in the NLL, the focal loss or the Brier score. So the calibration loss
    reaches its lowest value only as ``T -> 0``: it has no finite
    minimizer, unless it is flat (every row one-hot or wholly tied), which
    the flat rule of :func:`_minimize_on_interval` handles. Checked in row
    blocks of :data:`_BLOCK_ELEMENTS` entries, stopping at the first block
    with a row that is not separated: no array of the scores' size is
    allocated.
    """
    step = max(1, _BLOCK_ELEMENTS // logits.shape[1])
    for start in range(0, len(y), step):
        block, labels = logits[start : start + step], y[start : start + step]
        true_class = block[np.arange(len(labels)), labels]
        # No entry of the row strictly above its true class (ties allowed).
        first = ~np.any(block > true_class[:, None], axis=1)
        if weight is not None:
            first |= ~(weight[start : start + step] > 0)
        if not first.all():
            return False
    return True


def _label_entries_kept(logits, Y):
    """The per-label entries whose loss a map of the family can change.

    A logit of ``-inf`` on a 1 (or ``+inf`` on a 0) gives the observed label
    probability 0 under every temperature and signed focal map: an infinite
    NLL or focal loss, which the objectives leave out, and a Brier score of
    1 at every map. The one rule for such entries, for the objectives and
    for :func:`_labels_separated`.
    """
    return ~np.where(Y == 1, logits == -np.inf, logits == np.inf)


def _labels_separated(logits, Y, keep, weight):
    """Whether every ``keep`` entry of a row of positive weight is on its
    label's side of 0 (logit >= 0 for a 1, <= 0 for a 0).

    Then ``T -> 0`` lowers every entry's loss, towards 0 (an entry at logit
    0 keeps its loss at every map): no finite minimizer, unless the loss is
    flat.
    """
    right = np.where(Y == 1, logits >= 0, logits <= 0) | ~keep
    if weight is not None:
        right = right | ~(weight > 0)[:, None]
    return bool(np.all(right))


def _warn_unbounded(owner, log_temperature, what, also=""):
    """Warn that a fit on separated data sharpened as far as the search goes.

    ``what`` says which separation was met (rows or per-label entries);
    ``also`` names other fitted values (``", gamma_ = 0"``).
    Nothing is raised when the fit kept the identity (``log T = 0``): the
    flat rule of :func:`_minimize_on_interval` has warned then.
    """
    if not log_temperature < 0.0:
        return
    warnings.warn(
        f"{owner}: {what}, so the calibration loss reaches its lowest value only "
        "in the limit of an infinitely sharp map: it has no finite minimizer, "
        "and the fit is kept where the "
        f"search of log T in [{_LOG_TEMPERATURE_BOUNDS[0]:g}, "
        f"{_LOG_TEMPERATURE_BOUNDS[1]:g}] stopped, temperature_ = "
        f"{np.exp(log_temperature):.3g} (log T = {log_temperature:.4g}){also}. "
        "Such a map gives a test row it misclassifies a probability near 0 "
        "for its true class; calibration data with errors would bound it.",
        FlatCalibrationWarning,
        stacklevel=_user_stacklevel(),  # the user's fit call
    )


_ROWS_SEPARATED = (
    "no calibration row (of positive weight) ranks another class above its true class"
)
_ENTRIES_SEPARATED = (
    "every calibration entry (of a row of positive weight) lies on its label's "
    "side of 0 (or at 0)"
)


def _label_logits(proba):
    """``log(p / (1 - p))`` of per-label probabilities (+-inf at 1 and 0)."""
    with np.errstate(divide="ignore"):
        return np.log(proba) - np.log1p(-proba)


def _true_class_log_proba(logits, y, temperature):
    log_proba = _scaled_log_softmax(logits, temperature)
    return log_proba[np.arange(log_proba.shape[0]), y]


#: Rows per block of :class:`_TrueClassLogProba` (1 MB of float64 at C = 16).
_BLOCK_ELEMENTS = 2**17


class _TrueClassLogProba:
    """``log softmax(logits / T)[i, y_i]`` for many T, in row blocks.

    The same floating-point operations as :func:`_true_class_log_proba`
    (halved logits, the row maximum taken off, ``x - log(sum(exp(x)))`` with
    the row maximum of ``x`` exactly 0), so the same bits; but only the true
    class column is kept, the row maxima are computed once, and the work runs
    in blocks of rows into one reused buffer: no array of the input's size is
    allocated per evaluation. ``((z/2 - top/2) / T) * 2`` is computed as
    ``(z/2 - top/2) / (T/2)``, the same number (scaling by 2 is exact).
    """

    def __init__(self, logits, y):
        self.logits, self.y = logits, y
        self.half_top = 0.5 * np.max(logits, axis=1)
        n, k = logits.shape
        self.step = max(1, _BLOCK_ELEMENTS // k)
        self.buffer = np.empty((min(n, self.step), k))
        self.out = np.empty(n)
        self.rows = np.arange(min(n, self.step))

    def __call__(self, temperature):
        buffer, out, step = self.buffer, self.out, self.step
        half_temperature = 0.5 * temperature
        for start in range(0, out.size, step):
            stop = min(start + step, out.size)
            block = buffer[: stop - start]
            np.multiply(self.logits[start:stop], 0.5, out=block)
            with np.errstate(over="ignore"):
                np.subtract(block, self.half_top[start:stop, None], out=block)
                np.divide(block, half_temperature, out=block)
            true_class = block[self.rows[: stop - start], self.y[start:stop]]
            np.exp(block, out=block)
            np.log(np.sum(block, axis=1), out=out[start:stop])
            np.subtract(true_class, out[start:stop], out=out[start:stop])
        return out


def _fit_log_temperature(logits, y, weight, gamma, *, owner, fitted=""):
    """``log T`` of temperature scaling on calibration rows, the one search.

    Minimizes the mean NLL (``gamma`` None or 0) or focal loss of order
    ``gamma`` of ``softmax(z / T)`` by :func:`_minimize_on_interval` over
    :data:`_LOG_TEMPERATURE_BOUNDS`, with its flat rule (``log T = 0`` and a
    FlatCalibrationWarning). On separated rows (no class ranked above a
    true class) the loss has no finite minimizer: the point where the search
    stopped is kept and a FlatCalibrationWarning says so. ``logits``, ``y``
    and ``weight`` are the rows :func:`_calibration_rows` kept (true-class
    logits finite); ``owner`` names the estimator in the warnings, and
    ``fitted`` the other fitted values (``", gamma_ = 0"``).
    """
    # Every row has a finite maximum (its true class is finite, and a
    # logit is never +inf), so the blocked form applies.
    true_class_log_proba = _TrueClassLogProba(logits, y)

    def objective(log_temperature):
        log_p = true_class_log_proba(np.exp(log_temperature))
        if not gamma:
            losses = -log_p
        else:
            # (1 - p)^gamma from log(1 - p): exact as p -> 1.
            losses = focal_terms(
                None, gamma, log_q=log_p, log_complement=log1mexp(log_p)
            )
        return float(np.average(losses, weights=weight))

    log_temperature = _minimize_on_interval(
        objective,
        _LOG_TEMPERATURE_BOUNDS,
        identity=0.0,
        parameter="log T",
        owner=owner,
        identity_text=f"temperature_ = 1{fitted}",
    )
    if log_temperature < 0.0 and _separated(logits, y, weight):
        _warn_unbounded(owner, log_temperature, _ROWS_SEPARATED, fitted)
    return log_temperature


class TemperatureScaling(_BaseProbaPostprocessor):
    """Temperature scaling, with the NLL or the focal loss as objective.

    Temperature scaling (Guo et al., 2017) divides the logits ``z`` of a
    classifier by one temperature ``T > 0`` fitted on held-out data:
    ``softmax(z / T)``. It preserves the predicted class. These are the
    baselines of Charoenphakdee et al. (2021):

    - **TS_NLL** (``objective="nll"``): ``T`` minimizes the negative
      log-likelihood;
    - **TS_FL** (``objective="focal"``): ``T`` minimizes the focal loss of
      order ``gamma``. Its output approximates the focal risk minimizer, so
      following it with :class:`~sklearn_focal.FocalPosteriorRecovery` of the
      same order recovers the posterior: the pipeline of the paper's
      Sec. 6.1.

    Like :class:`~sklearn_focal.FocalPosteriorRecovery` it has two modes:

    - **transformer mode** (``estimator=None``): ``X`` holds probabilities
      (``input="proba"``, logits are ``log X``) or logits
      (``input="logits"``); ``fit(X, y)`` fits ``T`` on them and
      :meth:`transform` returns the scaled probabilities;
    - **meta-estimator mode**: wraps a classifier in the style of
      :class:`~sklearn.calibration.CalibratedClassifierCV`. ``T`` is fitted on
      cross-validated predictions (see ``cv``) and the estimator refitted on
      all the data, or, for a :class:`~sklearn.frozen.FrozenEstimator`, on
      the fit data directly. A FocalClassifier is read through its raw softmax
      output.

    Parameters
    ----------
    estimator : estimator instance or None, default=None
        Classifier with ``fit`` and ``predict_proba`` (or ``decision_function``
        for ``input="logits"``), fitted as clones in :meth:`fit`, or a fitted
        one wrapped in :class:`~sklearn.frozen.FrozenEstimator`. ``None``
        selects transformer mode.

    objective : {"nll", "focal"}, default="nll"
        Validation objective minimized by the temperature.

    gamma : float, "auto" or None, default=None
        Order of the focal loss of ``objective="focal"``, which requires it;
        it must be ``None`` with ``objective="nll"``. ``"auto"`` (meta mode)
        reads the order the estimator was trained with (its fitted
        ``gamma_`` first), as :class:`~sklearn_focal.FocalPosteriorRecovery`
        does. There is no ``alpha`` parameter, hence no ``alpha="auto"``:
        the focal objective is unweighted, and a wrapped model's class
        weights (``alpha_``, ``pos_weight_``) are not read. A
        ``FocalPosteriorRecovery(alpha="auto")`` wrapped around a
        TemperatureScaling finds no weights either (it reads the fitted
        ``alpha_`` of a focal model only): pass the training ``alpha``
        explicitly to it (see :ref:`user_guide_sigmoid`).

    cv : int, cross-validation generator, iterable or None, default=None
        Splitting strategy for the held-out predictions in meta-estimator
        mode with a non-frozen estimator. ``None`` gives stratified 5-fold
        cross-validation. The splits must partition the samples.

    input : {"proba", "logits"}, default="proba"
        What the scores are. ``"proba"``: probabilities, whose logarithms are
        used as logits (in meta mode, the estimator's probabilities).
        ``"logits"``: real-valued scores used as they are (in meta mode, the
        estimator's ``decision_function``; a binary 1-D score ``s`` becomes
        the logits ``(0, s)``).

    link : {"auto", "softmax", "sigmoid"}, default="auto"
        ``"softmax"``: ``softmax(z / T)`` over the classes. ``"sigmoid"``:
        per-label scores of a multi-label or detection model, each mapped by
        ``sigmoid(z / T)`` (probabilities are read as their logits
        ``log(p / (1 - p))``); ``y`` is a multi-label indicator matrix and
        the objective the mean per-label log-loss (or binary focal loss). In
        meta mode ``predict_proba`` may return (n, L) or a list of L (n, 2)
        arrays. ``"auto"`` is ``"sigmoid"`` when ``y`` is a multi-label
        indicator matrix, else ``"softmax"``.

    per_label : bool, default=False
        With ``link="sigmoid"``: one temperature per label
        (``temperature_`` of shape (n_labels,)) instead of a shared one.

    Attributes
    ----------
    temperature_ : float or ndarray of shape (n_labels,)
        The fitted temperature ``T``; ``T > 1`` flattens, ``T < 1`` sharpens.
        One per label with ``link="sigmoid"`` and ``per_label=True``.

    link_ : {"softmax", "sigmoid"}
        The link in use.

    gamma_ : float or None
        The focal order of the objective, ``None`` for ``objective="nll"``.

    estimator_ : estimator instance
        The fitted estimator. Meta-estimator mode only.

    classes_ : ndarray of shape (n_classes,)
        Class labels, from the estimator. Meta-estimator mode only.

    n_features_in_ : int
        Number of input features: the estimator's in meta-estimator mode, the
        number of classes in transformer mode.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the input features, when they are all strings.

    See Also
    --------
    sklearn_focal.FocalPosteriorRecovery : Exact posterior recovery for focal
        outputs, and a one-parameter calibration map with ``gamma="fit"``.
    sklearn.calibration.CalibratedClassifierCV : Its ``method="temperature"``
        is TS_NLL, parametrized by the inverse temperature ``1 / T``.

    Notes
    -----
    In transformer mode ``y`` holds the column index of each row's class,
    integers in ``[0, n_classes)``. Rows whose true class has probability 0
    (logit ``-inf``) add the same infinite loss at every temperature and are
    left out of the objective.

    The scaled softmax is computed in log space, with the row maximum taken
    off before dividing by ``T``, so any finite logits (up to ``1e308``) give
    finite probabilities.

    ``T`` is searched in ``[e^-10, e^10]``. When the calibration data cannot
    tell ``T = 1`` from a bound of that interval (the loss at both is within
    ``1e-6 * max(1, loss(T=1))`` nats per sample of the minimum, as when
    every calibration row is one-hot, or correct and nearly one-hot),
    ``temperature_`` is 1 and a
    :class:`~sklearn_focal.exceptions.FlatCalibrationWarning` is raised.
    When no calibration row ranks another class above its true class
    (separated data: the true class first, alone or tied; with
    ``link="sigmoid"``, every entry of a label on its label's side of 0 or
    at 0, leaving out the entries whose loss is infinite at every ``T``),
    the loss falls as ``T -> 0`` (towards 0, or towards the loss of a
    probability ``1 / k`` on a row whose true class ties with ``k - 1``
    others) and has no finite minimizer: a temperature with a real gain
    over ``T = 1`` is kept where the search stops (at or near ``e^-10``),
    with a FlatCalibrationWarning that says so, since such a map gives any
    test row it misclassifies a probability near 0 for its true class.

    ``sample_weight`` must be finite, non-negative and not all zero;
    otherwise a ``ValueError`` is raised before anything is fitted.

    References
    ----------
    .. [1] C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On Calibration of
       Modern Neural Networks", ICML 2017.
    .. [2] N. Charoenphakdee, J. Vongkulbhisal, N. Chairatanakul and
       M. Sugiyama, "On Focal Loss for Class-Posterior Probability Estimation:
       A Theoretical Perspective", CVPR 2021.

    Examples
    --------
    Transformer mode, on over-confident probabilities:

    >>> import numpy as np
    >>> from sklearn_focal import TemperatureScaling
    >>> proba = np.array([[0.98, 0.01, 0.01], [0.01, 0.98, 0.01],
    ...                   [0.98, 0.01, 0.01], [0.01, 0.01, 0.98]])
    >>> y = np.array([0, 1, 2, 2])  # the third row is wrong
    >>> ts = TemperatureScaling().fit(proba, y)
    >>> bool(ts.temperature_ > 1)
    True
    >>> ts.transform(proba).argmax(axis=1)
    array([0, 1, 0, 2])

    Meta-estimator mode, on a model fitted beforehand:

    >>> from sklearn.datasets import load_iris
    >>> from sklearn.frozen import FrozenEstimator
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LogisticRegression(max_iter=1000).fit(X[::2], y[::2])
    >>> ts = TemperatureScaling(FrozenEstimator(clf)).fit(X[1::2], y[1::2])
    >>> ts.predict_proba(X[:1]).shape
    (1, 3)
    """

    _parameter_constraints: dict = {
        "estimator": [
            HasMethods(["fit", "predict_proba"]),
            HasMethods(["fit", "decision_function"]),
            None,
        ],
        "objective": [StrOptions({"nll", "focal"})],
        "gamma": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"}), None],
        "cv": ["cv_object"],
        "input": [StrOptions({"proba", "logits"})],
        "link": [StrOptions({"auto", "softmax", "sigmoid"})],
        "per_label": ["boolean"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        objective="nll",
        gamma=None,
        cv=None,
        input="proba",
        link="auto",
        per_label=False,
    ):
        self.estimator = estimator
        self.objective = objective
        self.gamma = gamma
        self.cv = cv
        self.input = input
        self.link = link
        self.per_label = per_label

    @_fit_context(
        # TemperatureScaling.estimator is not validated yet
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y, sample_weight=None, **fit_params):
        """Fit the temperature (and, in meta mode, the estimator).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data in meta-estimator mode; probabilities or logits of
            shape (n_samples, n_classes) in transformer mode.

        y : array-like of shape (n_samples,)
            Target labels. In transformer mode, the column index of each
            row's class.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights of the calibration objective. In meta-estimator
            mode they are also passed to the estimator's ``fit`` when it
            accepts them (or, with metadata routing enabled, requests them).

        **fit_params : dict
            Meta-estimator mode: parameters passed to the estimator's ``fit``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if not isinstance(self.gamma, str | None):
            # The one gamma rule: sklearn's Interval(Real) lets a bool through.
            check_gamma(self.gamma)
        if self.objective == "focal" and self.gamma is None:
            raise ValueError(
                "TemperatureScaling(objective='focal') needs gamma, the order of "
                "the focal loss used as objective."
            )
        if self.objective == "nll" and self.gamma is not None:
            raise ValueError(
                f"gamma={self.gamma!r} is only used with objective='focal'; "
                "objective='nll' takes gamma=None."
            )
        if self.estimator is None and self.gamma == "auto":
            raise ValueError(
                "TemperatureScaling(gamma='auto') reads gamma from the wrapped "
                "model, but in transformer mode (estimator=None) there is none. "
                "Pass the focal-loss order, e.g. gamma=2.0."
            )
        if self.estimator is not None:
            method = "predict_proba" if self.input == "proba" else "decision_function"
            if not hasattr(self.estimator, method):
                raise ValueError(
                    f"TemperatureScaling(input={self.input!r}) reads the "
                    f"estimator's {method}, which "
                    f"{type(self.estimator).__name__} does not have."
                )
        return self._fit(X, y, sample_weight, fit_params)

    # ---- hooks ------------------------------------------------------------

    def _needs_calibration_data(self):
        return True

    def _missing_y_message(self):
        return (
            "TemperatureScaling requires y to be passed, but the target y is "
            "None: the temperature is fitted on labelled data."
        )

    def _check_transformer_input(self, X):
        if self.input == "proba":
            check_probability_rows(X, type(self).__name__)
        elif X.shape[1] < 2:
            raise ValueError(
                f"X has {X.shape[1]} feature(s), but TemperatureScaling needs "
                "one logit column per class, at least 2."
            )
        return X

    def _transformer_scores(self, X):
        if self.input == "logits":
            return np.asarray(X, dtype=np.float64)
        with np.errstate(divide="ignore"):
            return np.log(as_float64_proba(X, "X"))

    def _scores(self, estimator, X):
        if self.input == "logits":
            scores = np.asarray(estimator.decision_function(X), dtype=np.float64)
            if scores.ndim == 1 or scores.shape[1] == 1:
                scores = scores.reshape(-1, 1)
                scores = np.hstack([np.zeros_like(scores), scores])
            if not np.all(np.isfinite(scores)):
                raise ValueError("decision_function returned NaN or inf.")
            return scores
        proba = as_float64_proba(raw_proba(estimator, X), "predict_proba output")
        with np.errstate(divide="ignore"):
            return np.log(proba)

    def _resolve_gamma(self, estimator):
        """``gamma_``: None for the NLL objective, else the focal order."""
        if self.objective == "nll":
            return None
        if isinstance(self.gamma, str):  # "auto"
            return focal_gamma(estimator, f"{type(self).__name__}(gamma='auto')")
        return check_gamma(self.gamma)

    def _fit_map(self, logits, y, sample_weight, estimator):
        self.gamma_ = self._resolve_gamma(estimator)
        self.temperature_ = self._fit_temperature(logits, y, sample_weight)

    def _fit_temperature(self, logits, y, sample_weight):
        # A true-class logit of -inf (probability 0) stays -inf at every T.
        keep = np.isfinite(logits[np.arange(len(y)), y])
        if keep.all():  # a view: no copy of the scores
            keep = slice(None)
        logits, y, weight = _calibration_rows(logits, y, sample_weight, keep)
        log_temperature = _fit_log_temperature(
            logits,
            y,
            weight,
            self.gamma_,
            owner=f"TemperatureScaling(objective={self.objective!r})",
        )
        return float(np.exp(log_temperature))

    def _map(self, logits):
        return np.exp(_scaled_log_softmax(logits, self.temperature_))

    # ---- the sigmoid link -------------------------------------------------

    def _sigmoid_scores(self, estimator, X):
        if self.input == "logits":
            scores = np.asarray(estimator.decision_function(X), dtype=np.float64)
            if scores.ndim != 2:
                raise ValueError(
                    "decision_function must return (n_samples, n_labels) scores "
                    f"with link='sigmoid', got shape {scores.shape}."
                )
            if not np.all(np.isfinite(scores)):
                raise ValueError("decision_function returned NaN or inf.")
            return scores
        return _label_logits(_label_proba(estimator, X))

    def _sigmoid_transformer_scores(self, X):
        if self.input == "logits":
            return np.asarray(X, dtype=np.float64)
        return _label_logits(check_label_proba(X, "X"))

    def _fit_sigmoid_map(self, logits, Y, sample_weight, estimator):
        self.gamma_ = gamma = self._resolve_gamma(estimator)

        def objective(columns):
            def loss(log_temperature):
                z = logits[:, columns] / np.exp(log_temperature)
                log_p = -np.logaddexp(0.0, -z)
                log_not_p = -np.logaddexp(0.0, z)
                if not gamma:
                    positive, negative = -log_p, -log_not_p
                else:
                    positive = focal_terms(
                        None, gamma, log_q=log_p, log_complement=log_not_p
                    )
                    negative = focal_terms(
                        None, gamma, log_q=log_not_p, log_complement=log_p
                    )
                return _indicator_losses(
                    positive, negative, Y[:, columns], sample_weight
                )

            return loss

        def fit(columns):
            owner = f"TemperatureScaling(objective={self.objective!r}, link='sigmoid')"
            log_temperature = _minimize_on_interval(
                objective(columns),
                _LOG_TEMPERATURE_BOUNDS,
                identity=0.0,
                parameter="log T",
                owner=owner,
                identity_text="temperature_ = 1",
            )
            entries, labels = logits[:, columns], Y[:, columns]
            # The entries the loss keeps (_indicator_losses leaves out those
            # whose loss is infinite at every T).
            keep = _label_entries_kept(entries, labels)
            if log_temperature < 0.0 and _labels_separated(
                entries, labels, keep, sample_weight
            ):
                what = _ENTRIES_SEPARATED
                if self.per_label:
                    what = f"label {columns[0]}: {what}"
                _warn_unbounded(owner, log_temperature, what)
            return float(np.exp(log_temperature))

        if self.per_label:
            self.temperature_ = np.array([fit([j]) for j in range(logits.shape[1])])
        else:
            self.temperature_ = fit(slice(None))

    def _sigmoid_map(self, logits):
        return expit(logits / self.temperature_)

    # ---- transformer API --------------------------------------------------

    def transform(self, X):
        """Scale the logits by the fitted temperature.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Transformer mode: probabilities or logits of shape (n_samples,
            n_classes), per ``input``. Meta-estimator mode: samples, as
            accepted by the estimator; the result is :meth:`predict_proba`.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_classes)
            ``softmax(logits / temperature_)``; rows sum to 1. In transformer
            mode a dask array ``X`` (chunked along rows) gives a lazy float64
            dask array with the same row chunks; a bad row raises when
            computed, naming its global row.
        """
        if self.estimator is not None:
            return self.predict_proba(X)
        check_is_fitted(self)
        if is_dask_array(X):  # lazily, chunk by chunk, same row chunks
            return map_row_blocks(self._transform_rows, X, dtype=np.float64, name="X")
        return self._transform_rows(X)

    def _transform_rows(self, X):
        if self._link() == "sigmoid":
            X = _validate_rows(self, X, reset=False)
            return self._sigmoid_map(self._sigmoid_transformer_scores(X))
        return self._map(self._transformer_scores(self._transform_input(X)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.estimator is None and self.input == "logits":
            tags.input_tags.positive_only = False
        return tags
