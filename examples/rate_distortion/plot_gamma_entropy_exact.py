"""
========================================================================
γ-entropy and the exact single-shot optimum (Dytso & Cardone, Figs. 1-2)
========================================================================

Dytso & Cardone use the focal loss as a distortion measure for lossy source
coding with soft reconstructions: a source symbol :math:`x` is compressed into
one of :math:`M` messages and decoded into a distribution :math:`\\hat P`,
at distortion

.. math::

    d(x; \\hat P) = (1 - \\hat P(x))^\\gamma \\log_2 \\frac{1}{\\hat P(x)} .

Two quantities drive their converse bound: the γ-entropy

.. math::

    H_\\gamma(P) = \\log_2 \\sum_x P(x)^{(1 - P(x))^\\gamma}

(Def. 2) and its maximum :math:`h_\\gamma(|\\mathcal X|)` over all sources on
:math:`|\\mathcal X|` symbols (Prop. 2, eq. 15). Unlike the Shannon entropy,
:math:`h_\\gamma` stays bounded as the alphabet grows, by
:math:`\\log_2(1 + e^{\\max(1, \\gamma)/e})` (eq. 16).

The single-shot optimum :math:`d^*(M; \\gamma)` is computed exactly by
:func:`~sklearn_focal.rate_distortion.exact_distortion`: for a fixed encoder the
best decoder of each cell is the focal-entropy minimizer of the source
restricted to the cell, and a dynamic program over subsets finds the best
partition.
"""

# %%
# h_γ against the alphabet size (Fig. 1)
# ---------------------------------------
import matplotlib.pyplot as plt
import numpy as np

from sklearn_focal import rate_distortion as rd

sizes = np.unique(np.geomspace(2, 1000, 40).astype(int))
fig, ax = plt.subplots(figsize=(6.5, 4))
for gamma in [0.5, 1.0, 2.0, 4.0]:
    h = [rd.max_gamma_entropy(int(n), gamma) for n in sizes]
    (line,) = ax.plot(sizes, h, label=f"γ = {gamma:g}")
    ax.axhline(
        rd.gamma_entropy_upper_bound(gamma), color=line.get_color(), ls=":", lw=1
    )
ax.set(
    xscale="log",
    xlabel=r"alphabet size $|\mathcal{X}|$",
    ylabel=r"$h_\gamma(|\mathcal{X}|)$ [bits]",
    title=r"$h_\gamma$ saturates (dotted: the bound (16))",
    xlim=(2, 1000),
)
ax.legend()
fig.tight_layout()

# %%
# The γ-entropy of a given source is non-decreasing in γ and never exceeds
# :math:`h_\gamma` of its alphabet size (Prop. 1):
pmf = np.array([0.5, 0.25, 0.125, 0.125])
for gamma in [0.0, 0.5, 1.0, 2.0, 4.0]:
    print(
        f"gamma={gamma:3.1f}  H_gamma(P)={rd.gamma_entropy(pmf, gamma):.4f}  "
        f"h_gamma(4)={rd.max_gamma_entropy(4, gamma):.4f}"
    )

# %%
# The exact d*(2; γ) for ternary sources (Fig. 2)
# ------------------------------------------------
# Example 1 of the paper: :math:`M = 2` messages for three symbols. For the
# uniform source the best code puts two symbols in one cell and decodes it to
# the uniform distribution on the cell, so
# :math:`d^*(2; \gamma) = \frac{2}{3} (1/2)^\gamma`. The skewed source
# :math:`[2/3, 1/4, 1/12]` merges its two small symbols, whose focal-optimal
# decoder is *not* their normalized probabilities once γ > 0.
gammas = np.linspace(0, 6, 61)
sources = {
    "[1/3, 1/3, 1/3]": np.array([1, 1, 1]) / 3,
    "[2/3, 1/4, 1/12]": np.array([8, 3, 1]) / 12,
}
fig, ax = plt.subplots(figsize=(6.5, 4))
colors = ["tab:blue", "tab:green"]
for (label, source), color in zip(sources.items(), colors, strict=True):
    exact = [rd.exact_distortion(source, 2, g) for g in gammas]
    ax.plot(gammas, exact, lw=2, color=color, label=rf"$d^*(2;\gamma)$, {label}")
    converse = rd.converse_bound(source, 2, gammas)
    ax.plot(gammas, converse, ":", color=color, label=f"converse (17), {label}")
ax.plot(gammas, 2 / 3 * 0.5**gammas, "k--", lw=0.8, label=r"$\frac{2}{3}(1/2)^\gamma$")
ax.set(xlabel="γ", ylabel="distortion [bits]", title="Exact single-shot optimum, M = 2")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# The optimal code itself: ``return_code=True`` gives the encoder (the cell of
# every symbol) and the codebook (one soft reconstruction per message).
code = rd.exact_distortion(sources["[2/3, 1/4, 1/12]"], 2, 2.0, return_code=True)
print("encoder:", code.encoder)
print("codebook:\n", code.codebook.round(4))
print(f"d*(2; 2) = {code.distortion:.4f} bits")
