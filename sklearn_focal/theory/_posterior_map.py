"""phi, h, the posterior map Psi^gamma and its inverse (the focal-risk minimizer)."""
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sklearn_focal.theory._focal_terms import (
    h_values,
    phi_values,
)
from sklearn_focal.utils._dask import is_dask_array, map_row_blocks
from sklearn_focal.utils.validation import (
    check_alpha,
    check_distribution,
    check_gamma,
    check_unit_interval,
    raise_row_defects,
    row_sum_tolerance,
)


def _restore(result, dtype, one_row):
    result = result.astype(dtype, copy=False)
    return result[0] if one_row else result


# --------------------------------------------------------------------------
# phi, h
# --------------------------------------------------------------------------


def phi(v: ArrayLike, gamma: float) -> NDArray:
    """The function phi^gamma of Charoenphakdee et al. (2021), elementwise.

    ``phi(v) = (1 - v)^gamma - gamma (1 - v)^(gamma - 1) v log v``, so that
    ``h(v) = v / phi(v)``. It is 1 at ``v = 0``, peaks at :func:`tau_oc`,
    crosses 1 again at :func:`tau_uc` and falls to 0 at ``v = 1`` (gamma > 0).

    Parameters
    ----------
    v : array-like of float in [0, 1]
        Probabilities.
    gamma : float
        Focusing parameter, ``gamma >= 0``.

    Returns
    -------
    ndarray
        ``phi(v)``, same shape and float dtype as ``v``.

    Examples
    --------
    >>> from sklearn_focal.theory import phi
    >>> phi([0.0, 0.5, 1.0], gamma=0.0)
    array([1., 1., 1.])
    >>> float(phi(0.5, gamma=1.0))  # 0.5 + 0.5 log 2
    0.8465735902799727
    """
    gamma = check_gamma(gamma)
    array = check_unit_interval(v)
    if gamma == 0:
        return np.ones_like(array)
    out = phi_values(array.astype(np.float64), gamma)
    return out.astype(array.dtype, copy=False)


def h(v: ArrayLike, gamma: float) -> NDArray:
    """The increasing function ``h(v) = v / phi^gamma(v)``, elementwise.

    Computed in log space from
    ``1/h(v) = (1 - v)^(gamma - 1) ((1 - v)/v - gamma log v)``, a product of
    positive factors. ``h(0) = 0`` and ``h(v)`` grows without bound as
    ``v -> 1`` (``h(1) = inf`` for gamma > 0).

    Parameters
    ----------
    v : array-like of float in [0, 1]
        Probabilities.
    gamma : float
        Focusing parameter, ``gamma >= 0``. ``gamma = 0`` gives ``h(v) = v``.

    Returns
    -------
    ndarray
        ``h(v)``, same shape and float dtype as ``v``.

    Examples
    --------
    >>> from sklearn_focal.theory import h
    >>> h([0.0, 0.25, 0.5], gamma=0.0)
    array([0.  , 0.25, 0.5 ])
    >>> h([0.0, 1.0], gamma=2.0)
    array([ 0., inf])
    """
    gamma = check_gamma(gamma)
    array = check_unit_interval(v)
    if gamma == 0:
        return array.copy() if isinstance(array, np.ndarray) else np.asarray(array)
    out = h_values(array.astype(np.float64), gamma)
    return out.astype(array.dtype, copy=False)


# --------------------------------------------------------------------------
# Psi and its inverse
# --------------------------------------------------------------------------


