"""Focal-loss training, exact posterior recovery and focal rate-distortion.

The torch-based estimators are imported lazily: ``import sklearn_focal`` never
imports torch.
"""
# SPDX-License-Identifier: BSD-3-Clause

import importlib

__version__ = "0.1.0.dev0"

_LAZY_ATTRIBUTES = {
    "FocalClassifier": "sklearn_focal.neural_network",
    "FocalPosteriorRecovery": "sklearn_focal.calibration",
    "TemperatureScaling": "sklearn_focal.calibration",
    "FocalTemperatureScaling": "sklearn_focal.calibration",
    "FocalRateDistortion": "sklearn_focal.rate_distortion._estimator",
    "OneBitGLM": "sklearn_focal.linear_model",
}
_SUBMODULES = {
    "calibration",
    "cli",
    "datasets",
    "exceptions",
    "linear_model",
    "losses",
    "metrics",
    "neural_network",
    "plotting",
    "rate_distortion",
    "theory",
}

__all__ = sorted(_LAZY_ATTRIBUTES) + sorted(_SUBMODULES)


def __getattr__(name):
    if name in _LAZY_ATTRIBUTES:
        module = importlib.import_module(_LAZY_ATTRIBUTES[name])
        value = getattr(module, name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"sklearn_focal.{name}")
    raise AttributeError(f"module 'sklearn_focal' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
