"""
=======================================================================
Confidence of the focal risk minimizer: binary vs 1000 classes (Fig. 2)
=======================================================================

Given the true posterior :math:`\\eta(x)`, the output of a model trained to the
focal risk minimum is the focal-entropy minimizer

.. math::

    q^{\\gamma,*}(x) = \\arg\\min_{q \\in \\Delta^K}
    \\sum_i \\eta_i(x) (1-q_i)^\\gamma \\log\\frac{1}{q_i},

computed exactly by :func:`sklearn_focal.theory.focal_minimizer` (the inverse of
:math:`\\Psi^\\gamma`). This example redraws Fig. 2 of Charoenphakdee et al.
(CVPR 2021): the largest entry of :math:`q^{\\gamma,*}` against the largest
entry of :math:`\\eta`.

* In the **binary** case the model is always underconfident (Cor. 10):
  the curves lie below the diagonal, more so for larger γ.
* With **1000 classes** and a flat tail, the focal loss also produces
  *overconfident* outputs when the top class is not dominant: the curves rise
  above the diagonal for small :math:`\\max \\eta`.
"""

# %%
# The paper's two panels
# ----------------------
# :class:`~sklearn_focal.plotting.ConfidenceRelationDisplay` takes
# :math:`\eta = (t, \frac{1-t}{K-1}, \dots, \frac{1-t}{K-1})`, sweeps the top
# probability t and solves all the rows in one vectorized call of
# :func:`~sklearn_focal.theory.focal_minimizer`.
import matplotlib.pyplot as plt
import numpy as np

from sklearn_focal import theory
from sklearn_focal.plotting import ConfidenceRelationDisplay

gammas = [0.5, 1.0, 2.0, 3.0, 5.0]
fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
ConfidenceRelationDisplay.from_gammas(gammas, n_classes=2, ax=axes[0])
axes[0].set(xlim=(0.5, 1), ylim=(0.5, 1), title="(a) binary: always underconfident")
ConfidenceRelationDisplay.from_gammas(gammas, n_classes=1000, ax=axes[1])
axes[1].set_title("(b) 1000 classes")
for ax in axes:
    ax.set_aspect("equal")
    ax.legend(fontsize=8, loc="upper left")
fig.tight_layout()

# %%
# Zooming in on the overconfident region
# --------------------------------------
# The overconfidence in panel (b) is small in absolute terms; the difference
# :math:`\max q^* - \max \eta` on a log axis shows where it happens: for
# top probabilities below about :math:`\tau_{uc}`, and more for small γ
# relative to the underconfidence that follows.


def top_class_family(t, n_classes):
    """Posteriors with top probability t and a flat tail."""
    rest = (1.0 - t) / (n_classes - 1)
    eta = np.repeat(rest[:, None], n_classes, axis=1)
    eta[:, 0] = t
    return eta


# Stop short of t = 1: one-hot rows are fixed points and carry no information.
many_t = np.geomspace(1e-3 + 1e-6, 0.9999, 400)
many = top_class_family(many_t, 1000)
binary = top_class_family(np.linspace(0.5, 0.9999, 201), 2)

fig, ax = plt.subplots(figsize=(6.5, 4))
for gamma in gammas:
    q_many = theory.focal_minimizer(many, gamma)
    ax.plot(many_t, q_many.max(axis=1) - many_t, label=f"γ = {gamma:g}")
ax.axhline(0, color="k", lw=0.8)
ax.set(
    title="1000 classes: max q* − max η",
    xlabel=r"$\max_y \eta_y(x)$",
    ylabel="> 0: overconfident,  < 0: underconfident",
    xscale="log",
    xlim=(1e-3, 1),
)
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# Where does the sign flip?
# -------------------------
# :func:`~sklearn_focal.theory.confidence_regime` compares
# :math:`\max q` with :math:`\max \Psi^\gamma(q)` (Def. 7) for each row. For the
# 1000-class family, the largest true posterior up to which the minimizer is
# overconfident:
for gamma in gammas:
    q = theory.focal_minimizer(many, gamma)
    regime = theory.confidence_regime(q, gamma)
    over = regime.confidence == theory.Confidence.OVERCONFIDENT
    print(
        f"gamma={gamma:3.1f}: overconfident for max eta up to "
        f"{many_t[over].max():.3f}; tau_oc={theory.tau_oc(gamma):.3f}, "
        f"tau_uc={theory.tau_uc(gamma):.3f}"
    )

# %%
# And in the binary case no row is ever overconfident (Cor. 10):
for gamma in gammas:
    q = theory.focal_minimizer(binary[1:-1], gamma)
    regime = theory.confidence_regime(q, gamma)
    assert not np.any(regime.confidence == theory.Confidence.OVERCONFIDENT)
print("binary: no overconfident row for any gamma")
