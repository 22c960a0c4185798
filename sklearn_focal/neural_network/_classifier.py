"""FocalClassifier: a skorch neural-network classifier trained with the focal loss."""
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import contextlib
import math
from numbers import Integral, Real
from types import MappingProxyType

import numpy as np
import torch
from sklearn import get_config
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNetClassifier
from skorch.callbacks import EpochScoring
from skorch.utils import get_map_location, to_device, to_tensor
from torch import nn
from torch.utils.data import (
    DataLoader,
    RandomSampler,
    SequentialSampler,
)
from torch.utils.data import Dataset as TorchDataset

from sklearn_focal import theory
from sklearn_focal.losses import BinaryFocalLoss, FocalLoss
from sklearn_focal.losses import binary_focal_loss_with_logits as _binary_focal
from sklearn_focal.neural_network._plumbing import (
    _INPUT,
    _MLP,
    _PER_SAMPLE_LOADER_ARGS,
    _SAMPLE_WEIGHT,
    _array_batches,
    _as_float32,
    _encoded_accuracy,
    _identity,
    _IndexArrayBatchSampler,
    _is_auto,
    _max_abs,
    _resolve_device,
    _softmax,
)
from sklearn_focal.utils._compat import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn_focal.utils.validation import (
    check_gamma,
    check_integer_array,
    check_label_weights,
    check_sample_weight,
    is_multilabel_indicator,
)

__all__ = ["FocalClassifier"]


# skorch's parameters whose default FocalClassifier changes.
_SKORCH_DEFAULTS = MappingProxyType(
    {
        "criterion": FocalLoss,
        "optimizer": torch.optim.Adam,
        "lr": 1e-3,
        "max_epochs": 30,
        "train_split": None,
        "verbose": 0,
        "device": "auto",
    }
)

# FocalLoss arguments that FocalClassifier sets from its own parameters.
_OWN_CRITERION_PARAMS = MappingProxyType(
    {
        "gamma": "gamma",
        "alpha": "alpha",
        "weight": "alpha",
        "label_smoothing": "label_smoothing",
    }
)
# BinaryFocalLoss arguments that FocalClassifier sets for multi-label y.
_OWN_BINARY_CRITERION_PARAMS = MappingProxyType(
    {"gamma": "gamma", "alpha": "alpha", "pos_weight": "pos_weight"}
)


def _same_alpha_param(a, b):
    """Whether two values of the ``alpha`` parameter are the same."""
    if isinstance(a, str | None) or isinstance(b, str | None):
        return isinstance(a, str | None) and isinstance(b, str | None) and a == b
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.all(a == b))


def _same_alpha_values(a, b):
    """Whether two resolved per-class weights (arrays or None) are equal."""
    if a is None or b is None:
        return a is None and b is None
    return a.shape == b.shape and bool(np.all(a == b))


