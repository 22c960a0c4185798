"""Calibrators for focal-loss outputs: exact posterior recovery and temperature scaling.

:class:`FocalPosteriorRecovery` applies the map Psi^gamma of Charoenphakdee
et al. (2021), which recovers the class posterior from the focal-risk
minimizer; :class:`TemperatureScaling` fits one temperature, optionally after
Psi; :class:`FocalTemperatureScaling` fits a temperature and a signed focal
order jointly. All work as transformers on predicted probabilities or as
meta-estimators around a fitted (or to be fitted) classifier.
"""
# SPDX-License-Identifier: BSD-3-Clause

from sklearn_focal.calibration._focal_temperature import FocalTemperatureScaling
from sklearn_focal.calibration._posterior import FocalPosteriorRecovery
from sklearn_focal.calibration._temperature import TemperatureScaling

__all__ = ["FocalPosteriorRecovery", "FocalTemperatureScaling", "TemperatureScaling"]
