"""Neural networks trained with the focal loss, as scikit-learn estimators.

Importing this subpackage imports torch and skorch; ``import sklearn_focal``
does not.
"""
# SPDX-License-Identifier: BSD-3-Clause

from sklearn_focal.neural_network._classifier import FocalClassifier

__all__ = ["FocalClassifier"]
