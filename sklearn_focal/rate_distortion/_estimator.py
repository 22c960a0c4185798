"""Focal-loss lossy source coding of a discrete source, as an estimator."""
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from sklearn_focal.rate_distortion import (
    achievability_bounds,
    asymptotic_distortion,
    converse_bound,
    exact_distortion,
    gamma_entropy,
    optimized_code,
    reweight,
)
from sklearn_focal.theory._focal_terms import entropy_nats, focal_terms
from sklearn_focal.utils._compat import Interval, StrOptions
from sklearn_focal.utils._compat import fit_context as _fit_context
from sklearn_focal.utils.validation import (
    check_gamma,
    check_gamma_array,
    check_integer,
    check_integer_array,
    check_pmf,
    check_sample_weight,
    log_base,
)

__all__ = ["FocalRateDistortion"]

#: ``method="auto"`` solves the problem exactly up to this support size.
AUTO_EXACT_MAX_SUPPORT = 12


class FocalRateDistortion(TransformerMixin, BaseEstimator):
    """Design a lossy code of a discrete source under the focal-loss distortion.

    A source ``X`` over a finite alphabet of symbols is compressed to one of
    ``n_codewords`` messages; the decoder outputs a *soft* reconstruction, a
    pmf ``P_hat`` over the symbols, and pays the focal loss
    ``d(x; P_hat) = (1 - P_hat(x))**gamma * log(1 / P_hat(x))`` (Dytso &
    Cardone, Definition 1). ``fit`` estimates the source pmf from samples (or
    takes it from :meth:`from_pmf`), designs the code and reports the
    single-shot bounds of the paper next to its distortion.

    For a fixed encoder (a partition of the symbols into cells), the optimal
    decoder of each cell is the focal-entropy minimizer of the source
    restricted to the cell (:func:`sklearn_focal.theory.focal_minimizer`), so
    designing a code means choosing the partition.

    Parameters
    ----------
    gamma : float, default=1.0
        Focus parameter ``gamma >= 0``; ``gamma = 0`` is the log loss. A bool
        is not a number (``TypeError``).
    n_codewords : int, default=2
        Number of messages ``M``, an integer >= 1: a bool or a float (even
        ``2.0``) is refused, as by every integer parameter of sklearn_focal.
    weights : dict or array-like of shape (n_symbols,), default=None
        Per-symbol importance weights ``omega(x) >= 0`` of Definition 1: the
        distortion of symbol ``x`` is multiplied by ``omega(x)``, normalized
        as in eq. (6) so that the expected weight is 1. The code is designed
        for the re-weighted source ``R ∝ P * omega`` of eq. (7), which is what
        every bound refers to. A dict maps symbols to weights and must cover
        every symbol seen in ``fit`` (extra keys are ignored); an array is
        aligned with ``symbols_``. ``None`` weighs all symbols equally. To
        impose a known source pmf instead, use :meth:`from_pmf`.
    method : {"auto", "exact", "greedy", "local_search"}, default="auto"
        How the encoder is chosen:

        - ``"exact"``: the optimum ``d*(M; gamma)`` by dynamic programming
          over subsets (:func:`~sklearn_focal.rate_distortion.exact_distortion`),
          for at most :data:`~sklearn_focal.rate_distortion.EXACT_MAX_SUPPORT`
          symbols of positive probability;
        - ``"greedy"``: the compressor (26) of the paper with the
          focal-optimal decoders, no search;
        - ``"local_search"``: :func:`~sklearn_focal.rate_distortion.optimized_code`,
          the code (26) improved by moves, swaps and re-splits;
        - ``"auto"``: ``"exact"`` up to 12 symbols of positive probability,
          ``"local_search"`` beyond.
    base : float or None, default=2
        Base of the logarithm, > 1; 2 gives bits, ``None`` nats.

    Attributes
    ----------
    symbols_ : ndarray of shape (n_symbols,)
        The symbols, sorted (row tuples for a multi-column ``X``). A symbol
        that only received zero sample weight is not a symbol of the source,
        exactly as if its samples had been removed.
    pmf_ : ndarray of shape (n_symbols,)
        The source pmf: weighted empirical frequencies, or the pmf given to
        :meth:`from_pmf`.
    reweighted_pmf_ : ndarray of shape (n_symbols,)
        The source ``R`` of eq. (7) the code is designed for (``pmf_`` when
        ``weights=None``).
    encoder_ : ndarray of shape (n_symbols,)
        Message of every symbol, aligned with ``symbols_``.
    codebook_ : ndarray of shape (n_messages, n_symbols)
        Soft reconstruction of every message.
    n_messages_ : int
        Messages actually used (``min(n_codewords, support size)``).
    distortion_ : float
        Expected focal distortion of the code under ``R``.
    entropy_ : float
        Shannon entropy ``H(R)``.
    gamma_entropy_ : float
        ``H_gamma(R)`` of eq. (11).
    converse_bound_ : float
        The converse (17): no code of ``n_codewords`` messages does better.
    achievability_bounds_ : dict
        ``{"eq22": ..., "eq23": ..., "eq28": ...}`` with ``F = R``; see
        :func:`~sklearn_focal.rate_distortion.achievability_bounds`.
    is_optimal_ : bool
        Whether ``distortion_`` is the optimum ``d*(M; gamma)``.
    n_iter_ : int
        Local-search iterations (0 for exact and greedy codes).
    n_features_in_ : int
        Number of columns, when ``fit`` received a 2-D ``X``.
    feature_names_in_ : ndarray of shape (1,)
        Column name, when ``X`` was a DataFrame with a string column name.

    See Also
    --------
    sklearn_focal.rate_distortion : The bounds and solvers as functions.
    sklearn_focal.plotting.RateDistortionDisplay : Plots of the bounds.

    Notes
    -----
    Scores, distortions and bounds are in units of ``log(base)``. ``score``
    is minus the mean weighted focal distortion, so that higher is better;
    on the training samples it equals ``-distortion_``.

    References
    ----------
    A. Dytso and M. Cardone, "Lossy Source Coding with Focal Loss".

    Examples
    --------
    >>> from sklearn_focal import FocalRateDistortion
    >>> X = ["a", "a", "b", "c", "a", "b", "d", "a"]
    >>> rd = FocalRateDistortion(gamma=1.0, n_codewords=2).fit(X)
    >>> rd.symbols_.tolist(), rd.pmf_.tolist()
    (['a', 'b', 'c', 'd'], [0.5, 0.25, 0.125, 0.125])
    >>> rd.transform(["a", "d"]).tolist()
    [0, 1]
    >>> bool(rd.converse_bound_ <= rd.distortion_ <= rd.achievability_bounds_["eq28"])
    True
    >>> rd.is_optimal_
    True
    """

    _parameter_constraints: dict = {
        "gamma": [Interval(Real, 0, None, closed="left")],
        "n_codewords": [Interval(Integral, 1, None, closed="left")],
        "weights": ["array-like", dict, None],
        "method": [StrOptions({"auto", "exact", "greedy", "local_search"})],
        "base": [Interval(Real, 1, None, closed="neither"), None],
    }

    def __init__(
        self, gamma=1.0, n_codewords=2, *, weights=None, method="auto", base=2
    ):
        self.gamma = gamma
        self.n_codewords = n_codewords
        self.weights = weights
        self.method = method
        self.base = base

    # ------------------------------------------------------------------
    # fitting
    # ------------------------------------------------------------------

    @classmethod
    def from_pmf(cls, pmf, symbols=None, **params) -> FocalRateDistortion:
        """Design the code for a known source pmf instead of samples.

        Parameters
        ----------
        pmf : array-like of shape (n_symbols,)
            Source pmf: nonnegative, finite, summing to 1. Symbols of
            probability 0 are kept (they never occur).
        symbols : array-like of shape (n_symbols,), default=None
            Distinct, hashable labels of the symbols, in the order of
            ``pmf``; ``None`` means ``0, 1, ..., n_symbols - 1``.
        **params
            Parameters of the estimator.

        Returns
        -------
        FocalRateDistortion
            A fitted estimator.

        Examples
        --------
        >>> from sklearn_focal import FocalRateDistortion
        >>> rd = FocalRateDistortion.from_pmf([1 / 3, 1 / 3, 1 / 3], gamma=2.0)
        >>> round(rd.distortion_, 6)  # (2/3) * (1/2)**2
        0.166667
        """
        estimator = cls(**params)
        estimator._validate_params()
        estimator._check_scalar_params()
        p = check_pmf(pmf)
        if symbols is None:
            symbols = np.arange(p.size)
        else:
            symbols = _as_label_array(symbols, "symbols")
            if symbols.shape != p.shape:
                raise ValueError(
                    f"symbols must have the shape of pmf {p.shape}, "
                    f"got {symbols.shape}."
                )
            if len(set(symbols.tolist())) != symbols.size:
                raise ValueError("symbols must be distinct.")
        estimator._design(symbols, p)
        return estimator

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Estimate the source pmf from samples and design the code.

        Parameters
        ----------
        X : array-like of shape (n_samples,) or (n_samples, n_features)
            Samples of the source: any hashable labels (numbers, strings),
            as a 1-D array or a single column. With several columns, every
            row is one symbol of a vector source (symbols are row tuples).
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Nonnegative sample weights; the pmf is the weighted frequency.
            A negative or non-finite weight, or weights that sum to zero,
            raise ``ValueError``.

        Returns
        -------
        self : FocalRateDistortion
            The fitted estimator.
        """
        self._check_scalar_params()
        labels = self._validate_X(X, reset=True)
        sample_weight = check_sample_weight(sample_weight, labels.shape[0])
        symbols, inverse = _unique_labels(labels)
        counts = np.bincount(inverse, weights=sample_weight, minlength=symbols.size)
        seen = counts > 0
        symbols, counts = symbols[seen], counts[seen]
        self._design(symbols, counts / counts.sum())
        return self

    def _check_scalar_params(self):
        """Refuse what ``_parameter_constraints`` lets through: bools.

        scikit-learn's ``Interval(Integral, ...)`` and ``Interval(Real, ...)``
        accept ``True``; the rules of :mod:`sklearn_focal.theory` and
        :mod:`sklearn_focal.rate_distortion` do not.
        """
        check_gamma(self.gamma)
        check_integer(self.n_codewords, "n_codewords", minimum=1)
        log_base(self.base)

    def _validate_X(self, X, *, reset, return_ndim=False):
        """Return the 1-D array of labels; 2-D input must have one column."""
        arr = check_array(X, dtype=None, ensure_2d=False, ensure_min_samples=1)
        if arr.ndim == 2:
            # Sets or checks n_features_in_ and feature_names_in_.
            X = validate_data(self, X, reset=reset, dtype=None, ensure_min_samples=1)
        else:
            X = arr
            if reset:
                for attr in ("n_features_in_", "feature_names_in_"):
                    if hasattr(self, attr):
                        delattr(self, attr)
            elif getattr(self, "n_features_in_", 1) > 1:
                raise ValueError(
                    f"Expected 2-D X with {self.n_features_in_} columns, got a 1-D "
                    "array. Reshape your data: the symbols of this source are rows."
                )
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        elif X.ndim == 2:
            # Several columns: every row is one symbol of a vector source.
            rows = np.empty(X.shape[0], dtype=object)
            rows[:] = [tuple(row) for row in X.tolist()]
            X = rows
        elif X.ndim != 1:
            raise ValueError(f"X must be 1-D or a single column, got shape {X.shape}.")
        if X.dtype.kind == "c":
            raise ValueError("Complex data not supported as symbols.")
        return (X, arr.ndim) if return_ndim else X

    def _weights_for(self, symbols):
        if self.weights is None:
            return None
        if isinstance(self.weights, dict):
            missing = [s for s in symbols.tolist() if s not in self.weights]
            if missing:
                raise ValueError(
                    f"weights has no entry for the symbols {missing[:5]}; a dict of "
                    "weights must cover every symbol of the source."
                )
            values = [self.weights[s] for s in symbols.tolist()]
            if any(isinstance(v, bool | np.bool_) for v in values):
                raise TypeError("weights must hold real numbers, not bools.")
            w = np.asarray(values)
        else:
            w = np.asarray(self.weights)
        if w.dtype.kind not in "iuf":
            raise TypeError(f"weights must hold real numbers, got dtype {w.dtype}.")
        w = w.astype(np.float64)
        if not isinstance(self.weights, dict):
            if w.shape != symbols.shape:
                raise ValueError(
                    f"weights must hold one weight per symbol ({symbols.size}), "
                    f"got shape {w.shape}."
                )
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError("weights must be finite and nonnegative.")
        return w

    def _design(self, symbols, pmf):
        w = self._weights_for(symbols)
        source = pmf if w is None else reweight(pmf, w)
        gamma, m, base = float(self.gamma), int(self.n_codewords), self.base
        method = self.method
        n_support = int(np.count_nonzero(source))
        if method == "auto":
            method = "exact" if n_support <= AUTO_EXACT_MAX_SUPPORT else "local_search"
        if method == "exact":
            code = exact_distortion(source, m, gamma, base=base, return_code=True)
        elif method == "greedy":
            code = optimized_code(source, m, gamma, max_iter=0, base=base)
        else:
            code = optimized_code(source, m, gamma, base=base)

        self.symbols_ = symbols
        self.pmf_ = pmf
        self.reweighted_pmf_ = source
        # omega normalized as in eq. (6): sum(pmf * omega) = 1.
        self._omega = np.ones_like(pmf) if w is None else w / np.dot(pmf, w)
        self.encoder_ = code.encoder
        self.codebook_ = code.codebook
        self.n_messages_ = code.n_cells
        self.distortion_ = code.distortion
        self.is_optimal_ = bool(code.optimal)
        self.n_iter_ = int(code.n_iter)
        self.entropy_ = float(entropy_nats(source) / log_base(base))
        self.gamma_entropy_ = gamma_entropy(source, gamma, base=base)
        self.converse_bound_ = converse_bound(source, m, gamma, base=base)
        self.achievability_bounds_ = achievability_bounds(source, m, gamma, base=base)
        self._symbol_distortion = _symbol_distortion(
            self.codebook_, self.encoder_, gamma, base
        )
        self._index = _symbol_index(symbols)
        return self

    def __getstate__(self):
        # The symbol -> position dict is rebuilt on load: its keys are row
        # tuples for a multi-column X, which skops.io cannot save.
        # object.__getstate__ may return the instance __dict__ itself: copy.
        state = dict(super().__getstate__())
        state.pop("_index", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "symbols_" in self.__dict__:
            self._index = _symbol_index(self.symbols_)

    # ------------------------------------------------------------------
    # inference
    # ------------------------------------------------------------------

    def _symbol_indices(self, X, return_ndim=False):
        check_is_fitted(self)
        labels, ndim = self._validate_X(X, reset=False, return_ndim=True)
        index = self._index
        try:
            idx = np.array([index[s] for s in labels.tolist()], dtype=np.intp)
            return (idx, ndim) if return_ndim else idx
        except (KeyError, TypeError):
            unseen = sorted({repr(s) for s in labels.tolist() if s not in index})
            raise ValueError(
                f"X contains symbols not seen in fit: {', '.join(unseen[:5])}"
                + (" ..." if len(unseen) > 5 else "")
                + ". The code only covers the symbols of the fitted source."
            ) from None

    def transform(self, X):
        """Encode samples: the message of every sample.

        Parameters
        ----------
        X : array-like of shape (n_samples,) or (n_samples, 1)
            Symbols seen in ``fit``.

        Returns
        -------
        messages : ndarray of shape (n_samples,) or (n_samples, 1)
            Message indices in ``[0, n_messages_)``, in the layout of ``X``.
        """
        idx, ndim = self._symbol_indices(X, return_ndim=True)
        messages = self.encoder_[idx]
        return messages[:, None] if ndim == 2 else messages

    def inverse_transform(self, X):
        """Decode messages into their soft reconstructions.

        Parameters
        ----------
        X : array-like of shape (n_samples,) or (n_samples, 1)
            Message indices, as returned by :meth:`transform`.

        Returns
        -------
        reconstructions : ndarray of shape (n_samples, n_symbols)
            One pmf over ``symbols_`` per message.
        """
        check_is_fitted(self)
        m = np.asarray(X)
        if m.ndim == 2 and m.shape[1] == 1:
            m = m[:, 0]
        if m.ndim != 1:
            raise ValueError(f"messages must be 1-D or a single column, got {m.shape}.")
        if m.size and (
            m.dtype.kind not in "iuf"
            or np.any(m != np.round(m))
            or np.any((m < 0) | (m >= self.n_messages_))
        ):
            raise ValueError(
                f"messages must be integers in [0, {self.n_messages_}), got {X!r}."
            )
        return self.codebook_[m.astype(np.intp)]

    def score_samples(self, X):
        """Weighted focal distortion of every sample under the code.

        Parameters
        ----------
        X : array-like of shape (n_samples,) or (n_samples, 1)
            Symbols seen in ``fit``.

        Returns
        -------
        distortion : ndarray of shape (n_samples,)
            ``omega(x) * d(x; g(f(x)))`` with ``omega`` normalized as in eq. (6).
        """
        idx = self._symbol_indices(X)
        with np.errstate(invalid="ignore"):
            return self._omega[idx] * self._symbol_distortion[idx]

    def score(self, X, y=None, sample_weight=None):
        """Minus the mean weighted focal distortion of ``X`` (higher is better).

        Parameters
        ----------
        X : array-like of shape (n_samples,) or (n_samples, 1)
            Symbols seen in ``fit``.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            ``-mean(omega(x) d(x; g(f(x))))``; ``-distortion_`` on the
            training samples.
        """
        values = self.score_samples(X)
        sample_weight = check_sample_weight(sample_weight, values.shape[0])
        return -float(np.average(values, weights=sample_weight))

    def bound_curve(self, n_codewords=None, gammas=None, *, code=True):
        """Bounds and code distortions over a grid of ``M`` and ``gamma``.

        Parameters
        ----------
        n_codewords : array-like of int, default=None
            Numbers of messages; ``None``: powers of two from 1 to the first
            one at least the support size.
        gammas : array-like of float, default=None
            Focus parameters; ``None``: ``[gamma]``.
        code : bool, default=True
            Also design a code (with ``method``) for every grid point, giving
            the columns ``"code"`` and ``"code_is_optimal"``.

        Returns
        -------
        table : pandas.DataFrame or dict of ndarray
            One row per ``(gamma, n_codewords)`` with columns ``gamma``,
            ``n_codewords``, ``rate`` (``log M``), ``converse``, ``eq22``,
            ``eq23``, ``eq28``, ``asymptotic`` (``[H - log M]^+``, Thm 3) and,
            when ``code=True``, ``code`` and ``code_is_optimal``. A DataFrame
            when pandas is installed, otherwise a dict of equal-length arrays.
        """
        check_is_fitted(self)
        source = self.reweighted_pmf_
        base = self.base
        if n_codewords is None:
            n_support = int(np.count_nonzero(source))
            top = max(1, math.ceil(math.log2(max(n_support, 1))))
            n_codewords = 2 ** np.arange(top + 1)
        m = np.atleast_1d(check_integer_array(n_codewords, "n_codewords", minimum=1))
        g = np.atleast_1d(check_gamma_array(self.gamma if gammas is None else gammas))
        if m.ndim != 1 or g.ndim != 1:
            raise ValueError("n_codewords and gammas must be 1-D.")
        gg, mm = (a.ravel() for a in np.meshgrid(g, m, indexing="ij"))
        ach = achievability_bounds(source, mm, gg, base=base)
        rate = np.log(mm) / log_base(base)
        table = {
            "gamma": gg,
            "n_codewords": mm,
            "rate": rate,
            "converse": converse_bound(source, mm, gg, base=base),
            "eq22": ach["eq22"],
            "eq23": ach["eq23"],
            "eq28": ach["eq28"],
            "asymptotic": asymptotic_distortion(source, rate, base=base),
        }
        if code:
            values, optimal = [], []
            for gv, mv in zip(gg, mm, strict=True):
                est = FocalRateDistortion(
                    gamma=float(gv), n_codewords=int(mv), method=self.method, base=base
                )
                est._design(self.symbols_, source)
                values.append(est.distortion_)
                optimal.append(est.is_optimal_)
            table["code"] = np.array(values)
            table["code_is_optimal"] = np.array(optimal)
        try:
            import pandas as pd
        except ImportError:
            return table
        return pd.DataFrame(table)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.target_tags.required = False
        tags.transformer_tags.preserves_dtype = []
        return tags


def _symbol_index(symbols):
    """Symbol -> position in ``symbols``."""
    return {s: i for i, s in enumerate(symbols.tolist())}


def _as_label_array(values, name):
    arr = np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D or a single column, got shape {arr.shape}."
        )
    return arr


def _unique_labels(labels):
    try:
        return np.unique(labels, return_inverse=True)
    except TypeError as exc:
        raise TypeError(
            "The symbols must be mutually comparable labels (all numbers or all "
            f"strings): {exc}"
        ) from exc


def _symbol_distortion(codebook, encoder, gamma, base):
    """d(x; g(f(x))) for every symbol, in units of log(base)."""
    q = codebook[encoder, np.arange(encoder.size)]
    return focal_terms(q, gamma) / log_base(base)
