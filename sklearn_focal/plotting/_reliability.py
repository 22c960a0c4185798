"""Reliability diagrams with Clopper-Pearson intervals."""
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import beta
from sklearn.utils.validation import check_is_fitted

from sklearn_focal.calibration._unwrap import raw_proba
from sklearn_focal.metrics import binned_calibration, expected_calibration_error
from sklearn_focal.plotting._common import _HIST_AXES, _check_matplotlib, _get_ax
from sklearn_focal.utils.validation import (
    check_indicator,
    check_integer,
    check_label_proba,
    check_sample_weight,
    is_multilabel_indicator,
)


def _clopper_pearson(successes, trials, confidence_level):
    """Clopper-Pearson interval; real-valued counts use the beta quantiles too."""
    alpha = 1.0 - confidence_level
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.minimum(successes, trials)
        low = np.where(
            k > 0,
            beta.ppf(alpha / 2, np.maximum(k, 1e-300), trials - k + 1),
            0.0,
        )
        high = np.where(
            k < trials,
            beta.ppf(1 - alpha / 2, k + 1, np.maximum(trials - k, 1e-300)),
            1.0,
        )
    empty = trials <= 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


# --------------------------------------------------------------------------
# Reliability diagram
# --------------------------------------------------------------------------


class ReliabilityDisplay:
    """Reliability diagram for binary or multiclass probabilistic predictions.

    Plots the observed frequency against the mean predicted score of each
    non-empty bin, with a histogram of the scores and optional Clopper-Pearson
    bands. Unlike :class:`sklearn.calibration.CalibrationDisplay` it handles
    any number of classes, as top-label or class-wise curves.

    Use :meth:`from_estimator` or :meth:`from_predictions` to create one.

    Parameters
    ----------
    mean_confidence : ndarray of shape (n_curves, n_bins)
        Mean predicted score per bin (NaN for an empty bin).
    accuracy : ndarray of shape (n_curves, n_bins)
        Observed frequency per bin: accuracy (top-label) or fraction of
        positives (binary, class-wise).
    bin_weight : ndarray of shape (n_curves, n_bins)
        Total sample weight per bin; empty bins (0) are not drawn.
    bin_edges : ndarray of shape (n_curves, n_bins + 1)
        Bin edges.
    ece : float
        Expected calibration error shown in the legend.
    kind : {"top_label", "classwise", "binary"}, default="top_label"
        What the curves are.
    scores : ndarray of shape (n_samples, n_curves), default=None
        The binned scores, for the histogram.
    sample_weight : ndarray of shape (n_samples,), default=None
        Weights of the scores in the histogram.
    ci_low, ci_high : ndarray of shape (n_curves, n_bins), default=None
        Clopper-Pearson band of the frequency in each bin.
    classes : ndarray of shape (n_classes,), default=None
        Class labels, to name the class-wise curves.
    estimator_name : str, default=None
        Name shown in the legend.

    Attributes
    ----------
    line_ : matplotlib Line2D or list of Line2D
        The reliability curve (a list, one per class, when class-wise).
    hist_ : matplotlib BarContainer
        The histogram bars (weighted counts per bin), or None.
    hist_ax_ : matplotlib Axes
        The twin axes holding the histogram, or None.
    band_ : list of matplotlib PolyCollection
        The bands, empty unless ``bands=True``.
    ax_ : matplotlib Axes
        Axes with the reliability diagram.
    figure_ : matplotlib Figure
        Figure containing the diagram.

    See Also
    --------
    sklearn_focal.metrics.binned_calibration : The per-bin statistics.
    sklearn_focal.metrics.expected_calibration_error : The ECE in the legend.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_focal.plotting import ReliabilityDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LogisticRegression(max_iter=1000).fit(X, y)
    >>> disp = ReliabilityDisplay.from_estimator(clf, X, y, n_bins=5, bands=True)
    >>> disp.ax_.get_ylabel()
    'accuracy'
    """

    def __init__(
        self,
        *,
        mean_confidence,
        accuracy,
        bin_weight,
        bin_edges,
        ece,
        kind="top_label",
        scores=None,
        sample_weight=None,
        ci_low=None,
        ci_high=None,
        classes=None,
        estimator_name=None,
    ):
        self.mean_confidence = mean_confidence
        self.accuracy = accuracy
        self.bin_weight = bin_weight
        self.bin_edges = bin_edges
        self.ece = ece
        self.kind = kind
        self.scores = scores
        self.sample_weight = sample_weight
        self.ci_low = ci_low
        self.ci_high = ci_high
        self.classes = classes
        self.estimator_name = estimator_name

    def plot(
        self,
        ax=None,
        *,
        name: str | None = None,
        ref_line: bool = True,
        histogram: bool = True,
        bands: bool = False,
        **kwargs,
    ):
        """Draw the reliability diagram.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None. Pass ``disp.ax_`` of an
            earlier display to overlay.
        name : str, default=None
            Legend name; defaults to ``estimator_name``.
        ref_line : bool, default=True
            Draw the diagonal of perfect calibration (once per axes).
        histogram : bool, default=True
            Draw the histogram of the scores on a twin axis at the bottom.
        bands : bool, default=False
            Draw the Clopper-Pearson bands.
        **kwargs : dict
            Keyword arguments passed to :func:`matplotlib.pyplot.plot`.

        Returns
        -------
        display : ReliabilityDisplay
            Object that stores computed values.
        """
        ax = _get_ax(ax)
        name = self.estimator_name if name is None else name
        mean_confidence = np.atleast_2d(self.mean_confidence)
        accuracy = np.atleast_2d(self.accuracy)
        bin_weight = np.atleast_2d(self.bin_weight)
        n_curves = mean_confidence.shape[0]

        if ref_line:
            labels = [line.get_label() for line in ax.get_lines()]
            if "perfectly calibrated" not in labels:
                ax.plot([0, 1], [0, 1], "k:", label="perfectly calibrated")

        lines, band = [], []
        for c in range(n_curves):
            occupied = bin_weight[c] > 0
            x, y = mean_confidence[c][occupied], accuracy[c][occupied]
            mass = bin_weight[c][occupied] / bin_weight[c].sum()
            if self.kind == "classwise":
                curve_ece = float(np.sum(mass * np.abs(y - x)))
                cls = c if self.classes is None else self.classes[c]
                prefix = f"{name}, " if name else ""
                label = f"{prefix}class {cls} (ECE = {curve_ece:.3f})"
            else:
                prefix = f"{name} " if name else ""
                label = f"{prefix}(ECE = {self.ece:.3f})"
            line_kwargs = {"marker": "s", "label": label, **kwargs}
            (line,) = ax.plot(x, y, **line_kwargs)
            lines.append(line)
            if bands and self.ci_low is not None:
                low = np.atleast_2d(self.ci_low)[c][occupied]
                high = np.atleast_2d(self.ci_high)[c][occupied]
                band.append(
                    ax.fill_between(
                        x, low, high, color=line.get_color(), alpha=0.2, linewidth=0
                    )
                )
        self.line_ = lines if self.kind == "classwise" else lines[0]
        self.band_ = band

        self.hist_, self.hist_ax_ = None, None
        if histogram and self.scores is not None:
            self._plot_histogram(ax, lines[0].get_color())

        if self.kind == "top_label":
            xlabel, ylabel = "confidence", "accuracy"
        else:
            xlabel, ylabel = "mean predicted probability", "fraction of positives"
        ax.set(xlim=(-0.01, 1.01), ylim=(-0.01, 1.01), xlabel=xlabel, ylabel=ylabel)
        ax.legend(loc="upper left")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    def _plot_histogram(self, ax, color):
        hist_ax = _HIST_AXES.get(ax)
        if hist_ax is None:
            hist_ax = ax.twinx()
            _HIST_AXES[ax] = hist_ax
            ax.set_zorder(hist_ax.get_zorder() + 1)
            ax.patch.set_visible(False)
            hist_ax.set_ylabel("count")
        scores = np.asarray(self.scores).reshape(len(self.scores), -1)
        weight = self.sample_weight
        weight = np.ones(scores.shape[0]) if weight is None else np.asarray(weight)
        weights = np.broadcast_to(weight[:, None], scores.shape).ravel()
        edges = np.atleast_2d(self.bin_edges)[0]
        if np.ptp(edges) == 0:
            edges = np.linspace(0, 1, len(edges))
        heights, _ = np.histogram(scores.ravel(), bins=edges, weights=weights)
        bars = hist_ax.bar(
            edges[:-1],
            heights,
            width=np.diff(edges),
            align="edge",
            color=color,
            alpha=0.25,
        )
        top = max(hist_ax.get_ylim()[1] / 4, float(np.max(heights)))
        hist_ax.set_ylim(0, 4 * top)  # the bars fill the bottom quarter
        self.hist_ = bars
        self.hist_ax_ = hist_ax

    @classmethod
    def from_predictions(
        cls,
        y_true: ArrayLike,
        y_prob: ArrayLike,
        *,
        n_bins: int | str = 10,
        strategy: str = "uniform",
        kind: str = "top_label",
        labels: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
        confidence_level: float = 0.95,
        name: str | None = None,
        ax=None,
        ref_line: bool = True,
        histogram: bool = True,
        bands: bool = False,
        label: int | str | None = None,
        **kwargs,
    ):
        """Reliability diagram of given probabilities.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,) or (n_samples, n_labels)
            True labels, or a multi-label indicator matrix.
        y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
            Predicted probabilities; a 1-D array is P(positive class). For an
            indicator ``y_true``: per-label probabilities (n_samples,
            n_labels), or scikit-learn's list of (n_samples, 2) arrays.
        n_bins : int or "auto", default=10
            Number of bins (see
            :func:`~sklearn_focal.metrics.expected_calibration_error`).
        strategy : {"uniform", "quantile"}, default="uniform"
            Bin edges strategy.
        kind : {"top_label", "classwise", "binary"}, default="top_label"
            One top-label curve, one curve per class, or the positive class.
        labels : array-like of shape (n_classes,), default=None
            The class of each column of ``y_prob``.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        confidence_level : float, default=0.95
            Coverage of the Clopper-Pearson bands (computed with the Kish
            effective sample size of each bin when weighted).
        name : str, default=None
            Legend name.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        ref_line, histogram, bands : bool
            See :meth:`plot`.
        label : int, "pooled" or None, default=None
            Multi-label (indicator) ``y_true`` only: the binary reliability
            curve of one label (its column index), or of all (sample, label)
            entries pooled (``"pooled"``, the default for indicator
            ``y_true``), as a detector's scores are usually shown. ``kind``
            and ``labels`` do not apply.
        **kwargs : dict
            Passed to :func:`matplotlib.pyplot.plot`.

        Returns
        -------
        display : ReliabilityDisplay
        """
        _check_matplotlib(f"{cls.__name__}.from_predictions")
        if label is not None or is_multilabel_indicator(y_true):
            y_true, y_prob, sample_weight, name = _one_label_curve(
                y_true, y_prob, sample_weight, label, name
            )
            kind, labels = "binary", [0, 1]
        result = binned_calibration(
            y_true,
            y_prob,
            n_bins=n_bins,
            strategy=strategy,
            kind=kind,
            labels=labels,
            sample_weight=sample_weight,
        )
        ece = expected_calibration_error(
            y_true,
            y_prob,
            n_bins=n_bins,
            strategy=strategy,
            kind=kind,
            labels=labels,
            sample_weight=sample_weight,
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            n_eff = np.where(
                result.bin_weight > 0, result.bin_weight**2 / result.bin_weight_sq, 0
            )
        successes = np.nan_to_num(result.accuracy) * n_eff
        ci_low, ci_high = _clopper_pearson(successes, n_eff, confidence_level)
        display = cls(
            mean_confidence=result.mean_confidence,
            accuracy=result.accuracy,
            bin_weight=result.bin_weight,
            bin_edges=result.bin_edges,
            ece=ece,
            kind=kind,
            scores=result.scores,
            sample_weight=result.sample_weight,
            ci_low=ci_low,
            ci_high=ci_high,
            classes=result.classes,
            estimator_name=name,
        )
        return display.plot(
            ax=ax, ref_line=ref_line, histogram=histogram, bands=bands, **kwargs
        )

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X: ArrayLike,
        y: ArrayLike,
        *,
        response_method: str = "predict_proba",
        name: str | None = None,
        **kwargs,
    ):
        """Reliability diagram of a fitted classifier's ``predict_proba``.

        Parameters
        ----------
        estimator : fitted classifier
            With ``predict_proba`` and ``classes_``.
        X : array-like of shape (n_samples, n_features)
            Input values.
        y : array-like of shape (n_samples,)
            True labels.
        response_method : str, default="predict_proba"
            The method giving the probabilities; for example
            ``"predict_raw_proba"`` shows the raw softmax output of a
            :class:`~sklearn_focal.FocalClassifier` (also at the end of a
            :class:`~sklearn.pipeline.Pipeline` or inside a
            :class:`~sklearn.frozen.FrozenEstimator`), to overlay on its
            recovered posteriors.
        name : str, default=None
            Legend name; defaults to the estimator's class name.
        **kwargs : dict
            Any keyword argument of :meth:`from_predictions` except
            ``labels``, which is ``estimator.classes_``. For a multi-label
            estimator (indicator ``y``), ``label`` picks one label's curve or
            the pooled one.

        Returns
        -------
        display : ReliabilityDisplay
        """
        _check_matplotlib(f"{cls.__name__}.from_estimator")
        check_is_fitted(estimator)
        if response_method == "predict_raw_proba":
            y_prob = raw_proba(estimator, X, fallback=False)
        elif hasattr(estimator, response_method):
            y_prob = getattr(estimator, response_method)(X)
        else:
            raise ValueError(
                f"{type(estimator).__name__} has no {response_method}; a "
                "reliability diagram needs probabilities"
            )
        name = type(estimator).__name__ if name is None else name
        if is_multilabel_indicator(y):  # per-label probabilities
            return cls.from_predictions(y, y_prob, name=name, **kwargs)
        return cls.from_predictions(
            y, y_prob, labels=estimator.classes_, name=name, **kwargs
        )


def _one_label_curve(y_true, y_prob, sample_weight, label, name):
    """The binary problem of one label, or of all entries pooled, of
    multi-label predictions: (y, p, sample_weight, legend name)."""
    proba = check_label_proba(y_prob, "y_prob")
    indicator = check_indicator(y_true, proba.shape[0], proba.shape[1], "y_true")
    n_samples, n_labels = proba.shape
    if sample_weight is not None:
        sample_weight = check_sample_weight(sample_weight, n_samples)
    if label is None or (isinstance(label, str) and label == "pooled"):
        weight = None if sample_weight is None else np.repeat(sample_weight, n_labels)
        y, p, text = indicator.ravel(), proba.ravel(), "pooled labels"
    else:
        if isinstance(label, str):
            raise ValueError(f"label must be an int or 'pooled', got {label!r}")
        label = check_integer(label, "label", minimum=0)
        if label >= n_labels:
            raise ValueError(
                f"label={label} but y_prob has {n_labels} labels (columns)"
            )
        weight = sample_weight
        y, p, text = indicator[:, label], proba[:, label], f"label {label}"
    return y, p, weight, text if name is None else f"{name}, {text}"
