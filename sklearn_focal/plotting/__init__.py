"""Displays: reliability diagrams and the figures of the focal-loss theory.

The Displays follow scikit-learn's convention (see
:class:`sklearn.calibration.CalibrationDisplay`): ``__init__`` stores computed
arrays, :meth:`plot` draws them and sets ``ax_``, ``figure_`` and ``line_``,
and the classmethods ``from_estimator`` / ``from_predictions`` compute and
plot in one call. Passing ``ax=display.ax_`` to a second ``plot`` overlays
another curve (raw outputs, Psi-corrected, temperature-scaled, ...).

matplotlib is optional: it is imported only when something is drawn.
"""
# SPDX-License-Identifier: BSD-3-Clause

from sklearn_focal.plotting._confidence_relation import ConfidenceRelationDisplay
from sklearn_focal.plotting._focal_phi import FocalPhiDisplay
from sklearn_focal.plotting._rate_distortion import RateDistortionDisplay
from sklearn_focal.plotting._reliability import ReliabilityDisplay

__all__ = [
    "ConfidenceRelationDisplay",
    "FocalPhiDisplay",
    "RateDistortionDisplay",
    "ReliabilityDisplay",
]
