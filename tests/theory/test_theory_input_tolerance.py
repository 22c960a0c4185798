"""float32 softmax outputs upcast to float64 are valid probability rows (#11).

Their sums are off by float32 rounding (~1e-7); every consumer of the shared
row validator accepts them, and gives the answer of the exactly normalized
rows to within that rounding. Rows that really do not sum to 1 still raise,
naming the row and saying how to fix it.
"""

import numpy as np
import pytest
import torch

from sklearn_focal import FocalPosteriorRecovery, TemperatureScaling, theory
from sklearn_focal.metrics import expected_calibration_error


def float32_softmax(n, k, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((n, k)) * rng.choice([0.3, 1.0, 4.0], size=(n, 1))
    proba = torch.softmax(torch.from_numpy(logits).float(), dim=1).double().numpy()
    labels = rng.integers(0, k, size=n)
    return proba, labels


@pytest.fixture(params=[2, 3, 10, 100, 1000])
def upcast(request):
    proba, labels = float32_softmax(300, request.param)
    # The case of the issue: most rows miss 1 by more than float64's old
    # tolerance (sqrt(eps64) = 1.5e-8 for small K).
    off = np.abs(proba.sum(axis=1) - 1)
    assert np.mean(off > 1.5e-8 * max(1.0, np.sqrt(proba.shape[1]) / 4)) > 0.05
    return proba, labels


def test_psi_accepts_upcast_float32(upcast):
    proba, _ = upcast
    gamma = 2.0
    recovered = theory.psi(proba, gamma)
    # Psi of the exactly normalized rows, to the rounding of the input: a sum
    # off by delta moves 1 - max(q) by delta / (1 - max(q)) relative, and
    # h(q) ~ (1 - q)^-gamma amplifies that gamma-fold.
    sums = proba.sum(axis=1, keepdims=True)
    exact = theory.psi(proba / sums, gamma)
    bound = 4 * (gamma + 1) * np.abs(sums - 1) / (1 - proba.max(axis=1, keepdims=True))
    assert np.all(np.abs(recovered - exact) <= bound * exact + 1e-15)
    np.testing.assert_allclose(recovered.sum(axis=1), 1.0, rtol=0, atol=1e-14)


def test_focal_minimizer_accepts_upcast_float32(upcast):
    proba, _ = upcast
    # q* is invariant to the scale of p (only lambda moves): the same answer.
    q = theory.focal_minimizer(proba, 2.0)
    exact = theory.focal_minimizer(proba / proba.sum(axis=1, keepdims=True), 2.0)
    np.testing.assert_allclose(q, exact, rtol=1e-12, atol=1e-300)


def test_focal_posterior_recovery_accepts_upcast_float32(upcast):
    proba, _ = upcast
    mapped = FocalPosteriorRecovery(gamma=2.0).fit_transform(proba)
    np.testing.assert_array_equal(mapped, theory.psi(proba, 2.0))


def test_temperature_scaling_accepts_upcast_float32(upcast):
    proba, labels = upcast
    scaled = TemperatureScaling().fit(proba, labels)
    exact = TemperatureScaling().fit(proba / proba.sum(axis=1, keepdims=True), labels)
    assert scaled.temperature_ == pytest.approx(exact.temperature_, rel=1e-5)
    np.testing.assert_allclose(scaled.transform(proba), exact.transform(proba))


def test_expected_calibration_error_accepts_upcast_float32(upcast):
    proba, labels = upcast
    columns = np.arange(proba.shape[1])
    value = expected_calibration_error(labels, proba, labels=columns)
    exact = expected_calibration_error(
        labels, proba / proba.sum(1, keepdims=True), labels=columns
    )
    assert value == pytest.approx(exact, rel=1e-6, abs=1e-9)


def _consumers():
    labels = np.array([0, 1, 1, 0])
    return {
        "psi": lambda rows: theory.psi(rows, 2.0),
        "focal_minimizer": lambda rows: theory.focal_minimizer(rows, 2.0),
        "recovery": lambda rows: FocalPosteriorRecovery(gamma=2.0).fit_transform(rows),
        "temperature": lambda rows: TemperatureScaling().fit(rows, labels[: len(rows)]),
        "ece": lambda rows: expected_calibration_error(labels[: len(rows)], rows),
    }


@pytest.mark.parametrize("consumer", list(_consumers()))
@pytest.mark.parametrize("error", [1e-2, -1e-5, 2e-6])
def test_real_violations_still_raise_with_the_fix(consumer, error):
    rows = np.array([[0.5, 0.5], [0.3, 0.7], [0.9, 0.1], [0.5, 0.5 + error]])
    with pytest.raises(
        ValueError, match=r"row 3 sums to .*tolerance.*divide each row by its sum"
    ):
        _consumers()[consumer](rows)


def test_real_violation_in_a_large_input_names_the_row():
    # Large inputs are checked by the compiled one-pass kernels.
    rows = np.full((70_000, 2), 0.5)
    rows[12_345, 1] = 0.6
    for function in (theory.psi, theory.focal_minimizer):
        with pytest.raises(ValueError, match=r"row 12345 sums to 1\.1 .*softmax"):
            function(rows, 2.0)
