"""
=====================================================================
A detector's sigmoid focal scores are not probabilities: recover them
=====================================================================

The classification head of a RetinaNet-style detector scores every anchor for
every object class with a sigmoid, trained by the alpha-balanced sigmoid focal
loss (``torchvision.ops.sigmoid_focal_loss`` with ``alpha=0.25, gamma=2``).
Most anchors are easy negatives and few are positives. The trained scores are
**not** the probability that the anchor holds the object: the loss is
minimized by a distorted score ``q``, with

.. math::

    \\frac{\\eta}{1 - \\eta} = \\frac{(1 - \\alpha)\\, h(q)}{\\alpha\\, h(1 - q)},
    \\qquad h(v) = \\frac{v}{(1-v)^\\gamma - \\gamma (1-v)^{\\gamma-1} v \\log v},

where :math:`\\eta` is the true probability. This example trains such a head
on a synthetic problem whose per-label probabilities are known, shows the
bias of the raw scores (and the score a user would need as a threshold to
mean 50 %), and compares the exact recovery
:func:`~sklearn_focal.theory.binary_psi` with per-label temperature scaling.
"""

# %%
# A detection-like problem with known probabilities
# -------------------------------------------------
# Two features per "anchor" and three object classes (labels). Each label is
# present with probability :math:`\eta_j(x) = \sigma(w_j \cdot x + b_j)`; the
# negative offsets make positives rare (under 10 % of the entries), as for the
# anchors of a detector.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from scipy.special import expit

from sklearn_focal import FocalClassifier, TemperatureScaling
from sklearn_focal.metrics import (
    multilabel_brier_score,
    multilabel_calibration_error,
    multilabel_log_loss,
)
from sklearn_focal.plotting import ReliabilityDisplay
from sklearn_focal.theory import binary_focal_minimizer, binary_psi

rng = np.random.default_rng(0)
W = np.array([[2.0, 0.5], [-1.0, 2.0], [0.5, -2.5]])
b = np.array([-4.0, -4.5, -4.0])


def sample(n):
    X = rng.normal(size=(n, 2))
    eta = expit(X @ W.T + b)
    Y = (rng.uniform(size=eta.shape) < eta).astype(np.int64)
    return X.astype(np.float32), Y, eta


X_train, Y_train, _ = sample(8000)
X_val, Y_val, _ = sample(2000)  # for temperature scaling
X_test, Y_test, eta_test = sample(20000)
print(f"fraction of positive entries: {Y_train.mean():.3f}")

# %%
# A classification head trained with alpha = 0.25, gamma = 2
# -----------------------------------------------------------
# A multi-label indicator ``y`` makes :class:`~sklearn_focal.FocalClassifier`
# train with :class:`~sklearn_focal.losses.BinaryFocalLoss`, the sigmoid focal
# loss of torchvision (``alpha`` weighs the positives, ``1 - alpha`` the
# negatives). ``predict_raw_proba`` gives the raw sigmoid scores and
# ``predict_proba`` the recovered probabilities.
clf = FocalClassifier(
    gamma=2.0,
    alpha=0.25,
    hidden_layer_sizes=(32,),
    max_epochs=60,
    lr=0.01,
    batch_size=500,
    random_state=0,
).fit(X_train, Y_train)
raw = clf.predict_raw_proba(X_test)
recovered = clf.predict_proba(X_test)

# %%
# Temperature scaling per label, fitted on held-out raw scores
# ------------------------------------------------------------
# :class:`~sklearn_focal.TemperatureScaling` with ``link="sigmoid"`` divides
# each label's logit by its own temperature, fitted by log-loss.
ts = TemperatureScaling(link="sigmoid", per_label=True).fit(
    clf.predict_raw_proba(X_val), Y_val
)
scaled = ts.transform(raw)
print("temperatures per label:", ts.temperature_.round(2))

# %%
# The raw scores are biased; the map is exact
# -------------------------------------------
# The left panel draws the exact relation between the true probability and
# the score the loss is minimized by (:func:`binary_focal_minimizer`), and two
# natural but wrong guesses at undoing it: the map of the unweighted loss
# (alpha ignored) and the map with alpha swapped. A 50 % probability is
# scored about 0.40, and a raw score of 0.5 means a probability of
# 1 - alpha = 75 %: a user who thresholds the raw scores at 0.5 keeps only the
# detections that are at least 75 % likely.
eta_grid = np.linspace(0.001, 0.999, 500)
q_grid = binary_focal_minimizer(eta_grid, gamma=2.0, alpha=0.25)
threshold = float(binary_focal_minimizer(0.5, gamma=2.0, alpha=0.25))
at_half = float(binary_psi(0.5, gamma=2.0, alpha=0.25))
print(f"raw score of a 50 % probability: {threshold:.4f}")
print(f"true probability of a raw score of 0.5: {at_half:.4f}")

fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
axes[0].plot(q_grid, eta_grid, "k", lw=2, label="exact: binary_psi(q, 2, alpha=0.25)")
axes[0].plot(q_grid, binary_psi(q_grid, 2.0), "--", label="alpha ignored")
axes[0].plot(q_grid, binary_psi(q_grid, 2.0, alpha=0.75), ":", label="alpha swapped")
axes[0].plot([0, 1], [0, 1], color="0.7", lw=1, label="identity")
axes[0].axvline(threshold, color="C3", lw=1)
axes[0].set(xlabel="raw sigmoid score q", ylabel="true probability", title="the map")
axes[0].legend(fontsize=8)
for name, proba in [("raw", raw), ("binary_psi", recovered), ("TS per label", scaled)]:
    ReliabilityDisplay.from_predictions(
        Y_test, proba, n_bins=10, name=name, ax=axes[1], histogram=False
    )
axes[1].set_title("pooled reliability, test set")
fig.tight_layout()

# %%
# Errors against the known probabilities
# --------------------------------------
# The mean absolute error to the true :math:`\eta`, the per-label ECE
# (averaged, and pooled over all entries), log-loss and Brier score.
rows = {}
for name, proba in [("raw", raw), ("binary_psi", recovered), ("TS per label", scaled)]:
    rows[name] = {
        "mean |p - eta|": np.mean(np.abs(proba - eta_test)),
        "ECE (macro)": multilabel_calibration_error(Y_test, proba),
        "ECE (pooled)": multilabel_calibration_error(Y_test, proba, average="pooled"),
        "log-loss": multilabel_log_loss(Y_test, proba),
        "Brier": multilabel_brier_score(Y_test, proba),
    }
table = pd.DataFrame(rows).T
print(table.round(4).to_string())

# %%
# A model trained elsewhere
# -------------------------
# Nothing above needs :class:`~sklearn_focal.FocalClassifier`: the outputs of
# any network trained with ``sigmoid_focal_loss(alpha=0.25, gamma=2)`` are
# recovered from its logits by one call (torchvision's ``alpha=-1`` and
# fvcore's default are ``alpha=None``; per-label ``alpha`` or
# ``pos_weight`` arrays act on the last axis)::
#
#     from sklearn_focal.theory import binary_psi
#     proba = binary_psi(torch.sigmoid(logits).numpy(), gamma=2.0, alpha=0.25)
logits = clf.forward(X_test).detach().double()
proba = binary_psi(torch.sigmoid(logits).numpy(), gamma=2.0, alpha=0.25)
print("same as predict_proba:", bool(np.allclose(proba, recovered)))
