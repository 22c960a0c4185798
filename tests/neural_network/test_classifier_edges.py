"""FocalClassifier at the edges (issue #11): the recovered posterior uses the
focal parameters the weights were trained with, non-finite inputs and outputs
are refused naming the rows, device=None, per-sample weights, joblib's thread
budget and skorch's safetensors route."""

import joblib
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")
import torch.nn.functional as F  # noqa: E402
from sklearn.datasets import make_blobs  # noqa: E402
from sklearn.model_selection import cross_validate  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from skorch.callbacks import Callback  # noqa: E402
from skorch.exceptions import DeviceWarning  # noqa: E402
from torch import nn  # noqa: E402

from sklearn_focal import FocalClassifier, theory  # noqa: E402

FAST = dict(hidden_layer_sizes=(8,), max_epochs=3, lr=0.05, batch_size=-1)


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=90, centers=3, cluster_std=1.5, random_state=0)
    return StandardScaler().fit_transform(X), y


def _fast(**kwargs):
    return FocalClassifier(**{**FAST, "random_state": 0, **kwargs})


def _logits(clf, X):
    """The network's logits by a plain forward pass of its module."""
    with torch.no_grad():
        return clf.module_(torch.as_tensor(X, dtype=torch.float32)).double()


# --------------------------------------------------------------------------- #
# item 2: the posterior is recovered with the trained gamma and alpha
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "name, own",
    [
        ("gamma", "gamma"),
        ("alpha", "alpha"),
        ("weight", "alpha"),
        ("label_smoothing", "label_smoothing"),
    ],
)
def test_criterion_focal_parameters_are_refused(blobs, name, own):
    X, y = blobs
    value = [1.0, 2.0, 1.0] if own == "alpha" else 0.1
    with pytest.raises(ValueError, match=f"criterion__{name} .* set {own}="):
        _fast(gamma=2.0, **{f"criterion__{name}": value}).fit(X, y)
    clf = _fast(max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match=f"criterion__{name}"):
        clf.set_params(**{f"criterion__{name}": value})


def test_set_params_alone_keeps_the_posterior_of_a_fitted_model(blobs):
    X, y = blobs
    clf = _fast(gamma=2.0, alpha=[1.0, 2.0, 0.5]).fit(X, y)
    assert clf.gamma_ == 2.0
    np.testing.assert_array_equal(clf.alpha_, [1.0, 2.0, 0.5])
    proba = clf.predict_proba(X)
    q = torch.softmax(_logits(clf, X), dim=1).numpy()
    np.testing.assert_allclose(proba, theory.psi(q, 2.0, alpha=[1.0, 2.0, 0.5]))
    clf.set_params(gamma=0.0, alpha=None)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    assert clf.gamma_ == 2.0


@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_changed_gamma_trains_and_recovers_at_the_new_value(blobs, how):
    X, y = blobs
    clf = _fast(gamma=2.0, max_epochs=2).fit(X, y)
    start_logits = _logits(clf, X)
    clf.set_params(gamma=0.0, alpha=[1.0, 3.0, 1.0], max_epochs=1)
    if how == "warm_start":
        clf.set_params(warm_start=True).fit(X, y)
    else:
        clf.partial_fit(X, y)
    # One full batch: its loss is the alpha-weighted cross-entropy (gamma=0)
    # of the weights it started from.
    expected = F.cross_entropy(
        start_logits, torch.as_tensor(y), weight=torch.tensor([1.0, 3.0, 1.0]).double()
    )
    np.testing.assert_allclose(
        clf.history[-1, "train_loss"], expected.item(), rtol=1e-5
    )
    assert clf.gamma_ == 0.0 and clf.criterion_.gamma == 0.0
    np.testing.assert_array_equal(clf.alpha_, [1.0, 3.0, 1.0])
    q = torch.softmax(_logits(clf, X), dim=1).numpy()
    recovered = q / np.array([1.0, 3.0, 1.0])  # psi at gamma = 0: q / alpha
    recovered /= recovered.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(clf.predict_proba(X), recovered, rtol=1e-6)


