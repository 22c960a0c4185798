"""Exact numerics of the focal loss: Psi^gamma, its inverse, thresholds, focal-entropy.

All functions work row-wise on arrays of shape (n, K) with the classes on the
last axis; a 1-D array is one row. The exceptions are :func:`binary_psi` and
:func:`binary_focal_minimizer` (the sigmoid focal loss of detectors and
multi-label models), which work elementwise on any shape, the labels on the
last axis. They accept float32 or float64 array-likes
and return the input's float dtype (other numeric input gives float64).
Probability rows must sum to 1 within ``4 sqrt(K)`` float32 ulps (float32
softmax outputs upcast to float64 pass), or within the square root of their
own precision if that is larger; they are used as given.

References
----------
.. [1] N. Charoenphakdee, J. Vongkulbhisal, N. Chairatanakul, M. Sugiyama.
   "On Focal Loss for Class-Posterior Probability Estimation: A Theoretical
   Perspective." CVPR 2021.
.. [2] D. Shah, M. Cardone, A. Dytso. "Functional Properties of the
   Focal-Entropy." AISTATS 2026.
"""
# SPDX-License-Identifier: BSD-3-Clause

from sklearn_focal.theory._binary_map import binary_focal_minimizer, binary_psi
from sklearn_focal.theory._focal_entropy import (
    focal_entropy,
    focal_loss,
    min_focal_entropy,
)
from sklearn_focal.theory._posterior_map import focal_minimizer, h, phi, psi
from sklearn_focal.theory._regimes import FocalRegime, FocalRegimes, focal_regimes
from sklearn_focal.theory._thresholds import (
    Confidence,
    ConfidenceRegime,
    ThresholdRegion,
    confidence_regime,
    tau_oc,
    tau_uc,
)

__all__ = [
    "Confidence",
    "ConfidenceRegime",
    "FocalRegime",
    "FocalRegimes",
    "ThresholdRegion",
    "binary_focal_minimizer",
    "binary_psi",
    "confidence_regime",
    "focal_entropy",
    "focal_loss",
    "focal_minimizer",
    "focal_regimes",
    "h",
    "min_focal_entropy",
    "phi",
    "psi",
    "tau_oc",
    "tau_uc",
]
