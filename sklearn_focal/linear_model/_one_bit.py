"""Maximum likelihood from 1-bit measurements: the OneBitGLM estimator."""
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.optimize import linprog
from scipy.special import ndtri
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data

from sklearn_focal.exceptions import IllConditionedFisherWarning
from sklearn_focal.linear_model._families import (
    gaussian_bit_terms,
    gaussian_log_probs,
    poisson_bit_terms,
    poisson_k,
    poisson_log_probs,
)
from sklearn_focal.linear_model._fisher import (
    check_row_inputs,
    gaussian_informations,
    poisson_informations,
)
from sklearn_focal.utils._compat import Interval, StrOptions
from sklearn_focal.utils._compat import fit_context as _fit_context
from sklearn_focal.utils.validation import (
    check_bits,
    check_finite_array,
    check_real,
    check_sample_aligned,
    check_sample_weight,
)

__all__ = ["OneBitGLM"]

#: ``fisher_information_`` scaled to unit diagonal with a larger condition
#: number gives an :class:`~sklearn_focal.exceptions.IllConditionedFisherWarning`.
ILL_CONDITIONED = 1e10
# A bit fitted with probability above 1 - 1e-9 prompts the separation check.
# Along a separating direction Newton's steps do not shrink (about 1 / t for
# the probit) until the separated rows' gradient and curvature are lost to
# rounding against the other rows' (relative size eps * n), which needs
# probabilities within about 1e-15 of 1; 1e-9 leaves a wide margin.
_SEPARATION_LOGLIK = -1e-9


