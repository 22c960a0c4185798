"""Lossy source coding with the focal loss as distortion.

Bounds and exact single-shot optima for compressing a discrete source ``X ~ P``
into one of ``M`` messages when the decoder outputs a *soft* reconstruction
``P_hat`` and the distortion is the focal loss
``d(x; P_hat) = (1 - P_hat(x))**gamma * log(1 / P_hat(x))``
(Dytso & Cardone, "Lossy Source Coding with Focal Loss"). Equation numbers
refer to that paper. Logarithms are base 2 (bits) by default; every function
takes a ``base`` argument (``None`` means natural logarithms).

The functions in this module are numpy-only. The optimal decoder of a cell
comes from :func:`sklearn_focal.theory.focal_minimizer`.
"""
# SPDX-License-Identifier: BSD-3-Clause

from sklearn_focal.rate_distortion._bounds import (
    achievability_bounds,
    asymptotic_distortion,
    converse_bound,
    reweight,
)
from sklearn_focal.rate_distortion._codes import (
    RateDistortionCode,
    exact_distortion,
    optimized_code,
)
from sklearn_focal.rate_distortion._entropy import (
    EXACT_MAX_SUPPORT,
    MAX_GAMMA_ENTROPY_SCAN,
    gamma_entropy,
    gamma_entropy_upper_bound,
    max_gamma_entropy,
)

__all__ = [
    "EXACT_MAX_SUPPORT",
    "MAX_GAMMA_ENTROPY_SCAN",
    "RateDistortionCode",
    "achievability_bounds",
    "asymptotic_distortion",
    "converse_bound",
    "exact_distortion",
    "gamma_entropy",
    "gamma_entropy_upper_bound",
    "max_gamma_entropy",
    "optimized_code",
    "reweight",
]
