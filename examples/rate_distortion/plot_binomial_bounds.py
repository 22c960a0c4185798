"""
========================================================
Binomial(100) source: bounds against M and γ (Figs. 3-4)
========================================================

Example 2 of Dytso & Cardone: a Binomial(100, p) source compressed into
:math:`M` messages with the focal loss as distortion. Their Figs. 3-4 compare

* the converse (17),
  :math:`d^*(M;\\gamma) \\ge [H(X) - \\log_2 M - h_\\gamma(|\\mathcal X|)]^+`;
* the achievability bounds (22) and (23) of Thm 2;
* the exact distortion (28) of their code (26)-(27).

We add the distortion of :func:`~sklearn_focal.rate_distortion.optimized_code`:
the same starting encoder (26), the focal-optimal decoder of every cell instead
of (27), and a local search over the partition. It is an achievable code, so
it is an upper bound on :math:`d^*(M; \\gamma)` that is never above (28), and it
narrows the gap to the converse markedly for large γ.
"""

# %%
# Bounds against M, p = 0.5 (Fig. 3)
# ----------------------------------
# :class:`~sklearn_focal.plotting.RateDistortionDisplay` draws the bounds; the
# optimized codes are computed at a few M and drawn on top.
import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import binom

from sklearn_focal import rate_distortion as rd
from sklearn_focal.plotting import RateDistortionDisplay


def binomial_pmf(n, p):
    pmf = binom.pmf(np.arange(n + 1), n, p)
    return pmf / pmf.sum()


def bounds(pmf, n_codewords, gamma):
    """The paper's curves, vectorized over M or gamma."""
    curves = rd.achievability_bounds(pmf, n_codewords, gamma)
    curves["converse"] = rd.converse_bound(pmf, n_codewords, gamma)
    return curves


pmf = binomial_pmf(100, 0.5)
m_grid = np.array([2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64])
m_code = [2, 4, 8, 16]
codes_at = {}
fig, axes = plt.subplots(2, 2, figsize=(11, 8), sharex=True)
for ax, gamma in zip(axes.ravel(), [0.1, 1.0, 2.0, 4.0], strict=True):
    curves = bounds(pmf, m_grid, gamma)
    curves["asymptotic"] = rd.asymptotic_distortion(pmf, np.log2(m_grid))
    RateDistortionDisplay(
        x=m_grid, curves=curves, x_name="n_codewords", fixed=gamma
    ).plot(ax=ax)
    # Plain local search (no restarts, no swaps): fast, and on this source as
    # good as the default search.
    codes = [
        rd.optimized_code(pmf, m, gamma, n_restarts=0, swaps=False).distortion
        for m in m_code
    ]
    codes_at[gamma] = dict(zip(m_code, codes, strict=True))
    ax.plot(m_code, codes, "o-", color="k", lw=2, label="optimized code (ours)")
    ax.set_title(f"Binomial(100, 0.5), γ = {gamma:g}")
    ax.legend(fontsize=7)
fig.tight_layout()

# %%
# The numbers at M = 8:
for gamma in [0.1, 1.0, 2.0, 4.0]:
    b = bounds(pmf, 8, gamma)
    print(
        f"gamma={gamma:3.1f}: converse {b['converse']:.4f}"
        f" <= code {codes_at[gamma][8]:.4f} <= (28) {b['eq28']:.4f}"
        f" <= (22) {b['eq22']:.4f} <= (23) {b['eq23']:.4f}"
    )

# %%
# Bounds against γ, p = 0.1, M = 8 (Fig. 4)
# -----------------------------------------
# As γ grows the focal term discounts confident reconstructions and every
# distortion falls. The converse, which does not see the code, stays far
# below; the optimized code shows how much of the gap between (28) and the
# converse a better code closes.
pmf = binomial_pmf(100, 0.1)
gamma_grid = np.linspace(0.0, 8.0, 41)
gamma_code = [0.0, 0.5, 1.0, 2.0, 4.0, 8.0]
fig, ax = plt.subplots(figsize=(7, 4.5))
RateDistortionDisplay(
    x=gamma_grid, curves=bounds(pmf, 8, gamma_grid), x_name="gamma", fixed=8
).plot(ax=ax)
for line in ax.get_lines():
    line.set_markevery(4)
codes = [
    rd.optimized_code(pmf, 8, g, n_restarts=0, swaps=False).distortion
    for g in gamma_code
]
ax.plot(gamma_code, codes, "o-", color="k", lw=2, label="optimized code (ours)")
ax.set_title("Binomial(100, 0.1), M = 8")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# At γ = 0 the focal loss is the log loss and the paper's bounds are those of
# log-loss compression. Asymptotically the focal term has no effect at all
# (Thm 3): the distortion-rate function :math:`[H(X) - R]^+` is the same for
# every γ (the gray curve of the first figure).
