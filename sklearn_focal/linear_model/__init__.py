"""Generalized linear models observed through 1-bit measurements.

:class:`OneBitGLM` fits a Gaussian (unknown mean and variance) or Poisson
(log link) GLM by maximum likelihood when each latent measurement is seen only
as the bit ``1{X_i >= threshold_i}`` (Shah, Cardone, Rush and Dytso, 2025),
with the Fisher information of the bits (their Proposition 1) for standard
errors. The functions give that information for any parameters, design and
thresholds, the per-sample efficiency against uncensored measurements, and
the most informative threshold for the next measurement.
"""
# SPDX-License-Identifier: BSD-3-Clause

from sklearn_focal.linear_model._fisher import (
    efficiency,
    fisher_information,
    fisher_information_uncensored,
    optimal_threshold,
)
from sklearn_focal.linear_model._one_bit import OneBitGLM

__all__ = [
    "OneBitGLM",
    "efficiency",
    "fisher_information",
    "fisher_information_uncensored",
    "optimal_threshold",
]
