"""Tests for FocalClassifier: sklearn API, skorch integration, real data."""

import io
import pickle

import joblib
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")
import scipy.sparse as sp  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits, make_blobs  # noqa: E402
from sklearn.metrics import accuracy_score, log_loss  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    GridSearchCV,
    StratifiedKFold,
    train_test_split,
)
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from skorch.dataset import Dataset as SkorchDataset  # noqa: E402
from skorch.dataset import ValidSplit  # noqa: E402
from torch.utils.data import default_collate  # noqa: E402

from sklearn_focal import FocalClassifier  # noqa: E402
from sklearn_focal.losses import FocalLoss  # noqa: E402

FAST = dict(hidden_layer_sizes=(16,), max_epochs=12, lr=0.05, batch_size=-1)


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=240, centers=3, cluster_std=1.0, random_state=0)
    return StandardScaler().fit_transform(X), y


def _fast(**kwargs):
    return FocalClassifier(**{**FAST, "random_state": 0, **kwargs})


def _softmax_of_module(clf, X):
    """Softmax of the fitted module's logits, by a plain torch forward pass."""
    with torch.no_grad():
        logits = clf.module_(torch.as_tensor(X, dtype=torch.float32))
    return torch.softmax(logits.double(), dim=1).numpy()


def _psi_reference(q, gamma, alpha=None):
    """Psi^gamma written out from the stationarity of the focal risk.

    At the minimizer q of ``sum_i eta_i alpha_i l(q_i)`` on the simplex, with
    ``l(v) = -(1 - v)^gamma log v``, ``eta_i alpha_i l'(q_i)`` is the same for
    every class, so ``eta_i`` is proportional to ``h(q_i) / alpha_i`` with
    ``h(v) = -1 / l'(v) = v / ((1 - v)^gamma - gamma v (1 - v)^(gamma - 1)
    log v)`` (Charoenphakdee et al. 2021, Thm 11).
    """
    q = np.asarray(q, dtype=np.float64)
    h = q / ((1 - q) ** gamma - gamma * q * (1 - q) ** (gamma - 1) * np.log(q))
    if alpha is not None:
        h = h / np.asarray(alpha, dtype=np.float64)
    return h / h.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------- #
# posteriors and predictions
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("gamma", [0.0, 1.0, 3.0])
@pytest.mark.parametrize("alpha", [None, "balanced", [1.0, 2.0, 0.5]])
def test_predict_is_argmax_of_raw_and_recovered(blobs, gamma, alpha):
    X, y = blobs
    clf = _fast(gamma=gamma, alpha=alpha).fit(X, y)
    raw = clf.predict_raw_proba(X)
    recovered = clf.predict_proba(X)
    pred = clf.predict(X)
    # independent references: a plain forward pass of the module, the alpha
    # worked out by hand (the blobs are balanced, 80 rows per class), and
    # Psi written out from the focal loss's stationarity condition
    q = _softmax_of_module(clf, X)
    np.testing.assert_allclose(raw, q, rtol=1e-6, atol=1e-12)
    if alpha is None:
        want_alpha = None
    elif isinstance(alpha, str):  # 'balanced' on balanced classes: all 1
        want_alpha = np.ones(3)
    else:
        want_alpha = np.asarray(alpha)
    if want_alpha is None:
        assert clf.alpha_ is None
    else:
        np.testing.assert_allclose(clf.alpha_, want_alpha)
    np.testing.assert_allclose(
        recovered, _psi_reference(q, gamma, want_alpha), rtol=1e-6, atol=1e-12
    )
    np.testing.assert_array_equal(pred, clf.classes_[q.argmax(1)])
    if alpha is None:
        # Prop. 12: psi preserves the arg-max.
        np.testing.assert_array_equal(pred, clf.classes_[recovered.argmax(1)])
    else:
        # psi_i is proportional to h(q_i) / alpha_i with h increasing, so the
        # alpha-weighted recovered posterior keeps the arg-max of q.
        weighted = recovered * want_alpha
        np.testing.assert_array_equal(pred, clf.classes_[weighted.argmax(1)])
    np.testing.assert_allclose(recovered.sum(1), 1.0)
    # posterior only changes what predict_proba reports, not the training.
    clf.set_params(posterior="raw")
    np.testing.assert_array_equal(clf.predict_proba(X), raw)


