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
# Computing the minimizer on a family of posteriors
# -------------------------------------------------
# For K classes we take :math:`\eta = (t, \frac{1-t}{K-1}, \dots,
# \frac{1-t}{K-1})` and sweep the top probability t. One vectorized call
# solves all rows.
import matplotlib.pyplot as plt
import numpy as np

from sklearn_focal import theory


def top_class_family(t, n_classes):
    """Posteriors with top probability t and a flat tail."""
    rest = (1.0 - t) / (n_classes - 1)
    eta = np.repeat(rest[:, None], n_classes, axis=1)
    eta[:, 0] = t
    return eta


gammas = [0.0, 0.5, 1.0, 2.0, 3.0, 5.0]
binary_t = np.linspace(0.5, 0.9999, 201)
many_t = np.linspace(1e-3 + 1e-6, 0.9999, 400)
binary = top_class_family(binary_t, 2)
many = top_class_family(many_t, 1000)

fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
for gamma in gammas:
    q_binary = theory.focal_minimizer(binary, gamma)
    q_many = theory.focal_minimizer(many, gamma)
    style = {"lw": 1 if gamma == 0 else 1.6, "label": f"γ = {gamma:g}"}
    if gamma == 0:
        style.update(color="k", ls="--")
    axes[0].plot(binary_t, q_binary.max(axis=1), **style)
    axes[1].plot(many_t, q_many.max(axis=1), **style)
    axes[2].plot(many_t, q_many.max(axis=1) - many_t, **style)

axes[0].set(
    title="(a) binary: always underconfident",
    xlabel=r"$\max_y \eta_y(x)$",
    ylabel=r"$\max_y q^{\gamma,*}_y(x)$",
    xlim=(0.5, 1),
    ylim=(0.5, 1),
)
axes[1].set(
    title="(b) 1000 classes",
    xlabel=r"$\max_y \eta_y(x)$",
    ylabel=r"$\max_y q^{\gamma,*}_y(x)$",
    xlim=(0, 1),
    ylim=(0, 1),
)
axes[2].axhline(0, color="k", lw=0.8)
axes[2].set(
    title="(c) 1000 classes: max q* − max η",
    xlabel=r"$\max_y \eta_y(x)$",
    ylabel="> 0: overconfident,  < 0: underconfident",
    xscale="log",
    xlim=(1e-3, 1),
)
for ax in axes[:2]:
    ax.set_aspect("equal")
axes[0].legend(fontsize=8)
fig.tight_layout()

# %%
# Where does the sign flip?
# -------------------------
# :func:`~sklearn_focal.theory.confidence_regime` compares
# :math:`\max q` with :math:`\max \Psi^\gamma(q)` (Def. 7) for each row. For the
# 1000-class family, the largest true posterior up to which the minimizer is
# overconfident:
for gamma in gammas[1:]:
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
for gamma in gammas[1:]:
    q = theory.focal_minimizer(binary[1:-1], gamma)
    regime = theory.confidence_regime(q, gamma)
    assert not np.any(regime.confidence == theory.Confidence.OVERCONFIDENT)
print("binary: no overconfident row for any gamma")
