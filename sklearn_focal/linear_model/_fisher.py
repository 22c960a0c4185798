"""Fisher information of 1-bit measurements, efficiency and threshold design.

Proposition 1 of Shah, Cardone, Rush and Dytso (2025): the bits carry
``J_n = sum_i p_i (1 - p_i) V_i' d_i d_i' V_i``, one rank-one term per sample,
against ``I_n = sum_i V_i' Cov(T(X_i)) V_i`` for the uncensored measurements;
``I_n - J_n`` is positive semidefinite. This module evaluates both for given
parameters, design and thresholds, the per-sample efficiency ``J / I``, and
the threshold that maximizes the information of the next measurement.
"""
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import math
from numbers import Real

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.utils.validation import check_array

from sklearn_focal.linear_model._families import (
    gaussian_info_weight,
    poisson_info_weight,
    poisson_k,
)
from sklearn_focal.utils._compat import Interval, StrOptions, validate_params
from sklearn_focal.utils.validation import (
    check_finite_array,
    check_positive_definite,
    check_real,
    check_sample_aligned,
    check_sample_weight,
)

__all__ = [
    "efficiency",
    "fisher_information",
    "fisher_information_uncensored",
    "optimal_threshold",
]

#: Why a Poisson threshold must be > 0, said in the error message.
POISSON_THRESHOLD_RULE = (
    " for the Poisson family (a count is always >= 0, so a bit against a "
    "threshold <= 0 is always 1 and carries no information)"
)

_FAMILY = [StrOptions({"gaussian", "poisson"})]
_REAL = [Interval(Real, None, None, closed="neither")]
_SCALE = [Interval(Real, 0, None, closed="neither"), None]


def check_row_inputs(family, n_samples, threshold, offset=None, sample_weight=None):
    """Thresholds, offsets and weights of ``n_samples`` rows, as float64.

    The one preparation of the per-row inputs of the 1-bit model, shared by
    the design functions and :class:`OneBitGLM`: ``threshold`` (required)
    and ``offset`` (``None``: zeros) are scalars or one finite value per row
    (:func:`~sklearn_focal.utils.validation.check_sample_aligned`), Poisson
    thresholds are > 0, and ``sample_weight`` follows
    :func:`~sklearn_focal.utils.validation.check_sample_weight`.

    Returns
    -------
    threshold, offset, weight : ndarray of shape (n_samples,)
    """
    threshold = check_sample_aligned(
        threshold,
        "threshold",
        n_samples,
        positive=family == "poisson",
        why=POISSON_THRESHOLD_RULE,
    )
    offset = (
        np.zeros(n_samples)
        if offset is None
        else check_sample_aligned(offset, "offset", n_samples)
    )
    return threshold, offset, check_sample_weight(sample_weight, n_samples)


def _gaussian_only(family, scale, coordinates=None):
    """``(sigma, coordinates)`` of the Gaussian family; ``None`` for Poisson.

    A Poisson variable has no scale (its variance is its mean), so a scale or
    coordinates given with ``family="poisson"`` are refused, not ignored.
    """
    if family == "poisson":
        for name, value in (("scale", scale), ("coordinates", coordinates)):
            if value is not None:
                raise ValueError(
                    f"{name} applies to the Gaussian family only (a Poisson "
                    f"variable has no scale: its variance is its mean); got "
                    f"{name}={value!r} with family='poisson', leave it None"
                )
        return None, None
    scale = 1.0 if scale is None else check_real(scale, "scale", lower=0.0)
    return scale, "variance" if coordinates is None else coordinates


# --------------------------------------------------------------------------
# J and I from a design matrix with its intercept column (shared with fit)
# --------------------------------------------------------------------------