class OneBitGLM(BaseEstimator):
    """Maximum likelihood for a GLM observed through 1-bit measurements.

    Each latent measurement ``X_i`` is never seen; only the bit
    ``B_i = 1{X_i >= tau_i}`` against a known threshold ``tau_i`` is
    (1-bit ADCs, comparators, photon detectors, sensor networks). ``X_i``
    follows an exponential family whose natural parameter is linear in the
    predictors (Shah, Cardone, Rush and Dytso, 2025):

    - ``family="gaussian"``: ``X_i = x_i' beta + b + offset_i + sigma Z_i``,
      mean and variance unknown. ``P(B_i = 1) = Phi((mu_i - tau_i) / sigma)``
      is a probit model in ``(beta / sigma, b / sigma, 1 / sigma)`` on the
      columns ``[x_i, 1, offset_i - tau_i]``, where the log-likelihood is
      globally concave (it is not in ``(beta, sigma**2)``): it is maximized
      there by Newton's method and mapped back.
    - ``family="poisson"``: ``X_i ~ Poisson(lambda_i)``, ``log lambda_i =
      x_i' beta + b + offset_i``; the log-likelihood is concave in
      ``(beta, b)`` and maximized by Newton's method.

    Newton steps are damped by halving until the log-likelihood does not
    decrease, and fitting stops when a step is below ``tol`` (relative to the
    parameters): a handful of iterations from the start. Log-probabilities
    come from ``log_ndtr`` and from the regularized incomplete gamma functions
    in log space, so rows far in the tails neither underflow nor lose
    precision.

    Parameters
    ----------
    family : {"gaussian", "poisson"}, default="gaussian"
        The latent distribution.
    fit_intercept : bool, default=True
        Whether to fit the intercept ``b``.
    max_iter : int, default=100
        Maximum number of Newton iterations; reaching it raises a
        ``RuntimeError`` (after checking for separation, see Notes).
    tol : float, default=1e-10
        Convergence tolerance on the Newton step, relative to
        ``max(1, max |parameter|)`` in the concave coordinates.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        ``beta``: coefficients of the latent mean (Gaussian) or of
        ``log lambda`` (Poisson).
    intercept_ : float
        ``b`` (0.0 when ``fit_intercept=False``).
    scale_ : float
        ``sigma`` (Gaussian); ``None`` for the Poisson family.
    fisher_information_ : ndarray of shape (n_params, n_params)
        ``J_n`` of Proposition 1 at the estimate, in the reported coordinates
        ``(coef_, intercept_, scale_)`` (intercept and scale when present).
        Note the last Gaussian coordinate is ``sigma``, not ``sigma**2``;
        :func:`~sklearn_focal.linear_model.fisher_information` gives both.
    fisher_information_uncensored_ : ndarray of shape (n_params, n_params)
        ``I_n`` at the estimate in the same coordinates: what the latent
        measurements themselves would carry.
    covariance_ : ndarray of shape (n_params, n_params)
        ``J_n**-1``, the asymptotic covariance of the estimate.
    standard_errors_ : ndarray of shape (n_params,)
        Square roots of the diagonal of ``covariance_``.
    log_likelihood_ : float
        Maximized (weighted) log-likelihood of the bits, in nats.
    n_iter_ : int
        Newton iterations run.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen in ``fit``, when ``X`` has string column names.

    See Also
    --------
    sklearn_focal.linear_model.fisher_information : ``J_n`` for any parameters.
    sklearn_focal.linear_model.optimal_threshold : design the next threshold.

    Notes
    -----
    ``threshold`` and ``offset`` are per-row fit parameters. With
    scikit-learn's metadata routing enabled, request them
    (``set_fit_request(threshold=True)``, and likewise
    ``set_score_request``, ``set_predict_proba_request``) to use the
    estimator in a :class:`~sklearn.pipeline.Pipeline`,
    :func:`~sklearn.model_selection.cross_validate` or
    :class:`~sklearn.model_selection.GridSearchCV`. The threshold is required:
    there is no sensible default (for the Gaussian family with an intercept a
    constant threshold does not even identify ``sigma``).

    Failure modes, each an error naming its cause: ``y`` not binary
    (``ValueError``); a threshold that is missing, non-finite or of the wrong
    length; a design that is not identifiable (``[X, 1, offset - tau]`` or,
    Poisson, ``[X, 1]`` of deficient column rank, for example a constant
    threshold with an intercept); Poisson thresholds ``<= 0`` (the bit is
    always 1); no finite maximum likelihood estimate: all bits equal, or
    separation. Separation (a direction along which no bit's likelihood
    decreases and some increase) is detected by a linear program (Albert and
    Anderson's condition), run when Newton's iterates fail to converge within
    ``max_iter``, when its Hessian becomes singular, or when it stops with
    some bit fitted with probability above ``1 - 1e-9`` (along a separating
    direction the fitted probabilities tend to 1, and Newton can stop where
    their gradient is lost to rounding); a failure without separation is a
    ``RuntimeError`` (did not converge). For the Gaussian family the probit
    maximum must also have ``1 / sigma > 0``; otherwise the likelihood's
    supremum is at ``sigma = inf`` and a ``ValueError`` says so.

    References
    ----------
    .. [1] Shah, Cardone, Rush and Dytso. "Generalized Linear Models with
       1-bit Measurements: Asymptotics of the Maximum Likelihood Estimator",
       2025.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.linear_model import OneBitGLM
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(5000, 1))
    >>> tau = rng.uniform(-2, 2, size=5000)
    >>> latent = 1.5 * X[:, 0] + 0.5 + 0.8 * rng.normal(size=5000)
    >>> model = OneBitGLM().fit(X, latent >= tau, threshold=tau)
    >>> np.round([model.coef_[0], model.intercept_, model.scale_], 1)
    array([1.5, 0.5, 0.8])
    >>> model.conf_int().shape
    (3, 2)
    """

    _parameter_constraints: dict = {
        "family": [StrOptions({"gaussian", "poisson"})],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self, family="gaussian", *, fit_intercept=True, max_iter=100, tol=1e-10
    ):
        self.family = family
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, *, threshold=None, offset=None, sample_weight=None):
        """Fit the model by maximum likelihood.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Predictors.
        y : array-like of shape (n_samples,)
            The bits ``1{X_i >= threshold_i}``: 0/1 or bool.
        threshold : float or array-like of shape (n_samples,)
            The known thresholds; required (``None`` raises ``ValueError``).
        offset : float or array-like of shape (n_samples,), default=None
            Known part of the linear predictor (the mean for the Gaussian
            family, ``log lambda`` for the Poisson family), such as the log
            exposure time of a photon counter.
        sample_weight : array-like of shape (n_samples,), default=None
            Multiplicity of each row in the log-likelihood.

        Returns
        -------
        self : OneBitGLM
            The fitted estimator.
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None (y holds the bits)"
            )
        X = validate_data(
            self, X, dtype=np.float64, ensure_min_samples=1, ensure_all_finite=False
        )
        X = check_finite_array(X, "X", copy=False)  # names the first bad entry
        n_samples = X.shape[0]
        bits = check_bits(y, n_samples)
        if threshold is None:
            raise ValueError(
                "threshold is required: fit(X, y, threshold=...) with a scalar "
                "or one threshold per row (with metadata routing enabled, "
                "request it with set_fit_request(threshold=True))"
            )
        tau, offset, weight = check_row_inputs(
            self.family, n_samples, threshold, offset, sample_weight
        )
        # rows of positive weight (a view of all rows in the common case)
        used = weight > 0
        used = slice(None) if used.all() else used
        self._check_bits_vary(bits[used])

        # one allocation: [X, 1, offset - tau] for the Gaussian probit, whose
        # first columns are the design of the mean
        n_columns = X.shape[1] + self.fit_intercept + (self.family == "gaussian")
        columns = np.empty((n_samples, n_columns))
        columns[:, : X.shape[1]] = X
        if self.fit_intercept:
            columns[:, X.shape[1]] = 1.0
        if self.family == "gaussian":
            columns[:, -1] = offset - tau
            self._fit_gaussian(columns, bits, tau, offset, weight, used)
        else:
            self._fit_poisson(columns, bits, tau, offset, weight, used)
        self._set_inference()
        return self

    # ------------------------------------------------------------------
    # fitting
    # ------------------------------------------------------------------

    @staticmethod
    def _check_bits_vary(bits):
        if np.all(bits == bits[0]):
            value = int(bits[0])
            raise ValueError(
                f"all bits are {value} (y holds one class only): no finite maximum "
                "likelihood estimate exists; the likelihood approaches its supremum "
                f"only as the latent mean goes to {'+' if value else '-'}infinity"
            )

    def _check_rank(self, columns, used, what):
        """Full column rank of the probit / Poisson design on rows in use."""
        rows = columns[used]
        if rows.shape[0] < rows.shape[1]:
            raise ValueError(
                f"the model is not identifiable: {rows.shape[0]} samples of positive "
                f"weight for {rows.shape[1]} parameters"
            )
        norms = np.maximum(rows.max(axis=0), -rows.min(axis=0))
        zero = norms == 0
        if zero.any():
            j = int(np.flatnonzero(zero)[0])
            raise ValueError(
                f"the model is not identifiable: {what[j]} is identically zero"
            )
        # The Gram matrix of the columns scaled to max 1 (a cheap symmetric
        # product) is well conditioned for a clearly identifiable design;
        # otherwise numpy's matrix_rank decides, on the rows themselves.
        gram = rows.T @ rows / np.outer(norms, norms)
        eigenvalues = np.linalg.eigvalsh(gram)
        if eigenvalues[0] > 1e-8 * eigenvalues[-1]:
            return
        rank = np.linalg.matrix_rank(rows / norms)
        if rank == rows.shape[1]:
            return
        if self.family == "gaussian" and self.fit_intercept:
            last = rows[:, -1]
            if np.all(last == last[0]):
                raise ValueError(
                    "the model is not identifiable: the threshold (minus the offset) "
                    "is constant, and with an intercept a constant threshold cannot "
                    "identify sigma (only (mean - tau) / sigma is seen). Vary the "
                    "thresholds, or fix the intercept (fit_intercept=False with an "
                    "offset)"
                )
        raise ValueError(
            f"the model is not identifiable: the design [{', '.join(what)}] "
            f"has column rank {rank} < {rows.shape[1]} "
            "(collinear columns of X, or thresholds affine in X)"
        )

    def _newton(self, terms, design, weight, theta):
        """Damped Newton ascent of ``sum w l(design @ theta)``.

        ``terms(eta)`` returns the per-row log-likelihood (unweighted; the
        total is weighted by ``weight``) and the weighted score and
        curvature. Returns ``(theta, loglik, ll_rows, n_iter, status)`` where
        status is ``"converged"``, ``"max_iter"`` or ``"singular"``.
        """
        # A trial step may overflow exp (lambda = inf); the line search
        # rejects any non-finite log-likelihood, so the warnings are noise.
        quiet = dict(over="ignore", invalid="ignore", divide="ignore")
        with np.errstate(**quiet):
            ll_rows, score, curv = terms(design @ theta)
        loglik = weight @ ll_rows
        root = np.empty_like(design)
        for n_iter in range(1, self.max_iter + 1):
            gradient = design.T @ score
            # H = R'R with R = diag(sqrt(curv)) design, in a reused buffer
            np.multiply(design, np.sqrt(curv)[:, None], out=root)
            hessian = root.T @ root
            try:
                factor = np.linalg.cholesky(0.5 * (hessian + hessian.T))
                step = np.linalg.solve(factor.T, np.linalg.solve(factor, gradient))
            except np.linalg.LinAlgError:
                return theta, loglik, ll_rows, n_iter, "singular"
            if not np.all(np.isfinite(step)):
                return theta, loglik, ll_rows, n_iter, "singular"
            t = 1.0
            for _ in range(60):
                candidate = theta + t * step
                with np.errstate(**quiet):
                    new = terms(design @ candidate)
                new_ll = weight @ new[0]
                # accept an ascent; rounding near the optimum: within 1e-13
                if np.isfinite(new_ll) and new_ll >= loglik - 1e-13 * max(
                    1, abs(loglik)
                ):
                    break
                t *= 0.5
            else:
                return theta, loglik, ll_rows, n_iter, "singular"
            theta = candidate
            ll_rows, score, curv = new
            loglik = new_ll
            size = np.max(np.abs(t * step))
            if size <= self.tol * max(1.0, np.max(np.abs(theta))):
                return theta, loglik, ll_rows, n_iter, "converged"
        return theta, loglik, ll_rows, self.max_iter, "max_iter"

    def _check_existence(self, status, design, bits, used, ll_rows, n_iter):
        """Refuse separated data; report a Newton failure.

        Along a separating direction every bit's probability tends to 1, so
        Newton can also stop "converged" where the gradient is lost to
        rounding. The linear program runs when Newton fails or when some bit
        of positive weight is fitted with probability above ``1 - 1e-9``.
        """
        suspicious = np.any(ll_rows[used] > _SEPARATION_LOGLIK)
        if status == "converged" and not suspicious:
            return
        direction = _separating_direction(design[used], bits[used])
        if direction is not None:
            raise ValueError(
                "no finite maximum likelihood estimate exists: the bits are "
                "separated (there is a direction of the parameters along which "
                "no bit's likelihood decreases and some increase, as when every "
                "bit above some level of the linear predictor is 1 and every bit "
                "below is 0); the likelihood's supremum is at infinity"
            )
        if status == "converged":
            return
        if status == "max_iter":
            raise RuntimeError(
                f"OneBitGLM did not converge in max_iter={self.max_iter} Newton "
                f"iterations (tol={self.tol}); increase max_iter"
            )
        raise RuntimeError(
            f"OneBitGLM: the Hessian of the log-likelihood became singular or "
            f"non-finite at Newton iteration {n_iter} (the data may be nearly "
            "separated or the design badly scaled)"
        )

    def _fit_gaussian(self, columns, bits, tau, offset, weight, used):
        design = columns[:, :-1]
        names = [f"X[:, {j}]" for j in range(self.n_features_in_)]
        names += ["1"] * self.fit_intercept + ["offset - threshold"]
        self._check_rank(columns, used, names)

        def terms(eta):
            ll, score, curv = gaussian_bit_terms(eta, bits)
            return ll, score * weight, curv * weight

        start = np.zeros(columns.shape[1])
        theta, loglik, ll_rows, n_iter, status = self._newton(
            terms, columns, weight, start
        )
        self._check_existence(status, columns, bits, used, ll_rows, n_iter)
        inv_scale = theta[-1]
        if not inv_scale > 0:
            raise ValueError(
                "no finite maximum likelihood estimate with sigma > 0: the "
                f"probit maximum has 1 / sigma = {inv_scale:.3g} <= 0 (the bits "
                "do not become rarer as the threshold rises), so the likelihood "
                "increases towards sigma = infinity"
            )
        scale = 1.0 / inv_scale
        mean_coef = theta[:-1] * scale
        self._store(mean_coef, loglik, n_iter, scale)
        eta = design @ mean_coef + offset
        z = (tau - eta) / scale
        self.fisher_information_, self.fisher_information_uncensored_ = (
            gaussian_informations(design, z, scale, weight, "scale")
        )

    def _fit_poisson(self, design, bits, tau, offset, weight, used):
        names = [f"X[:, {j}]" for j in range(self.n_features_in_)]
        names += ["1"] * self.fit_intercept
        self._check_rank(design, used, names)
        k = poisson_k(tau)

        def terms(eta):
            ll, score, curv = poisson_bit_terms(eta + offset, k, bits)
            # The curvature is >= 0 (the log-likelihood is concave); clipping a
            # rounding error below 0 only shapes the step, not the optimum.
            return ll, score * weight, np.maximum(curv, 0.0) * weight

        start = np.zeros(design.shape[1])
        if self.fit_intercept:
            # lambda near the thresholds makes each bit about a coin flip
            start[-1] = np.median((np.log(tau) - offset)[used])
        theta, loglik, ll_rows, n_iter, status = self._newton(
            terms, design, weight, start
        )
        self._check_existence(status, design, bits, used, ll_rows, n_iter)
        self._store(theta, loglik, n_iter, None)
        lam = np.exp(design @ theta + offset)
        self.fisher_information_, self.fisher_information_uncensored_ = (
            poisson_informations(design, k, lam, weight)
        )

    def _store(self, mean_coef, loglik, n_iter, scale):
        n_features = self.n_features_in_
        self.coef_ = mean_coef[:n_features].copy()
        self.intercept_ = float(mean_coef[n_features]) if self.fit_intercept else 0.0
        self.scale_ = scale
        self.log_likelihood_ = float(loglik)
        self.n_iter_ = int(n_iter)

    def _set_inference(self):
        J = self.fisher_information_
        diagonal = np.sqrt(np.diag(J))
        scaled = J / np.outer(diagonal, diagonal)
        condition = np.linalg.cond(scaled)
        if not condition < ILL_CONDITIONED:
            warnings.warn(
                "the Fisher information of the bits is ill-conditioned (condition "
                f"number {condition:.3g} after scaling to unit diagonal): some "
                "combination of the parameters is barely identified by the design "
                "and thresholds; its standard errors are unreliable",
                IllConditionedFisherWarning,
                stacklevel=3,
            )
        self.covariance_ = np.linalg.pinv(J, hermitian=True)
        self.standard_errors_ = np.sqrt(np.diag(self.covariance_))

    # ------------------------------------------------------------------
    # inference
    # ------------------------------------------------------------------

    def conf_int(self, alpha=0.05):
        """Wald confidence intervals ``estimate +- z_{1 - alpha/2} se``.

        Parameters
        ----------
        alpha : float, default=0.05
            One minus the confidence level, in (0, 1).

        Returns
        -------
        ndarray of shape (n_params, 2)
            Lower and upper bounds, one row per parameter in the order
            ``(coef_..., intercept_, scale_)`` (intercept and scale when
            present).
        """
        check_is_fitted(self)
        alpha = check_real(alpha, "alpha", lower=0.0, upper=1.0)
        estimate = self._params()
        half = -ndtri(alpha / 2.0) * self.standard_errors_
        return np.column_stack([estimate - half, estimate + half])

    def _params(self):
        params = [self.coef_]
        if self.fit_intercept:
            params.append([self.intercept_])
        if self.scale_ is not None:
            params.append([self.scale_])
        return np.concatenate(params)

    def _linear_predictor(self, X, offset, threshold=None):
        """``(eta, tau)`` of the rows of ``X``; ``tau`` is None without thresholds."""
        check_is_fitted(self)
        X = validate_data(
            self, X, dtype=np.float64, reset=False, ensure_all_finite=False
        )
        X = check_finite_array(X, "X", copy=False)  # names the first bad entry
        if threshold is None:  # predict: no thresholds needed
            tau = None
            if offset is not None:
                offset = check_sample_aligned(offset, "offset", X.shape[0])
        else:
            tau, offset, _ = check_row_inputs(
                self.family, X.shape[0], threshold, offset
            )
        eta = X @ self.coef_ + self.intercept_
        return (eta if offset is None else eta + offset), tau

    def predict(self, X, offset=None):
        """The latent mean, as statsmodels' GLM predicts.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Predictors.
        offset : float or array-like of shape (n_samples,), default=None
            Known part of the linear predictor.

        Returns
        -------
        ndarray of shape (n_samples,)
            ``E[X_i] = x_i' beta + b + offset`` (Gaussian) or
            ``exp(x_i' beta + b + offset)`` (Poisson).
        """
        eta, _ = self._linear_predictor(X, offset)
        return eta if self.family == "gaussian" else np.exp(eta)

    def _log_probs(self, X, threshold, offset):
        check_is_fitted(self)
        if threshold is None:
            raise ValueError("threshold is required (a scalar or one per row)")
        eta, tau = self._linear_predictor(X, offset, threshold)
        if self.family == "gaussian":
            return gaussian_log_probs((eta - tau) / self.scale_)
        return poisson_log_probs(poisson_k(tau), np.exp(eta))

    def predict_proba(self, X, threshold=None, offset=None):
        """Probabilities of the bits against the given thresholds.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Predictors.
        threshold : float or array-like of shape (n_samples,)
            Thresholds; required.
        offset : float or array-like of shape (n_samples,), default=None
            Known part of the linear predictor.

        Returns
        -------
        ndarray of shape (n_samples, 2)
            ``[P(B = 0), P(B = 1)]`` per row.
        """
        log_one, log_zero = self._log_probs(X, threshold, offset)
        return np.column_stack([np.exp(log_zero), np.exp(log_one)])

    def score(self, X, y, threshold=None, offset=None, sample_weight=None):
        """Mean log-likelihood of the bits, in nats per sample (higher is better).

        This is not an R^2 nor an accuracy: it is the (weighted) mean of
        ``B_i log p_i + (1 - B_i) log(1 - p_i)``, the negative log loss, so
        that cross-validation selects the model that best predicts the bits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Predictors.
        y : array-like of shape (n_samples,)
            Bits.
        threshold : float or array-like of shape (n_samples,)
            Thresholds; required.
        offset : float or array-like of shape (n_samples,), default=None
            Known part of the linear predictor.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the mean.

        Returns
        -------
        float
            Mean log-likelihood.
        """
        log_one, log_zero = self._log_probs(X, threshold, offset)
        bits = check_bits(y, log_one.shape[0])
        weight = check_sample_weight(sample_weight, log_one.shape[0])
        loglik = np.where(bits == 1.0, log_one, log_zero)
        return float(np.sum(weight * loglik) / np.sum(weight))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


def _separating_direction(design, bits):
    """A direction ``d != 0`` with ``q_i v_i' d >= 0`` for all rows, or None.

    ``q_i = 2 B_i - 1``. Such a direction exists exactly when no finite
    maximum likelihood estimate exists for a full-rank design (Albert and
    Anderson, 1984): moving along it no bit's likelihood falls and some rise.
    Found by the linear program ``max sum_i q_i v_i' d`` subject to
    ``q_i v_i' d >= 0`` and ``|d_j| <= 1``, on columns scaled to max 1, by
    constraint generation: solved first on 1000 rows drawn at random (with a
    fixed seed), whose overlap already proves that an estimate exists; a
    direction found there is checked against every row and the most violated
    rows are added until it holds everywhere or no direction is left.
    """
    sign = 2.0 * bits - 1.0
    norms = np.maximum(design.max(axis=0), -design.min(axis=0))
    norms[norms == 0] = 1.0
    n_rows = design.shape[0]
    if n_rows > _LP_BLOCK:
        # A spread of rows (the exact answer does not depend on the choice):
        # a random sample overlaps like the data; the least likely bits alone
        # would not (the reversed fit separates them).
        sample = np.random.default_rng(0).choice(n_rows, _LP_BLOCK, replace=False)
        subset = np.sort(sample)
    else:
        subset = np.arange(n_rows)
    bounds = [(-1.0, 1.0)] * design.shape[1]
    while True:
        rows = design[subset] * (sign[subset, None] / norms)
        result = linprog(
            -rows.sum(axis=0),
            A_ub=-rows,
            b_ub=np.zeros(rows.shape[0]),
            bounds=bounds,
            method="highs",
        )
        if result.status != 0 or -result.fun <= 1e-7:
            return None
        margins = (design @ (result.x / norms)) * sign
        violated = np.flatnonzero(margins < -1e-6)
        if violated.size == 0:
            return result.x / norms
        if violated.size > _LP_BLOCK:
            part = np.argpartition(margins[violated], _LP_BLOCK - 1)[:_LP_BLOCK]
            violated = violated[part]
        subset = np.union1d(subset, violated)


#: rows per block of the separation linear program
_LP_BLOCK = 1000
