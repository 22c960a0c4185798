"""Plumbing shared by the probability calibrators of sklearn_focal.

:class:`_BaseProbaPostprocessor` is the base of
:class:`~sklearn_focal.FocalPosteriorRecovery` and
:class:`~sklearn_focal.TemperatureScaling`: the two modes (transformer and
meta-estimator), cross-validated calibration data, metadata routing, and the
bounded one-parameter search with its flatness rule
(:func:`_minimize_on_interval`). Input validation lives in
:mod:`sklearn_focal.utils.validation`.
"""
# SPDX-License-Identifier: BSD-3-Clause

import os
import sys
import warnings
from inspect import signature

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    TransformerMixin,
    clone,
)
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import check_cv
from sklearn.utils import Bunch, get_tags, indexable
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    process_routing,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from sklearn_focal.calibration._unwrap import final_estimator, raw_proba
from sklearn_focal.exceptions import FlatCalibrationWarning, PosteriorRecoveryWarning
from sklearn_focal.utils._compat import (
    check_feature_names_in as _check_feature_names_in,
)
from sklearn_focal.utils._compat import check_method_params as _check_method_params
from sklearn_focal.utils._compat import routing_enabled as _routing_enabled
from sklearn_focal.utils._compat import safe_indexing as _safe_indexing
from sklearn_focal.utils._dask import is_dask_array
from sklearn_focal.utils.validation import (
    as_float64_proba,
    check_indicator,
    check_label_proba,
    check_probability_rows,
    check_sample_weight,
    is_multilabel_indicator,
)

__all__ = []


# --------------------------------------------------------------------------
# Helpers shared by the calibrators
# --------------------------------------------------------------------------


def _validate_rows(estimator, X, *, reset):
    """validate_data for transformer-mode rows, quiet on huge finite logits.

    scikit-learn's finiteness check first sums X, which overflows (with a
    RuntimeWarning) for logits near 1e308 before the exact check accepts them.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return validate_data(estimator, X, dtype=[np.float64, np.float32], reset=reset)


def _column_indices(y, n_classes):
    """Validate labels of transformer mode: column indices in [0, n_classes)."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got an array of shape {y.shape}.")
    if y.dtype.kind not in "iub" and not (
        y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y))
    ):
        raise ValueError(
            "Unknown label type: in transformer mode y must hold the column "
            "index of each row's "
            f"class, integers in [0, {n_classes}); got dtype {y.dtype}. Encode "
            "labels with np.searchsorted(clf.classes_, y)."
        )
    y = y.astype(np.intp)
    bad = (y < 0) | (y >= n_classes)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"y[{row}] = {y[row]} is not a column index of X, which has "
            f"{n_classes} columns; y must hold integers in [0, {n_classes})."
        )
    return y


_PACKAGE_DIRS = None


def _user_stacklevel():
    """``stacklevel`` for a ``warnings.warn`` in the calling function that
    points at the first frame outside sklearn_focal and scikit-learn: the
    user's ``fit`` call, however deep the calibrator's call chain is."""
    global _PACKAGE_DIRS
    if _PACKAGE_DIRS is None:
        import sklearn

        _PACKAGE_DIRS = tuple(
            os.path.dirname(os.path.abspath(path)) + os.sep
            for path in (os.path.dirname(os.path.abspath(__file__)), sklearn.__file__)
        )
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIRS):
        frame, level = frame.f_back, level + 1
    return level


# Two maps whose mean calibration losses differ by less than this, in nats
# per unit of weight (relative above 1 nat), cannot be told apart by the
# calibration data: 1e-6 nats per row is a total of 1e-3 nats over 1000 rows.
_FLAT_TOL = 1e-6


