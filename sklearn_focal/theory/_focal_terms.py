"""The one numpy home of the focal terms and of phi / h.

The focal loss of a prediction ``q`` is ``(1 - q)^gamma log(1/q)``;
:func:`focal_terms` computes it elementwise for every numpy consumer of the
package (focal-entropy, temperature scaling, rate-distortion, the command
line), from whatever the caller holds most accurately: ``q`` itself,
``log q``, ``1 - q`` or ``log(1 - q)``.

``phi(v) = (1 - v)^gamma - gamma (1 - v)^(gamma - 1) v log v`` and
``h(v) = v / phi(v)`` (Charoenphakdee et al., CVPR 2021) are written in the
forms below; each is the one that is exact where its caller needs it.

================================  ===================  ==============================
form                              used by              why this form
================================  ===================  ==============================
:func:`log_inverse_h`             ``theory.phi``,      ``log(1/h)`` as a sum of logs
                                  ``theory.h``         of positive factors: no
                                                       cancellation, no overflow
:func:`phi_direct`                ``focal_regimes``    scalar, for the root of
                                  (peak value)         ``phi(t) = lambda`` below the
                                                       peak
:func:`phi_of_one_minus`          scalar reference     ``phi(1 - u)`` from ``u``:
                                                       exact a few ulps below 1
``_phi_below_peak``,              ``focal_regimes``    compiled forms of the two
``_phi_above_peak``               (both crossings)     above with their slopes, in
                                                       ``_theory_kernels``: Newton
                                                       for every distinct lambda
:func:`phi_minus_one_over_gamma`  ``tau_uc``           ``(phi - 1) / gamma`` by
                                  (gamma < 1)          ``exprel``: continuous at 0
:func:`log_phi_scaled`            ``tau_uc``           ``log phi`` in ``y = gamma v``:
                                  (gamma >= 1)         brackets cannot overflow
:func:`phi_peak_equation`         ``tau_oc``           ``phi' = 0`` with the root at
                                  (gamma < 1)          ``v = 1`` divided out
:func:`phi_peak_equation_scaled`  ``tau_oc``           the same in ``x = gamma v``:
                                  (gamma >= 1)         no cancellation, root in (0, 1)
``_h_over_alpha``,                ``psi``              compiled forms, in
``_log_inverse_h_core``                                ``_theory_kernels``: ``h/alpha``
                                                       per element, branch-free for
                                                       the vectorized blocks, and
                                                       ``log h`` for rows redone in
                                                       log space
``_psi_label_rows``               ``FocalPosterior     compiled, in ``_label_kernels``:
                                  Recovery(gamma=      ``log Psi(p)[y]`` and its
                                  'fit')``             slope in ``gamma`` (by
                                                       ``_log_h_gamma_slope``)
``_log_h_logit``,                 ``focal_minimizer``  compiled form, in
``_log_h_logit_slopes``,                               ``_theory_kernels``: ``log h``
``_residual_logit``                                    and its slope in the logit of
                                                       ``q`` (and in ``gamma``, for
                                                       the order's fit), for
                                                       Newton's method
``_log_h_gamma_slope``            the two rows above   compiled, in
                                                       ``_theory_kernels``: the one
                                                       compiled ``d log h / d
                                                       gamma``, from ``log q``,
                                                       ``log(1 - q)`` and ``core``
                                                       times ``q`` or ``exp(t)``
:func:`log_h_terms`               ``log_inverse_h``,   ``log h`` from ``log q``,
                                  the fit of           ``log(1 - q)`` and the
                                  FocalTemperature-    log-odds as the caller holds
                                  Scaling
                                                       them (a softmax's top class:
                                                       ``1 - q`` = sum of the
                                                       others, so saturated rows
                                                       stay finite), with its slopes
                                                       in ``gamma`` and ``logit(q)``
                                                       for the fit's exact gradient
``inverse_table``                 ``focal_minimizer``  compiled form, in
                                                       ``_theory_kernels``: a table
                                                       of ``h^{-1}``, Newton's start
``_binary_psi_fast``,             ``binary_psi``       compiled, in ``_binary_kernels``:
``_binary_psi_exact``                                  ``h(q) / h(1 - q)`` branch-free
                                                       for the vectorized pass, and
                                                       through ``_log_h_logit`` for
                                                       the entries it flags
``_log_h_logit`` (twice)          ``binary_focal_      compiled: ``log h(q) -
                                  minimizer``          log h(1 - q)`` and its slope
                                                       in the logit, for Newton
================================  ===================  ==============================

The focal terms themselves have compiled forms too, with gradients: the loss
kernels of :mod:`sklearn_focal.losses._kernels` (hard, soft and binary targets)
and the torch expressions of :mod:`sklearn_focal.losses`.
"""
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from scipy.special import exprel, log_expit