def test_alpha_resolution(blobs):
    X, y = blobs
    keep = np.r_[
        np.flatnonzero(y == 0), np.flatnonzero(y == 1)[:40], np.flatnonzero(y == 2)[:20]
    ]
    Xs, ys = X[keep], y[keep]
    clf = _fast(alpha="balanced", max_epochs=1).fit(Xs, ys)
    counts = np.array([80, 40, 20])
    np.testing.assert_allclose(clf.alpha_, 140 / (3 * counts))
    np.testing.assert_allclose(clf.criterion_.alpha.numpy(), clf.alpha_, rtol=1e-6)
    assert _fast(max_epochs=1).fit(Xs, ys).alpha_ is None
    with pytest.raises(ValueError, match="alpha"):
        _fast(alpha=[1.0, 2.0], max_epochs=1).fit(Xs, ys)
    with pytest.raises(ValueError, match="alpha"):
        _fast(alpha=[1.0, 0.0, 1.0], max_epochs=1).fit(Xs, ys)


def test_parameters_reach_the_criterion(blobs):
    X, y = blobs
    clf = _fast(max_epochs=1, gamma=0.5, label_smoothing=0.1).fit(X, y)
    assert isinstance(clf.criterion_, FocalLoss)
    assert clf.criterion_.gamma == 0.5 and clf.criterion_.label_smoothing == 0.1
    clf.set_params(gamma=3.0).fit(X, y)
    assert clf.criterion_.gamma == 3.0
    assert clf.predict_proba(X[:3]).shape == (3, 3)
    clf.set_params(criterion__reduction="sum").fit(X, y)
    assert clf.criterion_.reduction == "sum"


def test_grid_search_over_gamma_with_refit(blobs):
    X, y = blobs
    grid = [0, 1, 2, 3]
    search = GridSearchCV(_fast(), {"gamma": grid}, cv=2, refit=True)
    search.fit(X, y)
    # Reference without GridSearchCV: the same folds (StratifiedKFold(2), as
    # cv=2 means for a classifier), a fresh classifier per gamma and fold,
    # scored with sklearn's accuracy_score.
    folds = list(StratifiedKFold(2).split(X, y))
    want = [
        np.mean(
            [
                accuracy_score(
                    y[test], _fast(gamma=g).fit(X[train], y[train]).predict(X[test])
                )
                for train, test in folds
            ]
        )
        for g in grid
    ]
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], want)
    assert search.best_params_ == {"gamma": grid[int(np.argmax(want))]}
    best = search.best_estimator_
    assert best.criterion_.gamma == best.gamma == best.gamma_
    np.testing.assert_array_equal(
        best.predict_proba(X),
        _fast(gamma=best.gamma).fit(X, y).predict_proba(X),
    )
    assert search.score(X, y) > 0.8


def test_skorch_parameters_pass_through_with_focal_defaults(blobs):
    X, y = blobs
    params = FocalClassifier().get_params()
    assert params["criterion"] is FocalLoss
    assert params["optimizer"] is torch.optim.Adam
    assert params["lr"] == 1e-3 and params["max_epochs"] == 30
    assert params["train_split"] is None and params["verbose"] == 0
    assert params["device"] == "auto" and params["batch_size"] == 128
    clf = _fast(optimizer=torch.optim.SGD, optimizer__momentum=0.5, max_epochs=1)
    clf.fit(X, y)
    assert type(clf.optimizer_) is torch.optim.SGD
    group = clf.optimizer_.param_groups[0]
    assert group["momentum"] == 0.5 and group["lr"] == 0.05
    # skorch's own check of the prefix__name arguments still runs
    with pytest.raises(ValueError, match="did you mean optimizer__momentum"):
        _fast(optimizer_momentum=0.5).fit(X, y)


def test_pipeline_and_clone(blobs):
    X, y = blobs
    pipe = Pipeline([("scale", StandardScaler()), ("clf", _fast())]).fit(X * 10 + 3, y)
    assert pipe.score(X * 10 + 3, y) > 0.8
    clf = _fast(gamma=1.5, alpha="balanced", module__dropout=0.1)
    cloned = clone(clf)
    assert cloned.get_params(deep=False).keys() == clf.get_params(deep=False).keys()
    assert cloned.gamma == 1.5 and cloned.module__dropout == 0.1


