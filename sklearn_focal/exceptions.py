"""Warnings raised by sklearn-focal.

Examples
--------
>>> import warnings
>>> from sklearn_focal.exceptions import FlatCalibrationWarning
>>> issubclass(FlatCalibrationWarning, UserWarning)
True
"""
# SPDX-License-Identifier: BSD-3-Clause

__all__ = [
    "FlatCalibrationWarning",
    "IllConditionedFisherWarning",
    "PosteriorRecoveryWarning",
]


class FlatCalibrationWarning(UserWarning):
    """The calibration data cannot fit a finite map.

    Raised by :class:`~sklearn_focal.FocalPosteriorRecovery` with
    ``gamma="fit"`` and by :class:`~sklearn_focal.TemperatureScaling` when
    their calibration objective is flat or nearly flat: the identity map and a
    bound of the search interval are both within ``1e-6`` nats per sample of
    the best map found (for example, when every calibration row is one-hot).
    They then fit ``gamma_ = 0`` and ``temperature_ = 1`` instead of an extreme
    map that the data cannot support. :class:`~sklearn_focal.FocalTemperatureScaling`
    applies the same rule.

    Also raised by :class:`~sklearn_focal.TemperatureScaling` and
    :class:`~sklearn_focal.FocalTemperatureScaling` when no calibration row
    ranks another class above its true class (separated data: the true class
    first, alone or tied) and the temperature has a real gain over
    ``T = 1``: the loss then has no finite minimizer, and the temperature
    where the search stops (near ``e^-10``) is kept.

    And raised by :class:`~sklearn_focal.FocalTemperatureScaling` with
    ``gamma="fit"`` when its joint fit of ``(T, gamma)`` ends on a bound of
    its search (``log T = -10`` or ``10``, ``gamma = -20`` or ``20``, or
    within ``1e-5`` of one): the loss keeps falling towards that bound, and
    no map inside the search range minimizes it. The fitted map is kept.
    """


class PosteriorRecoveryWarning(UserWarning):
    """Psi at the training order makes the calibration data's fit worse.

    Raised by :class:`~sklearn_focal.FocalPosteriorRecovery` with
    ``gamma="auto"`` around a :class:`~sklearn.frozen.FrozenEstimator` when
    the map raises the negative log-likelihood of the data it is fitted on
    (the calibration data) above that of the model's raw output. Psi is exact
    at the focal-risk minimizer; a network that over-fits its training data
    is over-confident instead, and Psi, which sharpens, makes that worse. Fit
    the map on the calibration data instead: ``gamma="fit"`` or
    :class:`~sklearn_focal.FocalTemperatureScaling`.

    Also raised by ``FocalPosteriorRecovery(gamma="fit")`` with class weights
    ``alpha``, whose family of maps does not contain the identity: when no
    map of it fits the calibration data as well as the raw output does, the
    identity map is used (``gamma_ = 0``, ``alpha_`` without weights).
    """


class IllConditionedFisherWarning(UserWarning):
    """The Fisher information of the bits is nearly singular.

    Raised by :class:`~sklearn_focal.OneBitGLM` when ``fisher_information_``,
    scaled to unit diagonal, has a condition number above ``1e10``: some
    combination of the parameters is barely identified by the design and the
    thresholds, and its standard error is unreliable.
    """
