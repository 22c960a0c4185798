"""The relation between focal confidence and the recovered posterior."""
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from numpy.typing import ArrayLike

from sklearn_focal import theory
from sklearn_focal.plotting._common import _check_matplotlib, _get_ax
from sklearn_focal.plotting._focal_phi import _DEFAULT_GAMMAS, _FromFocalEstimatorMixin
from sklearn_focal.utils.validation import check_distribution


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