class FocalClassifier(NeuralNetClassifier):
    """Neural-network classifier trained with the focal loss, with recovered posteriors.

    A :class:`skorch.NeuralNetClassifier` whose criterion is
    :class:`~sklearn_focal.losses.FocalLoss`. The focal loss is not a proper
    scoring rule: the softmax output ``q`` of a focal-trained network is not the
    class posterior. With ``posterior='recovered'`` (the default)
    :meth:`predict_proba` returns ``psi(q, gamma_, alpha=alpha_)``
    (:func:`sklearn_focal.theory.psi`, Thm 11 of Charoenphakdee et al., 2021),
    which maps the focal risk minimizer back to the posterior. The raw ``q`` is
    always available from :meth:`predict_raw_proba`.

    :math:`\\Psi` at the training ``gamma`` helps when the network is close to
    that minimizer: a well-specified model that has not over-fitted (enough
    data for its size, early stopping or a short schedule). A network trained
    to convergence on little data over-fits and is over-confident instead; Psi,
    which sharpens, then makes its probabilities worse. Check on held-out data:
    :class:`~sklearn_focal.FocalPosteriorRecovery` with ``gamma="auto"`` around
    a :class:`~sklearn.frozen.FrozenEstimator` warns when Psi raises the
    calibration data's NLL, and there :class:`~sklearn_focal.FocalTemperatureScaling`
    (temperature and signed focal order fitted jointly on those data) is the
    map to use, with ``posterior='raw'``.

    ``gamma``, ``alpha`` and ``label_smoothing`` are top-level parameters, so
    :class:`~sklearn.model_selection.GridSearchCV` tunes them directly; they are
    passed to the criterion each time the net is initialized (at every
    :meth:`fit`), or changed (at a warm start or :meth:`partial_fit`). All of
    skorch's parameters (``module__*``, ``optimizer__*``, ``callbacks``,
    ``train_split``, ``iterator_train__*`` ...) keep working.

    Parameters
    ----------
    module : torch.nn.Module class or instance, default=None
        Network returning one logit per class. None builds a ReLU MLP with
        ``hidden_layer_sizes`` and ``dropout`` whose input and output sizes
        come from the training data.
    gamma : float, default=2.0
        Focusing parameter of the focal loss, ``gamma >= 0``; 0 is
        cross-entropy. The criterion trains with it and :meth:`predict_proba`
        recovers with the value trained with (``gamma_``); set it here, not
        as ``criterion__gamma`` (refused).
    alpha : None, 'balanced' or array-like of shape (n_classes,), default=None
        Per-class weights of the alpha-balanced focal loss, in the order of
        ``classes_``. ``'balanced'`` uses
        ``n_samples / (n_classes * np.bincount(y))`` of the ``y`` given to
        :meth:`fit` (the first :meth:`partial_fit`). Weights must be
        positive. ``criterion__alpha`` and ``criterion__weight`` are refused.
        For multi-label y: None or a float in (0, 1), the weight of the
        positive term of the sigmoid focal loss (``1 - alpha`` for negatives;
        torchvision's and mmdet's ``alpha=0.25``, torchvision's ``alpha=-1``
        and fvcore's default are None). There is no ``'auto'`` here: the
        weights trained with are stored as ``alpha_`` (and ``pos_weight_``),
        which :meth:`predict_proba` uses to recover the posterior and which
        ``FocalPosteriorRecovery(alpha="auto")`` reads, also through a
        Pipeline, a FrozenEstimator or a fitted search (see
        :ref:`user_guide_sigmoid`).
    label_smoothing : float, default=0.0
        Label smoothing of the targets, in ``[0, 1)``.
    posterior : {'recovered', 'raw'}, default='recovered'
        What :meth:`predict_proba` returns: the recovered posterior
        ``psi(q, gamma_, alpha=alpha_)`` or the raw softmax output ``q``.
    hidden_layer_sizes : tuple of int, default=(100,)
        Hidden widths of the default MLP (used when ``module=None``).
    dropout : float, default=0.0
        Dropout probability after each hidden layer of the default MLP.
    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialization, the shuffling and dropout. Training
        runs inside :func:`torch.random.fork_rng`, so torch's global random
        state is left untouched. An int gives identical results on the CPU.
    pos_weight : None, float or array-like of shape (n_labels,), default=None
        For multi-label y only: extra weight ``w > 0`` of the positive term of
        each label, as ``pos_weight`` of :class:`torch.nn.BCEWithLogitsLoss`
        (the positive term is weighted ``alpha * w``). :meth:`predict_proba`
        recovers with it.
    **kwargs : dict
        skorch's parameters (see :class:`skorch.NeuralNetClassifier`), passed
        through; FocalClassifier changes the defaults of these:

        - ``criterion=FocalLoss``: when it is
          :class:`~sklearn_focal.losses.FocalLoss` (or a subclass) it receives
          ``gamma``, the resolved ``alpha`` and ``label_smoothing``;
        - ``optimizer=torch.optim.Adam``, ``lr=1e-3``, ``max_epochs=30``;
        - ``train_split=None``: train on all the data, as scikit-learn's
          estimators do (skorch's validation split is e.g.
          ``skorch.dataset.ValidSplit(0.1, stratified=True)``, with
          ``stratified=False`` for a multi-label ``y``; its ``valid_acc`` is
          then the subset accuracy);
        - ``verbose=0`` (1 prints skorch's epoch table);
        - ``device='auto'``: ``'cuda'`` when available, else ``'cpu'``,
          decided at each fit and prediction; None leaves the module and the
          data where they are (skorch's convention).

        The others keep skorch's defaults: ``batch_size=128`` (-1: the whole
        data set), ``iterator_train``/``iterator_valid`` (the training loader
        shuffles unless ``iterator_train__shuffle=False``; batches are
        fetched with one index per batch, see :meth:`get_iterator`),
        ``dataset``, ``callbacks``, ``predict_nonlinearity='auto'`` (the
        softmax), ``warm_start``, ``compile``, ``use_caching``,
        ``torch_load_kwargs``, ``classes``, and the ``prefix__name``
        parameters (``module__*``, ``optimizer__*``, ``criterion__*``,
        ``iterator_train__*`` ...).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, when X is a DataFrame with string column names.
    gamma_ : float
        The ``gamma`` of the criterion the weights were (last) trained with,
        which :meth:`predict_proba` uses; 0.0 for a
        :class:`torch.nn.CrossEntropyLoss` criterion. Absent for other
        criteria, which only allow ``posterior='raw'``.
    alpha_ : ndarray of shape (n_classes,), float or None
        The per-class alpha of that criterion (the ``weight`` of a
        CrossEntropyLoss), used in :func:`~theory.psi`; for multi-label y the
        weight of positives of the BinaryFocalLoss (None for a
        BCEWithLogitsLoss), used in :func:`~theory.binary_psi`.
    pos_weight_ : ndarray of shape (n_labels,), float or None
        Multi-label y only: the ``pos_weight`` of that criterion.
    module_, criterion_, optimizer_, history_ : objects
        skorch's fitted components and training history.

    See Also
    --------
    sklearn_focal.losses.FocalLoss : The criterion.
    sklearn_focal.theory.psi : The posterior recovery map.
    sklearn_focal.FocalPosteriorRecovery : Recovery for any fitted classifier.

    Notes
    -----
    ``predict`` is the arg-max of the raw output ``q`` whatever ``posterior``
    says. Without ``alpha`` it equals the arg-max of the recovered posterior
    (Prop. 12: ``psi`` preserves the order of the entries). With non-uniform
    ``alpha`` the recovered posterior undoes the class weighting, so
    ``predict`` (the alpha-weighted decision the loss was trained for) is the
    arg-max of ``alpha_ * predict_proba(X)``, which may differ from the
    arg-max of ``predict_proba(X)`` (the unweighted Bayes decision).

    With ``label_smoothing = eps > 0`` the loss is minimized by the focal
    minimizer of the smoothed posterior ``(1 - eps) * eta + eps / K``;
    ``psi`` recovers that smoothed posterior.

    ``gamma_`` and ``alpha_`` change only when training does:
    ``set_params(gamma=...)`` on a fitted model leaves :meth:`predict_proba`
    as it was, and the next :meth:`fit` (``warm_start=True`` included) or
    :meth:`partial_fit` re-creates the criterion, trains with the new values
    and recovers with them.

    A non-finite loss (or gradient) during training raises a
    :class:`FloatingPointError` naming the epoch and batch, before the optimizer
    step, so the weights are never silently corrupted. Inputs that overflow
    float32 raise a ValueError, and a non-finite network output (huge or
    non-finite weights) a :class:`FloatingPointError`, both naming the rows.

    Threads: the networks are small, and torch's intra-op threads help little
    while running several fits at once. joblib's default (loky) workers, as
    used by ``GridSearchCV(..., n_jobs=k)``, already run torch with
    ``cpu_count() // k`` threads (joblib sets ``OMP_NUM_THREADS`` in each
    worker). Elsewhere (threads, other backends, your own processes) call
    ``torch.set_num_threads(1)`` in each worker; FocalClassifier does not
    change torch's process-wide setting itself.

    To save and load the weights alone (safetensors), use skorch's route:
    ``clf.save_params(f_params="model.safetensors", use_safetensors=True)``,
    then ``FocalClassifier(..., classes=clf.classes_,
    module__n_features=clf.n_features_in_).initialize().load_params(
    f_params="model.safetensors", use_safetensors=True)`` with the same
    parameters (and ``alpha=clf.alpha_`` instead of ``'balanced'``).

    References
    ----------
    .. [1] T.-Y. Lin, P. Goyal, R. Girshick, K. He, P. Dollar. "Focal Loss for
       Dense Object Detection". ICCV 2017.
    .. [2] N. Charoenphakdee, J. Vongkulbhisal, N. Chairatanakul, M. Sugiyama.
       "On Focal Loss for Class-Posterior Probability Estimation: A Theoretical
       Perspective". CVPR 2021.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_focal import FocalClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = FocalClassifier(gamma=2.0, max_epochs=60, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    >>> proba = clf.predict_proba(X[:2])
    >>> proba.shape, bool(np.allclose(proba.sum(axis=1), 1))
    ((2, 3), True)
    """

    _parameter_constraints: dict = {
        "gamma": [Interval(Real, 0, None, closed="left")],
        "alpha": [
            None,
            StrOptions({"balanced"}),
            "array-like",
            Interval(Real, 0, 1, closed="neither"),
        ],
        "pos_weight": [None, Interval(Real, 0, None, closed="neither"), "array-like"],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "posterior": [StrOptions({"recovered", "raw"})],
        "hidden_layer_sizes": ["array-like"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "random_state": ["random_state"],
        "lr": [Interval(Real, 0, None, closed="left")],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, -1, None, closed="left")],
        "device": [str, torch.device, None],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "callbacks": [list, None, StrOptions({"disable"})],
    }

    # skorch's NeuralNet.__init__ sets these three as instance attributes; as
    # scikit-learn requires, the estimator only stores its parameters at init,
    # so they live here as class-level defaults until initialization.
    history_ = None
    initialized_ = False
    virtual_params_ = MappingProxyType({})
    # The resolved per-class weights given to the criterion, and the value of
    # the ``alpha`` parameter they were resolved from (set at fit).
    _criterion_alpha = None
    _alpha_param = None
    # Multi-label (indicator) y: set at fit, with the dtype predict returns
    # and the resolved per-label pos_weight given to the criterion.
    _multilabel = False
    _y_dtype = None
    _criterion_pos_weight = None

    def __init__(
        self,
        module=None,
        *,
        gamma=2.0,
        alpha=None,
        label_smoothing=0.0,
        posterior="recovered",
        hidden_layer_sizes=(100,),
        dropout=0.0,
        random_state=None,
        pos_weight=None,
        **kwargs,
    ):
        # skorch's own parameters pass through, with FocalClassifier's
        # defaults where they differ from skorch's.
        super().__init__(module, **{**_SKORCH_DEFAULTS, **kwargs})
        self.gamma = gamma
        self.alpha = alpha
        self.label_smoothing = label_smoothing
        self.posterior = posterior
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.random_state = random_state
        self.pos_weight = pos_weight
        # skorch's __init__ also sets three fitted attributes; scikit-learn's
        # __init__ only stores parameters, so they fall back to the class-level
        # defaults above. (The one place that edits the instance's __dict__.)
        for name in ("history_", "initialized_", "virtual_params_"):
            vars(self).pop(name, None)

    # ------------------------------------------------------------------ #
    # fitting
    # ------------------------------------------------------------------ #
    # fit and partial_fit are thin scikit-learn front ends: they validate the
    # data and labels before skorch builds the network (its input width and
    # classes come from them; skorch's fit would initialize before seeing the
    # data), honour partial_fit(classes=...) (which skorch ignores), carry
    # sample_weight into skorch's dict-X route and run training in a forked,
    # seeded torch RNG. The training itself, with its callbacks and history
    # bookkeeping, is skorch's own partial_fit, unchanged.
    def fit(self, X, y, **fit_params):
        """Initialize the network and train it on (X, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (dense; float64 is cast to float32).
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels of any type, or a multi-label indicator matrix (0/1,
            bool, or sparse; at least 2 columns), which trains with
            :class:`~sklearn_focal.losses.BinaryFocalLoss` (``gamma``,
            ``alpha``, ``pos_weight``) instead of FocalLoss.
        **fit_params : dict
            ``sample_weight`` (array-like of shape (n_samples,), non-negative)
            weights the samples in the focal loss: the loss of a batch is
            ``sum_i w_i l_i / sum_i w_i`` (with ``alpha``,
            ``sum_i w_i alpha_{y_i}`` below), so an integer weight equals
            repeating the row, and a batch whose weights are all zero has
            loss 0. Needs a FocalLoss criterion. The other entries go to
            skorch (the module's ``forward`` and ``train_split``).

        Returns
        -------
        self : FocalClassifier
            The fitted classifier.
        """
        self._check_params()
        reset = not (self.warm_start and self.initialized_)
        self._train(X, y, reset=reset, fit_params=fit_params)
        return self

    def partial_fit(self, X, y, classes=None, **fit_params):
        """Train for ``max_epochs`` more epochs without re-initializing.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a multi-label indicator matrix.
        classes : array-like of shape (n_classes,), default=None
            All the classes, required on the first call if ``y`` does not
            contain every class. For a multi-label indicator ``y`` the labels
            are its columns: leave it unset (``range(n_labels)`` is accepted);
            other values raise a ``ValueError``.
        **fit_params : dict
            ``sample_weight``, as in :meth:`fit`; the rest goes to skorch.

        Returns
        -------
        self : FocalClassifier
            The fitted classifier.
        """
        first_call = not self.initialized_
        # Every call: set_params between calls must not slip past the checks.
        self._check_params()
        self._train(X, y, reset=first_call, classes=classes, fit_params=fit_params)
        return self

    def _train(self, X, y, *, reset, classes=None, fit_params):
        """Initialize (``reset``) or bring the criterion up to date, then train.

        ``gamma_`` and ``alpha_`` are set to the criterion's parameters before
        the first batch, so that they are always those the weights were last
        trained with.
        """
        fit_params = dict(fit_params)
        sample_weight = fit_params.pop("sample_weight", None)
        X, y_encoded = self._prepare_fit_data(X, y, reset=reset, classes=classes)
        if sample_weight is not None:
            if not self._has_focal_criterion():
                raise ValueError(
                    "sample_weight needs a FocalLoss criterion (criterion="
                    f"{getattr(self.criterion, '__name__', self.criterion)!r})."
                )
            # The package's one rule (no bools or strings, not all zero); each
            # batch's slice is checked again by the loss, as a tensor.
            sample_weight = check_sample_weight(sample_weight, X.shape[0])
            X = {_INPUT: X, _SAMPLE_WEIGHT: sample_weight}
        with self._device_context(), self._rng_context():
            if reset:
                self._criterion_alpha = self._resolve_alpha(y_encoded)
                self._criterion_pos_weight = self._resolve_pos_weight()
                super().initialize()  # skorch's, not this class's initialize()
            else:
                self._update_criterion(y_encoded)
            self._set_trained_parameters()
            super().partial_fit(X, y_encoded, **fit_params)

    def _has_focal_criterion(self):
        criterion = self.criterion
        return isinstance(criterion, type) and issubclass(criterion, FocalLoss)

    def _update_criterion(self, y_encoded):
        """Re-create the criterion when ``gamma``, ``alpha`` or
        ``label_smoothing`` changed since it was made (a warm start or
        :meth:`partial_fit` after :meth:`set_params`), so that training goes on
        with the new values. ``alpha='balanced'`` keeps the weights resolved
        when it was first set."""
        if not self._has_focal_criterion():
            return
        alpha = self._criterion_alpha
        if not _same_alpha_param(self.alpha, self._alpha_param):
            alpha = self._resolve_alpha(y_encoded)
        criterion = self.criterion_
        if self._multilabel:
            pos_weight = self._resolve_pos_weight()
            changed = (
                float(self.gamma) != criterion.gamma
                or alpha != self._criterion_alpha
                or not _same_alpha_values(
                    None if pos_weight is None else np.atleast_1d(pos_weight),
                    None
                    if self._criterion_pos_weight is None
                    else np.atleast_1d(self._criterion_pos_weight),
                )
            )
            self._criterion_pos_weight = pos_weight
        else:
            changed = (
                float(self.gamma) != criterion.gamma
                or float(self.label_smoothing) != criterion.label_smoothing
                or not _same_alpha_values(alpha, self._criterion_alpha)
            )
        if changed:
            self._criterion_alpha = alpha
            if self.verbose:
                print(
                    "Re-initializing criterion because gamma, alpha or "
                    "label_smoothing changed."
                )
            # skorch's public steps: build, move to the device, compile
            # (FocalLoss has no learnable parameters: the optimizer stays).
            self.initialize_criterion()
            self.criterion_ = self.torch_compile(
                to_device(self.criterion_, self.device), name="criterion"
            )

    def _set_trained_parameters(self):
        """``gamma_`` and ``alpha_``: the focal parameters of the criterion."""
        criterion = self.criterion_
        if self._multilabel and isinstance(
            criterion, BinaryFocalLoss | nn.BCEWithLogitsLoss
        ):
            # BCEWithLogitsLoss is the sigmoid focal loss at gamma = 0.
            focal = isinstance(criterion, BinaryFocalLoss)
            self.gamma_ = float(criterion.gamma) if focal else 0.0
            self.alpha_ = criterion.alpha if focal else None
            weight = criterion.pos_weight
            self.pos_weight_ = (
                None
                if weight is None
                else weight.detach().to("cpu", torch.float64).numpy().reshape(-1)
            )
            if self.pos_weight_ is not None and self.pos_weight_.size == 1:
                self.pos_weight_ = float(self.pos_weight_[0])
        elif isinstance(criterion, FocalLoss):
            self.gamma_ = float(criterion.gamma)
            self.alpha_ = (
                None
                if criterion.alpha is None
                else np.array(self._criterion_alpha, dtype=np.float64)
            )
        elif isinstance(criterion, nn.CrossEntropyLoss):
            # Cross-entropy is the focal loss at gamma = 0, weight = alpha.
            self.gamma_ = 0.0
            weight = criterion.weight
            self.alpha_ = (
                None
                if weight is None
                else weight.detach().to("cpu", torch.float64).numpy()
            )
        else:  # unknown loss: no recovery map
            for name in ("gamma_", "alpha_", "pos_weight_"):
                if hasattr(self, name):
                    delattr(self, name)

    def _prepare_fit_data(self, X, y, *, reset, classes=None):
        multilabel = is_multilabel_indicator(y)
        if not reset and multilabel != self._multilabel:
            kind = "multi-label indicator" if self._multilabel else "1-D label"
            raise ValueError(
                f"This FocalClassifier was fitted on {kind} y; partial_fit and "
                "warm starts must keep that kind of y (refit instead)."
            )
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            dtype=[np.float32, np.float64],
            ensure_min_samples=1,
            multi_output=multilabel,
        )
        check_classification_targets(y)
        if multilabel:
            return self._prepare_multilabel(X, y, reset=reset, classes=classes)
        if reset:
            self._multilabel = False
        if reset:
            if classes is None:
                classes = self.classes
            labels = np.unique(y) if classes is None else np.unique(classes)
            if labels.size < 2:
                raise ValueError(
                    "FocalClassifier needs samples of at least 2 classes, but the "
                    f"data contains only one class: {labels.tolist()!r}."
                )
            self._classes_ = labels
        labels = self._classes_
        y_encoded = np.searchsorted(labels, y)
        unseen = (y_encoded >= labels.size) | (
            labels[np.minimum(y_encoded, labels.size - 1)] != y
        )
        if unseen.any():
            raise ValueError(
                f"y contains labels not in classes_: {np.unique(y[unseen]).tolist()!r}."
            )
        return _as_float32(X), y_encoded.astype(np.int64)

    def _prepare_multilabel(self, X, y, *, reset, classes=None):
        """Indicator ``y`` (n, L) as float32 targets; ``classes_`` = 0..L-1."""
        if hasattr(y, "toarray"):  # sparse indicator
            y = y.toarray()
        y = np.asarray(y)
        if reset:
            sources = (
                ("partial_fit's classes", classes),
                ("FocalClassifier's classes parameter", self.classes),
            )
            for name, given in sources:
                if given is not None and not np.array_equal(
                    np.asarray(given), np.arange(y.shape[1])
                ):
                    raise ValueError(
                        f"{name} {np.asarray(given).tolist()!r} does not apply "
                        "to a multi-label indicator y: its labels are its "
                        f"{y.shape[1]} columns, classes_ = 0..{y.shape[1] - 1}. "
                        f"Leave it unset (or pass range({y.shape[1]}))."
                    )
            self._multilabel = True
            self._y_dtype = y.dtype
            self._classes_ = np.arange(y.shape[1])
        elif y.shape[1] != self._classes_.size:
            raise ValueError(
                f"y has {y.shape[1]} labels but this FocalClassifier was fitted "
                f"with {self._classes_.size}."
            )
        return _as_float32(X), y.astype(np.float32)

    def _resolve_pos_weight(self):
        """``pos_weight`` for multi-label y: None, a float or one per label."""
        if self.pos_weight is not None and not self._multilabel:
            raise ValueError(
                "pos_weight weighs the positives of the sigmoid (multi-label) "
                "focal loss; for 1-D y use alpha (per-class weights)."
            )
        if self.pos_weight is None:
            return None
        return check_label_weights(self.pos_weight, "pos_weight", self._classes_.size)

    def _resolve_alpha(self, y_encoded):
        """The per-class weights ``alpha`` stands for (None for None); for
        multi-label y the weight of positives, a float in (0, 1), or None."""
        n_classes = self._classes_.size
        self._alpha_param = (
            self.alpha if isinstance(self.alpha, str | None) else np.array(self.alpha)
        )
        if self.alpha is None:
            return None
        if self._multilabel:
            if isinstance(self.alpha, str) or np.ndim(self.alpha) != 0:
                raise ValueError(
                    "For multi-label y, alpha is the weight of the positives of "
                    "the sigmoid focal loss (torchvision's convention): None or a "
                    f"float in (0, 1), got {self.alpha!r}; per-label weights go "
                    "in pos_weight."
                )
            return check_label_weights(self.alpha, "alpha", None, unit_interval=True)
        if isinstance(self.alpha, str):  # 'balanced'
            present = np.unique(y_encoded)
            weights = np.ones(n_classes)
            weights[present] = compute_class_weight(
                "balanced", classes=present, y=y_encoded
            )
            return weights
        alpha = np.asarray(self.alpha, dtype=np.float64)
        if alpha.shape != (n_classes,):
            scalar = " (a float alpha is for multi-label y)" if alpha.ndim == 0 else ""
            raise ValueError(
                f"alpha must have one weight per class, shape ({n_classes},); got "
                f"shape {alpha.shape}{scalar}."
            )
        if not (np.all(np.isfinite(alpha)) and np.all(alpha > 0)):
            raise ValueError(f"alpha must be finite and positive, got {alpha!r}.")
        return alpha

    def set_params(self, **params):
        """Set parameters; see :meth:`skorch.NeuralNet.set_params`.

        Before initialization a new ``callbacks`` list is only stored (and
        validated at fit), instead of being initialized eagerly as skorch does.

        Parameters
        ----------
        **params : dict
            Estimator parameters, including skorch's ``prefix__name`` ones.

        Returns
        -------
        self : FocalClassifier
            This estimator.
        """
        if "callbacks" in params and not self.initialized_:
            self.callbacks = params.pop("callbacks")
        with self._device_context():
            return super().set_params(**params)

    def _get_param_names(self):
        # skorch lists every attribute not ending in "_"; private state such as
        # skorch's ``_params_to_validate`` is not a parameter.
        return [name for name in super()._get_param_names() if not name.startswith("_")]

    def _check_params(self):
        """scikit-learn's declarative constraints on the parameters.

        skorch checks its ``prefix__name`` arguments itself, in
        :meth:`initialize` (its ``_validate_params``, which keeps skorch's
        contract: it is not overridden here). Skipped under
        ``sklearn.set_config(skip_parameter_validation=True)``, as
        scikit-learn's estimators do.
        """
        if get_config().get("skip_parameter_validation", False):
            return
        validate_parameter_constraints(
            self._parameter_constraints,
            self.get_params(deep=False),
            caller_name=type(self).__name__,
        )
        # Interval(Real) and Interval(Integral) admit bools: the package's
        # one scalar rule does not.
        check_gamma(self.gamma)
        params = self.get_params(deep=False)
        for name, constraints in self._parameter_constraints.items():
            value = params.get(name)
            numeric = any(isinstance(c, Interval) for c in constraints)
            if numeric and isinstance(value, bool | np.bool_):
                raise TypeError(f"{name} must be a number, not a bool: {value!r}.")
        if self.hidden_layer_sizes is not None and len(self.hidden_layer_sizes):
            check_integer_array(
                self.hidden_layer_sizes, "hidden_layer_sizes", minimum=1
            )

    @contextlib.contextmanager
    def _device_context(self):
        """Let skorch see the resolved device while keeping ``device='auto'``."""
        requested = self.device
        if not _is_auto(requested):
            yield
            return
        resolved = _resolve_device(requested)
        self.device = resolved
        try:
            yield
        finally:
            # Restore "auto" unless the block set a new device (set_params).
            if self.device is resolved:
                self.device = requested

    @contextlib.contextmanager
    def _rng_context(self):
        if self.random_state is None:
            yield
            return
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        devices = []
        if self.device is None:  # skorch's "do not move": fork what is in use
            if torch.cuda.is_available() and torch.cuda.is_initialized():
                devices = [torch.cuda.current_device()]
        elif torch.device(self.device).type == "cuda":
            devices = [torch.cuda.current_device()]
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(int(seed))
            yield

    # ------------------------------------------------------------------ #
    # skorch hooks
    # ------------------------------------------------------------------ #
    def get_default_callbacks(self):
        """skorch's default callbacks, with the validation accuracy scored on
        the encoded labels that skorch's validation targets hold (its
        'accuracy' scorer compares them with :meth:`predict`, which returns
        ``classes_``).

        Returns
        -------
        callbacks : list of (str, Callback)
            The default callbacks, by name.
        """
        return [
            (
                name,
                EpochScoring(
                    _encoded_accuracy, name="valid_acc", lower_is_better=False
                ),
            )
            if name == "valid_acc"
            else (name, callback)
            for name, callback in super().get_default_callbacks()
        ]

    def initialize(self):
        """Initialize the module, criterion and optimizer (:meth:`fit` does it).

        Called outside :meth:`fit` (to load saved weights with
        :meth:`load_params`), it takes the labels from ``classes`` and, for
        the default MLP, the input width from ``module__n_features``; ``alpha``
        must then be None or explicit weights (``'balanced'`` needs the
        training labels: pass the fitted ``alpha_`` instead).

        Returns
        -------
        self : FocalClassifier
            This estimator.
        """
        self._check_params()
        with self._device_context():
            self._prepare_initialize()
            super().initialize()
            self._set_trained_parameters()
        return self

    def load_params(self, *args, **kwargs):
        """Load saved parameters; see :meth:`skorch.NeuralNet.load_params`.

        ``device='auto'`` is resolved first (safetensors needs a real device).

        Parameters
        ----------
        *args, **kwargs
            Passed to :meth:`skorch.NeuralNet.load_params` (``f_params``,
            ``use_safetensors`` ...).
        """
        with self._device_context():
            super().load_params(*args, **kwargs)

    def _prepare_initialize(self):
        """What fit takes from the data, taken from the parameters."""
        if self.classes is not None:
            labels = np.unique(self.classes)
            if labels.size < 2:
                raise ValueError(
                    f"classes must hold at least 2 labels, got {labels.tolist()!r}."
                )
            self._classes_ = labels
        elif not hasattr(self, "_classes_"):
            raise ValueError(
                "initialize() before fit needs the labels: pass classes=[...] "
                "(those of the model whose weights you load), or call fit."
            )
        if self.module is None:
            n_features = self.get_params_for("module").get(
                "n_features", getattr(self, "n_features_in_", None)
            )
            if n_features is None:
                raise ValueError(
                    "module=None builds an MLP sized from the training data; to "
                    "initialize it before fit pass module__n_features=<number of "
                    "input features>, or call fit."
                )
            self.n_features_in_ = int(n_features)
        if not _same_alpha_param(self.alpha, self._alpha_param):
            if isinstance(self.alpha, str):
                raise ValueError(
                    "alpha='balanced' is resolved from the training labels; to "
                    "initialize before fit pass the fitted weights, alpha=alpha_."
                )
            self._criterion_alpha = self._resolve_alpha(None)

    def initialize_module(self):
        """Build the default MLP when ``module=None``, else defer to skorch."""
        if self.module is not None:
            return super().initialize_module()
        kwargs = self.get_params_for("module")
        set_here = {"n_classes", "hidden_layer_sizes", "dropout"}
        clash = sorted(set_here.intersection(kwargs))
        if clash:
            raise ValueError(
                f"module__{clash[0]} is set by FocalClassifier for its default MLP "
                "(n_classes from the data, hidden_layer_sizes and dropout from its "
                "own parameters); pass it there instead."
            )
        n_features = kwargs.pop("n_features", self.n_features_in_)
        if n_features != self.n_features_in_:
            raise ValueError(
                f"module__n_features={n_features!r} but X has "
                f"{self.n_features_in_} features."
            )
        self.module_ = _MLP(
            self.n_features_in_,
            self._classes_.size,
            hidden_layer_sizes=tuple(int(w) for w in self.hidden_layer_sizes),
            dropout=float(self.dropout),
            **kwargs,
        )
        return self

    def initialize_criterion(self):
        """Pass ``gamma``, the resolved ``alpha`` and ``label_smoothing`` to a
        FocalLoss; ``criterion__gamma`` and the like are refused."""
        if not self._has_focal_criterion():
            return super().initialize_criterion()
        if self._multilabel:
            return self._initialize_binary_criterion()
        kwargs = self._criterion_kwargs(_OWN_CRITERION_PARAMS)
        alpha = getattr(self, "_criterion_alpha", None)
        self.criterion_ = self.criterion(
            gamma=float(self.gamma),
            alpha=None
            if alpha is None
            else torch.as_tensor(alpha, dtype=torch.float32),
            label_smoothing=float(self.label_smoothing),
            **kwargs,
        )
        return self

    def _criterion_kwargs(self, own_params):
        """The ``criterion__*`` parameters, refusing those in ``own_params``
        (criterion argument -> the FocalClassifier parameter that sets it)."""
        kwargs = self.get_params_for("criterion")
        clash = sorted(own_params.keys() & kwargs.keys())
        if clash:
            own = own_params[clash[0]]
            raise ValueError(
                f"criterion__{clash[0]} is set by FocalClassifier from its own "
                f"{own!r} parameter, which predict_proba also uses to recover the "
                f"probabilities; set {own}=... instead."
            )
        return kwargs

    def _initialize_binary_criterion(self):
        """Multi-label y: BinaryFocalLoss with ``gamma``, ``alpha`` (the weight
        of positives) and ``pos_weight``."""
        kwargs = self._criterion_kwargs(_OWN_BINARY_CRITERION_PARAMS)
        if float(self.label_smoothing) != 0.0:
            raise ValueError(
                "label_smoothing applies to the softmax focal loss; for "
                f"multi-label y it must be 0, got {self.label_smoothing!r}."
            )
        pos_weight = self._criterion_pos_weight
        self.criterion_ = BinaryFocalLoss(
            gamma=float(self.gamma),
            alpha=self._criterion_alpha,
            pos_weight=None
            if pos_weight is None
            else torch.as_tensor(pos_weight, dtype=torch.float32),
            **kwargs,
        )
        return self

    def get_iterator(self, dataset, training=False):
        """skorch's loaders, fetching each batch with one index.

        The training loader shuffles by default. For skorch's own
        :class:`~skorch.dataset.Dataset` of arrays (or a split of it), the
        loader asks the dataset for a whole batch at once instead of one
        sample at a time: the same batches in the same order, several times
        faster for small networks. A ``sampler``, ``batch_sampler`` or
        ``collate_fn`` given for the loader restores per-sample fetching.
        """
        if training:
            kwargs = self.get_params_for("iterator_train")
            iterator = self.iterator_train
            kwargs.setdefault("shuffle", True)
        else:
            kwargs = self.get_params_for("iterator_valid")
            iterator = self.iterator_valid
        kwargs.setdefault("batch_size", self.batch_size)
        if kwargs["batch_size"] == -1:
            kwargs["batch_size"] = len(dataset)
        batches = _array_batches(dataset)
        if (
            iterator is DataLoader
            and batches is not None
            and _PER_SAMPLE_LOADER_ARGS.isdisjoint(kwargs)
        ):
            # DataLoader's own sampling, with each batch of indices passed to
            # the arrays in one call (no automatic collation).
            if kwargs.pop("shuffle", False):
                order = RandomSampler(batches, generator=kwargs.get("generator"))
            else:
                order = SequentialSampler(batches)
            kwargs["sampler"] = _IndexArrayBatchSampler(
                order, kwargs.pop("batch_size"), kwargs.pop("drop_last", False)
            )
            return iterator(batches, batch_size=None, **kwargs)
        return iterator(dataset, **kwargs)

    def infer(self, x, **fit_params):
        if isinstance(x, dict) and _SAMPLE_WEIGHT in x:  # the weights: for the loss
            x = x[_INPUT]
        if not _is_auto(self.device):  # in fit: already resolved
            return super().infer(x, **fit_params)
        with self._device_context():
            return super().infer(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The criterion's loss; the weighted mean for sample-weighted data.

        With ``fit(X, y, sample_weight=w)`` the loss of a batch is the focal
        loss with ``sample_weight`` (``sum_i w_i l_i / sum_i w_i`` without
        ``alpha``); a batch whose weights are all zero has loss 0 and
        changes nothing.
        """
        if isinstance(X, dict) and _SAMPLE_WEIGHT in X:
            with self._device_context():
                return self._weighted_loss(y_pred, y_true, X[_SAMPLE_WEIGHT])
        if not _is_auto(self.device):
            return super().get_loss(y_pred, y_true, X=X, training=training)
        with self._device_context():
            return super().get_loss(y_pred, y_true, X=X, training=training)

    def _weighted_loss(self, y_pred, y_true, sample_weight):
        sample_weight = to_tensor(sample_weight, device=self.device)
        if self.criterion_.reduction == "mean" and not bool((sample_weight > 0).any()):
            return y_pred[:0].sum()  # zero, with a zero gradient
        y_true = to_tensor(y_true, device=self.device)
        if self._multilabel:
            # Each row's mean over its labels, weighted: sum_i w_i l_i / sum_i w_i.
            criterion = self.criterion_
            losses = _binary_focal(
                y_pred,
                y_true,
                gamma=criterion.gamma,
                alpha=criterion.alpha,
                reduction="none",
                pos_weight=criterion.pos_weight,
            ).mean(dim=1)
            weights = sample_weight.to(losses.dtype)
            total = (weights * losses).sum()
            return total if criterion.reduction == "sum" else total / weights.sum()
        return self.criterion_(y_pred, y_true, sample_weight=sample_weight)

    def train_step_single(self, batch, **fit_params):
        """One forward/backward pass; stops on a non-finite loss."""
        step = super().train_step_single(batch, **fit_params)
        # One host sync per batch, which skorch's loss record makes anyway.
        loss = step["loss"].item()
        if not math.isfinite(loss):
            epoch = len(self.history)
            batch_number = len(self.history[-1, "batches"]) if epoch else 0
            where = f"epoch {epoch}, batch {batch_number}"
            if not self._weights_are_finite():
                self._raise_non_finite_weights(f"before {where}")
            raise FloatingPointError(
                f"{type(self).__name__}: non-finite training loss "
                f"(loss={loss}) at {where}. "
                "Training stopped before the optimizer step, so the module keeps "
                "the weights of the last finite step. Try a smaller lr, scaled "
                "inputs, or check the data."
            )
        return step

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Check once per epoch that no non-finite gradient reached the weights."""
        super().on_epoch_end(
            net, dataset_train=dataset_train, dataset_valid=dataset_valid, **kwargs
        )
        if not self._weights_are_finite():
            self._raise_non_finite_weights(f"during epoch {len(self.history)}")

    def _weights_are_finite(self):
        weights = [p.detach() for _, p in self.get_all_learnable_params()]
        return not weights or bool(torch.isfinite(torch.stack(_max_abs(weights))).all())

    def _raise_non_finite_weights(self, when):
        raise FloatingPointError(
            f"{type(self).__name__}: the weights became non-finite {when} (a "
            "non-finite gradient with a finite loss). The module is left as it "
            "is: refit with a smaller lr, scaled inputs or gradient clipping."
        )

    def __setstate__(self, state):
        requested = state.get("device")
        if requested is None:  # skorch loads on the CPU; keep the parameter
            super().__setstate__(state)
            self.device = None
        elif _is_auto(requested):
            state["device"] = str(get_map_location(_resolve_device("auto")))
            super().__setstate__(state)
            self.device = requested
        else:
            super().__setstate__(state)

    # ------------------------------------------------------------------ #
    # inference
    # ------------------------------------------------------------------ #
    @property
    def classes_(self):
        try:
            return self._classes_
        except AttributeError as exc:
            raise AttributeError(
                f"This {type(self).__name__} instance is not fitted yet: it has no "
                "attribute 'classes_'."
            ) from exc

    def predict_raw_proba(self, X):
        """Softmax output ``q`` of the network, whatever ``posterior`` says.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or torch Dataset
            Input data. A torch Dataset (as skorch's callbacks pass during
            training) goes to the network unvalidated.

        Returns
        -------
        q : ndarray of shape (n_samples, n_classes) or (n_samples, n_labels)
            Raw softmax probabilities (float64), columns ordered as
            ``classes_``; for multi-label y the per-label sigmoid outputs.
        """
        check_is_fitted(self)
        if not isinstance(X, TorchDataset):  # skorch's callbacks pass datasets
            X = _as_float32(
                validate_data(self, X, reset=False, dtype=[np.float32, np.float64])
            )
        with self._device_context():
            logits = self.forward(X)
        if isinstance(logits, tuple):
            logits = logits[0]
        logits = logits.detach().to("cpu", torch.float64)
        nonlinearity = self.predict_nonlinearity
        if _is_auto(nonlinearity):
            nonlinearity = torch.sigmoid if self._multilabel else _softmax
        elif nonlinearity is None:  # skorch's convention: the module's output
            nonlinearity = _identity
        elif not callable(nonlinearity):
            raise TypeError(
                "predict_nonlinearity must be a callable, 'auto' or None, got "
                f"{nonlinearity!r}."
            )
        q = np.asarray(nonlinearity(logits))
        self._check_finite_output(q)
        return q

    def _check_finite_output(self, q):
        bad = ~np.isfinite(q).all(axis=tuple(range(1, q.ndim)))
        if not bad.any():
            return
        rows = np.flatnonzero(bad)
        cause = (
            "its weights are not finite (a training run stopped by a "
            "FloatingPointError leaves them so): refit"
            if not self._weights_are_finite()
            else "the network overflows on these inputs: scale the features or "
            "refit with a smaller lr"
        )
        raise FloatingPointError(
            f"{type(self).__name__}: the network output is not finite for "
            f"{rows.size} of {bad.size} rows, first rows {rows[:10].tolist()}; "
            f"{cause}."
        )

    def predict_proba(self, X):
        """Class probabilities: ``psi(q, gamma_, alpha=alpha_)`` or the raw ``q``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes) or (n_samples, n_labels)
            The recovered posterior when ``posterior='recovered'``, else the
            raw softmax output; columns ordered as ``classes_``. For
            multi-label y, the per-label probabilities
            ``binary_psi(q, gamma_, alpha=alpha_, pos_weight=pos_weight_)``
            (:func:`sklearn_focal.theory.binary_psi`), or the raw sigmoid
            outputs.
        """
        q = self.predict_raw_proba(X)
        if self.posterior == "raw":
            return q
        if not hasattr(self, "gamma_"):
            raise ValueError(
                "posterior='recovered' needs the focal parameters the network was "
                f"trained with, and criterion={self.criterion!r} is neither a "
                "FocalLoss nor a CrossEntropyLoss (BinaryFocalLoss nor "
                "BCEWithLogitsLoss for multi-label y); use posterior='raw'."
            )
        return self._recover(q)

    def _recover(self, q):
        if self._multilabel:
            return theory.binary_psi(
                q, self.gamma_, alpha=self.alpha_, pos_weight=self.pos_weight_
            )
        return theory.psi(q, self.gamma_, alpha=self.alpha_)

    def predict(self, X):
        """Predicted class labels: the arg-max of the raw output ``q``.

        Without ``alpha`` this is also the arg-max of ``predict_proba``
        (Prop. 12); with ``alpha`` it is the arg-max of
        ``alpha_ * predict_proba``. For multi-label y, the indicator matrix of
        the recovered per-label probabilities above 0.5 (the Bayes decision
        of each label, whatever ``posterior`` says), in the dtype of the
        training ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Labels from ``classes_``, or the indicator matrix.
        """
        q = self.predict_raw_proba(X)
        if self._multilabel:
            # The Bayes decision of each label: recovered probability > 0.5.
            proba = self._recover(q) if hasattr(self, "gamma_") else q
            return (proba > 0.5).astype(self._y_dtype)
        return self.classes_[np.argmax(q, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        tags.non_deterministic = self.random_state is None
        tags.classifier_tags.multi_label = True
        return tags