def gaussian_informations(design, z, scale, weight, coordinates="scale"):
    """``(J, I)`` of the Gaussian model for a design with its intercept column.

    The parameters are the columns of ``design`` (the mean coefficients) then
    the variance (``coordinates="variance"``) or the standard deviation
    (``"scale"``). ``J = sum w r(z) g g'`` with ``g = (v / sigma, z c)``,
    ``c = 1 / (2 sigma**2)`` for the variance and ``1 / sigma`` for sigma;
    ``I = diag(V'WV / sigma**2, sum(w) / (2 sigma**4) or 2 sum(w) / sigma**2)``.
    """
    n_columns = design.shape[1]
    factor = 1.0 / (2.0 * scale**2) if coordinates == "variance" else 1.0 / scale
    gradient = np.empty((design.shape[0], n_columns + 1))
    gradient[:, :n_columns] = design / scale
    gradient[:, n_columns] = z * factor
    gradient *= np.sqrt(weight * gaussian_info_weight(z))[:, None]
    J = gradient.T @ gradient
    I = np.zeros_like(J)
    root = design * np.sqrt(weight)[:, None]
    I[:n_columns, :n_columns] = root.T @ root / scale**2
    I[n_columns, n_columns] = weight.sum() * (
        1.0 / (2.0 * scale**4) if coordinates == "variance" else 2.0 / scale**2
    )
    return 0.5 * (J + J.T), I


def poisson_informations(design, k, lam, weight):
    """``(J, I)`` of the Poisson model (log link) in the coefficients."""
    root = design * np.sqrt(weight * poisson_info_weight(k, lam))[:, None]
    J = root.T @ root
    root = design * np.sqrt(weight * lam)[:, None]
    I = root.T @ root
    return 0.5 * (J + J.T), I


# --------------------------------------------------------------------------
# Public design functions
# --------------------------------------------------------------------------


def _informations(
    X,
    coef,
    intercept,
    threshold,
    family,
    scale,
    offset,
    sample_weight,
    fit_intercept,
    coordinates,
):
    """``(J, I)`` for the public design functions (their inputs checked)."""
    scale, coordinates = _gaussian_only(family, scale, coordinates)
    X = check_array(
        X,
        dtype=np.float64,
        ensure_min_features=0,
        ensure_all_finite=False,
        input_name="X",
    )
    X = check_finite_array(X, "X", copy=False)  # names the first bad entry
    n_samples, n_features = X.shape
    coef = check_finite_array(coef, "coef", shape=(n_features,))
    intercept = check_real(intercept, "intercept")
    threshold, offset, weight = check_row_inputs(
        family, n_samples, threshold, offset, sample_weight
    )
    design = np.hstack([X, np.ones((n_samples, 1))]) if fit_intercept else X
    eta = X @ coef + intercept + offset
    if family == "gaussian":
        return gaussian_informations(
            design, (threshold - eta) / scale, scale, weight, coordinates
        )
    return poisson_informations(design, poisson_k(threshold), np.exp(eta), weight)


_DESIGN_PARAMS = {
    "X": ["array-like"],
    "coef": ["array-like"],
    "intercept": _REAL,
    "threshold": ["array-like", Real],
    "family": _FAMILY,
    "scale": _SCALE,
    "offset": ["array-like", Real, None],
    "sample_weight": ["array-like", None],
    "fit_intercept": ["boolean"],
    "coordinates": [StrOptions({"variance", "scale"}), None],
}


