"""Display of the focal-loss rate-distortion bounds (Dytso & Cardone, Figs. 3-4).

Re-exported as :class:`sklearn_focal.plotting.RateDistortionDisplay`.
matplotlib is imported only when something is drawn.
"""
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numpy as np

from sklearn_focal.plotting._common import _check_matplotlib
from sklearn_focal.utils.validation import check_gamma_array

__all__ = ["RateDistortionDisplay"]

# Curve name -> (legend label, default style), in drawing order.
_CURVES = {
    "eq23": ("achievability (23)", {"linestyle": ":", "marker": "v"}),
    "eq22": ("achievability (22)", {"linestyle": "-.", "marker": "^"}),
    "eq28": (
        "code (26)-(27), exact distortion (28)",
        {"linestyle": "--", "marker": "s"},
    ),
    "code": ("optimized code", {"linestyle": "-", "marker": "o", "linewidth": 2.0}),
    "converse": ("converse (17)", {"linestyle": "-", "marker": "x"}),
    "asymptotic": (
        "asymptotic [H(X) - log M]^+ (Thm 3)",
        {"linestyle": ":", "color": "gray"},
    ),
}


class RateDistortionDisplay:
    """Converse and achievability bounds against ``M`` or against ``gamma``.

    The style of Figs. 3-4 of Dytso & Cardone: the converse (17), the
    achievability bounds (22) and (23), the exact distortion (28) of the code
    (26)-(27), the distortion of a designed code (exact optimum or optimized
    code) and, against ``M``, the asymptotic ``[H(X) - log M]^+`` of Thm 3
    at rate ``log M``.

    Parameters
    ----------
    x : ndarray of shape (n_points,)
        Values of ``n_codewords`` (``x_name="n_codewords"``) or of ``gamma``
        (``x_name="gamma"``).
    curves : dict of str to ndarray of shape (n_points,)
        Keys among ``"converse"``, ``"eq22"``, ``"eq23"``, ``"eq28"``,
        ``"code"`` and ``"asymptotic"``.
    x_name : {"n_codewords", "gamma"}
        What varies along the x-axis.
    fixed : float, default=None
        The fixed parameter (``gamma`` when ``M`` varies, ``M`` otherwise),
        shown in the title.
    code_label : str, default="optimized code"
        Legend label of the ``"code"`` curve.
    unit : str, default="bits"
        Unit of the distortions, for the axis label.

    Attributes
    ----------
    lines_ : dict of str to matplotlib Line2D
        One line per curve, keyed as ``curves``.
    line_ : matplotlib Line2D
        The ``"code"`` line, or the first line when there is none.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    See Also
    --------
    sklearn_focal.FocalRateDistortion.bound_curve : The table behind the plot.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from scipy.stats import binom
    >>> from sklearn_focal.plotting import RateDistortionDisplay
    >>> pmf = binom.pmf(range(21), 20, 0.5)
    >>> disp = RateDistortionDisplay.from_pmf(
    ...     pmf / pmf.sum(), n_codewords=[2, 4, 8], gamma=1.0, code=False
    ... )
    >>> sorted(disp.lines_)
    ['asymptotic', 'converse', 'eq22', 'eq23', 'eq28']
    """

    def __init__(
        self,
        *,
        x,
        curves,
        x_name,
        fixed=None,
        code_label="optimized code",
        unit="bits",
    ):
        self.x = x
        self.curves = curves
        self.x_name = x_name
        self.fixed = fixed
        self.code_label = code_label
        self.unit = unit

    def plot(self, ax=None, *, name: str | None = None, log_x: bool | None = None):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        name : str, default=None
            Prefix of the legend entries (for overlays of several sources).
        log_x : bool, default=None
            Logarithmic x-axis (base 2); default: True when ``M`` varies.

        Returns
        -------
        display : RateDistortionDisplay
            The object, with ``ax_``, ``figure_``, ``lines_`` and ``line_`` set.
        """
        plt = _check_matplotlib("RateDistortionDisplay.plot")
        if self.x_name not in ("n_codewords", "gamma"):
            raise ValueError(
                f"x_name must be 'n_codewords' or 'gamma', got {self.x_name!r}."
            )
        if ax is None:
            _, ax = plt.subplots()
        prefix = f"{name}: " if name else ""
        x = np.asarray(self.x)
        self.lines_ = {}
        for key, (label, style) in _CURVES.items():
            if key not in self.curves:
                continue
            if key == "code":
                label = self.code_label
            (line,) = ax.plot(
                x, np.asarray(self.curves[key]), label=prefix + label, **style
            )
            self.lines_[key] = line
        if not self.lines_:
            raise ValueError(f"curves holds none of {sorted(_CURVES)}.")
        self.line_ = self.lines_.get("code", next(iter(self.lines_.values())))
        if log_x is None:
            log_x = self.x_name == "n_codewords"
        if log_x:
            ax.set_xscale("log", base=2)
        ax.set_xlabel("number of messages M" if self.x_name == "n_codewords" else "γ")
        ax.set_ylabel(f"distortion [{self.unit}]")
        if self.fixed is not None:
            fixed_name = "γ" if self.x_name == "n_codewords" else "M"
            ax.set_title(f"Focal-loss source coding, {fixed_name} = {self.fixed:g}")
        ax.legend()
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        n_codewords=None,
        gamma=None,
        code: bool = True,
        ax=None,
        name: str | None = None,
    ) -> RateDistortionDisplay:
        """Plot the bounds of a fitted :class:`~sklearn_focal.FocalRateDistortion`.

        Exactly one of ``n_codewords`` and ``gamma`` may be a sequence: it is
        the x-axis; the other defaults to the estimator's parameter.

        Parameters
        ----------
        estimator : FocalRateDistortion
            A fitted estimator: its source and ``method`` are used.
        n_codewords : int or array-like of int, default=None
            Values of ``M``; ``None``: powers of two up to the support size
            when ``gamma`` is a scalar, else ``estimator.n_codewords``.
        gamma : float or array-like of float, default=None
            Values of ``gamma``; ``None``: ``estimator.gamma``.
        code : bool, default=True
            Also design a code at every point (with the estimator's
            ``method``) and draw its distortion.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        name : str, default=None
            Prefix of the legend entries.

        Returns
        -------
        display : RateDistortionDisplay
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(estimator)
        vary_gamma = gamma is not None and np.ndim(gamma) == 1
        vary_m = n_codewords is None or np.ndim(n_codewords) == 1
        if vary_gamma and n_codewords is not None and np.ndim(n_codewords) == 1:
            raise ValueError("Only one of n_codewords and gamma may be a sequence.")
        if vary_gamma:
            m = estimator.n_codewords if n_codewords is None else n_codewords
            table = estimator.bound_curve(n_codewords=[m], gammas=gamma, code=code)
            x_name, fixed = "gamma", float(m)
        elif vary_m:
            g = estimator.gamma if gamma is None else gamma
            table = estimator.bound_curve(
                n_codewords=n_codewords, gammas=[g], code=code
            )
            x_name, fixed = "n_codewords", float(g)
        else:
            raise ValueError("One of n_codewords and gamma must be a sequence.")
        table = {key: np.asarray(table[key]) for key in table}
        curves = {k: table[k] for k in _CURVES if k in table}
        if x_name == "gamma":
            curves.pop("asymptotic", None)
        method = getattr(estimator, "method", "auto")
        if code and np.all(table["code_is_optimal"]):
            code_label = "optimal d*(M; γ)"
        elif method == "greedy":
            code_label = "code (26) with optimal decoders"
        else:
            code_label = "optimized code"
        base = getattr(estimator, "base", 2)
        unit = {2: "bits", None: "nats", 10: "dits"}.get(base, f"log base {base}")
        display = cls(
            x=table[x_name],
            curves=curves,
            x_name=x_name,
            fixed=fixed,
            code_label=code_label,
            unit=unit,
        )
        return display.plot(ax=ax, name=name)

    @classmethod
    def from_pmf(
        cls,
        pmf,
        *,
        n_codewords=None,
        gamma=1.0,
        code: bool = True,
        method: str = "auto",
        base: float | None = 2,
        ax=None,
        name: str | None = None,
    ) -> RateDistortionDisplay:
        """Plot the bounds for a source given by its pmf.

        Parameters
        ----------
        pmf : array-like of shape (n_symbols,)
            The (re-weighted) source pmf.
        n_codewords : int or array-like of int, default=None
            Values of ``M`` (the x-axis when a sequence); ``None``: powers of
            two up to the support size.
        gamma : float or array-like of float, default=1.0
            Values of ``gamma`` (the x-axis when a sequence).
        code : bool, default=True
            Also design a code at every point and draw its distortion.
        method : {"auto", "exact", "greedy", "local_search"}, default="auto"
            How the codes are designed (see
            :class:`~sklearn_focal.FocalRateDistortion`).
        base : float or None, default=2
            Base of the logarithm.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        name : str, default=None
            Prefix of the legend entries.

        Returns
        -------
        display : RateDistortionDisplay
        """
        from sklearn_focal.rate_distortion._estimator import FocalRateDistortion

        m0 = 2 if n_codewords is None or np.ndim(n_codewords) == 1 else n_codewords
        g0 = float(np.ravel(check_gamma_array(gamma))[0])
        estimator = FocalRateDistortion.from_pmf(
            pmf, gamma=g0, n_codewords=m0, method=method, base=base
        )
        return cls.from_estimator(
            estimator, n_codewords=n_codewords, gamma=gamma, code=code, ax=ax, name=name
        )