def psi(q: ArrayLike, gamma: float, *, alpha: ArrayLike | None = None) -> NDArray:
    """Recover the class posterior from a focal-loss output: Psi^gamma.

    ``Psi_i(q) = (h(q_i) / alpha_i) / sum_l (h(q_l) / alpha_l)`` (Thm 11 of
    Charoenphakdee et al., 2021, extended to the alpha-balanced focal loss).
    It maps the minimizer of the focal risk back to the true posterior,
    preserves the argmax and the order of the entries, keeps zeros at zero and
    one-hot rows unchanged, and is the identity for ``gamma = 0`` without
    ``alpha``.

    Parameters
    ----------
    q : array-like of shape (n_samples, n_classes) or (n_classes,)
        Softmax outputs of a focal-trained model; rows sum to 1.
    gamma : float
        Focusing parameter of the focal loss, ``gamma >= 0``.
    alpha : array-like of shape (n_classes,), default=None
        Per-class weights of the alpha-balanced focal loss
        ``-alpha_y (1 - q_y)^gamma log q_y``. Minimizing
        ``sum_i eta_i alpha_i (1 - q_i)^gamma log(1/q_i)`` over the simplex
        gives ``h(q_i) = eta_i alpha_i / lambda``, hence the ``1/alpha_i``.

    Returns
    -------
    ndarray of the same shape and float dtype as ``q``
        Recovered posteriors; rows sum to 1. A dask array ``q`` (2-D,
        chunked along rows) gives a lazy dask array with the same row chunks,
        computed chunk by chunk; a bad row raises when computed, naming its
        global row.

    See Also
    --------
    focal_minimizer : The inverse map.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.theory import psi
    >>> psi([0.6, 0.3, 0.1], gamma=0.0)
    array([0.6, 0.3, 0.1])
    >>> p = psi([0.6, 0.3, 0.1], gamma=2.0)
    >>> p.round(4), int(np.argmax(p))
    (array([0.7945, 0.1617, 0.0438]), 0)
    """
    gamma = check_gamma(gamma)
    if is_dask_array(q):  # lazily, chunk by chunk; errors name global rows
        check_alpha(alpha, q.shape[-1])
        return map_row_blocks(psi, q, gamma, alpha=alpha, dtype=q.dtype, name="q")
    # For gamma > 0 the kernel validates the values in its own pass.
    rows, one_row = check_distribution(q, "q", check_values=gamma == 0)
    weights = check_alpha(alpha, rows.shape[1])
    if gamma == 0:
        if weights is None:
            return _restore(rows.copy(), rows.dtype, one_row)
        scaled = rows.astype(np.float64) / weights
        return _restore(scaled / scaled.sum(axis=1, keepdims=True), rows.dtype, one_row)
    from sklearn_focal.theory import _kernels as _theory_kernels

    x = np.ascontiguousarray(rows, dtype=np.float64)
    if weights is None:
        weights = np.ones(x.shape[1])
    out = np.empty_like(x)
    codes = np.empty(x.shape[0], dtype=np.int8)
    tolerance = row_sum_tolerance(rows.dtype, x.shape[1])
    _theory_kernels.dispatch(
        _theory_kernels.psi_rows,
        _theory_kernels.psi_rows_serial,
        x,
        gamma,
        1.0 / weights,
        np.log(weights),
        _theory_kernels.power_mode(gamma - 1.0),
        tolerance,
        codes,
        out,
        size=x.size,
    )
    raise_row_defects(codes, x, "q", tolerance)
    return _restore(out, rows.dtype, one_row)


def _solve_focal_minimizer(x, gamma, weights=None):
    """q* and lambda for validated float64 rows ``x`` (no checks)."""
    # Below 1e-20, q* differs from the gamma = 0 answer by less than
    # gamma * |log p| * O(1) < 1e-17 relative: the closed form is exact in
    # float64, and Newton's Jacobian would degenerate.
    if gamma < 1e-20:
        scaled = x if weights is None else x * weights
        lam = scaled.sum(axis=1)
        q = scaled / lam[:, None]
    else:
        from sklearn_focal.theory import _kernels as _theory_kernels

        x = np.ascontiguousarray(x)
        log_alpha = np.zeros(x.shape[1]) if weights is None else np.log(weights)
        q = np.empty_like(x)
        log_lam = np.empty(x.shape[0])
        status = np.empty(x.shape[0], dtype=np.int32)
        _theory_kernels.dispatch(
            _theory_kernels.focal_minimizer_rows,
            _theory_kernels.focal_minimizer_rows_serial,
            x,
            log_alpha,
            gamma,
            q,
            log_lam,
            status,
            size=x.size,
        )
        if (status < 0).any():  # pragma: no cover - guarded by the tests
            row = int(np.flatnonzero(status < 0)[0])
            raise RuntimeError(
                f"focal_minimizer did not converge for row {row}; please report "
                "this input as a bug"
            )
        lam = np.exp(log_lam)
    return q, lam


