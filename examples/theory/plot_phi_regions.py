"""
==============================================================
The function φ^γ and the over/underconfidence regions (Fig. 1)
==============================================================

Charoenphakdee et al. (CVPR 2021) characterize the output
:math:`q^{\\gamma,*}` of a model trained to the focal risk minimum through

.. math::

    \\varphi^\\gamma(v) = (1-v)^\\gamma - \\gamma (1-v)^{\\gamma-1} v \\log v .

By Thm 8, :math:`\\tau_{oc}^\\gamma = \\arg\\max_v \\varphi^\\gamma(v)` and the
point :math:`\\tau_{uc}^\\gamma > \\tau_{oc}^\\gamma` where
:math:`\\varphi^\\gamma` crosses 1 again split the values of
:math:`\\max_y q_y^{\\gamma,*}(x)` into three regions:

* :math:`(0, \\tau_{oc}]`: the model is **overconfident** (ηOC),
  :math:`\\max q > \\max \\eta`;
* :math:`[\\tau_{uc}, 1)`: it is **underconfident** (ηUC);
* in between the sign depends on the other entries of :math:`q`
  (ambiguous), but :math:`\\Psi^\\gamma` still decides it exactly.

This example redraws the paper's Fig. 1 with
:func:`sklearn_focal.theory.phi`, :func:`~sklearn_focal.theory.tau_oc` and
:func:`~sklearn_focal.theory.tau_uc`, and classifies a few model outputs with
:func:`~sklearn_focal.theory.confidence_regime`.
"""

# %%
# φ^γ for several γ, regions for γ = 3
# ------------------------------------
# :class:`~sklearn_focal.plotting.FocalPhiDisplay` draws the curves and shades
# the three regions of the highlighted γ, as in the paper.
import matplotlib.pyplot as plt
import numpy as np

from sklearn_focal import theory
from sklearn_focal.plotting import FocalPhiDisplay

fig, ax = plt.subplots(figsize=(7, 4.5))
disp = FocalPhiDisplay.from_gammas(
    [0.5, 1.0, 2.0, 3.0, 5.0], highlight_gamma=3.0, ax=ax
)
for t, name in [(disp.tau_oc, r"$\tau_{oc}$"), (disp.tau_uc, r"$\tau_{uc}$")]:
    ax.axvline(t, color="k", lw=0.8, ls=":")
    ax.annotate(name, (t, 0.05), xytext=(3, 0), textcoords="offset points")
ax.set(
    xlabel=r"$v = \max_y q_y^{\gamma,*}(x)$",
    ylim=(0, 1.6),
    title=r"$\varphi^\gamma$ and the confidence regions of Thm 8",
)
ax.legend(ncols=2, fontsize=8, loc="upper right")
fig.tight_layout()

# %%
# The thresholds as functions of γ
# --------------------------------
# Both thresholds shrink as γ grows: the larger the focusing parameter, the
# wider the range of confidences at which the model is surely underconfident.
# Thm 8 guarantees :math:`0 < \tau_{oc} < \tau_{uc} < 1/2`; for γ = 1 they are
# :math:`e^{-2}` and :math:`e^{-1}`.
gamma_grid = np.linspace(0.05, 10, 200)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.fill_between(gamma_grid, 0, theory.tau_oc(gamma_grid), color="tab:red", alpha=0.15)
ax.fill_between(
    gamma_grid,
    theory.tau_oc(gamma_grid),
    theory.tau_uc(gamma_grid),
    color="0.6",
    alpha=0.2,
)
ax.fill_between(gamma_grid, theory.tau_uc(gamma_grid), 1, color="tab:blue", alpha=0.1)
ax.plot(gamma_grid, theory.tau_oc(gamma_grid), "tab:red", label=r"$\tau_{oc}^\gamma$")
ax.plot(gamma_grid, theory.tau_uc(gamma_grid), "tab:blue", label=r"$\tau_{uc}^\gamma$")
ax.set(xlabel="γ", ylabel=r"$\max_y q_y$", ylim=(0, 1), xlim=(0, 10))
ax.text(6, 0.6, "underconfident", ha="center")
ax.text(6, 0.02, "overconfident", ha="center", va="bottom", fontsize=8)
ax.text(6, 0.11, "ambiguous", ha="center", va="bottom", fontsize=8)
ax.legend()
fig.tight_layout()

print("gamma   tau_oc   tau_uc")
for g in [0.5, 1, 2, 3, 5]:
    print(f"{g:5.1f}  {theory.tau_oc(g):.5f}  {theory.tau_uc(g):.5f}")
print("gamma = 1:", np.exp(-2), np.exp(-1))

# %%
# Classifying model outputs
# -------------------------
# :func:`~sklearn_focal.theory.confidence_regime` reports both views for each
# row: the exact answer of Def. 7 (comparing :math:`\max q` with
# :math:`\max \Psi^\gamma(q)`) and the region of Thm 8. The third row falls in
# the ambiguous region, yet the exact answer is available.
outputs = [
    [0.70, 0.20, 0.10],  # confident: surely underconfident
    [0.06] + [0.94 / 50] * 50,  # flat, many classes: overconfident
    [0.20, 0.20, 0.20, 0.20, 0.10, 0.10],  # max q between the thresholds
]
for row in map(np.asarray, outputs):
    result = theory.confidence_regime(row, gamma=3.0)
    print(
        f"K={row.size:3d}  max q={result.max_q[0]:.3f}  "
        f"max psi(q)={result.max_posterior[0]:.3f}  "
        f"Def. 7: {theory.Confidence(result.confidence[0]).name:14s} "
        f"Thm 8: {theory.ThresholdRegion(result.region[0]).name}"
    )
