"""A calibration row of weight 0 is the same as no row at all.

Its loss can be infinite at some maps of a family (a wrong row under a very
sharp map); a weighted mean would turn ``0 * inf`` into ``nan`` and move the
fit. The expected fits are those of the data without the row.
"""

import warnings

import numpy as np
import pytest

from sklearn_focal import (
    FocalPosteriorRecovery,
    FocalTemperatureScaling,
    TemperatureScaling,
)


def _fit_quietly(estimator, proba, y, sample_weight=None):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        estimator.fit(proba, y, sample_weight=sample_weight)
    return estimator, sorted({type(w.message).__name__ for w in record})


@pytest.mark.parametrize(
    "make",
    [
        lambda: TemperatureScaling(),
        lambda: FocalTemperatureScaling(gamma=-1.5),
        lambda: FocalTemperatureScaling(gamma=-0.5),
        lambda: FocalTemperatureScaling(gamma=1.5),
        lambda: FocalTemperatureScaling(gamma="fit"),
    ],
)
def test_temperature_maps_ignore_a_wrong_row_of_weight_zero(make):
    # 20 separated rows and one misclassified row of weight 0: the fit (and
    # its single FlatCalibrationWarning) is that of the 20 rows alone.
    separated = np.tile([0.6, 0.3, 0.1], (20, 1))
    proba = np.vstack([separated, [[0.2, 0.7, 0.1]]])
    y = np.zeros(21, dtype=int)
    weight = np.r_[np.ones(20), 0.0]
    with_row, kinds = _fit_quietly(make(), proba, y, weight)
    without, expected_kinds = _fit_quietly(make(), separated, y[:20])
    assert with_row.temperature_ == without.temperature_
    assert getattr(with_row, "gamma_", None) == getattr(without, "gamma_", None)
    assert kinds == expected_kinds  # no RuntimeWarning from 0 * inf


def test_fitted_order_ignores_a_degenerate_row_of_weight_zero():
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(3), 200)
    y = (proba.cumsum(axis=1) > rng.random((200, 1))).argmax(axis=1)
    degenerate = np.array([[1 - 2e-300, 1e-300, 1e-300]])  # wrong, nearly one-hot
    with_row, kinds = _fit_quietly(
        FocalPosteriorRecovery(gamma="fit"),
        np.vstack([proba, degenerate]),
        np.r_[y, 1],
        np.r_[np.ones(200), 0.0],
    )
    without, expected_kinds = _fit_quietly(
        FocalPosteriorRecovery(gamma="fit"), proba, y
    )
    assert with_row.gamma_ == without.gamma_
    assert without.gamma_ != 0.0  # the row of weight 0 used to pull it to 0
    assert kinds == expected_kinds
