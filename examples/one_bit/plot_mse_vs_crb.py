"""
=====================================================
Estimation error against the Cramér-Rao bound J^{-1}
=====================================================

The maximum likelihood estimate from 1-bit measurements is asymptotically
normal with covariance ``J_n^{-1}`` (Shah, Cardone, Rush and Dytso), where
``J_n`` is the Fisher information of the bits
(:func:`~sklearn_focal.linear_model.fisher_information`). We simulate
1-bit measurements of a Gaussian and of a Poisson regression at growing n,
fit :class:`~sklearn_focal.linear_model.OneBitGLM`, and compare ``n`` times
the mean squared error of each parameter with ``n`` times the bound
``diag(J_n^{-1})``. At small n some samples have no finite estimate
(separation, or every bit equal): OneBitGLM refuses them, and the plot says
how many.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from sklearn_focal.linear_model import OneBitGLM, fisher_information

rng = np.random.default_rng(0)
sizes = np.array([100, 200, 400, 800, 1600, 3200])
n_rep = 150


def simulate(family, n):
    """Design, thresholds and a (replications, n) array of bits."""
    X = rng.normal(size=(n, 1))
    if family == "gaussian":
        tau = rng.uniform(-2.0, 3.0, size=n)
        latent = X[:, 0] * 1.0 + 0.5 + rng.normal(size=(n_rep, n))
        truth = np.array([1.0, 0.5, 1.0])
        J = fisher_information(X, [1.0], 0.5, threshold=tau, coordinates="scale")
    else:
        tau = rng.integers(1, 7, size=n).astype(float)
        latent = rng.poisson(np.exp(0.5 * X[:, 0] + 1.0), size=(n_rep, n))
        truth = np.array([0.5, 1.0])
        J = fisher_information(X, [0.5], 1.0, threshold=tau, family="poisson")
    return X, tau, latent >= tau, truth, np.diag(np.linalg.inv(J))


fig, axes = plt.subplots(1, 2, figsize=(11, 4))
names = {"gaussian": ["coef", "intercept", "sigma"], "poisson": ["coef", "intercept"]}
for ax, family in zip(axes, ["gaussian", "poisson"], strict=True):
    mse, bound, refused = [], [], []
    for n in sizes:
        X, tau, bits, truth, crb = simulate(family, n)
        errors, failed = [], 0
        for y in bits:
            try:
                model = OneBitGLM(family).fit(X, y, threshold=tau)
            except ValueError:  # no finite MLE for this sample
                failed += 1
                continue
            estimate = np.r_[model.coef_, model.intercept_]
            if family == "gaussian":
                estimate = np.r_[estimate, model.scale_]
            errors.append((estimate - truth) ** 2)
        mse.append(n * np.mean(errors, axis=0))
        bound.append(n * crb)
        refused.append(failed)
    mse, bound = np.array(mse), np.array(bound)
    for j, name in enumerate(names[family]):
        ax.plot(sizes, mse[:, j], "o-", c=f"C{j}", label=f"{name}: n MSE")
        ax.plot(sizes, bound[:, j], "--", c=f"C{j}", label=f"{name}: n J^-1")
    ax.set(xscale="log", xlabel="n", ylabel="n x error", title=f"{family}")
    ax.legend(fontsize=8)
    print(f"{family}: refused samples per n: {refused} (n = {sizes.tolist()})")
    ratio = np.round(mse[-1] / bound[-1], 2)
    print(f"{family}: n MSE / n J^-1 at n = {sizes[-1]}: {ratio}")
fig.tight_layout()
plt.show()