def _minimize_on_interval(
    objective,
    bounds,
    *,
    identity,
    parameter,
    owner,
    identity_text,
    n_grid=17,
    xatol=1e-7,
    identity_value=None,
    identity_hint="",
):
    """Global-then-local minimization of a 1-D calibration objective.

    A coarse grid finds the basin, bounded Brent refines it. Objectives here
    are smooth but not guaranteed unimodal over the whole interval.

    The objective is *flat* when the identity map (the parameter value
    ``identity``) and a bound of the interval other than ``identity`` are
    both within ``tol = _FLAT_TOL * max(1, |objective(identity)|)`` of the
    minimum found: the calibration data cannot tell the identity from the
    most extreme map of the search. This happens when every calibration row
    is one-hot (the objective is constant), or when every row is correct and
    nearly one-hot (the loss falls, by next to nothing, towards an infinitely
    sharp map). Then ``identity`` is returned with a
    :class:`~sklearn_focal.exceptions.FlatCalibrationWarning`: an extreme map
    fitted to such data would distort every row that is not one-hot.

    ``identity_value``: the objective of the identity map when it is *not* a
    point of the family (Psi with class weights ``alpha`` at gamma = 0
    reweights the odds). The identity is then a separate candidate: when it
    is flat-equivalent as above (either bound counts) or strictly below the
    minimum of the family, ``None`` is returned (the caller applies the
    identity), with a FlatCalibrationWarning in the flat case and a
    :class:`~sklearn_focal.exceptions.PosteriorRecoveryWarning` (ending with
    ``identity_hint``) when the raw output is better.
    """
    grid = np.linspace(bounds[0], bounds[1], n_grid)
    values = np.array([objective(x) for x in grid])
    if not np.any(np.isfinite(values)):
        raise ValueError(
            "The calibration objective is infinite over the whole search range: "
            "every calibration row gives probability 0 to its true class."
        )
    best = int(np.nanargmin(np.where(np.isfinite(values), values, np.nan)))
    lo = grid[max(best - 1, 0)]
    hi = grid[min(best + 1, n_grid - 1)]
    result = minimize_scalar(
        objective, bounds=(lo, hi), method="bounded", options={"xatol": xatol}
    )
    x, fx = float(result.x), float(result.fun)
    if not fx <= values[best]:
        x, fx = float(grid[best]), float(values[best])

    outside = identity_value is not None  # the identity is not in the family
    at_identity = identity_value if outside else objective(identity)
    tolerance = _FLAT_TOL * max(1.0, abs(at_identity))
    near = values <= fx + tolerance  # False where infinite
    reached = [
        bound
        for bound, is_near in ((bounds[0], near[0]), (bounds[1], near[-1]))
        if is_near and (outside or bound != identity)
    ]
    flat = at_identity <= fx + tolerance and bool(reached)
    if outside and at_identity < fx - tolerance:
        flat = False  # the raw output is better, not indistinguishable
    if not flat:
        if outside and at_identity < fx:  # the raw output beats the family
            warnings.warn(
                f"{owner}: every map of the family ({parameter} in "
                f"[{bounds[0]:g}, {bounds[1]:g}]) fits the calibration data "
                f"worse than the raw output: the best, {parameter} = {x:.4g}, "
                f"gives {fx:.6g} nats per sample against {at_identity:.6g} for "
                f"the raw output. The identity map is used ({identity_text})."
                f"{identity_hint}",
                PosteriorRecoveryWarning,
                stacklevel=_user_stacklevel(),
            )
            return None
        return x
    if near.all():
        why = (
            f"it varies by {np.ptp(values):.2g} nats at most over the whole "
            "search interval (as when every calibration row is one-hot)"
        )
    else:
        why = (
            f"it is within {tolerance:.0e} nats of its minimum both at the "
            f"identity map and at the bound {parameter} = {reached[0]:g} of the "
            "search interval, which the data cannot tell apart (as when every "
            "calibration row is correct and nearly one-hot)"
        )
    warnings.warn(
        f"{owner}: the calibration objective is flat: {why}. The calibration "
        f"data cannot fit the map, so the identity map is used ({identity_text}).",
        FlatCalibrationWarning,
        stacklevel=_user_stacklevel(),  # the user's fit call
    )
    return None if outside else float(identity)


class _NotUnimodal(Exception):
    """The slope search met what a unimodal objective cannot do."""