def test_balanced_alpha_is_kept_by_warm_starts(blobs):
    X, y = blobs
    keep = np.r_[
        np.flatnonzero(y == 0), np.flatnonzero(y == 1)[:10], np.flatnonzero(y == 2)[:20]
    ]
    clf = _fast(alpha="balanced").fit(X[keep], y[keep])
    counts = np.array([30, 10, 20])
    np.testing.assert_allclose(clf.alpha_, 60 / (3 * counts))
    clf.set_params(warm_start=True, gamma=1.0).fit(X, y)  # balanced data now
    np.testing.assert_allclose(clf.alpha_, 60 / (3 * counts))
    assert clf.gamma_ == 1.0


def test_cross_entropy_criterion_recovers_at_gamma_zero(blobs):
    X, y = blobs
    weight = torch.tensor([1.0, 2.0, 4.0])
    clf = _fast(criterion=nn.CrossEntropyLoss, criterion__weight=weight).fit(X, y)
    assert clf.gamma_ == 0.0
    np.testing.assert_array_equal(clf.alpha_, [1.0, 2.0, 4.0])
    q = torch.softmax(_logits(clf, X), dim=1).numpy()
    recovered = q / weight.numpy()
    recovered /= recovered.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(clf.predict_proba(X), recovered, rtol=1e-6)


def test_unknown_criterion_refuses_a_recovered_posterior(blobs):
    X, y = blobs
    clf = _fast(criterion=nn.MultiMarginLoss, max_epochs=1).fit(X, y)
    assert not hasattr(clf, "gamma_")
    with pytest.raises(ValueError, match="posterior='raw'"):
        clf.predict_proba(X)
    clf.set_params(posterior="raw")
    np.testing.assert_allclose(
        clf.predict_proba(X), torch.softmax(_logits(clf, X), dim=1).numpy(), rtol=1e-6
    )


# --------------------------------------------------------------------------- #
# item 3: non-finite inputs and outputs
# --------------------------------------------------------------------------- #
def test_values_that_overflow_float32_are_refused_naming_the_rows(blobs):
    X, y = blobs
    X_big = X.copy()
    X_big[[3, 7], 1] = 1e39  # finite in float64, inf in float32
    with pytest.raises(ValueError, match=r"overflow float32.* rows \[3, 7\]"):
        _fast().fit(X_big, y)
    clf = _fast(max_epochs=1).fit(X, y)
    for method in (clf.predict, clf.predict_proba, clf.predict_raw_proba):
        with pytest.raises(ValueError, match=r"overflow float32.* rows \[3, 7\]"):
            method(X_big)


def test_non_finite_weights_are_reported_by_predict_and_predict_proba(blobs):
    X, y = blobs
    clf = _fast(max_epochs=1).fit(X, y)
    with torch.no_grad():
        clf.module_.layers[0].weight[0, 0] = float("nan")
    for method in (clf.predict, clf.predict_proba):
        with pytest.raises(FloatingPointError, match="weights are not finite"):
            method(X)


def test_overflowing_rows_are_named(blobs):
    X, y = blobs
    clf = _fast(max_epochs=1).fit(X, y)
    with torch.no_grad():
        clf.module_.layers[0].weight.mul_(3e38)
    bad = np.flatnonzero(~torch.isfinite(torch.softmax(_logits(clf, X), 1)).all(1))
    assert 0 < bad.size < len(X)
    match = rf"not finite for {bad.size} of {len(X)} rows, first rows \[{bad[0]}, "
    for method in (clf.predict, clf.predict_proba):
        with pytest.raises(FloatingPointError, match=match):
            method(X)
    # the rows that are finite still predict
    good = np.setdiff1d(np.arange(len(X)), bad)
    assert clf.predict(X[good]).shape == good.shape


