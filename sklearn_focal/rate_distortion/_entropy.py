"""The gamma-entropy of a source and its maximum over sources."""
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import functools
import math

import numpy as np
from scipy.optimize import brentq, minimize_scalar
from scipy.special import exprel

from sklearn_focal.utils.validation import (
    check_gamma_array,
    check_integer,
    check_integer_array,
    check_pmf,
    log_base,
)

#: Largest support size (number of symbols with positive probability) accepted
#: by :func:`exact_distortion`. The dynamic program visits about ``3**n / 2``
#: (subset, cell) pairs per extra codeword; past this size use
#: :func:`optimized_code`, which returns an achievable code instead.
EXACT_MAX_SUPPORT = 15


# ---------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------


def _check_auxiliary(auxiliary, pmf: np.ndarray) -> np.ndarray:
    """The auxiliary pmf F of eqs. (22)-(27); ``None`` means ``F = pmf``."""
    if auxiliary is None:
        return pmf
    f = check_pmf(auxiliary, name="auxiliary")
    if f.shape != pmf.shape:
        raise ValueError(
            f"auxiliary must have the shape of pmf {pmf.shape}, got {f.shape}."
        )
    return f


def _check_n_codewords(n_codewords, name: str = "n_codewords") -> np.ndarray:
    return check_integer_array(n_codewords, name, minimum=1)


def _as_output(values: np.ndarray):
    values = np.asarray(values, dtype=np.float64)
    return float(values) if values.ndim == 0 else values


# ---------------------------------------------------------------------------
# Entropy-like quantities
# ---------------------------------------------------------------------------


def _gamma_entropy_nats(p: np.ndarray, g: np.ndarray) -> np.ndarray:
    pos = p > 0
    log_p = np.log(np.where(pos, p, 1.0))
    expo = (1.0 - p) ** g[..., None]  # (..., n)
    terms = np.where(pos, np.exp(expo * log_p), 0.0)
    # The sum is >= sum(p) = 1; only rounding can push the log below 0.
    return np.maximum(np.log(terms.sum(axis=-1)), 0.0)


def gamma_entropy(pmf, gamma, *, base: float | None = 2):
    """Focal entropy-like quantity H_gamma(P) of Definition 2, eq. (11).

    ``H_gamma(P) = log sum_x P(x) ** ((1 - P(x)) ** gamma)``.
    It is 0 at ``gamma = 0``, non-decreasing in ``gamma`` (Prop. 1) and at
    most :func:`max_gamma_entropy` of the alphabet size.

    Parameters
    ----------
    pmf : array-like of shape (n_symbols,)
        Probability mass function: nonnegative, finite, summing to 1.
    gamma : float or array-like of float
        Focus parameter(s), ``>= 0``.
    base : float or None, default=2
        Base of the logarithm; ``None`` for natural logarithms.

    Returns
    -------
    float or ndarray
        ``H_gamma(P)``, an array shaped like ``gamma`` when it is an array.

    Examples
    --------
    >>> from sklearn_focal.rate_distortion import gamma_entropy
    >>> round(gamma_entropy([0.5, 0.5], 1.0), 6)
    0.5
    >>> float(gamma_entropy([0.5, 0.5], 0.0))
    0.0
    """
    p = check_pmf(pmf)
    g = check_gamma_array(gamma)
    return _as_output(_gamma_entropy_nats(p, g) / log_base(base))


def _eq15_objective(q, d, gamma):
    """(1 - q)**(q**gamma) + d * (q / d)**((1 - q / d)**gamma); no NaN on [0, 1]."""
    with np.errstate(divide="ignore"):
        first = np.exp(q**gamma * np.log1p(-q))
        second = d * np.exp((1.0 - q / d) ** gamma * np.log(q / d))
    return first + second


#: Largest number of values of ``d`` that :func:`max_gamma_entropy` scans
#: (about ``gamma / 4`` of them are needed, see :func:`_d_bound`); past it
#: (``gamma`` above about 1e6 with ``n`` as large) the request is refused.
MAX_GAMMA_ENTROPY_SCAN = 2**18


def _u_slope_sign(x, gamma):
    """Sign of u'(x), u(x) = (1 - (1 - x)**gamma) log(1/x), as x u'(x) / gamma.

    ``x u' = x a' log(1/x) - a`` with ``a = 1 - (1 - x)**gamma``; dividing by
    ``gamma`` (``a / gamma = -log1p(-x) exprel(gamma log1p(-x))``) keeps the
    sign for a tiny ``gamma``, where ``a`` itself underflows.
    """
    log_rest = np.log1p(-x)
    return x * np.exp((gamma - 1.0) * log_rest) * -np.log(x) + log_rest * exprel(
        gamma * log_rest
    )


@functools.lru_cache(maxsize=4096)
def _d_bound(gamma: float) -> int:
    """A ``D`` past which a larger ``d`` never raises the objective of eq. (15).

    With ``x = q / d`` the objective is
    ``(1 - q)**(q**gamma) + q * exp(u(x))``, so at fixed ``q`` it depends on
    ``d`` only through ``u``, which rises from ``u(0+) = 0``. Let ``x_0`` be
    the first stationary point of ``u``: on ``(0, x_0]`` ``u`` increases, so
    for ``d >= 1 / x_0 >= q / x_0`` the objective decreases in ``d``, for
    every ``q`` in [0, 1]. ``D = ceil(1 / x_0) + 1`` (about ``gamma / 4``
    for large ``gamma``, at most 4 for ``gamma <= 1``).
    """
    x = np.geomspace(1e-6 / max(gamma, 1.0), 1.0 - 1e-12, 4096)
    slope = _u_slope_sign(x, gamma)
    falling = np.flatnonzero(slope <= 0)
    if falling.size == 0:  # not met on [0, 1): u increases up to the grid end
        return 2
    i = int(falling[0])
    if i == 0:
        x_0 = x[0]
    else:
        x_0 = brentq(_u_slope_sign, x[i - 1], x[i], args=(gamma,), xtol=1e-300)
    return math.ceil(1.0 / x_0) + 1