def _cubic_step(x1, f1, s1, x2, f2, s2):
    """Minimizer of the cubic through two points with their slopes (or nan).

    Nocedal and Wright (2006), eq. (3.59); the secant of the slopes where the
    cubic has no minimizer.
    """
    d1 = s1 + s2 - 3.0 * (f1 - f2) / (x1 - x2)
    radicand = d1 * d1 - s1 * s2
    if radicand >= 0:
        d2 = np.copysign(np.sqrt(radicand), x2 - x1)
        denominator = s2 - s1 + 2.0 * d2
        if denominator != 0:
            return x2 - (x2 - x1) * (s2 + d2 - d1) / denominator
    if s2 != s1:
        return x2 - s2 * (x2 - x1) / (s2 - s1)
    return np.nan


def _minimize_with_slope(
    value_and_slope,
    bounds,
    *,
    identity,
    fallback,
    n_grid=17,
    xatol=1e-7,
    max_evaluations=60,
):
    """:func:`_minimize_on_interval` for an objective with its slope.

    ``value_and_slope(x)`` returns the objective and its derivative;
    ``identity`` is a point of the family inside ``bounds``. The search
    looks at both sides of the identity, the side the slope at the identity
    falls towards first. On each side it walks outward on the grid of
    :func:`_minimize_on_interval` (steps of its spacing) while the slope
    falls outward (away from the identity), then shrinks the bracket where
    the slope changes sign by cubic interpolation of values and slopes
    (bisection when it stalls) until a step is below ``xatol / 2``, or stops
    at the bound the objective falls towards. The side the slope at the
    identity rises into is abandoned after one point when that point is
    above the identity's value and its slope falls back towards the
    identity; otherwise it is walked too (past the maximum between). The
    lower of the two sides' minima is returned (the one nearer the identity
    on a tie).

    What the search can miss: a basin behind a rise of the objective on a
    side. A walk stops at the first grid point where the slope falls back
    towards the identity, and the abandoned side is judged by its first grid
    point, so a deeper minimum farther out, behind a maximum that no grid
    point of the walk passes, is not seen, nor is one of an abandoned side,
    between the identity and that side's first point or beyond it (the grid
    search finds such a minimum only when one of its grid points there is
    the lowest of the grid).

    ``fallback()`` (the grid search itself) decides instead whenever the
    objective does not behave as one with a minimum per side (a value or
    slope not finite, zero slope at the identity, a value rising between two
    points whose slopes both fall outward, a side that falls below the
    identity's value while its slope points back) and when the flatness rule
    of :func:`_minimize_on_interval` may apply (the identity within its
    tolerance of the minimum and a bound too), so that its warnings and
    errors are unchanged.
    """
    lo, hi = bounds
    values = {}
    count = 0
    spacing = (hi - lo) / (n_grid - 1)

    def evaluate(x):
        nonlocal count
        count += 1
        if count > max_evaluations:
            raise _NotUnimodal
        f, s = value_and_slope(x)
        f, s = float(f), float(s)
        values[x] = f
        if not (np.isfinite(f) and np.isfinite(s)):
            raise _NotUnimodal
        return f, s

    def side_minimum(direction, f0, s0):
        """``(x, f)`` of the side's minimum, or None when it is abandoned."""
        end = hi if direction > 0 else lo
        if end == identity:
            return None
        a, f_a, s_a = identity, f0, s0
        while True:
            b = min(max(a + direction * spacing, lo), hi)
            f_b, s_b = evaluate(b)
            outward_a = direction * s_a < 0  # falls away from the identity
            if direction * s_b < 0:  # still falls outward at b
                if f_b > f_a and outward_a:  # rose, yet falling at both ends
                    raise _NotUnimodal
                if b == end:
                    return b, f_b
                a, f_a, s_a = b, f_b, s_b
                continue
            if outward_a:  # the slope changes sign between a and b
                if s_b == 0:
                    return b, f_b
                return _refine_bracket((a, f_a, s_a), (b, f_b, s_b), evaluate, xatol)
            # The identity's slope rises into this side and b's points back.
            if f_b > f_a:
                return None
            raise _NotUnimodal  # fell below the identity, yet points back

    try:
        f0, s0 = evaluate(identity)
        if s0 == 0:
            raise _NotUnimodal
        first = -1.0 if s0 > 0 else 1.0
        found = [side_minimum(direction, f0, s0) for direction in (first, -first)]
        found = [point for point in found if point is not None]
        if not found:
            raise _NotUnimodal
        x, fx = min(found, key=lambda point: (point[1], abs(point[0] - identity)))
        tolerance = _FLAT_TOL * max(1.0, abs(f0))
        if f0 <= fx + tolerance:
            # Maybe flat: the grid search's rule needs the values at the bounds.
            for bound in bounds:
                if bound == identity:
                    continue
                if bound not in values:
                    values[bound] = float(value_and_slope(bound)[0])
                if values[bound] <= fx + tolerance:
                    raise _NotUnimodal
        return float(x)
    except _NotUnimodal:
        return fallback()