@validate_params(_DESIGN_PARAMS, prefer_skip_nested_validation=True)
def fisher_information(
    X,
    coef,
    intercept=0.0,
    *,
    threshold,
    family="gaussian",
    scale=None,
    offset=None,
    sample_weight=None,
    fit_intercept=True,
    coordinates=None,
) -> np.ndarray:
    """Fisher information ``J_n`` of 1-bit measurements (Proposition 1).

    Row ``i`` of ``X`` is measured once, as the bit
    ``B_i = 1{X_i >= threshold_i}``. The parameters, in this order, are
    ``coef``, the intercept (when ``fit_intercept``) and, for the Gaussian
    family, the variance ``sigma**2`` (``coordinates="variance"``, the paper's)
    or ``sigma`` (``"scale"``, the coordinates of
    :attr:`OneBitGLM.fisher_information_ <sklearn_focal.linear_model.OneBitGLM>`).

    - Gaussian: ``J = sum_i w_i r(z_i) g_i g_i'`` with
      ``z_i = (tau_i - mu_i) / sigma``,
      ``r(z) = phi(z)**2 / (Phi(z) (1 - Phi(z)))`` and
      ``g_i = (x_i / sigma, 1 / sigma, z_i / (2 sigma**2))``.
    - Poisson (log link): ``J = sum_i w_i lambda_i**2 pmf(k_i)**2 /
      (F(k_i) (1 - F(k_i))) x_i x_i'`` with ``k_i = ceil(tau_i) - 1``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The design.
    coef : array-like of shape (n_features,)
        Coefficients of the mean (Gaussian) or of ``log lambda`` (Poisson).
    intercept : float, default=0.0
        The intercept.
    threshold : float or array-like of shape (n_samples,)
        The thresholds ``tau_i``, finite (and > 0 for the Poisson family).
    family : {"gaussian", "poisson"}, default="gaussian"
        The latent distribution.
    scale : float, default=None
        ``sigma > 0`` of the Gaussian family; ``None`` means 1.0. The Poisson
        family has no scale (its variance is its mean): a scale given with
        it raises ``ValueError`` rather than being ignored.
    offset : float or array-like of shape (n_samples,), default=None
        Known part of the linear predictor.
    sample_weight : array-like of shape (n_samples,), default=None
        Multiplicity of each row.
    fit_intercept : bool, default=True
        Whether the intercept is a parameter (a row and column of ``J``).
    coordinates : {"variance", "scale"}, default=None
        Last Gaussian coordinate: ``sigma**2`` (``"variance"``, the paper's;
        ``None`` means it) or ``sigma``. Gaussian only, like ``scale``.

    Returns
    -------
    ndarray of shape (n_parameters, n_parameters)
        ``J_n``.

    Raises
    ------
    ValueError
        Naming the parameter (and the first bad row of an array): a family
        or coordinates not among the options, ``coef`` not of shape
        ``(n_features,)``, a non-finite ``coef``, intercept, threshold or
        offset, ``scale <= 0``, Poisson thresholds ``<= 0``, a scale or
        coordinates with ``family="poisson"``, bad sample weights.

    See Also
    --------
    fisher_information_uncensored : ``I_n``, the information of the latent data.
    efficiency : the per-sample ratio ``J / I``.

    Examples
    --------
    The issue's example: ``alpha = sigma**2 = 1`` and thresholds 0 and 2.

    >>> import numpy as np
    >>> from sklearn_focal.linear_model import fisher_information
    >>> J = fisher_information(np.zeros((2, 1)), [0.0], 1.0, threshold=[0.0, 2.0])
    >>> np.round(J[1:, 1:], 6)  # (alpha, sigma**2)
    array([[0.877258, 0.      ],
           [0.      , 0.219314]])
    """
    return _informations(
        X,
        coef,
        intercept,
        threshold,
        family,
        scale,
        offset,
        sample_weight,
        fit_intercept,
        coordinates,
    )[0]


@validate_params(
    {**_DESIGN_PARAMS, "threshold": ["array-like", Real, None]},
    prefer_skip_nested_validation=True,
)
def fisher_information_uncensored(
    X,
    coef,
    intercept=0.0,
    *,
    threshold=None,
    family="gaussian",
    scale=None,
    offset=None,
    sample_weight=None,
    fit_intercept=True,
    coordinates=None,
) -> np.ndarray:
    """Fisher information ``I_n`` of the latent measurements themselves.

    Gaussian: ``I = diag(V'WV / sigma**2, sum(w) / (2 sigma**4))`` in
    ``(coef, intercept, sigma**2)`` (``2 sum(w) / sigma**2`` for ``sigma``);
    Poisson: ``I = sum_i w_i lambda_i x_i x_i'``. The thresholds do not enter;
    the parameters are those of :func:`fisher_information`.

    Parameters
    ----------
    X, coef, intercept, threshold, family, scale, offset, sample_weight, \
fit_intercept, coordinates
        As in :func:`fisher_information`. ``threshold`` is accepted, so
        that the same keyword arguments serve both functions, and ignored:
        the latent measurements do not depend on it.

    Returns
    -------
    ndarray of shape (n_parameters, n_parameters)
        ``I_n``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.linear_model import fisher_information_uncensored
    >>> fisher_information_uncensored(np.zeros((2, 1)), [0.0], 1.0)[1:, 1:]
    array([[2., 0.],
           [0., 1.]])
    """
    return _informations(
        X,
        coef,
        intercept,
        1.0,  # any valid threshold: I does not depend on it
        family,
        scale,
        offset,
        sample_weight,
        fit_intercept,
        coordinates,
    )[1]