__all__ = [
    "entropy_nats",
    "focal_terms",
    "h_values",
    "log1mexp",
    "log_h_terms",
    "log_inverse_h",
    "log_phi_scaled",
    "phi_direct",
    "phi_minus_one_over_gamma",
    "phi_of_one_minus",
    "phi_peak_equation",
    "phi_peak_equation_scaled",
    "phi_values",
]


# --------------------------------------------------------------------------
# Focal terms
# --------------------------------------------------------------------------


def log1mexp(x):
    """``log(1 - exp(x))`` for ``x <= 0``, accurate near 0 and for large ``-x``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.theory._focal_terms import log1mexp
    >>> bool(np.isclose(log1mexp(np.log(0.25)), np.log(0.75)))
    True
    """
    with np.errstate(divide="ignore"):
        return np.where(x > -np.log(2.0), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def focal_terms(
    q, gamma, *, weights=None, log_q=None, complement=None, log_complement=None
):
    """Elementwise focal terms ``weights * (1 - q)^gamma * log(1/q)``.

    Give the prediction in the most accurate form at hand: the factor
    ``(1 - q)^gamma`` comes from ``log_complement`` (``log(1 - q)``) if given,
    else from ``complement`` (``1 - q``), else from ``-expm1(log_q)`` or
    ``1 - q``; ``log(1/q)`` comes from ``log_q`` if given, else from ``q``.

    Conventions: ``q = 0`` gives ``+inf``; ``gamma = 0`` is the log loss
    (the factor is exactly 1); with ``weights``, entries of weight 0 are 0
    whatever ``q`` (``0 * inf`` is not NaN).

    Parameters
    ----------
    q : ndarray or None
        Predicted probabilities; ``None`` when ``log_q`` is given.
    gamma : float or ndarray
        Focusing parameter(s) >= 0, broadcast against ``q``.
    weights : ndarray, default=None
        Nonnegative weights (targets, pmf entries), broadcast against ``q``.
    log_q : ndarray, default=None
        ``log q``.
    complement : ndarray, default=None
        ``1 - q``, computed more accurately than by subtraction.
    log_complement : ndarray, default=None
        ``log(1 - q)``.

    Returns
    -------
    ndarray
        The terms, in nats.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.theory._focal_terms import focal_terms
    >>> focal_terms(np.array([0.5, 0.75, 0.0]), 1.0)
    array([0.34657359, 0.07192052,        inf])
    >>> focal_terms(np.array([0.5, 0.0]), 2.0, weights=np.array([1.0, 0.0]))
    array([0.1732868, 0.       ])
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        surprise = -np.log(q) if log_q is None else -log_q
        if np.ndim(gamma) == 0 and gamma == 0:
            modulating = 1.0
        elif log_complement is not None:
            modulating = np.exp(gamma * log_complement)
        else:
            if complement is None:
                complement = 1.0 - q if log_q is None else -np.expm1(log_q)
            modulating = np.power(complement, gamma)
        if weights is None:
            return modulating * surprise
        return np.where(weights > 0, weights * modulating * surprise, 0.0)


def entropy_nats(p):
    """Shannon entropy of a pmf in nats: the focal terms of ``p`` at gamma = 0.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.theory._focal_terms import entropy_nats
    >>> bool(np.isclose(entropy_nats(np.array([0.5, 0.5, 0.0])), np.log(2)))
    True
    """
    pos = p > 0
    return float(np.sum(focal_terms(np.where(pos, p, 1.0), 0.0, weights=p)))


# --------------------------------------------------------------------------
# phi and h
# --------------------------------------------------------------------------


def log_inverse_h(v, gamma):
    """``log(1/h(v)) = (gamma - 1) log(1 - v) + log((1 - v)/v - gamma log v)``.

    For ``0 < v < 1``, elementwise, without cancellation.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.theory._focal_terms import log_inverse_h
    >>> bool(np.isclose(log_inverse_h(np.array([0.25]), 0.0)[0], np.log(4.0)))
    True
    """
    with np.errstate(divide="ignore"):
        log_v = np.log(v)
        log_one_minus = np.log1p(-v)
        log_odds = log_one_minus - log_v
    return -log_h_terms(log_v, log_one_minus, log_odds, gamma, slopes=False)


# Below this log-odds t, log(-log q) = log(log(1 + e^t)) = t - e^t / 2 + ...
# equals t to double precision (e^-40 / 2 is below half an ulp of 40).
_LOG_NEG_LOG_Q_IS_LOG_ODDS_BELOW = -40.0


def log_h_terms(log_q, log_complement, log_odds, gamma, *, slopes=True):
    """``log h(q)`` and its derivatives in ``gamma`` and in ``logit(q)``, from logs.

    For ``0 < q < 1`` and ``gamma >= 0``, elementwise,
    ``log h = (1 - gamma) log(1 - q) - log core`` with
    ``core = (1 - q)/q - gamma log q``, a sum of positive terms. The caller
    passes ``log q``, ``log(1 - q)`` and ``log((1 - q)/q)`` in whatever form it
    holds them most accurately (for a softmax's top class, ``1 - q`` is the
    sum of the other classes, not ``1 - q`` rounded); ``log(-log q)`` is
    ``log softplus(log-odds)``, exact as ``q -> 1``. The slopes are

    - ``d log h / d gamma = -log(1 - q) + log(q) / core`` (compiled twin:
      ``_kernels._log_h_gamma_slope``);
    - ``d log h / d logit(q) = (gamma - 1) q + (1 - q)(1/q + gamma) / core``,
      every term bounded (``(1 - q)/(q core) <= 1``).

    Parameters
    ----------
    log_q, log_complement, log_odds : ndarray
        ``log q``, ``log(1 - q)`` and ``log((1 - q)/q)``, finite.
    gamma : float
        The order, >= 0.
    slopes : bool, default=True
        Whether to return the two derivatives too.

    Returns
    -------
    log_h : ndarray
        ``log h(q)``.
    d_gamma, d_logit : ndarray
        The derivatives, with ``slopes``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.theory._focal_terms import log_h_terms
    >>> log_q, log_c = np.log(np.array([0.25])), np.log(np.array([0.75]))
    >>> log_h, d_gamma, d_logit = log_h_terms(log_q, log_c, log_c - log_q, 0.0)
    >>> bool(np.isclose(log_h[0], np.log(0.25)))  # h(q) = q at gamma = 0
    True
    >>> bool(np.isclose(d_logit[0], 0.75))  # d log q / d logit(q) = 1 - q
    True
    """
    with np.errstate(divide="ignore", over="ignore"):
        # -log q = log(1 + (1 - q)/q) = -log_expit(-log-odds)
        log_neg_log_q = np.where(
            log_odds < _LOG_NEG_LOG_Q_IS_LOG_ODDS_BELOW,
            log_odds,
            np.log(-log_expit(-log_odds)),
        )
        if gamma == 0:
            log_core = log_odds
        else:
            log_core = np.logaddexp(log_odds, np.log(gamma) + log_neg_log_q)
        log_h = (1.0 - gamma) * log_complement - log_core
        if not slopes:
            return log_h
        d_gamma = -log_complement - np.exp(log_neg_log_q - log_core)
        ratio = np.exp(log_odds - log_core)  # (1 - q) / (q core), in (0, 1]
        d_logit = (
            (gamma - 1.0) * np.exp(log_q)
            + ratio
            + gamma * np.exp(log_complement - log_core)
        )
    return log_h, d_gamma, d_logit


def phi_values(x, gamma):
    """``phi(x)`` for float64 ``x`` in [0, 1] and ``gamma > 0``, in log space.

    ``phi = v / h = v exp(log(1/h))``: no cancellation; 1 at 0 and 0 at 1.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.theory._focal_terms import phi_values
    >>> phi_values(np.array([0.0, 1.0]), 2.0)
    array([1., 0.])
    """
    out = np.empty_like(x)
    inside = (x > 0) & (x < 1)
    out[x == 0] = 1.0
    out[x == 1] = 0.0
    xi = x[inside]
    out[inside] = np.exp(np.log(xi) + log_inverse_h(xi, gamma))
    return out


def h_values(x, gamma):
    """``h(x)`` for float64 ``x`` in [0, 1] and ``gamma > 0``, in log space.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.theory._focal_terms import h_values
    >>> h_values(np.array([0.0, 1.0]), 2.0)
    array([ 0., inf])
    """
    out = np.empty_like(x)
    out[x == 0] = 0.0
    out[x == 1] = np.inf
    inside = (x > 0) & (x < 1)
    with np.errstate(over="ignore"):
        out[inside] = np.exp(-log_inverse_h(x[inside], gamma))
    return out


def phi_direct(v, gamma):
    """``phi(v)`` of a scalar ``v`` in [0, 1), by its defining formula.

    Examples
    --------
    >>> from sklearn_focal.theory._focal_terms import phi_direct
    >>> phi_direct(0.0, 2.0)
    1.0
    """
    if v <= 0:
        return 1.0
    log_one_minus = np.log1p(-v)
    return np.exp(gamma * log_one_minus) - gamma * np.exp(
        (gamma - 1) * log_one_minus
    ) * v * np.log(v)


def phi_of_one_minus(u, gamma):
    """``phi(1 - u)``, from ``u`` itself: exact however close ``1 - u`` is to 1.

    Examples
    --------
    >>> from sklearn_focal.theory._focal_terms import phi_direct, phi_of_one_minus
    >>> bool(abs(phi_of_one_minus(0.25, 2.0) - phi_direct(0.75, 2.0)) < 1e-15)
    True
    """
    log_u = np.log(u)
    return np.exp(gamma * log_u) - gamma * np.exp((gamma - 1) * log_u) * (
        1.0 - u
    ) * np.log1p(-u)


def phi_minus_one_over_gamma(v, gamma):
    """``(phi(v) - 1) / gamma``, continuous at ``gamma = 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.theory._focal_terms import (
    ...     phi_direct,
    ...     phi_minus_one_over_gamma,
    ... )
    >>> value = phi_minus_one_over_gamma(0.5, 2.0)
    >>> bool(np.isclose(value, (phi_direct(0.5, 2.0) - 1) / 2))
    True
    """
    log_one_minus = np.log1p(-v)
    first = log_one_minus * exprel(gamma * log_one_minus)
    return first - np.exp((gamma - 1.0) * log_one_minus) * v * np.log(v)


def log_phi_scaled(y, gamma):
    """``log phi(v)`` at ``v = y / gamma``, for ``gamma >= 1``.

    ``phi(v) = (1 - v)^(gamma - 1) (1 - v - gamma v log v)`` and
    ``-gamma v log v = y (log(gamma) - log(y))``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.theory._focal_terms import log_phi_scaled, phi_direct
    >>> bool(np.isclose(log_phi_scaled(1.0, 4.0), np.log(phi_direct(0.25, 4.0))))
    True
    """
    v = y / gamma
    core = 1.0 - v + y * (np.log(gamma) - np.log(y))
    return (gamma - 1.0) * np.log1p(-v) + np.log(core)


def phi_peak_equation(v, gamma):
    """``phi'(v) = 0`` as ``(2(1 - v) + (1 - gamma v) log v) / (1 - v) = 0``.

    The root at ``v = 1`` is divided out; the root in (0, 1) is ``tau_oc``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.theory._focal_terms import phi_peak_equation
    >>> bool(abs(phi_peak_equation(np.exp(-2.0), 1.0)) < 1e-15)  # tau_oc(1)
    True
    """
    return 2.0 + (1.0 - gamma * v) * np.log(v) / (1.0 - v)


def phi_peak_equation_scaled(x, gamma):
    """:func:`phi_peak_equation` in ``x = gamma v`` (gamma >= 1), over ``1 - x``.

    The root ``x`` lies in (0, 1) for every gamma >= 1,
    ``x -> 1 - 2/log(gamma)`` as gamma grows, and no ``1 - gamma v`` cancels.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.theory._focal_terms import phi_peak_equation_scaled
    >>> bool(abs(phi_peak_equation_scaled(np.exp(-2.0), 1.0)) < 1e-15)
    True
    """
    return 2.0 * (1.0 - x / gamma) / (1.0 - x) + np.log(x) - np.log(gamma)