def focal_minimizer(
    p: ArrayLike,
    gamma: float,
    *,
    alpha: ArrayLike | None = None,
    return_lambda: bool = False,
):
    """The unique minimizer over the simplex of the focal-entropy, row-wise.

    ``q*(p) = argmin_q sum_i alpha_i p_i (1 - q_i)^gamma log(1/q_i)``: the
    output of a model trained to the focal risk minimum when the true
    posterior is ``p``. It is the inverse of :func:`psi`: since ``h`` is
    strictly increasing, ``q*_i = h^{-1}(alpha_i p_i / lambda)`` with the
    multiplier ``lambda`` fixed by ``sum_i q*_i = 1``. Entries with
    ``p_i = 0`` give ``q*_i = 0``.

    The system is solved by Newton's method on the logits of ``q`` and
    ``log lambda`` jointly, compiled and parallel over rows. A row on which
    Newton's method stalls (huge gamma, entries spanning hundreds of orders
    of magnitude) restarts from a bracketed solve in ``lambda`` alone, which
    always converges.

    Parameters
    ----------
    p : array-like of shape (n_samples, n_classes) or (n_classes,)
        Class posteriors; rows sum to 1.
    gamma : float
        Focusing parameter, ``gamma >= 0``.
    alpha : array-like of shape (n_classes,), default=None
        Per-class weights of the alpha-balanced focal loss.
    return_lambda : bool, default=False
        Also return the Lagrange multiplier ``lambda`` of every row. For
        ``alpha=None``, ``lambda > 1`` means the small-probability tail is
        over-suppressed (see :func:`focal_regimes`); ``lambda = 0`` for
        one-hot rows.

    Returns
    -------
    q : ndarray of the same shape and float dtype as ``p``
        The minimizers; rows sum to 1. A dask array ``p`` gives a lazy dask
        array with its row chunks.
    lam : ndarray of shape (n_samples,) or float
        Only when ``return_lambda=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.theory import focal_minimizer, psi
    >>> p = np.array([0.8, 0.15, 0.05])
    >>> q = focal_minimizer(p, gamma=2.0)
    >>> q.round(4)
    array([0.6009, 0.2853, 0.1138])
    >>> bool(np.allclose(psi(q, gamma=2.0), p, rtol=0, atol=1e-14))
    True
    """
    gamma = check_gamma(gamma)
    if is_dask_array(p):
        return _dask_focal_minimizer(p, gamma, alpha, return_lambda)
    rows, one_row = check_distribution(p, "p")
    weights = check_alpha(alpha, rows.shape[1])
    x = np.asarray(rows, dtype=np.float64)  # no copy for float64 input
    q, lam = _solve_focal_minimizer(x, gamma, weights)
    q = _restore(q, rows.dtype, one_row)
    if return_lambda:
        return q, (float(lam[0]) if one_row else lam)
    return q


def _minimizer_with_lambda(p, gamma, alpha):
    """One chunk of the dask path: ``[q | lambda]`` in float64."""
    q, lam = focal_minimizer(p, gamma, alpha=alpha, return_lambda=True)
    return np.column_stack([q.astype(np.float64), lam])


def _dask_focal_minimizer(p, gamma, alpha, return_lambda):
    check_alpha(alpha, p.shape[-1])
    if not return_lambda:
        return map_row_blocks(
            focal_minimizer, p, gamma, alpha=alpha, dtype=p.dtype, name="p"
        )
    n_classes = p.shape[1]
    packed = map_row_blocks(
        _minimizer_with_lambda,
        p,
        gamma,
        alpha,
        dtype=np.float64,
        n_columns=n_classes + 1,
        name="p",
    )
    return packed[:, :n_classes].astype(p.dtype), packed[:, n_classes]


# --------------------------------------------------------------------------
# The signed map at one label per row (the calibration objective's terms)
# --------------------------------------------------------------------------

# A negative order within this distance of the kept solution starts Newton's
# method from it (moved to first order along its derivative); farther, from
# the table of focal_minimizer.
_WARM_MAX = 3e-3
# Below this order focal_minimizer is the closed form p / sum(p).
_CLOSED_FORM_BELOW = 1e-20