@validate_params(
    {
        "threshold": ["array-like", Real],
        "mean": ["array-like", Real],
        "scale": _SCALE,
        "family": _FAMILY,
        "parameter": [StrOptions({"mean", "scale"})],
    },
    prefer_skip_nested_validation=True,
)
def efficiency(threshold, mean, scale=None, *, family="gaussian", parameter="mean"):
    """Per-sample efficiency ``J / I`` of one bit about one parameter.

    The fraction of the Fisher information of one latent measurement that
    survives the 1-bit quantization, the other parameters being known.

    - Gaussian, ``parameter="mean"``: ``r(z)`` with ``z = (tau - mean) /
      scale``; its maximum is ``2 / pi`` at ``z = 0``.
    - Gaussian, ``parameter="scale"``: ``r(z) z**2 / 2`` (the same for
      ``sigma`` and ``sigma**2``); it vanishes at ``z = 0``.
    - Poisson (``mean`` is ``lambda``): ``lambda pmf(k)**2 / (F(k)
      (1 - F(k)))``; at ``tau = 1`` it is ``lambda / (e**lambda - 1)``.

    Parameters
    ----------
    threshold : float or array-like
        Thresholds ``tau``, finite (and > 0 for the Poisson family).
    mean : float or array-like
        Latent mean (``mu``, or ``lambda > 0`` for the Poisson family),
        finite, broadcast against ``threshold``.
    scale : float, default=None
        ``sigma > 0`` of the Gaussian family; ``None`` means 1.0. The Poisson
        family has no scale (its variance is its mean): a scale given with
        it raises ``ValueError`` rather than being ignored.
    family : {"gaussian", "poisson"}, default="gaussian"
        The latent distribution.
    parameter : {"mean", "scale"}, default="mean"
        The parameter of interest (``"scale"``: Gaussian only).

    Returns
    -------
    ndarray
        ``J / I``, in [0, 1], with the broadcast shape of the inputs.

    Raises
    ------
    ValueError
        Naming the parameter and the first bad entry: a non-finite threshold
        or mean, shapes that do not broadcast, ``scale <= 0``, a scale or
        ``parameter="scale"`` with the Poisson family, a Poisson mean or
        threshold ``<= 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.linear_model import efficiency
    >>> bool(np.isclose(efficiency(0.0, 0.0), 2 / np.pi))
    True
    >>> bool(np.isclose(efficiency(1.0, 1.0, family="poisson"), 1 / (np.e - 1)))
    True
    """
    scale, _ = _gaussian_only(family, scale)
    poisson = family == "poisson"
    if poisson and parameter != "mean":
        raise ValueError(
            "parameter='scale' applies to the Gaussian family only (a Poisson "
            "variable has one parameter, its mean)"
        )
    tau = check_finite_array(
        threshold, "threshold", positive=poisson, why=POISSON_THRESHOLD_RULE
    )
    mean = check_finite_array(
        mean, "mean", positive=poisson, why=" for the Poisson family (lambda)"
    )
    try:
        np.broadcast_shapes(tau.shape, mean.shape)
    except ValueError:
        raise ValueError(
            f"threshold (shape {tau.shape}) and mean (shape {mean.shape}) do not "
            "broadcast to one shape"
        ) from None
    if not poisson:
        z = (tau - mean) / scale
        r = gaussian_info_weight(z)
        return r if parameter == "mean" else r * z * z / 2.0
    return poisson_info_weight(poisson_k(tau), mean) / mean