# --------------------------------------------------------------------------- #
# item 5: device=None (skorch: do not move the module or the data)
# --------------------------------------------------------------------------- #
def test_device_none_trains_predicts_and_pickles_like_cpu(blobs):
    X, y = blobs
    clf = _fast(device=None).fit(X, y)
    cpu = _fast(device="cpu").fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), cpu.predict_proba(X))
    assert clf.get_params()["device"] is None
    with pytest.warns(DeviceWarning, match="cpu"):  # skorch loads on the CPU
        restored = joblib.load(_dump(clf))
    assert restored.get_params()["device"] is None
    np.testing.assert_array_equal(restored.predict_proba(X), cpu.predict_proba(X))


def _dump(obj):
    import io

    buffer = io.BytesIO()
    joblib.dump(obj, buffer)
    buffer.seek(0)
    return buffer


# --------------------------------------------------------------------------- #
# item 6: per-sample weights
# --------------------------------------------------------------------------- #
def _sgd(**kwargs):
    return _fast(optimizer=torch.optim.SGD, lr=0.5, max_epochs=2, **kwargs)


@pytest.mark.parametrize("alpha", [None, [1.0, 2.0, 0.5]])
def test_integer_sample_weights_train_like_repeated_rows(blobs, alpha):
    X, y = blobs
    counts = np.random.default_rng(0).integers(0, 4, size=len(y))
    counts[:3] = [1, 2, 3]  # every class keeps rows
    repeat = np.repeat(np.arange(len(y)), counts)
    weighted = _sgd(alpha=alpha).fit(X, y, sample_weight=counts)
    repeated = _sgd(alpha=alpha).fit(X[repeat], y[repeat])
    np.testing.assert_allclose(
        weighted.history[:, "train_loss"], repeated.history[:, "train_loss"], rtol=1e-5
    )
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-5, atol=1e-7
    )


def test_sample_weights_reach_mini_batches_and_a_validation_split(blobs):
    from skorch.dataset import ValidSplit

    X, y = blobs
    w = np.ones(len(y))
    plain = _fast(batch_size=16, train_split=ValidSplit(3, stratified=True)).fit(X, y)
    unit = _fast(batch_size=16, train_split=ValidSplit(3, stratified=True)).fit(
        X, y, sample_weight=w
    )
    for key in ("train_loss", "valid_loss", "valid_acc"):
        np.testing.assert_allclose(
            unit.history[:, key], plain.history[:, key], rtol=1e-5
        )
    # a batch whose weights are all zero has loss 0, not NaN
    zero_first = _fast(batch_size=16, iterator_train__shuffle=False).fit(
        X, y, sample_weight=np.r_[np.zeros(16), np.ones(len(y) - 16)]
    )
    assert zero_first.history[-1, "batches"][0]["train_loss"] == 0.0


@pytest.mark.parametrize(
    "sample_weight, match",
    [
        (lambda n: np.r_[-1.0, np.ones(n - 1)], r"sample_weight .* row 0"),
        (lambda n: np.r_[np.ones(n - 1), np.nan], rf"sample_weight .* row {89}"),
        (lambda n: np.ones(n - 1), r"sample_weight has 89 entries, expected 90"),
    ],
)
def test_bad_sample_weight_is_refused(blobs, sample_weight, match):
    X, y = blobs
    with pytest.raises(ValueError, match=match):
        _fast().fit(X, y, sample_weight=sample_weight(len(y)))


def test_sample_weight_needs_a_focal_criterion(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="sample_weight needs a FocalLoss"):
        _fast(criterion=nn.CrossEntropyLoss).fit(X, y, sample_weight=np.ones(len(y)))


# --------------------------------------------------------------------------- #
# threads: joblib's loky workers give torch their share of the cores
# --------------------------------------------------------------------------- #
class _RecordThreads(Callback):
    def on_epoch_end(self, net, **kwargs):
        net.history.record("torch_threads", torch.get_num_threads())


