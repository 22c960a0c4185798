"""TemperatureScaling.fit's objective in row blocks (issue #17).

The blocked true-class log-probability must be bit-for-bit the scaled
log-softmax it replaced, and fit must not copy the input per evaluation.
No test times anything.
"""

import tracemalloc

import numpy as np
import pytest
from scipy.special import log_softmax, softmax

from sklearn_focal.calibration import TemperatureScaling
from sklearn_focal.calibration._temperature import (
    _BLOCK_ELEMENTS,
    _TrueClassLogProba,
)


def _reference(logits, y, temperature):
    """The scaled log-softmax of the true class, as written before #17."""
    top = np.max(logits, axis=1, keepdims=True)
    with np.errstate(over="ignore"):
        shifted = ((0.5 * logits - 0.5 * top) / temperature) * 2.0
    return log_softmax(shifted, axis=1)[np.arange(len(y)), y]


@pytest.mark.parametrize("n_classes", [2, 10, 300])
@pytest.mark.parametrize("temperature", [4.5e-5, 0.3, 1.0, 2.7, 2.2e4])
def test_blocked_objective_is_the_scaled_log_softmax_bit_for_bit(
    n_classes, temperature
):
    rng = np.random.default_rng(n_classes)
    # More rows than one block holds; logits over many orders of magnitude.
    n = 2 * _BLOCK_ELEMENTS // n_classes + 7
    logits = rng.standard_normal((n, n_classes)) * 10.0 ** rng.uniform(
        -3, 3, size=(n, 1)
    )
    logits[0, :] = [-1e308, 1e308][:n_classes] + [0.0] * (n_classes - 2)
    y = rng.integers(0, n_classes, size=n)
    actual = _TrueClassLogProba(logits, y)(temperature)
    np.testing.assert_array_equal(actual, _reference(logits, y, temperature))


def test_fit_peak_memory_is_at_most_twice_the_input():
    rng = np.random.default_rng(0)
    proba = softmax(2.5 * rng.standard_normal((40_000, 10)), axis=1)
    y = (proba.cumsum(axis=1) > rng.random((40_000, 1))).argmax(axis=1)
    TemperatureScaling().fit(proba, y)  # kernels loaded, thread pool started
    tracemalloc.start()
    try:
        fitted = TemperatureScaling().fit(proba, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= 2 * proba.nbytes  # 6.6x before
    # The labels are drawn from the probabilities: T close to 1.
    assert fitted.temperature_ == pytest.approx(1.0, abs=0.05)
