"""Displays: reliability diagrams and the figures of the focal-loss theory.

The Displays follow scikit-learn's convention (see
:class:`sklearn.calibration.CalibrationDisplay`): ``__init__`` stores computed
arrays, :meth:`plot` draws them and sets ``ax_``, ``figure_`` and ``line_``,
and the classmethods ``from_estimator`` / ``from_predictions`` compute and
plot in one call. Passing ``ax=display.ax_`` to a second ``plot`` overlays
another curve (raw outputs, Psi-corrected, temperature-scaled, ...).

matplotlib is optional: it is imported only when something is drawn.
"""
# SPDX-License-Identifier: BSD-3-Clause

import weakref

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import beta
from sklearn.utils.validation import check_is_fitted

from . import theory
from ._rate_distortion_display import RateDistortionDisplay
from ._unwrap import focal_alpha, focal_gamma, raw_proba
from .metrics import binned_calibration, expected_calibration_error
from .utils.validation import check_distribution

__all__ = [
    "ConfidenceRelationDisplay",
    "FocalPhiDisplay",
    "RateDistortionDisplay",
    "ReliabilityDisplay",
]

# histogram twin axis of each main axis, so that overlays share it
_HIST_AXES = weakref.WeakKeyDictionary()


def _check_matplotlib(caller_name):
    """Import pyplot, or raise an ImportError that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller_name} requires matplotlib. Install it with "
            '`pip install "sklearn-focal[plot]"` or `pip install matplotlib`.'
        ) from exc
    return plt


def _get_ax(ax):
    plt = _check_matplotlib("sklearn_focal.plotting")
    if ax is None:
        _, ax = plt.subplots()
    return ax


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
        **kwargs,
    ):
        """Reliability diagram of given probabilities.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels.
        y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
            Predicted probabilities; a 1-D array is P(positive class).
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
        **kwargs : dict
            Passed to :func:`matplotlib.pyplot.plot`.

        Returns
        -------
        display : ReliabilityDisplay
        """
        _check_matplotlib(f"{cls.__name__}.from_predictions")
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
            ``labels``, which is ``estimator.classes_``.

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
        return cls.from_predictions(
            y, y_prob, labels=estimator.classes_, name=name, **kwargs
        )


# --------------------------------------------------------------------------
# phi^gamma and its regions (CVPR 2021, Fig. 1)
# --------------------------------------------------------------------------

_DEFAULT_GAMMAS = (0.0, 1.0, 2.0, 3.0, 5.0)


class _FromFocalEstimatorMixin:
    """``from_estimator`` for the displays built from raw focal-loss outputs."""

    # Whether from_predictions takes the model's class weights ``alpha``.
    _takes_alpha = False

    @classmethod
    def from_estimator(cls, estimator, X: ArrayLike, *, gamma=None, **kwargs):
        """:meth:`from_predictions` with a fitted focal-loss classifier.

        Parameters
        ----------
        estimator : fitted classifier
            A focal-loss classifier, also inside a
            :class:`~sklearn.pipeline.Pipeline`, a
            :class:`~sklearn.frozen.FrozenEstimator` or a fitted search
            estimator. Its raw outputs come from ``predict_raw_proba`` of the
            final model when it has one (as
            :class:`~sklearn_focal.FocalClassifier` does), after the
            pipeline's transform steps; else from ``predict_proba``.
        X : array-like of shape (n_samples, n_features)
            Input values.
        gamma : float, default=None
            Focusing parameter. When None it is read from the final model:
            its fitted ``gamma_`` (the order it was trained with), else its
            ``gamma`` or ``criterion__gamma`` parameter.
        **kwargs : dict
            Passed to :meth:`from_predictions`.

        Returns
        -------
        display : instance of the calling class
        """
        check_is_fitted(estimator)
        if gamma is None:
            gamma = focal_gamma(estimator, f"{cls.__name__}.from_estimator")
        if cls._takes_alpha and "alpha" not in kwargs:
            kwargs["alpha"] = focal_alpha(estimator)
        kwargs.setdefault("name", type(estimator).__name__)
        return cls.from_predictions(raw_proba(estimator, X), gamma=gamma, **kwargs)


class FocalPhiDisplay(_FromFocalEstimatorMixin):
    """The function phi^gamma and the confidence regions of Thm 8 (Fig. 1).

    ``phi(v) = (1 - v)^gamma - gamma (1 - v)^(gamma - 1) v log v``. For one
    highlighted gamma the axis is shaded where the largest entry of the focal
    risk minimizer makes it overconfident ``(0, tau_oc]``, ambiguous
    ``(tau_oc, tau_uc)`` or underconfident ``[tau_uc, 1)``.

    Parameters
    ----------
    v : ndarray of shape (n_points,)
        Grid on [0, 1].
    phi : ndarray of shape (n_gammas, n_points)
        ``phi^gamma(v)`` for each gamma.
    gammas : ndarray of shape (n_gammas,)
        The focusing parameters.
    highlight_gamma : float, default=None
        The gamma whose regions are shaded (none when None or 0).
    tau_oc, tau_uc : float, default=None
        Thresholds of ``highlight_gamma``.
    confidences : ndarray of shape (n_samples,), default=None
        Largest predicted probabilities, drawn as a rug.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The curve of ``highlight_gamma`` (the first curve when None).
    lines_ : list of matplotlib Line2D
        One curve per gamma.
    regions_ : dict of str to matplotlib Polygon
        ``"overconfident"``, ``"ambiguous"``, ``"underconfident"`` spans.
    rug_ : matplotlib Line2D
        The rug of confidences, or None.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    References
    ----------
    .. [1] N. Charoenphakdee et al. "On Focal Loss for Class-Posterior
       Probability Estimation: A Theoretical Perspective." CVPR 2021, Fig. 1.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn_focal.plotting import FocalPhiDisplay
    >>> disp = FocalPhiDisplay.from_gammas([1, 2, 3], highlight_gamma=3)
    >>> sorted(disp.regions_)
    ['ambiguous', 'overconfident', 'underconfident']
    """

    def __init__(
        self,
        *,
        v,
        phi,
        gammas,
        highlight_gamma=None,
        tau_oc=None,
        tau_uc=None,
        confidences=None,
    ):
        self.v = v
        self.phi = phi
        self.gammas = gammas
        self.highlight_gamma = highlight_gamma
        self.tau_oc = tau_oc
        self.tau_uc = tau_uc
        self.confidences = confidences

    def plot(self, ax=None, *, name: str | None = None, shade: bool = True, **kwargs):
        """Draw phi^gamma for each gamma and shade the regions.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        name : str, default=None
            Prefix of the legend entries.
        shade : bool, default=True
            Shade the regions of ``highlight_gamma``.
        **kwargs : dict
            Passed to :func:`matplotlib.pyplot.plot`.

        Returns
        -------
        display : FocalPhiDisplay
        """
        ax = _get_ax(ax)
        prefix = f"{name}: " if name else ""
        phi = np.atleast_2d(self.phi)
        self.lines_ = []
        self.line_ = None
        for gamma, values in zip(self.gammas, phi, strict=True):
            highlighted = self.highlight_gamma is not None and np.isclose(
                gamma, self.highlight_gamma
            )
            line_kwargs = {"label": f"{prefix}γ = {gamma:g}", **kwargs}
            if highlighted:
                line_kwargs.setdefault("linewidth", 2.5)
            (line,) = ax.plot(self.v, values, **line_kwargs)
            self.lines_.append(line)
            if highlighted:
                self.line_ = line
        if self.line_ is None:
            self.line_ = self.lines_[0]

        self.regions_ = {}
        if shade and self.tau_oc is not None and self.tau_uc is not None:
            g = f"{self.highlight_gamma:g}"
            spans = {
                "overconfident": (0.0, self.tau_oc, "tab:red", "ηOC"),
                "ambiguous": (self.tau_oc, self.tau_uc, "tab:gray", "ambiguous"),
                "underconfident": (self.tau_uc, 1.0, "tab:blue", "ηUC"),
            }
            for region, (lo, hi, color, short) in spans.items():
                self.regions_[region] = ax.axvspan(
                    lo, hi, color=color, alpha=0.12, label=f"{short} (γ = {g})"
                )
            ax.axhline(1.0, color="k", linestyle=":", linewidth=0.8)

        self.rug_ = None
        if self.confidences is not None:
            conf = np.asarray(self.confidences)
            (self.rug_,) = ax.plot(
                conf,
                np.zeros_like(conf),
                "|",
                color="k",
                alpha=0.3,
                markersize=12,
                label=f"{prefix}max predicted probability",
            )
        ax.set(
            xlim=(0, 1),
            ylim=(0, None),
            xlabel="v",
            ylabel=r"$\varphi^\gamma(v)$",
        )
        ax.legend(loc="upper right")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_gammas(
        cls,
        gammas: ArrayLike = _DEFAULT_GAMMAS,
        *,
        highlight_gamma: float | None = 3.0,
        n_points: int = 501,
        confidences: ArrayLike | None = None,
        name: str | None = None,
        ax=None,
        **kwargs,
    ):
        """Compute phi^gamma with :func:`sklearn_focal.theory.phi` and plot it.

        Parameters
        ----------
        gammas : array-like of float, default=(0, 1, 2, 3, 5)
            Focusing parameters to draw.
        highlight_gamma : float, default=3.0
            Gamma whose regions are shaded (the paper's choice); None for
            no shading. Added to ``gammas`` if missing.
        n_points : int, default=501
            Grid size on [0, 1].
        confidences : array-like of shape (n_samples,), default=None
            Largest predicted probabilities to draw as a rug.
        name : str, default=None
            Legend prefix.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        **kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : FocalPhiDisplay
        """
        _check_matplotlib(f"{cls.__name__}.from_gammas")
        gammas = [float(g) for g in np.atleast_1d(gammas)]
        if (
            highlight_gamma is not None
            and not np.isclose(gammas, highlight_gamma).any()
        ):
            gammas.append(float(highlight_gamma))
        v = np.linspace(0.0, 1.0, int(n_points))
        phi = np.stack([theory.phi(v, g) for g in gammas])
        tau_oc = tau_uc = None
        if highlight_gamma is not None and highlight_gamma > 0:
            tau_oc = float(theory.tau_oc(highlight_gamma))
            tau_uc = float(theory.tau_uc(highlight_gamma))
        display = cls(
            v=v,
            phi=phi,
            gammas=np.array(gammas),
            highlight_gamma=highlight_gamma,
            tau_oc=tau_oc,
            tau_uc=tau_uc,
            confidences=None if confidences is None else np.asarray(confidences),
        )
        return display.plot(ax=ax, name=name, **kwargs)

    @classmethod
    def from_predictions(
        cls,
        y_prob: ArrayLike,
        *,
        gamma: float,
        gammas: ArrayLike = (),
        **kwargs,
    ):
        """phi^gamma of a model's gamma, with the rug of its top confidences.

        Shows which region (Thm 8) each prediction's largest entry falls in.

        Parameters
        ----------
        y_prob : array-like of shape (n_samples, n_classes)
            Outputs of a focal-trained model; rows sum to 1.
        gamma : float
            The model's focusing parameter (highlighted).
        gammas : array-like of float, default=()
            Other gammas to draw for reference.
        **kwargs : dict
            Passed to :meth:`from_gammas`.

        Returns
        -------
        display : FocalPhiDisplay
        """
        rows, _ = check_distribution(np.asarray(y_prob), "y_prob")
        return cls.from_gammas(
            gammas=[*np.atleast_1d(gammas), gamma],
            highlight_gamma=gamma,
            confidences=rows.max(axis=1),
            **kwargs,
        )


# --------------------------------------------------------------------------
# max eta vs max q* (CVPR 2021, Fig. 2)
# --------------------------------------------------------------------------


class ConfidenceRelationDisplay(_FromFocalEstimatorMixin):
    """Largest true posterior against largest focal-risk minimizer (Fig. 2).

    For each gamma, ``max_y eta_y`` against ``max_y q*_y`` where
    ``q* = theory.focal_minimizer(eta, gamma)`` and
    ``eta = (t, (1 - t)/(K - 1), ..., (1 - t)/(K - 1))``. Below the diagonal
    the minimizer is underconfident (always, for K = 2); above it,
    overconfident (possible for many classes and small gamma).

    Parameters
    ----------
    max_eta : ndarray of shape (n_gammas, n_points)
        Largest true posterior of each grid point.
    max_q : ndarray of shape (n_gammas, n_points)
        Largest entry of the focal minimizer.
    gammas : ndarray of shape (n_gammas,)
        The focusing parameters.
    n_classes : int
        Number of classes K.
    points_eta, points_q : ndarray of shape (n_samples,), default=None
        Scatter of predictions: ``max Psi(q)`` and ``max q``.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The first curve.
    lines_ : list of matplotlib Line2D
        One curve per gamma.
    scatter_ : matplotlib PathCollection
        The predictions, or None.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    References
    ----------
    .. [1] N. Charoenphakdee et al. "On Focal Loss for Class-Posterior
       Probability Estimation: A Theoretical Perspective." CVPR 2021, Fig. 2.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn_focal.plotting import ConfidenceRelationDisplay
    >>> disp = ConfidenceRelationDisplay.from_gammas([1, 3], n_classes=2)
    >>> len(disp.lines_)
    2
    """

    _takes_alpha = True

    def __init__(
        self,
        *,
        max_eta,
        max_q,
        gammas,
        n_classes,
        points_eta=None,
        points_q=None,
    ):
        self.max_eta = max_eta
        self.max_q = max_q
        self.gammas = gammas
        self.n_classes = n_classes
        self.points_eta = points_eta
        self.points_q = points_q

    def plot(
        self, ax=None, *, name: str | None = None, ref_line: bool = True, **kwargs
    ):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        name : str, default=None
            Prefix of the legend entries.
        ref_line : bool, default=True
            Draw the diagonal ``max q* = max eta`` (once per axes).
        **kwargs : dict
            Passed to :func:`matplotlib.pyplot.plot`.

        Returns
        -------
        display : ConfidenceRelationDisplay
        """
        ax = _get_ax(ax)
        prefix = f"{name}: " if name else ""
        if ref_line:
            labels = [line.get_label() for line in ax.get_lines()]
            if "max q* = max η" not in labels:
                ax.plot([0, 1], [0, 1], "k:", label="max q* = max η")
        self.lines_ = []
        for gamma, x, y in zip(
            self.gammas,
            np.atleast_2d(self.max_eta),
            np.atleast_2d(self.max_q),
            strict=True,
        ):
            (line,) = ax.plot(x, y, **{"label": f"{prefix}γ = {gamma:g}", **kwargs})
            self.lines_.append(line)
        self.line_ = self.lines_[0] if self.lines_ else None
        self.scatter_ = None
        if self.points_eta is not None:
            self.scatter_ = ax.scatter(
                self.points_eta,
                self.points_q,
                s=6,
                alpha=0.4,
                color="k",
                label=f"{prefix}predictions",
            )
        ax.set(
            xlim=(0, 1),
            ylim=(0, 1),
            xlabel=r"$\max_y \eta_y(x)$",
            ylabel=r"$\max_y q^{\gamma,*}_y(x)$",
            title=f"K = {self.n_classes}",
        )
        ax.legend(loc="upper left")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @staticmethod
    def _curves(gammas, n_classes, n_points):
        t = np.linspace(1.0 / n_classes, 1.0, int(n_points))
        eta = np.empty((t.shape[0], n_classes))
        eta[:, 0] = t
        eta[:, 1:] = ((1.0 - t) / (n_classes - 1))[:, None]
        eta /= eta.sum(axis=1, keepdims=True)
        max_q = np.stack([theory.focal_minimizer(eta, g).max(axis=1) for g in gammas])
        return np.broadcast_to(eta.max(axis=1), max_q.shape).copy(), max_q

    @classmethod
    def from_gammas(
        cls,
        gammas: ArrayLike = _DEFAULT_GAMMAS,
        *,
        n_classes: int = 2,
        n_points: int = 201,
        name: str | None = None,
        ax=None,
        **kwargs,
    ):
        """Compute the curves with :func:`sklearn_focal.theory.focal_minimizer`.

        Parameters
        ----------
        gammas : array-like of float, default=(0, 1, 2, 3, 5)
            Focusing parameters.
        n_classes : int, default=2
            Number of classes K (the paper's Fig. 2 uses 2 and 1000).
        n_points : int, default=201
            Grid size of ``t = max eta`` on ``[1/K, 1]``.
        name : str, default=None
            Legend prefix.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        **kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : ConfidenceRelationDisplay
        """
        _check_matplotlib(f"{cls.__name__}.from_gammas")
        if isinstance(n_classes, bool) or not isinstance(n_classes, int | np.integer):
            raise TypeError(f"n_classes must be an int, got {n_classes!r}")
        if n_classes < 2:
            raise ValueError(f"n_classes must be >= 2, got {n_classes}")
        gammas = np.atleast_1d(np.asarray(gammas, dtype=float))
        max_eta, max_q = cls._curves(gammas, int(n_classes), n_points)
        display = cls(
            max_eta=max_eta, max_q=max_q, gammas=gammas, n_classes=int(n_classes)
        )
        return display.plot(ax=ax, name=name, **kwargs)

    @classmethod
    def from_predictions(
        cls,
        y_prob: ArrayLike,
        *,
        gamma: float,
        alpha: ArrayLike | None = None,
        n_points: int = 201,
        name: str | None = None,
        ax=None,
        **kwargs,
    ):
        """Scatter a model's ``(max Psi(q), max q)`` over the curve of its gamma.

        ``Psi = theory.psi`` recovers the posterior each output ``q`` would be
        the focal minimizer of; the curve is the paper's family for
        ``K = y_prob.shape[1]``.

        Parameters
        ----------
        y_prob : array-like of shape (n_samples, n_classes)
            Raw outputs of a focal-trained model; rows sum to 1.
        gamma : float
            The model's focusing parameter.
        alpha : array-like of shape (n_classes,), default=None
            The model's per-class weights (alpha-balanced focal loss), used
            by ``Psi``; ``from_estimator`` reads them from a focal model's
            fitted ``alpha_``. The curve is the unweighted family.
        n_points : int, default=201
            Grid size of the curve.
        name : str, default=None
            Legend prefix.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        **kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : ConfidenceRelationDisplay
        """
        _check_matplotlib(f"{cls.__name__}.from_predictions")
        q, _ = check_distribution(np.asarray(y_prob), "y_prob")
        eta_hat = theory.psi(q, gamma, alpha=alpha)
        n_classes = q.shape[1]
        gammas = np.array([float(gamma)])
        max_eta, max_q = cls._curves(gammas, n_classes, n_points)
        display = cls(
            max_eta=max_eta,
            max_q=max_q,
            gammas=gammas,
            n_classes=n_classes,
            points_eta=eta_hat.max(axis=1),
            points_q=q.max(axis=1),
        )
        return display.plot(ax=ax, name=name, **kwargs)
