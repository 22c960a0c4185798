"""Monte Carlo: the MLE's spread matches J_n^-1 and Wald intervals cover.

For a fixed design and fixed thresholds (n = 2000), the latent measurements
are redrawn 1000 times (all at once), the model refitted on each set of bits,
and the empirical covariance of the estimates compared with ``J_n^-1`` at the
truth (``J_n`` itself is checked against finite differences in
test_fisher.py); the 95% Wald intervals of ``conf_int`` must cover the truth
93-97% of the time for every parameter. Seeds are fixed; with 1000
replications the 15% bound is 3.4 standard errors of a variance estimate and
the coverage band 2.9 standard errors of a coverage rate.
"""

import numpy as np
import pytest

from sklearn_focal.linear_model import OneBitGLM, fisher_information

N_SAMPLES = 2000
N_REPLICATIONS = 1000


def _check(estimates, intervals, truth, covariance):
    empirical = np.cov(estimates, rowvar=False)
    ratio = np.diag(empirical) / np.diag(covariance)
    assert np.all(np.abs(ratio - 1) < 0.15), ratio
    covered = (intervals[:, :, 0] <= truth) & (truth <= intervals[:, :, 1])
    coverage = covered.mean(axis=0)
    assert np.all((coverage >= 0.93) & (coverage <= 0.97)), coverage
    print(f"variance ratios {np.round(ratio, 3)}, coverage {coverage}")


@pytest.mark.slow
def test_gaussian_monte_carlo():
    rng = np.random.default_rng(2025)
    X = rng.normal(size=(N_SAMPLES, 1))
    tau = rng.uniform(-2.0, 3.0, size=N_SAMPLES)
    coef, intercept, scale = np.array([1.0]), 0.5, 1.0
    truth = np.r_[coef, intercept, scale]
    latent = X @ coef + intercept + scale * rng.normal(size=(N_REPLICATIONS, N_SAMPLES))
    bits = latent >= tau
    estimates, intervals = [], []
    for y in bits:
        model = OneBitGLM().fit(X, y, threshold=tau)
        estimates.append(np.r_[model.coef_, model.intercept_, model.scale_])
        intervals.append(model.conf_int(0.05))
    J = fisher_information(
        X, coef, intercept, threshold=tau, scale=scale, coordinates="scale"
    )
    _check(np.array(estimates), np.array(intervals), truth, np.linalg.inv(J))


@pytest.mark.slow
def test_poisson_monte_carlo():
    rng = np.random.default_rng(2026)
    X = rng.normal(size=(N_SAMPLES, 1))
    tau = rng.integers(1, 7, size=N_SAMPLES).astype(float)
    offset = rng.normal(0.0, 0.2, size=N_SAMPLES)
    coef, intercept = np.array([0.5]), 1.0
    truth = np.r_[coef, intercept]
    lam = np.exp(X @ coef + intercept + offset)
    bits = rng.poisson(lam, size=(N_REPLICATIONS, N_SAMPLES)) >= tau
    estimates, intervals = [], []
    for y in bits:
        model = OneBitGLM("poisson").fit(X, y, threshold=tau, offset=offset)
        estimates.append(np.r_[model.coef_, model.intercept_])
        intervals.append(model.conf_int(0.05))
    J = fisher_information(
        X, coef, intercept, threshold=tau, family="poisson", offset=offset
    )
    _check(np.array(estimates), np.array(intervals), truth, np.linalg.inv(J))