def _refine_bracket(start, latest, evaluate, xatol):
    """The minimum between two points whose slopes have opposite signs.

    ``start`` and ``latest`` are ``(x, f, s)``, the slope falling towards
    the other point at both; ``latest`` was evaluated last. Each step is the
    minimizer of the cubic through the two latest points when it falls inside
    the bracket, else of the cubic through the bracket's ends; bisection when
    the step is not below half the step before last. Returns ``(x, f)`` of the
    last point evaluated once the next step would be below ``xatol / 2``, or
    the next point itself (not evaluated; ``f`` of the last) once its error,
    as the superlinear convergence of three two-point steps in a row
    predicts it, is below ``xatol``: with steps ``d0, d1`` taken and ``d2``
    proposed, ``d(k+1) ~ C d(k) d(k-1)`` gives ``d3 ~ d2^2 / d0``.
    """
    left, right = (start, latest) if start[0] < latest[0] else (latest, start)
    previous = start
    steps = []  # (size, two_point) of the steps taken
    while True:
        x = _cubic_step(*previous, *latest)
        two_point = left[0] < x < right[0]
        if not two_point:
            x = _cubic_step(*left, *right)
        step = abs(x - latest[0])
        if not left[0] < x < right[0] or (len(steps) > 1 and step > 0.5 * steps[-2][0]):
            two_point = False
            x = 0.5 * (left[0] + right[0])
            step = abs(x - latest[0])
        if step <= 0.5 * xatol or right[0] - left[0] <= xatol:
            return latest[0], latest[1]
        if (
            two_point
            and len(steps) >= 2
            and steps[-1][1]
            and steps[-2][1]
            and step * step <= xatol * steps[-2][0]
        ):
            return x, latest[1]
        steps.append((step, two_point))
        f, s = evaluate(x)
        previous, latest = latest, (x, f, s)
        if s == 0:
            return x, f
        if s < 0:
            left = latest
        else:
            right = latest


def _n_dims(y):
    return len(y.shape) if hasattr(y, "shape") else np.ndim(y)


def _safe_len(y):
    return int(y.shape[0]) if hasattr(y, "shape") else len(y)


def _calibration_rows(scores, y, sample_weight, keep):
    """The calibration rows that can inform the map: ``keep`` and weight > 0.

    ``keep`` is a boolean mask or ``slice(None)`` (every row). Rows of weight 0
    are left out as well: they cannot move the fit, and a weighted mean
    would turn their loss of ``inf`` at some maps into ``0 * inf = nan``.
    Nothing is copied when every row is kept.
    """
    if sample_weight is not None and not np.all(sample_weight > 0):
        positive = sample_weight > 0
        keep = positive if isinstance(keep, slice) else keep & positive
    if not isinstance(keep, slice) and not keep.all():
        scores, y = scores[keep], y[keep]
        sample_weight = None if sample_weight is None else sample_weight[keep]
    weight = sample_weight
    if y.shape[0] == 0 or (weight is not None and not weight.sum() > 0):
        raise ValueError(
            "Every calibration row (with a positive sample_weight) gives its "
            "true class probability 0, a loss that no map can change; the "
            "map cannot be fitted."
        )
    return scores, y, weight


def _label_proba(estimator, X):
    """Per-label probabilities (n, L) of a fitted multi-label estimator.

    A multi-label FocalClassifier's raw sigmoid outputs (through
    :func:`raw_proba`), a ``predict_proba`` of shape (n, L), or scikit-learn's
    list of L arrays of shape (n, 2) (the probability of 1 is kept).
    """
    return check_label_proba(raw_proba(estimator, X), "predict_proba output")