class _SignedMapAtLabels:
    """``log m_g(p)[r, y_r]`` and its derivative in ``g``, for fixed rows.

    ``m_g`` is the signed family of ``FocalPosteriorRecovery(gamma="fit")``
    without class weights: :func:`psi` of order ``g`` for ``g >= 0`` (the
    rows themselves at ``g = 0``), :func:`focal_minimizer` of order ``-g``
    below. Only the labelled entry of each row is formed, with its derivative
    (analytic; implicit for the minimizer), by the kernels of
    :mod:`sklearn_focal.theory._label_kernels`. The values equal those of the
    public maps to rounding.

    Internal entry point: ``rows`` must already be validated probability rows
    (float64, finite, nonnegative, summing to 1) and ``labels`` column
    indices; nothing is checked again, however many orders are evaluated.
    Successive negative orders reuse the last solution as Newton's start.

    Parameters
    ----------
    rows : ndarray of shape (n_samples, n_classes)
        Validated float64 probability rows.
    labels : ndarray of shape (n_samples,)
        Column index of each row's label.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.theory import focal_minimizer
    >>> from sklearn_focal.theory._posterior_map import _SignedMapAtLabels
    >>> p = np.array([[0.7, 0.2, 0.1], [0.3, 0.3, 0.4]])
    >>> log_q, slope = _SignedMapAtLabels(p, np.array([0, 2]))(-2.0)
    >>> expected = np.log(focal_minimizer(p, 2.0)[[0, 1], [0, 2]])
    >>> bool(np.allclose(log_q, expected, rtol=1e-14))
    True
    """

    def __init__(self, rows, labels):
        self._p = np.ascontiguousarray(rows, dtype=np.float64)
        self._labels = np.ascontiguousarray(labels, dtype=np.intp)
        with np.errstate(divide="ignore"):
            self._log_p = np.log(self._p)
        self._log1m_p = None
        self._state = None  # (order, t, mu, dt, dmu) of the last negative order

    def __call__(self, g):
        """``(log m_g(p)[r, y_r], d/dg of it)``, two arrays of shape (n_samples,)."""
        g = float(g)
        if g >= 0:
            log_psi, slope = self._psi(g)
            if g == 0:  # psi of order 0 returns the rows as given
                log_psi = self._log_p[np.arange(self._p.shape[0]), self._labels]
            return log_psi, slope
        gamma = -g
        if gamma < _CLOSED_FORM_BELOW:  # q = p / sum(p); the slope is continuous
            rows = np.arange(self._p.shape[0])
            log_q = self._log_p[rows, self._labels] - np.log(self._p.sum(axis=1))
            return log_q, self._psi(0.0)[1]
        log_q, slope = self._minimizer(gamma)
        return log_q, -slope

    def _psi(self, gamma):
        from sklearn_focal.theory import _label_kernels as kernels
        from sklearn_focal.utils._parallel import dispatch

        log1m_p = self._log1m_p
        if log1m_p is None:
            with np.errstate(divide="ignore"):
                log1m_p = np.log1p(-self._p)
            if gamma > 0:  # kept for the next positive order (not for 0 alone)
                self._log1m_p = log1m_p
        n = self._p.shape[0]
        log_psi, slope = np.empty(n), np.empty(n)
        dispatch(
            kernels.psi_label_rows,
            kernels.psi_label_rows_serial,
            self._p,
            self._log_p,
            log1m_p,
            self._labels,
            gamma,
            log_psi,
            slope,
            size=self._p.size,
        )
        return log_psi, slope

    def _minimizer(self, gamma):
        from sklearn_focal.theory import _label_kernels as kernels
        from sklearn_focal.utils._fastmath import POWER_GENERAL, power_mode
        from sklearn_focal.utils._parallel import dispatch

        n, k = self._p.shape
        state = self._state
        if state is None:
            start = kernels.COLD
            state = (
                gamma,
                np.empty((n, k)),
                np.empty(n),
                np.empty((n, k)),
                np.empty(n),
            )
        elif abs(gamma - state[0]) <= _WARM_MAX:
            start = kernels.WARM
        else:  # the table, its iteration in mu from the predicted mu
            start = kernels.SEEDED
        mode = power_mode(gamma - 1.0)
        linear = mode != POWER_GENERAL
        power = (linear, mode, int(np.floor(gamma - 1.0)) if linear else 0)
        log_q, slope = np.empty(n), np.empty(n)
        status = np.empty(n, dtype=np.int32)
        dispatch(
            kernels.minimizer_label_rows,
            kernels.minimizer_label_rows_serial,
            self._p,
            self._log_p,
            self._labels,
            gamma,
            power,
            start,
            gamma - state[0],
            *state[1:],
            log_q,
            slope,
            status,
            size=self._p.size,
        )
        if (status < 0).any():  # pragma: no cover - guarded by the tests
            row = int(np.flatnonzero(status < 0)[0])
            raise RuntimeError(
                f"focal_minimizer did not converge for row {row}; please report "
                "this input as a bug"
            )
        self._state = (gamma, *state[1:])
        return log_q, slope
