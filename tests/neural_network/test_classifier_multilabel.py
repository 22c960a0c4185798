"""FocalClassifier on multi-label indicator y: the sigmoid focal loss.

The end-to-end tests train on data whose per-label posteriors are known: X is
the one-hot code of a cell, and each label of a row in cell c is drawn with
probability eta[c, label]. A model with a free logit per cell reaches the
risk minimizer of each cell, so its raw output is the focal minimizer of the
empirical posterior and the recovered one is that posterior.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from sklearn_focal import FocalClassifier
from sklearn_focal.theory import binary_psi

FAST = dict(hidden_layer_sizes=(16,), max_epochs=15, lr=0.05, batch_size=-1)


def torchvision_sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2.0):
    """torchvision.ops.sigmoid_focal_loss (reduction='mean'), transcribed."""
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    return loss.mean()


def _cells(n_cells=16, per_cell=600, n_labels=3, seed=0):
    """One-hot X, known eta (n_cells, n_labels) with many easy negatives, y."""
    rng = np.random.default_rng(seed)
    eta = np.exp(rng.uniform(np.log(0.01), np.log(0.9), size=(n_cells, n_labels)))
    cell = np.repeat(np.arange(n_cells), per_cell)
    X = np.eye(n_cells, dtype=np.float32)[cell]
    y = (rng.uniform(size=(cell.size, n_labels)) < eta[cell]).astype(np.int64)
    return X, y, eta, cell


def _expected_log_loss(p, eta):
    """The log-loss expected under the true eta, per entry, averaged."""
    return float(np.mean(-eta * np.log(p) - (1 - eta) * np.log1p(-p)))


def _multilabel_data(n=120, n_labels=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5)).astype(np.float32)
    y = (rng.uniform(size=(n, n_labels)) < 0.3).astype(np.int64)
    y[0], y[1] = 1, 0  # every label has both values
    return X, y


# --------------------------------------------------------------------------
# End to end: known posteriors
# --------------------------------------------------------------------------


@pytest.mark.slow
def test_recovery_of_a_model_trained_with_torchvision_style_focal_loss():
    # A free logit per (cell, label), trained with the loss written above.
    X, y, eta, cell = _cells()
    torch.manual_seed(0)
    logits = torch.zeros(eta.shape, requires_grad=True)
    X_t = torch.as_tensor(X)
    y_t = torch.as_tensor(y, dtype=torch.float32)
    optimizer = torch.optim.LBFGS(
        [logits], lr=1, max_iter=200, line_search_fn="strong_wolfe"
    )

    def closure():
        optimizer.zero_grad()
        loss = torchvision_sigmoid_focal_loss(X_t @ logits, y_t, alpha=0.25, gamma=2.0)
        loss.backward()
        return loss

    for _ in range(3):
        optimizer.step(closure)
    raw = torch.sigmoid(logits.detach().double()).numpy()
    recovered = binary_psi(raw, gamma=2.0, alpha=0.25)
    raw_error = np.mean(np.abs(raw - eta))
    recovered_error = np.mean(np.abs(recovered - eta))
    assert recovered_error <= 0.5 * raw_error, (raw_error, recovered_error)
    assert _expected_log_loss(recovered, eta) < _expected_log_loss(raw, eta)
    # Exactly the empirical posterior of each cell (the per-cell minimizer).
    empirical = np.array([y[cell == c].mean(axis=0) for c in range(eta.shape[0])])
    np.testing.assert_allclose(recovered, empirical, atol=2e-4)


@pytest.mark.slow
def test_focal_classifier_recovers_known_per_label_posteriors():
    X, y, eta, _ = _cells(per_cell=400, seed=1)
    clf = FocalClassifier(
        gamma=2.0,
        alpha=0.25,
        hidden_layer_sizes=(32,),
        max_epochs=120,
        lr=0.05,
        batch_size=-1,
        random_state=0,
    ).fit(X, y)
    cells = np.eye(eta.shape[0], dtype=np.float32)
    raw = clf.predict_raw_proba(cells)
    recovered = clf.predict_proba(cells)
    assert recovered.shape == eta.shape
    raw_error = np.mean(np.abs(raw - eta))
    recovered_error = np.mean(np.abs(recovered - eta))
    assert recovered_error <= 0.5 * raw_error, (raw_error, recovered_error)
    assert _expected_log_loss(recovered, eta) < _expected_log_loss(raw, eta)


def test_the_criterion_is_the_torchvision_sigmoid_focal_loss():
    X, y = _multilabel_data()
    clf = FocalClassifier(gamma=2.0, alpha=0.25, random_state=0, **FAST).fit(X, y)
    logits = clf.forward(X).detach()
    target = torch.as_tensor(y, dtype=torch.float32)
    got = clf.get_loss(logits, target)
    desired = torchvision_sigmoid_focal_loss(logits, target, alpha=0.25, gamma=2.0)
    torch.testing.assert_close(got, desired, rtol=1e-5, atol=1e-7)


def test_pos_weight_multiplies_the_positive_term_as_bce_with_logits():
    # gamma = 0, no alpha: BCEWithLogitsLoss(pos_weight=w) exactly.
    X, y = _multilabel_data()
    w = [1.0, 2.0, 0.5, 3.0]
    clf = FocalClassifier(gamma=0.0, pos_weight=w, random_state=0, **FAST).fit(X, y)
    logits = clf.forward(X).detach()
    target = torch.as_tensor(y, dtype=torch.float32)
    desired = nn.BCEWithLogitsLoss(pos_weight=torch.tensor(w))(logits, target)
    torch.testing.assert_close(clf.get_loss(logits, target), desired)
    np.testing.assert_allclose(clf.pos_weight_, w)
    # Recovery undoes the weighting: odds divided by w (gamma = 0).
    q = clf.predict_raw_proba(X)
    odds = q / (1 - q) / np.asarray(w)
    np.testing.assert_allclose(clf.predict_proba(X), odds / (1 + odds), rtol=1e-12)


# --------------------------------------------------------------------------
# Outputs
# --------------------------------------------------------------------------


def test_outputs_shapes_and_relations():
    X, y = _multilabel_data()
    clf = FocalClassifier(gamma=2.0, alpha=0.25, random_state=0, **FAST).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, np.arange(4))
    assert clf.gamma_ == 2.0 and clf.alpha_ == 0.25 and clf.pos_weight_ is None
    raw = clf.predict_raw_proba(X)
    logits = clf.forward(X).detach().double()
    np.testing.assert_allclose(raw, torch.sigmoid(logits).numpy(), rtol=1e-12)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 4)
    np.testing.assert_allclose(proba, binary_psi(raw, 2.0, alpha=0.25), rtol=1e-12)
    # The raw output is biased away from the posterior: recovery moves it.
    assert np.max(np.abs(proba - raw)) > 0.05
    raw_clf = FocalClassifier(
        gamma=2.0, alpha=0.25, posterior="raw", random_state=0, **FAST
    ).fit(X, y)
    np.testing.assert_allclose(raw_clf.predict_proba(X), raw)
    prediction = clf.predict(X)
    assert prediction.shape == y.shape and prediction.dtype == y.dtype
    np.testing.assert_array_equal(prediction, (proba > 0.5).astype(y.dtype))
    assert 0.0 <= clf.score(X, y) <= 1.0  # subset accuracy


def test_bool_and_sparse_indicators():
    import scipy.sparse as sp

    X, y = _multilabel_data()
    clf = FocalClassifier(random_state=0, **FAST)
    dense = clf.fit(X, y).predict_proba(X)
    assert clf.fit(X, y.astype(bool)).predict(X).dtype == bool
    np.testing.assert_allclose(clf.fit(X, sp.csr_matrix(y)).predict_proba(X), dense)


def test_cross_entropy_criterion_is_gamma_zero():
    X, y = _multilabel_data()
    clf = FocalClassifier(criterion=nn.BCEWithLogitsLoss, random_state=0, **FAST)
    clf.fit(X, y)
    assert clf.gamma_ == 0.0 and clf.alpha_ is None
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_raw_proba(X))


def test_sample_weight():
    X, y = _multilabel_data()
    base = FocalClassifier(gamma=2.0, alpha=0.25, random_state=0, **FAST)
    plain = base.fit(X, y).predict_proba(X)
    uniform = base.fit(X, y, sample_weight=np.full(len(X), 3.0)).predict_proba(X)
    np.testing.assert_allclose(uniform, plain, atol=1e-5)
    weights = np.ones(len(X))
    weights[::2] = 0.0
    zeroed = base.fit(X, y, sample_weight=weights).predict_proba(X)
    dropped = base.fit(X[1::2], y[1::2]).predict_proba(X)
    np.testing.assert_allclose(zeroed, dropped, atol=1e-5)
    assert np.max(np.abs(zeroed - plain)) > 1e-3


def test_partial_fit_and_changed_parameters():
    X, y = _multilabel_data()
    clf = FocalClassifier(gamma=2.0, random_state=0, **FAST)
    clf.partial_fit(X, y).partial_fit(X, y)
    assert clf.gamma_ == 2.0
    clf.set_params(gamma=1.0, alpha=0.5, pos_weight=2.0)
    clf.partial_fit(X, y)
    assert clf.gamma_ == 1.0 and clf.alpha_ == 0.5 and clf.pos_weight_ == 2.0
    with pytest.raises(ValueError, match="y has 3 labels .* fitted with 4"):
        clf.partial_fit(X, y[:, :3])
    with pytest.raises(ValueError, match="fitted on multi-label indicator y"):
        clf.partial_fit(X, y[:, 0])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"alpha": "balanced"}, "alpha is the weight of the positives"),
        ({"alpha": [0.2, 0.3, 0.4, 0.5]}, "per-label weights go in pos_weight"),
        ({"label_smoothing": 0.1}, "label_smoothing .* must be 0"),
        ({"pos_weight": [1.0, 2.0]}, "pos_weight has 2 entries .* 4 labels"),
        ({"pos_weight": [1.0, 2.0, 0.0, 1.0]}, "pos_weight must be .* index 2"),
        ({"criterion__alpha": 0.5}, "criterion__alpha is set by FocalClassifier"),
        ({"criterion__pos_weight": 0.5}, "criterion__pos_weight is set by"),
    ],
)
def test_bad_multilabel_parameters(params, match):
    X, y = _multilabel_data()
    with pytest.raises(ValueError, match=match):
        FocalClassifier(**{**FAST, "max_epochs": 1, **params}).fit(X, y)


def test_multilabel_only_parameters_refused_for_1d_y():
    X, y = _multilabel_data()
    with pytest.raises(ValueError, match="pos_weight weighs the positives"):
        FocalClassifier(pos_weight=2.0, **FAST).fit(X, y[:, 0])
    with pytest.raises(ValueError, match="a float alpha is for multi-label y"):
        FocalClassifier(alpha=0.25, **FAST).fit(X, y[:, 0])


def test_multiclass_multioutput_y_is_refused():
    X, _ = _multilabel_data()
    y = np.random.default_rng(0).integers(0, 3, size=(len(X), 2))
    with pytest.raises(ValueError, match="y"):
        FocalClassifier(**FAST).fit(X, y)


@pytest.mark.parametrize("multilabel", [False, True])
@pytest.mark.parametrize("name, own", [("gamma", "gamma"), ("alpha", "alpha")])
def test_criterion_parameters_of_its_own_are_refused_for_both_criteria(
    multilabel, name, own
):
    # One check for FocalLoss (1-D y) and BinaryFocalLoss (multi-label y).
    X, y = _multilabel_data()
    y = y if multilabel else y[:, 0]
    clf = FocalClassifier(**{**FAST, "max_epochs": 1, f"criterion__{name}": 0.5})
    with pytest.raises(
        ValueError, match=f"criterion__{name} is set by FocalClassifier .*'{own}'"
    ):
        clf.fit(X, y)


@pytest.mark.parametrize("where", ["init", "partial_fit"])
def test_classes_other_than_the_columns_are_refused_for_multilabel_y(where):
    X, y = _multilabel_data()
    source = "parameter" if where == "init" else "partial_fit's classes"
    match = rf"{source}.* \['a', 'b', 'c', 'd'\] does not apply to a multi-label"
    with pytest.raises(ValueError, match=match):
        if where == "init":
            FocalClassifier(classes=list("abcd"), **FAST).fit(X, y)
        else:
            FocalClassifier(**FAST).partial_fit(X, y, classes=list("abcd"))
    # The columns themselves are accepted.
    clf = FocalClassifier(**{**FAST, "max_epochs": 1}).partial_fit(
        X, y, classes=range(4)
    )
    np.testing.assert_array_equal(clf.classes_, np.arange(4))


def test_validation_accuracy_is_the_subset_accuracy_for_multilabel_y():
    # skorch's valid_acc used the arg-max of the raw output, meaningless for
    # an indicator y; it is the share of rows with every label right.
    from skorch.dataset import Dataset
    from skorch.helper import predefined_split

    X, y = _multilabel_data(n=200)
    X_valid, y_valid = X[150:], y[150:]
    clf = FocalClassifier(
        gamma=2.0,
        alpha=0.25,
        random_state=0,
        **{**FAST, "train_split": predefined_split(Dataset(X_valid, y_valid))},
    ).fit(X[:150], y[:150])
    subset = np.all(clf.predict(X_valid) == y_valid, axis=1)
    assert 0 < subset.sum() < len(subset)  # the check can tell the two apart
    assert clf.history[-1, "valid_acc"] == pytest.approx(np.mean(subset))