@validate_params(
    {
        "mean": _REAL,
        "scale": _SCALE,
        "family": _FAMILY,
        "criterion": [StrOptions({"mean", "scale", "determinant"})],
        "current_information": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def optimal_threshold(
    mean,
    scale=None,
    *,
    family="gaussian",
    criterion="mean",
    current_information=None,
) -> float:
    """The threshold of the next 1-bit measurement that carries most information.

    For a latent measurement with the given mean (for a regression, the
    predicted mean of the next row, ``OneBitGLM.predict``) and scale:

    - ``criterion="mean"``: maximizes the information about the mean.
      Gaussian: ``tau = mean`` (efficiency ``2 / pi``). Poisson: the integer
      ``tau = k + 1`` maximizing ``lambda**2 pmf(k)**2 / (F(k)(1 - F(k)))``.
    - ``criterion="scale"`` (Gaussian): maximizes the information about
      ``sigma``, ``r(z) z**2``; of the two symmetric optima
      ``mean +- 1.5750 sigma`` the upper one is returned.
    - ``criterion="determinant"`` (Gaussian): D-optimal sequential design,
      maximizes ``det(current_information + J(tau))`` over ``tau``, where
      ``current_information`` is the 2 x 2 information about
      ``(mean, sigma**2)`` gathered so far (one bit has rank-one information,
      so the determinant needs it).

    Parameters
    ----------
    mean : float
        Latent mean, finite (``lambda > 0`` for the Poisson family).
    scale : float, default=None
        ``sigma > 0`` of the Gaussian family; ``None`` means 1.0. A scale
        given with the Poisson family raises ``ValueError``.
    family : {"gaussian", "poisson"}, default="gaussian"
        The latent distribution.
    criterion : {"mean", "scale", "determinant"}, default="mean"
        What to maximize (``"mean"`` only for the Poisson family).
    current_information : array-like of shape (2, 2), default=None
        Information about ``(mean, sigma**2)`` so far, finite, symmetric and
        positive definite; required by ``"determinant"`` and refused by the
        other criteria (which do not use it).

    Returns
    -------
    float
        The threshold.

    Examples
    --------
    >>> from sklearn_focal.linear_model import optimal_threshold
    >>> optimal_threshold(2.0, 1.0)
    2.0
    >>> round(optimal_threshold(0.0, 1.0, criterion="scale"), 3)
    1.575
    >>> optimal_threshold(1.0, family="poisson")  # k = 1 beats k = 0 at lambda = 1
    2.0
    """
    scale, _ = _gaussian_only(family, scale)
    if current_information is not None and criterion != "determinant":
        raise ValueError(
            "current_information is used by criterion='determinant' only; got "
            f"it with criterion={criterion!r}"
        )
    if family == "poisson":
        if criterion != "mean":
            raise ValueError(
                "the Poisson family has one parameter: criterion='mean', got "
                f"criterion={criterion!r}"
            )
        mean = check_real(mean, "mean", lower=0.0)
        # The information is unimodal in k around lambda; scan well past it.
        k = np.arange(0.0, math.ceil(mean + 12.0 * math.sqrt(mean) + 12.0))
        return float(k[np.argmax(poisson_info_weight(k, mean))] + 1.0)
    mean = check_real(mean, "mean")
    if criterion == "mean":
        return mean
    if criterion == "scale":
        # maximize log(r(z) z^2) on z > 0 (the function is even in z)
        res = minimize_scalar(
            lambda z: -(np.log(gaussian_info_weight(z)) + 2.0 * np.log(z)),
            bounds=(0.1, 6.0),
            method="bounded",
            options={"xatol": 1e-10},
        )
        return mean + scale * float(res.x)
    if current_information is None:
        raise ValueError(
            "criterion='determinant' needs current_information, the 2 x 2 "
            "information about (mean, sigma**2) so far: one bit alone has "
            "rank-one information and determinant 0"
        )
    J0 = check_positive_definite(current_information, "current_information", 2)
    inverse = np.linalg.inv(J0)

    def gain(z):  # det(J0 + r g g') / det(J0) - 1 = r g' J0^-1 g
        g = np.stack([np.ones_like(z) / scale, z / (2.0 * scale**2)])
        return gaussian_info_weight(z) * np.einsum("in,ij,jn->n", g, inverse, g)

    grid = np.linspace(-8.0, 8.0, 1601)
    start = grid[np.argmax(gain(grid))]
    res = minimize_scalar(
        lambda z: -gain(np.atleast_1d(z))[0],
        bounds=(start - 0.01, start + 0.01),
        method="bounded",
        options={"xatol": 1e-10},
    )
    return mean + scale * float(res.x)
