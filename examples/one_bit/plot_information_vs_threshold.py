"""
==========================================================
Information kept by one bit, and the best threshold to use
==========================================================

A 1-bit measurement ``B = 1{X >= tau}`` keeps a fraction ``J / I`` of the
Fisher information that the measurement ``X`` itself would carry
(:func:`~sklearn_focal.linear_model.efficiency`). For a Gaussian mean the
fraction peaks at ``2 / pi`` when the threshold sits at the mean; for the
scale a threshold at the mean is useless and the best one sits about
1.575 standard deviations away. For a Poisson mean ``lambda`` the best
threshold is an integer close to ``lambda``; at ``tau = 1`` the efficiency
is ``lambda / (e**lambda - 1)``.
:func:`~sklearn_focal.linear_model.optimal_threshold` finds these thresholds,
and with ``criterion="determinant"`` designs the next measurement given the
information gathered so far.
"""

# %%
# Gaussian: the mean and the scale
# --------------------------------
import matplotlib.pyplot as plt
import numpy as np

from sklearn_focal.linear_model import (
    efficiency,
    fisher_information,
    optimal_threshold,
)

z = np.linspace(-4, 4, 801)
mean_eff = efficiency(z, 0.0, 1.0, parameter="mean")
scale_eff = efficiency(z, 0.0, 1.0, parameter="scale")
z_scale = optimal_threshold(0.0, 1.0, criterion="scale")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
ax1.plot(z, mean_eff, label="mean")
ax1.plot(z, scale_eff, label="scale")
ax1.axhline(2 / np.pi, color="grey", ls=":", label="2 / pi")
ax1.axvline(z_scale, color="C1", ls="--", lw=0.8)
ax1.axvline(-z_scale, color="C1", ls="--", lw=0.8)
ax1.set(
    xlabel="(threshold - mean) / sigma",
    ylabel="J / I",
    title="Gaussian: efficiency of one bit",
)
ax1.legend()
print(f"peak efficiency for the mean: {mean_eff.max():.6f} (2/pi = {2 / np.pi:.6f})")
print(
    f"best threshold for sigma: mean +- {z_scale:.4f} sigma, efficiency "
    f"{efficiency(z_scale, 0.0, 1.0, parameter='scale'):.4f}"
)

# %%
# Poisson: the best integer threshold moves with lambda
# -----------------------------------------------------
tau = np.arange(1, 26)
for lam in [0.5, 2.0, 10.0]:
    eff = efficiency(tau, lam, family="poisson")
    best = optimal_threshold(lam, family="poisson")
    (line,) = ax2.plot(tau, eff, "o-", ms=3, label=f"lambda = {lam}")
    ax2.plot(
        best, efficiency(best, lam, family="poisson"), "*", ms=12, c=line.get_color()
    )
    print(
        f"lambda = {lam}: best threshold {best:.0f}; at tau = 1 the efficiency is "
        f"{efficiency(1.0, lam, family='poisson'):.4f} "
        f"(lambda / (e^lambda - 1) = {lam / np.expm1(lam):.4f})"
    )
ax2.set(xlabel="threshold tau", ylabel="J / I", title="Poisson: efficiency of one bit")
ax2.legend()
fig.tight_layout()

# %%
# Designing the next threshold (D-optimal)
# ----------------------------------------
# Twenty bits measured at the mean (tau = mu) say much about the mean and
# nothing about sigma. The next threshold that maximizes the determinant of
# the information about (mean, sigma^2) moves away from the mean.
mu, sigma = 1.0, 2.0
J_so_far = fisher_information(np.zeros((20, 0)), [], mu, threshold=mu, scale=sigma)
J_so_far += 1e-3 * np.eye(2)  # a little prior information about sigma^2
tau_next = optimal_threshold(
    mu, sigma, criterion="determinant", current_information=J_so_far
)
print(f"next threshold: {tau_next:.3f} (mean {mu}, sigma {sigma})")
plt.show()
