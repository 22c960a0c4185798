r"""Classification data generators whose true class posterior is known.

Every generator returns ``X, y, posterior``: the features, the labels drawn
from the joint distribution, and the exact class-posterior probabilities
:math:`\eta(x) = p(y \mid x)` of every row. With the true posterior at hand,
the quality of a probability estimate can be measured directly, for example
with the Kullback-Leibler divergence :math:`KL(\eta(x) \| q(x))`, instead of
through a proxy computed from hard labels such as the expected calibration
error.
"""
# SPDX-License-Identifier: BSD-3-Clause

from sklearn_focal.datasets._synthetic import (
    focal_synthetic_posterior,
    make_classification_with_posteriors,
    make_focal_synthetic,
)

__all__ = [
    "focal_synthetic_posterior",
    "make_classification_with_posteriors",
    "make_focal_synthetic",
]
