"""
===================================================================
Focal-entropy regimes: amplification, suppression, over-suppression
===================================================================

The focal-entropy :math:`FE_\\gamma(p, q) = \\sum_i p_i (1-q_i)^\\gamma
\\log(1/q_i)` is the expected focal loss of a prediction :math:`q` when the
labels follow :math:`p`. Its unique minimizer :math:`q^*` (Shah, Cardone and
Dytso, AISTATS 2026) satisfies :math:`h^\\gamma(q^*_i) = p_i / \\lambda` for a
multiplier :math:`\\lambda > 0`, that is

.. math::

    \\frac{q^*_i}{p_i} = \\frac{\\varphi^\\gamma(q^*_i)}{\\lambda}.

So a class is **amplified** (:math:`q^*_i > p_i`) exactly when
:math:`\\varphi^\\gamma(q^*_i) > \\lambda`. Because :math:`\\varphi^\\gamma`
rises from 1 at 0 to its peak at :math:`\\tau_{oc}` and then falls to 0:

* high probabilities are **suppressed** (right of the threshold
  :math:`t_{high}` where :math:`\\varphi^\\gamma(t) = \\lambda`);
* mid-range probabilities are **amplified**;
* when :math:`\\lambda > 1`, which happens under extreme imbalance with a long
  tail of tiny classes, a second threshold :math:`t_{low}` appears and the
  tiniest probabilities are **over-suppressed**: pushed further towards 0.

:func:`sklearn_focal.theory.focal_regimes` returns the regime of every class,
:math:`q^*`, :math:`\\lambda` and the thresholds.
"""

# %%
# One imbalanced distribution, three regimes
# ------------------------------------------
import matplotlib.pyplot as plt
import numpy as np

from sklearn_focal import theory

p = np.array([0.30, 0.25, 0.20, 0.15, 0.05, 0.03, 0.01, 0.005, 0.005])
gamma = 2.0
result = theory.focal_regimes(p, gamma)
q, lam = result.q[0], result.lam[0]
t_low, t_high = result.thresholds[0]
regime = result.regime[0]

colors = {
    theory.FocalRegime.AMPLIFIED: "tab:green",
    theory.FocalRegime.SUPPRESSED: "tab:orange",
    theory.FocalRegime.OVER_SUPPRESSED: "tab:purple",
    theory.FocalRegime.UNCHANGED: "0.5",
}
names = {
    theory.FocalRegime.AMPLIFIED: "amplified",
    theory.FocalRegime.SUPPRESSED: "suppressed",
    theory.FocalRegime.OVER_SUPPRESSED: "over-suppressed",
    theory.FocalRegime.UNCHANGED: "unchanged",
}

print(f"lambda = {lam:.4f} (> 1: a tail is over-suppressed)")
print(f"thresholds: t_low = {t_low:.4f}, t_high = {t_high:.4f}")
for p_i, q_i, code in zip(p, q, regime, strict=True):
    print(f"p = {p_i:.3f}  q* = {q_i:.4f}  {names[theory.FocalRegime(code)]}")

fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
ax = axes[0]
index = np.arange(p.size)
ax.bar(index - 0.2, p, width=0.4, color="0.75", label="p (true)")
ax.bar(
    index + 0.2,
    q,
    width=0.4,
    color=[colors[theory.FocalRegime(c)] for c in regime],
    label="q* (focal minimizer)",
)
ax.set_yscale("log")
ax.set(
    xlabel="class",
    ylabel="probability (log scale)",
    title=f"p and its focal minimizer q*, γ = {gamma:g}",
)
handles = [plt.Rectangle((0, 0), 1, 1, color="0.75")] + [
    plt.Rectangle((0, 0), 1, 1, color=colors[c]) for c in np.unique(regime)[::-1]
]
labels = ["p (true)"] + [names[theory.FocalRegime(c)] for c in np.unique(regime)[::-1]]
ax.legend(handles, labels, fontsize=8)

ax = axes[1]
t = np.logspace(-3.5, 0, 500)[:-1]
ax.plot(t, theory.phi(t, gamma), "k", lw=1.5, label=r"$\varphi^\gamma(t)$")
ax.axhline(lam, color="tab:red", ls="--", label=rf"$\lambda$ = {lam:.3f}")
ax.axhline(1.0, color="0.6", lw=0.8)
for threshold, name in [(t_low, r"$t_{low}$"), (t_high, r"$t_{high}$")]:
    ax.axvline(threshold, color="tab:red", lw=0.8, ls=":")
    ax.annotate(name, (threshold, 0.1), xytext=(3, 0), textcoords="offset points")
ax.scatter(
    q,
    theory.phi(q, gamma),
    c=[colors[theory.FocalRegime(c)] for c in regime],
    zorder=3,
    edgecolor="k",
    label=r"classes at $q^*_i$",
)
ax.set(
    xscale="log",
    xlabel=r"$t$",
    ylabel=r"$\varphi^\gamma(t)$",
    title=r"amplified where $\varphi^\gamma(q^*_i) > \lambda$",
)
ax.legend(fontsize=8, loc="lower left")
fig.tight_layout()

# %%
# The ratio q*/p across γ
# -----------------------
# Plotting :math:`q^*_i / p_i` against :math:`p_i` shows the three regimes at
# a glance: the ratio is above 1 for mid-range classes and below 1 for the top
# class and for the tail. Over-suppression of the tail weakens and vanishes
# for large γ here, because :math:`\lambda` falls below 1.
fig, ax = plt.subplots(figsize=(6.5, 4))
for g in [0.5, 1.0, 2.0, 3.0, 5.0]:
    r = theory.focal_regimes(p, g)
    ax.plot(p, r.q[0] / p, "o-", ms=4, label=f"γ = {g:g}, λ = {r.lam[0]:.2f}")
ax.axhline(1.0, color="k", lw=0.8)
ax.set(xscale="log", xlabel=r"$p_i$", ylabel=r"$q^*_i / p_i$")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# When is λ > 1?
# --------------
# :math:`\lambda` exceeds 1 when many classes sit in the amplified range: their
# extra mass must be taken from somewhere, and it comes from the tail. Here
# ``n_head`` equally likely head classes share 95% of the mass and 100 tail
# classes share the rest.
fig, ax = plt.subplots(figsize=(6.5, 4))
gammas = np.linspace(0.1, 6, 60)
for n_head in [1, 2, 4, 8]:
    dist = np.r_[np.full(n_head, 0.95 / n_head), np.full(100, 0.05 / 100)]
    lams = [theory.focal_regimes(dist, g).lam[0] for g in gammas]
    ax.plot(gammas, lams, label=f"{n_head} head classes")
ax.axhline(1.0, color="k", lw=0.8)
ax.text(0.3, 1.02, "over-suppression of the tail", fontsize=8, va="bottom")
ax.set(xlabel="γ", ylabel=r"$\lambda$")
ax.legend(fontsize=8)
fig.tight_layout()