def _indicator_losses(losses_positive, losses_negative, Y, weight):
    """Mean over the finite entries of per-label losses, rows weighted.

    ``losses_positive`` / ``losses_negative``: the loss of each entry if its
    label is 1 / 0. Entries whose loss is infinite (probability 0 given to
    the observed value) are the same at every parameter of a map family and
    are left out.
    """
    losses = np.where(Y == 1, losses_positive, losses_negative)
    finite = np.isfinite(losses)
    losses = np.where(finite, losses, 0.0)
    row_weight = np.ones(Y.shape[0]) if weight is None else weight
    total = float(row_weight @ losses.sum(axis=1))
    count = float(row_weight @ finite.sum(axis=1))
    return total / count if count > 0 else np.inf


class _BaseProbaPostprocessor(
    ClassifierMixin, TransformerMixin, MetaEstimatorMixin, BaseEstimator
):
    """Shared two-mode machinery: transformer on probabilities, or meta-estimator.

    Subclasses define how scores are read from the estimator (``_scores``),
    how transformer input is validated (``_check_transformer_input``), whether
    fitting needs labelled calibration data (``_needs_calibration_data``), how
    the map is fitted (``_fit_map``) and applied (``_map``).
    """

    # ---- hooks ------------------------------------------------------------

    def _needs_calibration_data(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _scores(self, estimator, X):
        return as_float64_proba(raw_proba(estimator, X), "predict_proba output")

    def _check_transformer_input(self, X):
        check_probability_rows(X, type(self).__name__)
        return X

    def _fit_map(self, scores, y, sample_weight, estimator):  # pragma: no cover
        raise NotImplementedError

    def _map(self, scores):  # pragma: no cover - abstract
        raise NotImplementedError

    # ---- fit --------------------------------------------------------------

    def _fit(self, X, y, sample_weight, fit_params):
        if any(is_dask_array(a) for a in (X, y, sample_weight)):
            raise TypeError(
                f"{type(self).__name__}.fit does not take dask arrays: its "
                "one-parameter objective is fitted in memory. Fit on a sample "
                "that fits in memory (e.g. X[:100_000].compute() with its "
                "labels), then call transform on the dask array, which runs "
                "chunk by chunk."
            )
        self.link_ = self._resolve_link(y)
        if self.link_ == "sigmoid":
            if self.estimator is None:
                return self._fit_sigmoid_transformer(X, y, sample_weight, fit_params)
            return self._fit_sigmoid_meta(X, y, sample_weight, fit_params)
        if self.estimator is None:
            return self._fit_transformer(X, y, sample_weight, fit_params)
        return self._fit_meta(X, y, sample_weight, fit_params)

    # ---- the sigmoid link: per-label probabilities ------------------------

    def _resolve_link(self, y):
        """'softmax' or 'sigmoid': ``link``, or for 'auto' the kind of ``y``.

        'auto' is 'sigmoid' when ``y`` is a multi-label indicator matrix (the
        labels a multi-label estimator is fitted on), else 'softmax'.
        """
        link = getattr(self, "link", "softmax")
        if link == "auto":
            return "sigmoid" if is_multilabel_indicator(y) else "softmax"
        if link == "sigmoid" and y is not None and _n_dims(y) != 2:
            raise ValueError(
                f"{type(self).__name__}(link='sigmoid') takes a multi-label "
                "indicator y of shape (n_samples, n_labels), got y with "
                f"{_n_dims(y)} dimension(s)."
            )
        return link

    def _sigmoid_scores(self, estimator, X):  # pragma: no cover - abstract
        raise NotImplementedError

    def _sigmoid_transformer_scores(self, X):  # pragma: no cover - abstract
        raise NotImplementedError

    def _fit_sigmoid_map(self, scores, Y, sample_weight, estimator):  # pragma: no cover
        raise NotImplementedError

    def _sigmoid_map(self, scores):  # pragma: no cover - abstract
        raise NotImplementedError

    def _fit_sigmoid_transformer(self, X, y, sample_weight, fit_params):
        if fit_params:
            raise TypeError(
                f"{type(self).__name__} in transformer mode (estimator=None) "
                f"takes no fit parameters, got {sorted(fit_params)}."
            )
        needs_y = self._needs_calibration_data()
        if y is None and needs_y:
            raise ValueError(self._missing_y_message())
        X = _validate_rows(self, X, reset=True)
        scores = self._sigmoid_transformer_scores(X)
        Y = None if y is None else check_indicator(y, X.shape[0], X.shape[1])
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X.shape[0])
        self._fit_sigmoid_map(scores if needs_y else None, Y, sample_weight, None)
        return self

    def _fit_sigmoid_meta(self, X, y, sample_weight, fit_params):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} with an estimator requires y to be "
                "passed, but the target y is None."
            )
        X, y = indexable(X, y)
        Y = check_indicator(y, np.shape(y)[0])
        weight = None
        if sample_weight is not None:  # rejected before anything is fitted
            weight = check_sample_weight(sample_weight, Y.shape[0])
        estimator = self.estimator
        frozen = isinstance(estimator, FrozenEstimator)
        routed = self._route_fit_params(estimator, sample_weight, fit_params, frozen)
        needs_calibration = self._needs_calibration_data()
        scores = None
        if frozen:
            self.estimator_ = estimator
        else:
            if needs_calibration:
                scores = self._sigmoid_cross_val_scores(X, y, routed)
            self.estimator_ = clone(estimator).fit(X, y, **routed.estimator.fit)
        self.classes_ = np.arange(Y.shape[1])
        self._y_dtype = np.asarray(
            y[:1].toarray() if hasattr(y, "toarray") else y
        ).dtype
        for attr in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.estimator_, attr):
                setattr(self, attr, getattr(self.estimator_, attr))
        if needs_calibration and frozen:
            scores = self._sigmoid_scores(self.estimator_, X)
        if scores is not None and scores.shape[1] != Y.shape[1]:
            raise ValueError(
                f"The estimator gives {scores.shape[1]} label scores but y has "
                f"{Y.shape[1]} labels."
            )
        self._fit_sigmoid_map(
            scores, Y if needs_calibration else None, weight, self.estimator_
        )
        return self

    def _sigmoid_cross_val_scores(self, X, y, routed):
        """Held-out per-label scores of clones of the estimator (plain K-fold:
        scikit-learn does not stratify multi-label y)."""
        Y = check_indicator(y, _safe_len(y))

        def check_fold(model, train):
            fold = Y[train]
            constant = np.flatnonzero(fold.min(axis=0) == fold.max(axis=0))
            if constant.size:
                raise ValueError(
                    f"Labels {constant.tolist()} take a single value in a "
                    f"training fold of cv={self.cv!r}; every label needs both "
                    "0 and 1 in every training fold. Use fewer folds."
                )

        return self._cv_predictions(X, y, routed, self._sigmoid_scores, check_fold)

    def _link(self):
        return getattr(self, "link_", "softmax")

    def _fit_transformer(self, X, y, sample_weight, fit_params):
        if fit_params:
            raise TypeError(
                f"{type(self).__name__} in transformer mode (estimator=None) "
                f"takes no fit parameters, got {sorted(fit_params)}."
            )
        needs_y = self._needs_calibration_data()
        if y is None and needs_y:
            raise ValueError(self._missing_y_message())
        X = _validate_rows(self, X, reset=True)
        X = self._check_transformer_input(X)
        if y is None:
            y_idx = None
        else:
            y_idx = _column_indices(y, X.shape[1])
            if y_idx.shape[0] != X.shape[0]:
                raise ValueError(
                    f"X has {X.shape[0]} rows but y has {y_idx.shape[0]} entries."
                )
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X.shape[0])
        scores = self._transformer_scores(X) if needs_y else None
        self._fit_map(scores, y_idx, sample_weight, None)
        return self

    def _transformer_scores(self, X):
        return as_float64_proba(X, "X")

    def _missing_y_message(self):  # pragma: no cover - overridden
        return f"{type(self).__name__}.fit needs y in this configuration."

    def _fit_meta(self, X, y, sample_weight, fit_params):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} with an estimator requires y to be "
                "passed, but the target y is None."
            )
        X, y = indexable(X, y)
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        weight = None
        if sample_weight is not None:  # rejected before anything is fitted
            weight = check_sample_weight(sample_weight, y.shape[0])
        estimator = self.estimator
        frozen = isinstance(estimator, FrozenEstimator)
        routed = self._route_fit_params(estimator, sample_weight, fit_params, frozen)
        sample_weight = weight

        classes = np.unique(y)
        needs_calibration = self._needs_calibration_data()
        if frozen:
            self.estimator_ = estimator
        else:
            calibration_scores = (
                self._cross_val_scores(X, y, classes, routed)
                if needs_calibration
                else None
            )
            self.estimator_ = clone(estimator).fit(X, y, **routed.estimator.fit)

        fitted_classes = getattr(self.estimator_, "classes_", None)
        if fitted_classes is None:
            name = type(final_estimator(self.estimator_)).__name__
            raise ValueError(
                f"The estimator {name} has no classes_ after fitting; a "
                "classifier is required."
            )
        self.classes_ = np.asarray(fitted_classes)
        for attr in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.estimator_, attr):
                setattr(self, attr, getattr(self.estimator_, attr))

        if needs_calibration:
            y_idx = self._encode(y)
            if frozen:
                calibration_scores = self._scores(self.estimator_, X)
            self._fit_map(calibration_scores, y_idx, sample_weight, self.estimator_)
        else:
            self._fit_map(None, None, None, self.estimator_)
        return self

    def _encode(self, y):
        y = np.asarray(y)
        index = np.searchsorted(self.classes_, y)
        index = np.clip(index, 0, len(self.classes_) - 1)
        unknown = self.classes_[index] != y
        if np.any(unknown):
            row = int(np.flatnonzero(unknown)[0])
            raise ValueError(
                f"y[{row}] = {y[row]!r} is not one of the estimator's classes "
                f"{self.classes_.tolist()}; a FrozenEstimator must have been "
                "fitted on the same classes as the calibration data."
            )
        return index

    def _route_fit_params(self, estimator, sample_weight, fit_params, frozen):
        if _routing_enabled():
            return process_routing(
                self, "fit", sample_weight=sample_weight, **fit_params
            )
        fit_kwargs = dict(fit_params)
        if sample_weight is not None and not frozen:
            parameters = signature(estimator.fit).parameters
            if "sample_weight" in parameters:
                fit_kwargs["sample_weight"] = sample_weight
            else:
                used = (
                    "the calibration only"
                    if self._needs_calibration_data()
                    else "nothing: they are ignored"
                )
                warnings.warn(
                    f"{type(estimator).__name__}.fit does not accept "
                    f"sample_weight, so sample weights are used for {used}.",
                    UserWarning,
                    stacklevel=3,
                )
        return Bunch(estimator=Bunch(fit=fit_kwargs), splitter=Bunch(split={}))

    def _cross_val_scores(self, X, y, classes, routed):
        """Held-out scores of clones of the estimator, one per CV fold."""

        def check_fold(model, train):
            fold_classes = np.asarray(getattr(model, "classes_", classes))
            if fold_classes.shape != classes.shape or np.any(fold_classes != classes):
                missing = sorted(set(classes.tolist()) - set(fold_classes.tolist()))
                raise ValueError(
                    f"Classes {missing} are missing from a training fold of cv="
                    f"{self.cv!r}; every class needs samples in every training "
                    "fold. Use fewer folds or a stratified splitter."
                )

        return self._cv_predictions(X, y, routed, self._scores, check_fold)

    def _cv_predictions(self, X, y, routed, scores_of, check_fold):
        """The one cross-validation loop: ``scores_of(model, X_test)`` of a
        clone fitted on each training fold, after ``check_fold(model, train)``
        (a class, or a label's value, missing from the fold raises)."""
        cv = check_cv(self.cv, y, classifier=True)
        n_samples = _safe_len(y)
        scores = None
        seen = np.zeros(n_samples, dtype=np.intp)
        for train, test in cv.split(X, y, **routed.splitter.split):
            fold_params = _check_method_params(
                X, params=routed.estimator.fit, indices=train
            )
            model = clone(self.estimator).fit(
                _safe_indexing(X, train), _safe_indexing(y, train), **fold_params
            )
            check_fold(model, train)
            fold_scores = scores_of(model, _safe_indexing(X, test))
            if scores is None:
                scores = np.empty((n_samples, fold_scores.shape[1]))
            scores[test] = fold_scores
            seen[test] += 1
        if np.any(seen != 1):
            raise ValueError(
                f"cv={self.cv!r} must partition the samples: every sample must be "
                "in exactly one test fold."
            )
        return scores

    # ---- inference --------------------------------------------------------

    def _has_estimator(self):
        if self.estimator is None:
            raise AttributeError(
                f"{type(self).__name__} is in transformer mode (estimator=None); "
                "use transform on probabilities instead."
            )
        return True

    def _transform_input(self, X):
        """Scores from transformer-mode input, checked against the fit."""
        X = _validate_rows(self, X, reset=False)
        return self._check_transformer_input(X)

    @available_if(_has_estimator)
    def predict_proba(self, X):
        """Calibrated class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples, as accepted by the estimator's ``predict_proba``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The mapped probabilities; columns follow ``classes_``.
        """
        check_is_fitted(self)
        if self._link() == "sigmoid":
            return self._sigmoid_map(self._sigmoid_scores(self.estimator_, X))
        return self._map(self._scores(self.estimator_, X))

    @available_if(_has_estimator)
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples, as accepted by the estimator's ``predict_proba``.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities; columns follow ``classes_``.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    @available_if(_has_estimator)
    def predict(self, X):
        """Predict class labels: the estimator's own predictions.

        The maps are strictly increasing in each probability, so the most
        probable class never changes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples, as accepted by the estimator's ``predict``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels.
        """
        check_is_fitted(self)
        if self._link() == "sigmoid":
            # Each label's decision from its mapped probability.
            return (self.predict_proba(X) > 0.5).astype(self._y_dtype)
        return self.estimator_.predict(X)

    @available_if(_has_estimator)
    def score(self, X, y, sample_weight=None):
        """Mean accuracy of :meth:`predict` on the given data and labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Test samples.

        y : array-like of shape (n_samples,)
            True labels for ``X``.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights: finite, non-negative and not all zero.

        Returns
        -------
        score : float
            Mean accuracy of ``self.predict(X)`` with respect to ``y``.
        """
        if sample_weight is not None:
            n_samples = _safe_len(y) if self._link() == "sigmoid" else None
            if n_samples is None:
                n_samples = len(column_or_1d(y))
            sample_weight = check_sample_weight(sample_weight, n_samples)
        return super().score(X, y, sample_weight=sample_weight)

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Transformer mode only: the input column names, which the output
            keeps (column ``k`` stays class ``k``). Defaults to
            ``feature_names_in_``, else ``x0, ..., x{K-1}``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            Transformer mode: the input names. Meta-estimator mode: one
            ``proba_<class>`` name per class of ``classes_``.
        """
        check_is_fitted(self)
        if self.estimator is None:
            return _check_feature_names_in(self, input_features)
        return np.asarray([f"proba_{c}" for c in self.classes_], dtype=object)

    # ---- routing and tags -------------------------------------------------

    def get_metadata_routing(self):
        """Get metadata routing of this object.

        ``sample_weight`` is consumed by the calibration and, when requested,
        routed to the inner estimator's ``fit``; CV splitter metadata such as
        ``groups`` is routed to ``split``.

        Returns
        -------
        routing : MetadataRouter
            A :class:`~sklearn.utils.metadata_routing.MetadataRouter`
            encapsulating routing information.
        """
        router = MetadataRouter(owner=self).add_self_request(self)
        if self.estimator is not None:
            router.add(
                estimator=self.estimator,
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
            router.add(
                splitter=check_cv(self.cv, classifier=True),
                method_mapping=MethodMapping().add(caller="fit", callee="split"),
            )
        return router

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.estimator is None:
            tags.estimator_type = None
            tags.classifier_tags = None
            tags.target_tags.required = self._needs_calibration_data()
            tags.input_tags.positive_only = True
        else:
            inner = get_tags(self.estimator)
            tags.input_tags.sparse = inner.input_tags.sparse
            tags.input_tags.allow_nan = inner.input_tags.allow_nan
            tags.input_tags.categorical = inner.input_tags.categorical
            tags.input_tags.string = inner.input_tags.string
            tags.input_tags.pairwise = inner.input_tags.pairwise
        return tags