@pytest.mark.slow  # starts two worker processes that import torch (~10 s)
def test_torch_threads_inside_joblib_workers_fit_their_budget(blobs, monkeypatch):
    # conftest sets OMP_NUM_THREADS=1 for the test process; the workers must
    # get their budget from joblib, not inherit it.
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    X, y = blobs
    clf = _fast(max_epochs=1, callbacks=[_RecordThreads()])
    result = cross_validate(clf, X, y, cv=2, n_jobs=2, return_estimator=True)
    budget = max(1, joblib.cpu_count() // 2)
    for estimator in result["estimator"]:
        assert estimator.history[-1, "torch_threads"] <= budget


# --------------------------------------------------------------------------- #
# persistence: skorch's safetensors route
# --------------------------------------------------------------------------- #
class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))

    def forward(self, X):
        return self.layers(X)


@pytest.mark.parametrize("module_given", [False, True])
def test_safetensors_round_trip_gives_identical_predict_proba(
    blobs, tmp_path, module_given
):
    pytest.importorskip("safetensors")
    X, y = blobs
    params = dict(gamma=1.5, alpha=[1.0, 2.0, 0.5])
    if module_given:
        params["module"] = _Net
    clf = _fast(**params).fit(X, y)
    path = tmp_path / "model.safetensors"
    clf.save_params(f_params=path, use_safetensors=True)

    if not module_given:
        params["module__n_features"] = X.shape[1]
    restored = FocalClassifier(**FAST, **params, classes=clf.classes_).initialize()
    restored.load_params(f_params=path, use_safetensors=True)
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))
    assert restored.gamma_ == clf.gamma_


def test_initialize_before_fit_says_what_it_needs():
    with pytest.raises(ValueError, match="classes="):
        FocalClassifier().initialize()
    with pytest.raises(ValueError, match="module__n_features="):
        FocalClassifier(classes=[0, 1]).initialize()
    with pytest.raises(ValueError, match="alpha=alpha_"):
        FocalClassifier(
            classes=[0, 1], alpha="balanced", module__n_features=3
        ).initialize()


# --------------------------------------------------------------------------- #
# training against a skorch-free reference
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("gamma, alpha", [(2.0, None), (1.0, [1.0, 2.0, 0.5])])
def test_training_matches_a_hand_written_loop(blobs, gamma, alpha):
    # The same start weights, trained by FocalClassifier and by a plain torch
    # loop with the focal loss written out: the same losses and outputs.
    X, y = blobs
    clf = FocalClassifier(
        _Net,
        gamma=gamma,
        alpha=alpha,
        classes=[0, 1, 2],
        lr=0.05,
        max_epochs=4,
        batch_size=-1,
        iterator_train__shuffle=False,
    ).initialize()
    net = _Net()
    net.load_state_dict(clf.module_.state_dict())
    clf.partial_fit(X, y)

    optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
    X_t, y_t = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y)
    weight = torch.ones(3) if alpha is None else torch.tensor(alpha)
    losses = []
    for _ in range(4):
        optimizer.zero_grad()
        log_p = torch.log_softmax(net(X_t), dim=1).gather(1, y_t[:, None])[:, 0]
        w = weight[y_t]
        loss = -(w * (1 - log_p.exp()) ** gamma * log_p).sum() / w.sum()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    np.testing.assert_allclose(clf.history[:, "train_loss"], losses, rtol=1e-5)
    with torch.no_grad():
        q = torch.softmax(net(X_t).double(), dim=1).numpy()
    np.testing.assert_allclose(clf.predict_raw_proba(X), q, rtol=1e-4, atol=1e-7)
    assert clf.gamma_ == gamma


def test_predict_nonlinearity_none_returns_the_module_output(blobs):
    X, y = blobs
    clf = _fast(max_epochs=1, posterior="raw", predict_nonlinearity=None).fit(X, y)
    np.testing.assert_allclose(
        clf.predict_raw_proba(X), _logits(clf, X).numpy(), rtol=1e-6
    )
    clf.set_params(predict_nonlinearity="softmax")
    with pytest.raises(TypeError, match="predict_nonlinearity must be a callable"):
        clf.predict_raw_proba(X)


