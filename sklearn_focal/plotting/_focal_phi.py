"""phi^gamma and its regions (CVPR 2021, Fig. 1)."""
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils.validation import check_is_fitted

from sklearn_focal import theory
from sklearn_focal.calibration._unwrap import focal_alpha, focal_gamma, raw_proba
from sklearn_focal.plotting._common import _check_matplotlib, _get_ax
from sklearn_focal.utils.validation import check_distribution

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