@functools.lru_cache(maxsize=4096)
def _max_gamma_entropy_nats(n: int, gamma: float) -> float:
    if n <= 1 or gamma == 0.0:
        return 0.0
    # Every d up to the bound past which the objective decreases in d (exact,
    # see _d_bound), scanned in blocks: memory does not grow with n or gamma.
    n_d = min(n - 1, _d_bound(gamma))
    if n_d > MAX_GAMMA_ENTROPY_SCAN:
        raise ValueError(
            f"max_gamma_entropy with gamma={gamma!r} and n={n} needs a scan of "
            f"{n_d} values of d, more than the limit MAX_GAMMA_ENTROPY_SCAN = "
            f"{MAX_GAMMA_ENTROPY_SCAN}; use a smaller gamma (the n-free bound "
            "gamma_entropy_upper_bound holds for any gamma)."
        )
    q_grid = np.linspace(0.0, 1.0, 513)
    top = -np.inf
    # The highest grid-local maxima (value, d, column) met so far.
    peaks = np.empty((0, 3))
    for start in range(1, n_d + 1, 512):
        d_values = np.arange(start, min(start + 512, n_d + 1), dtype=np.float64)
        grid = _eq15_objective(q_grid[None, :], d_values[:, None], gamma)
        top = max(top, grid.max())
        padded = np.pad(grid, ((0, 0), (1, 1)), constant_values=-np.inf)
        is_peak = (grid >= padded[:, :-2]) & (grid >= padded[:, 2:])
        rows, cols = np.nonzero(is_peak & (grid >= top - 1e-3))
        found = np.column_stack([grid[rows, cols], d_values[rows], cols])
        peaks = np.concatenate([peaks, found])
        peaks = peaks[peaks[:, 0] >= top - 1e-3]
        # At most the 32 highest peaks: the grid value is within ~1e-5 of a peak.
        peaks = peaks[np.argsort(-peaks[:, 0], kind="stable")[:32]]
    # Refine every grid-local maximum that comes within 1e-3 of the best one
    # with a bounded Brent search on the bracketing grid cells.
    best = top
    for _, d, c in peaks:
        c = int(c)
        lo = q_grid[max(c - 1, 0)]
        hi = q_grid[min(c + 1, q_grid.size - 1)]
        res = minimize_scalar(
            lambda q, d=d: -_eq15_objective(q, d, gamma),
            bounds=(lo, hi),
            method="bounded",
            options={"xatol": 1e-14, "maxiter": 500},
        )
        best = max(best, -float(res.fun))
    return math.log(best)


def max_gamma_entropy(n, gamma, *, base: float | None = 2):
    """Maximum of H_gamma over pmfs on ``n`` symbols, h_gamma(n) by eq. (15).

    ``h_gamma(n) = max_{d in [1:n-1], q in [0,1]}
    log((1 - q)**(q**gamma) + d * (q/d)**((1 - q/d)**gamma))`` (Prop. 2).
    For each ``d`` the inner maximum over ``q`` is found by a grid search
    refined with a bounded Brent search to about 1e-12 absolute accuracy.
    Only ``d`` up to about ``gamma / 4`` (4 for ``gamma <= 1``) is scanned:
    past that bound the objective decreases in ``d`` for every ``q``, so
    ``h_gamma(n)`` stops growing with ``n``; time and memory therefore do not
    grow with ``n``. ``h_gamma(1) = 0``. Results are cached per
    ``(n, gamma)``.

    Parameters
    ----------
    n : int
        Alphabet size, ``>= 1``.
    gamma : float or array-like of float
        Focus parameter(s), ``>= 0``.
    base : float or None, default=2
        Base of the logarithm; ``None`` for natural logarithms.

    Returns
    -------
    float or ndarray
        ``h_gamma(n)``, shaped like ``gamma``.

    Raises
    ------
    ValueError
        If more than ``MAX_GAMMA_ENTROPY_SCAN`` values of ``d`` must be
        scanned (``gamma`` above about 1e6 with ``n`` at least as large).

    See Also
    --------
    gamma_entropy_upper_bound : The ``n``-free bound (16).

    Examples
    --------
    >>> from sklearn_focal.rate_distortion import max_gamma_entropy
    >>> round(max_gamma_entropy(2, 1.0), 6)
    0.5
    >>> max_gamma_entropy(100, 1.0) <= max_gamma_entropy(1000, 1.0)
    True
    """
    n = check_integer(n, "n", minimum=1)
    g = check_gamma_array(gamma)
    flat = np.array([_max_gamma_entropy_nats(n, float(v)) for v in g.ravel()])
    return _as_output(flat.reshape(g.shape) / log_base(base))


def gamma_entropy_upper_bound(gamma, *, base: float | None = 2):
    """Alphabet-free bound (16): ``log(1 + e**(max(1, gamma) / e))``.

    Parameters
    ----------
    gamma : float or array-like of float
        Focus parameter(s), ``>= 0``.
    base : float or None, default=2
        Base of the logarithm; ``None`` for natural logarithms.

    Returns
    -------
    float or ndarray
        The bound, shaped like ``gamma``.

    Examples
    --------
    >>> from sklearn_focal.rate_distortion import gamma_entropy_upper_bound
    >>> round(gamma_entropy_upper_bound(1.0, base=None), 6)
    0.893909
    """
    g = check_gamma_array(gamma)
    return _as_output(np.logaddexp(0.0, np.maximum(1.0, g) / math.e) / log_base(base))