def test_pickle_and_joblib_round_trip(blobs):
    X, y = blobs
    clf = _fast().fit(X, y)
    expected = clf.predict_proba(X)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), expected)
    buffer = io.BytesIO()
    joblib.dump(clf, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(joblib.load(buffer).predict_proba(X), expected)
    assert restored.device == "auto"


def test_random_state_reproducible_and_leaves_global_rng_alone(blobs):
    X, y = blobs
    torch.manual_seed(123)
    before = torch.get_rng_state()
    first_clf = _fast(random_state=7).fit(X, y)
    assert torch.equal(torch.get_rng_state(), before)
    first = first_clf.predict_proba(X)
    second = _fast(random_state=7).fit(X, y).predict_proba(X)
    third = _fast(random_state=8).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    assert not np.allclose(first, third)


def test_device_auto_resolves_and_is_kept(blobs):
    X, y = blobs
    clf = _fast(max_epochs=1).fit(X, y)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert next(clf.module_.parameters()).device.type == expected
    assert clf.device == "auto" and clf.get_params()["device"] == "auto"


# --------------------------------------------------------------------------- #
# inputs
# --------------------------------------------------------------------------- #
def test_string_and_noncontiguous_labels(blobs):
    X, y = blobs
    for labels in (np.array(["cat", "dog", "emu"]), np.array([-5, 10, 99])):
        clf = _fast().fit(X, labels[y])
        np.testing.assert_array_equal(clf.classes_, labels)
        assert set(clf.predict(X)) <= set(labels)
        assert clf.score(X, labels[y]) > 0.8
    with pytest.raises(ValueError, match="one class"):
        _fast().fit(X, np.zeros(len(X)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_numeric_dtypes(blobs, dtype):
    X, y = blobs
    clf = _fast(max_epochs=2).fit((X * 4).astype(dtype), y)
    assert clf.predict_proba((X * 4).astype(dtype)).dtype == np.float64


def test_dataframe_sets_feature_names(blobs):
    pd = pytest.importorskip("pandas")
    X, y = blobs
    frame = pd.DataFrame(X, columns=["a", "b"])
    clf = _fast(max_epochs=2).fit(frame, pd.Series(y))
    np.testing.assert_array_equal(clf.feature_names_in_, ["a", "b"])
    with pytest.warns(UserWarning, match="feature names"):
        from_array = clf.predict_proba(X)
    np.testing.assert_allclose(clf.predict_proba(frame), from_array, rtol=0)
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(frame.rename(columns={"a": "z"}))


@pytest.mark.parametrize("name", ["dropout", "hidden_layer_sizes", "n_classes"])
def test_module_params_that_clash_with_the_default_mlp_raise(blobs, name):
    X, y = blobs
    with pytest.raises(ValueError, match=f"module__{name} is set by FocalClassifier"):
        _fast(**{f"module__{name}": 1}).fit(X, y)


def test_sparse_input_is_rejected_clearly(blobs):
    X, y = blobs
    with pytest.raises(TypeError, match="dense"):
        _fast().fit(sp.csr_matrix(X), y)


def test_partial_fit_and_warm_start(blobs):
    X, y = blobs
    clf = _fast(max_epochs=1)
    clf.partial_fit(X[:50], y[:50], classes=[0, 1, 2])
    clf.partial_fit(X, y)
    assert len(clf.history) == 2
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X[:, :1], y)
    warm = _fast(max_epochs=2, warm_start=True).fit(X, y).fit(X, y)
    assert len(warm.history) == 4


def test_verbose_prints_skorch_epoch_table(blobs, capsys):
    X, y = blobs
    _fast(max_epochs=2, verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert "epoch" in out and "train_loss" in out


# --------------------------------------------------------------------------- #
# non-finite training
# --------------------------------------------------------------------------- #
class _BlowsUp(torch.nn.Module):
    """Linear logits that turn NaN from the third epoch's first batch on."""

    def __init__(self, n_features=2, n_classes=3, nan_after=None):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, n_classes)
        self.calls = 0
        self.nan_after = nan_after

    def forward(self, X):
        self.calls += 1
        logits = self.linear(X)
        if self.training and self.calls > self.nan_after:
            return self._poison(logits)
        return logits

    @staticmethod
    def _poison(logits):
        return logits * float("nan")


@pytest.mark.parametrize("drop_last", [False, True])
def test_batch_fetching_loader_trains_exactly_as_per_sample_fetching(blobs, drop_last):
    # A collate_fn restores skorch's per-sample fetching: same batches, same
    # order, so the same weights, losses and validation scores.
    X, y = blobs
    kwargs = dict(
        max_epochs=3,
        batch_size=32,
        train_split=ValidSplit(0.25, random_state=0),
        iterator_train__drop_last=drop_last,
    )
    fast = _fast(**kwargs).fit(X, y)
    per_sample = _fast(
        iterator_train__collate_fn=default_collate,
        iterator_valid__collate_fn=default_collate,
        **kwargs,
    ).fit(X, y)
    np.testing.assert_array_equal(fast.predict_proba(X), per_sample.predict_proba(X))
    for key in ("train_loss", "valid_loss", "valid_acc", "train_batch_count"):
        assert fast.history[:, key] == per_sample.history[:, key]
    n_train = 180  # 240 rows, a quarter held out
    want = n_train // 32 if drop_last else -(-n_train // 32)
    assert fast.history[-1, "train_batch_count"] == want


def test_validation_split_scores_accuracy_on_the_held_out_rows(blobs):
    X, y = blobs
    labels = np.array(["cat", "dog", "emu"])[y]
    split = ValidSplit(0.25, random_state=0)
    clf = _fast(max_epochs=2, train_split=split).fit(X, labels)
    encoded = np.searchsorted(clf.classes_, labels)
    _, valid = split(SkorchDataset(X.astype(np.float32), encoded), encoded)
    rows = valid.indices
    want = np.mean(clf.predict(X[rows]) == labels[rows])
    assert clf.history[-1, "valid_acc"] == pytest.approx(want)
    assert np.isfinite(clf.history[-1, "valid_loss"])


def test_nan_loss_stops_with_epoch_in_message(blobs):
    X, y = blobs
    # 240 samples / batch 64 = 4 batches per epoch: call 9 is epoch 3, batch 1.
    clf = FocalClassifier(_BlowsUp, module__nan_after=8, max_epochs=5, batch_size=64)
    with pytest.raises(FloatingPointError, match="epoch 3, batch 1"):
        clf.fit(X, y)
    for param in clf.module_.parameters():
        assert torch.isfinite(param).all()


class _NanGradient(torch.autograd.Function):
    """Identity forward; NaN gradient (with a finite loss)."""

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return torch.full_like(grad, float("nan"))


class _GradientBlowsUp(_BlowsUp):
    """Linear logits whose gradient turns NaN from the given call on."""

    def __init__(self, n_features=2, n_classes=3, nan_after=4):
        super().__init__(n_features, n_classes, nan_after)

    @staticmethod
    def _poison(logits):
        return _NanGradient.apply(logits)


def test_non_finite_gradient_stops_at_the_end_of_its_epoch(blobs):
    X, y = blobs
    # 4 batches per epoch: the gradient turns NaN at call 6, in epoch 2.
    clf = FocalClassifier(
        _GradientBlowsUp, module__nan_after=5, max_epochs=5, batch_size=64
    )
    with pytest.raises(FloatingPointError, match="weights became non-finite") as info:
        clf.fit(X, y)
    # Found at the next batch's loss (epoch 2, batch 3), or at the epoch's end.
    assert "epoch 2" in str(info.value)


# --------------------------------------------------------------------------- #
# real data
# --------------------------------------------------------------------------- #
@pytest.mark.slow
def test_digits_focal_accuracy_and_recovered_nll():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    focal = FocalClassifier(gamma=2, random_state=0).fit(X_train, y_train)
    cross_entropy = FocalClassifier(gamma=0, random_state=0).fit(X_train, y_train)
    acc_focal = focal.score(X_test, y_test)
    acc_ce = cross_entropy.score(X_test, y_test)
    assert acc_focal > 0.9
    assert abs(acc_focal - acc_ce) <= 0.02
    nll_raw = log_loss(y_test, focal.predict_raw_proba(X_test), labels=focal.classes_)
    nll_recovered = log_loss(y_test, focal.predict_proba(X_test), labels=focal.classes_)
    nll_ce = log_loss(
        y_test, cross_entropy.predict_proba(X_test), labels=focal.classes_
    )
    print(
        f"\ndigits: accuracy gamma=2 {acc_focal:.4f}, gamma=0 {acc_ce:.4f}; "
        f"NLL gamma=2 raw {nll_raw:.4f} -> recovered {nll_recovered:.4f}, "
        f"gamma=0 {nll_ce:.4f}"
    )
    assert nll_recovered < nll_raw


def test_invalid_parameters_are_refused_naming_them(blobs):
    from sklearn import config_context

    X, y = blobs
    with pytest.raises(ValueError, match="'gamma' parameter of FocalClassifier"):
        _fast(gamma=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="'dropout' parameter of FocalClassifier"):
        _fast(dropout=1.5).partial_fit(X, y)
    with pytest.raises(ValueError, match="'posterior' parameter of FocalClassifier"):
        FocalClassifier(posterior="calibrated").initialize()
    # scikit-learn's switch skips the check; the criterion then refuses gamma
    with config_context(skip_parameter_validation=True):
        with pytest.raises(ValueError, match="gamma") as info:
            _fast(gamma=-1.0).fit(X, y)
    assert "parameter of FocalClassifier" not in str(info.value)