def test_changed_gamma_re_creates_the_criterion_on_its_device(blobs, capsys):
    X, y = blobs
    clf = _fast(gamma=2.0, max_epochs=1, alpha=[1.0, 2.0, 0.5]).fit(X, y)
    before = clf.criterion_
    optimizer = clf.optimizer_
    clf.set_params(gamma=0.5, verbose=1, warm_start=True).fit(X, y)
    assert "Re-initializing criterion because gamma" in capsys.readouterr().out
    assert clf.criterion_ is not before and clf.criterion_.gamma == 0.5
    assert clf.optimizer_ is optimizer  # the weights keep training
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert clf.criterion_.alpha.device.type == expected
    np.testing.assert_array_equal(clf.criterion_.alpha.cpu().numpy(), [1.0, 2.0, 0.5])


class _RecordEvents(Callback):
    def initialize(self):
        self.events = []
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.events.append(("train_begin", X.shape, y.dtype.kind))

    def on_epoch_begin(self, net, **kwargs):
        self.events.append("epoch_begin")

    def on_epoch_end(self, net, **kwargs):
        self.events.append("epoch_end")

    def on_train_end(self, net, X=None, y=None, **kwargs):
        self.events.append("train_end")


def test_fit_and_partial_fit_keep_skorchs_callback_bookkeeping(blobs):
    X, y = blobs
    labels = np.array(["a", "b", "c"])[y]
    events = _RecordEvents()
    clf = _fast(max_epochs=2, callbacks=[("events", events)]).fit(X, labels)
    recorded = dict(clf.callbacks_)["events"].events
    one_run = [("train_begin", X.shape, "i")] + ["epoch_begin", "epoch_end"] * 2
    assert recorded == one_run + ["train_end"]
    clf.partial_fit(X, labels)
    assert recorded == (one_run + ["train_end"]) * 2
    assert len(clf.history) == 4


@pytest.mark.parametrize("gamma", [True, np.True_])
def test_bool_gamma_is_refused_like_everywhere_else(gamma):
    """Interval(Real) admits a bool; FocalClassifier follows the one gamma rule."""
    X = np.zeros((4, 2), dtype=np.float32)
    y = np.array([0, 1, 0, 1])
    with pytest.raises(TypeError, match="gamma"):
        FocalClassifier(gamma=gamma, max_epochs=1).fit(X, y)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"max_epochs": True}, "max_epochs"),
        ({"lr": True}, "lr"),
        ({"batch_size": True}, "batch_size"),
        ({"dropout": False}, "dropout"),
        ({"label_smoothing": False}, "label_smoothing"),
        ({"hidden_layer_sizes": (True,)}, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": (2.7,)}, "hidden_layer_sizes"),
    ],
)
def test_bools_and_floats_are_not_integers_or_numbers(params, match):
    """The one scalar rule (found by review: Interval admits bools)."""
    X = np.zeros((4, 2), dtype=np.float32)
    y = np.array([0, 1, 0, 1])
    with pytest.raises(TypeError, match=match):
        FocalClassifier(**params).fit(X, y)


def test_set_params_between_partial_fits_is_checked():
    X = np.random.default_rng(0).normal(size=(20, 2)).astype(np.float32)
    y = np.arange(20) % 2
    clf = FocalClassifier(max_epochs=1, hidden_layer_sizes=(4,), random_state=0)
    clf.partial_fit(X, y, classes=[0, 1])
    clf.set_params(gamma=True)
    with pytest.raises(TypeError, match="gamma"):
        clf.partial_fit(X, y)
    clf.set_params(gamma=2.0, posterior="RAW")
    with pytest.raises(ValueError, match="posterior"):
        clf.partial_fit(X, y)


@pytest.mark.parametrize(
    "weights, error, match",
    [
        (np.zeros(20), ValueError, "sample_weight"),
        (["1"] * 20, TypeError, "sample_weight"),
        ([True] * 20, TypeError, "sample_weight"),
    ],
)
def test_sample_weight_follows_the_package_rule(weights, error, match):
    X = np.random.default_rng(0).normal(size=(20, 2)).astype(np.float32)
    y = np.arange(20) % 2
    with pytest.raises(error, match=match):
        FocalClassifier(max_epochs=1).fit(X, y, sample_weight=weights)
