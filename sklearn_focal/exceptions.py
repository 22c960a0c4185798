"""Warnings raised by sklearn-focal.

Examples
--------
>>> import warnings
>>> from sklearn_focal.exceptions import FlatCalibrationWarning
>>> issubclass(FlatCalibrationWarning, UserWarning)
True
"""
# SPDX-License-Identifier: BSD-3-Clause

__all__ = ["FlatCalibrationWarning"]


class FlatCalibrationWarning(UserWarning):
    """The calibration data cannot fit the map: the identity map is used.

    Raised by :class:`~sklearn_focal.FocalPosteriorRecovery` with
    ``gamma="fit"`` and by :class:`~sklearn_focal.TemperatureScaling` when
    their calibration objective is flat or nearly flat: the identity map and a
    bound of the search interval are both within ``1e-6`` nats per sample of
    the best map found (for example, when every calibration row is one-hot).
    They then fit ``gamma_ = 0`` and ``temperature_ = 1`` instead of an extreme
    map that the data cannot support.
    """
