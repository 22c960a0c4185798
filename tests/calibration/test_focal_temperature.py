"""Tests for FocalTemperatureScaling: Psi^g(softmax(z / T)) fitted jointly."""

import warnings

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mptestutils import mp_h, mp_softmax, reference_psi
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_multilabel_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.multioutput import MultiOutputClassifier

from sklearn_focal import (
    FocalPosteriorRecovery,
    FocalTemperatureScaling,
    TemperatureScaling,
    theory,
)
from sklearn_focal.calibration._focal_temperature import (
    _binary_calibration_loss,
    _binary_logit_and_gradient,
    _calibration_loss,
    _log_map_and_gradient,
)
from sklearn_focal.datasets import make_classification_with_posteriors
from sklearn_focal.exceptions import FlatCalibrationWarning


def reference_map(logits, temperature, gamma):
    """``Psi^g(softmax(z / T))`` in plain float64 (inverse map for g < 0).

    The package's psi and focal_minimizer on probabilities, which their own
    tests check against mpmath; no code of FocalTemperatureScaling.
    """
    q = softmax(np.asarray(logits) / temperature, axis=1)
    if gamma >= 0:
        return theory.psi(q, gamma)
    return theory.focal_minimizer(q, -gamma)


def reference_loss(logits, y, log_temperature, gamma, objective="nll", weights=None):
    p = reference_map(logits, np.exp(log_temperature), gamma)
    if objective == "nll":
        losses = -np.log(p[np.arange(len(y)), y])
    else:
        onehot = np.eye(p.shape[1])[y]
        losses = np.sum((p - onehot) ** 2, axis=1)
    return np.average(losses, weights=weights)


def sample_labels(p, rng):
    return (p.cumsum(axis=1) < rng.random((p.shape[0], 1))).sum(axis=1)


def generated(n, k, temperature, gamma, *, scale=2.0, seed=0):
    """Logits and labels drawn from ``reference_map(z, T, g)``."""
    rng = np.random.default_rng(seed)
    z = scale * rng.standard_normal((n, k))
    return z, sample_labels(reference_map(z, temperature, gamma), rng)


def nll(y, proba):
    return log_loss(y, proba, labels=np.arange(proba.shape[1]))


# --------------------------------------------------------------------------
# The map and its gradient
# --------------------------------------------------------------------------


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 7.0, -0.5, -3.0])
@pytest.mark.parametrize("log_temperature", [-0.7, 0.0, 0.9])
def test_map_equals_psi_of_scaled_softmax(gamma, log_temperature):
    rng = np.random.default_rng(1)
    z = 3 * rng.standard_normal((40, 4))
    log_p, _, _ = _log_map_and_gradient(z, log_temperature, gamma, gradient=False)
    q = softmax(z / np.exp(log_temperature), axis=1)
    # Eqs. 12-13 in naive float64 (no package code), the inverse for gamma < 0
    expected = (
        reference_psi(q, gamma) if gamma >= 0 else theory.focal_minimizer(q, -gamma)
    )
    np.testing.assert_allclose(np.exp(log_p), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("gamma", [1.0, 3.0])
def test_saturated_rows_keep_their_information(gamma):
    # softmax rounds the top class to 1.0; Psi of those probabilities is
    # one-hot, but the map of the logits is not: mpmath reference.
    z = np.array([[0.0, -46.0, -50.0], [40.0, 0.0, 3.0]])
    log_p, _, _ = _log_map_and_gradient(z, 0.0, gamma, gradient=False)
    assert np.all(np.isfinite(log_p))
    with mpmath.workdps(60):
        for row, got in zip(z, log_p, strict=True):
            # Eq. 12 on the exact softmax (mp_psi rounds rows to doubles first)
            h = [mp_h(v, gamma) for v in mp_softmax(row)]
            expected = [mpmath.log(v / mpmath.fsum(h)) for v in h]
            np.testing.assert_allclose(
                got, [float(v) for v in expected], rtol=1e-12, atol=1e-15
            )


@pytest.mark.parametrize("objective", ["nll", "brier"])
@pytest.mark.parametrize(
    "log_temperature, gamma",
    [(0.3, 1.7), (-0.4, 1e-3), (0.0, 0.0), (0.2, -2.5), (0.1, -1e-3), (0.5, 8.0)],
)
def test_gradient_matches_finite_differences(objective, log_temperature, gamma):
    rng = np.random.default_rng(2)
    z = 3 * rng.standard_normal((60, 4))
    z[:5, 1] = -np.inf  # probabilities exactly 0 (input="proba" of zeros)
    y = rng.integers(0, 4, 60)
    y[:5] = 0
    weights = rng.random(60)
    _, gradient = _calibration_loss(z, y, weights, objective, log_temperature, gamma)
    step = 1e-6
    numeric = []
    for direction in ((step, 0.0), (0.0, step)):
        up = reference_loss(
            z,
            y,
            log_temperature + direction[0],
            gamma + direction[1],
            objective,
            weights,
        )
        down = reference_loss(
            z,
            y,
            log_temperature - direction[0],
            gamma - direction[1],
            objective,
            weights,
        )
        numeric.append((up - down) / (2 * step))
    np.testing.assert_allclose(gradient, numeric, rtol=2e-6, atol=1e-8)


# --------------------------------------------------------------------------
# The joint fit
# --------------------------------------------------------------------------


def grid_minimum(loss, t_range, g_range, n_coarse=41, n_fine=31):
    """Brute force: a coarse grid, then a fine grid around its best point."""
    ts = np.linspace(*t_range, n_coarse)
    gs = np.linspace(*g_range, n_coarse)
    values = np.array([[loss(t, g) for g in gs] for t in ts])
    i, j = np.unravel_index(np.argmin(values), values.shape)
    dt, dg = ts[1] - ts[0], gs[1] - gs[0]
    fine_t = np.linspace(ts[i] - 2 * dt, ts[i] + 2 * dt, n_fine)
    fine_g = np.linspace(gs[j] - 2 * dg, gs[j] + 2 * dg, n_fine)
    values = np.array([[loss(t, g) for g in fine_g] for t in fine_t])
    i, j = np.unravel_index(np.argmin(values), values.shape)
    return (
        fine_t[i],
        fine_g[j],
        values[i, j],
        fine_t[1] - fine_t[0],
        fine_g[1] - fine_g[0],
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "temperature, gamma, objective",
    [(1.4, 1.5, "nll"), (0.7, -1.5, "nll"), (1.4, 1.5, "brier")],
)
def test_joint_fit_equals_grid_minimum(temperature, gamma, objective):
    z, y = generated(300, 3, temperature, gamma, seed=3)
    fts = FocalTemperatureScaling(input="logits", objective=objective).fit(z, y)

    def loss(t, g):
        return reference_loss(z, y, t, g, objective)

    t_best, g_best, value, dt, dg = grid_minimum(loss, (-1.0, 1.0), (-4.0, 4.0))
    assert abs(np.log(fts.temperature_) - t_best) <= 1.5 * dt
    assert abs(fts.gamma_ - g_best) <= 1.5 * dg
    fitted = loss(np.log(fts.temperature_), fts.gamma_)
    assert fitted <= value + 1e-12  # the exact minimum is below every grid point
    assert fts.loss_ == pytest.approx(fitted, rel=1e-10)


@pytest.mark.slow
@pytest.mark.parametrize("temperature, gamma", [(1.5, 3.0), (0.7, -2.0)])
def test_recovers_temperature_and_order_from_expected_labels(temperature, gamma):
    # Every row once per class, weighted by the class's probability under the
    # generating map: the weighted NLL is the population cross-entropy, whose
    # minimum is the truth, with no sampling noise.
    rng = np.random.default_rng(4)
    n, k = 1500, 4
    z = rng.uniform(0.5, 4.0, (n, 1)) * rng.standard_normal((n, k))
    p = reference_map(z, temperature, gamma)
    fts = FocalTemperatureScaling(input="logits").fit(
        np.repeat(z, k, axis=0), np.tile(np.arange(k), n), sample_weight=p.ravel()
    )
    assert fts.temperature_ == pytest.approx(temperature, rel=1e-4)
    assert fts.gamma_ == pytest.approx(gamma, rel=1e-4)


def fisher_standard_errors(z, log_temperature, gamma, step=1e-5):
    """Standard errors of (log T, g) from the Fisher information of labels
    drawn from ``reference_map``: finite differences, no code under test."""
    p = reference_map(z, np.exp(log_temperature), gamma)
    slopes = []
    for dt, dg in ((step, 0.0), (0.0, step)):
        up = np.log(reference_map(z, np.exp(log_temperature + dt), gamma + dg))
        down = np.log(reference_map(z, np.exp(log_temperature - dt), gamma - dg))
        slopes.append((up - down) / (2 * step))
    slopes = np.stack(slopes, axis=-1)
    information = np.einsum("nk,nki,nkj->ij", p, slopes, slopes)
    return np.sqrt(np.diag(np.linalg.inv(information)))


@pytest.mark.slow
def test_recovers_temperature_and_order_from_sampled_labels():
    # n = 20000 labels drawn from Psi^3(softmax(z / 1.5)), 10 classes, rows of
    # every confidence. The temperature is recovered within 5%. The order is
    # weakly identified next to T (their estimates correlate at 0.95 here):
    # its standard error at this n is about 6% of g (at least 3% for every
    # design we tried), so it is checked against 3 standard errors instead.
    rng = np.random.default_rng(4)
    n, k, temperature, gamma = 20000, 10, 1.5, 3.0
    z = rng.uniform(1.0, 8.0, (n, 1)) * rng.standard_normal((n, k))
    y = sample_labels(reference_map(z, temperature, gamma), rng)
    fts = FocalTemperatureScaling(input="logits").fit(z, y)
    se_log_t, se_g = fisher_standard_errors(z, np.log(temperature), gamma)
    assert fts.temperature_ == pytest.approx(temperature, rel=0.05)
    assert abs(np.log(fts.temperature_ / temperature)) <= 3 * se_log_t
    assert abs(fts.gamma_ - gamma) <= 3 * se_g


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(20, 150),
    k=st.integers(2, 5),
    temperature=st.floats(0.3, 3.0),
    gamma=st.floats(-3.0, 3.0),
    seed=st.integers(0, 2**31 - 1),
)
def test_never_worse_than_temperature_scaling_or_signed_map(
    n, k, temperature, gamma, seed
):
    z, y = generated(n, k, temperature, gamma, seed=seed)
    # Separated data (every row's true class first) included: then the
    # temperature is TemperatureScaling's, at g = 0.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FlatCalibrationWarning)
        fts = FocalTemperatureScaling(input="logits").fit(z, y)
        ts = TemperatureScaling(input="logits").fit(z, y)
        signed = FocalPosteriorRecovery(gamma="fit").fit(softmax(z, axis=1), y)
    joint = nll(y, fts.transform(z))
    for other in (
        nll(y, ts.transform(z)),
        nll(y, signed.transform(softmax(z, axis=1))),
    ):
        assert joint <= other + 1e-9 * max(1.0, other)


def test_nests_temperature_scaling_and_psi():
    z, y = generated(500, 4, 1.3, 0.0, seed=5)
    ts = TemperatureScaling(input="logits").fit(z, y)
    fixed = FocalTemperatureScaling(input="logits", gamma=0.0).fit(z, y)
    assert fixed.gamma_ == 0.0
    assert fixed.temperature_ == pytest.approx(ts.temperature_, rel=1e-5)
    # A fixed order: T is fitted, then Psi of that order is applied.
    fixed = FocalTemperatureScaling(input="logits", gamma=2.0).fit(z, y)
    expected = reference_map(z, fixed.temperature_, 2.0)
    np.testing.assert_allclose(fixed.transform(z), expected, rtol=1e-12)


def test_predicted_class_unchanged_and_rows_sum_to_one():
    z, y = generated(300, 5, 0.6, -1.0, seed=6)
    fts = FocalTemperatureScaling(input="logits").fit(z, y)
    p = fts.transform(z)
    np.testing.assert_array_equal(p.argmax(axis=1), z.argmax(axis=1))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)


def test_sample_weight_equals_repeated_rows():
    z, y = generated(200, 3, 1.5, 1.0, seed=7)
    counts = np.random.default_rng(0).integers(1, 4, 200)
    weighted = FocalTemperatureScaling(input="logits").fit(z, y, sample_weight=counts)
    repeated = FocalTemperatureScaling(input="logits").fit(
        np.repeat(z, counts, axis=0), np.repeat(y, counts)
    )
    assert weighted.temperature_ == pytest.approx(repeated.temperature_, rel=1e-6)
    assert weighted.gamma_ == pytest.approx(repeated.gamma_, rel=1e-6, abs=1e-7)


def test_proba_input_is_log_of_probabilities():
    z, y = generated(300, 3, 1.5, 1.0, seed=8)
    proba = softmax(z, axis=1)
    from_proba = FocalTemperatureScaling().fit(proba, y)
    from_logits = FocalTemperatureScaling(input="logits").fit(np.log(proba), y)
    assert from_proba.temperature_ == pytest.approx(from_logits.temperature_)
    np.testing.assert_allclose(
        from_proba.transform(proba), from_logits.transform(np.log(proba))
    )


def test_confidently_wrong_saturated_row_has_a_finite_loss():
    proba = np.array([[1.0, 1e-20, 0.0], [0.2, 0.7, 0.1], [0.1, 0.3, 0.6]] * 20)
    y = np.array([1, 1, 2] * 20)
    fts = FocalTemperatureScaling(gamma=2.0).fit(proba, y)
    assert np.isfinite(fts.loss_)
    assert fts.transform(proba)[0, 1] > 0


def separated_logits(n, k, *, low, high, seed):
    """Logits whose first column leads every row by a margin in [low, high]."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, k))
    z[:, 0] = z[:, 1:].max(axis=1) + rng.uniform(low, high, n)
    perm = rng.permuted(np.tile(np.arange(k), (n, 1)), axis=1)
    # Column j of a row is its old column perm[j]: old column 0 is where
    # perm is 0.
    return np.take_along_axis(z, perm, axis=1), np.argmin(perm, axis=1)


@pytest.mark.parametrize("gamma", ["fit", 0.0, 2.0])
def test_separated_data_sharpen_to_the_bound_with_a_warning(gamma):
    # Every row ranks its true class first by a margin of at most 1e-3: the
    # NLL falls all the way to the search's bound log T = -10 (margins / T
    # of 22 at most there, so the loss is still resolved) and has no finite
    # minimizer. With gamma="fit" the order stays 0 (TemperatureScaling).
    z, y = separated_logits(60, 3, low=1e-5, high=1e-3, seed=9)
    order = 0.0 if gamma == "fit" else gamma
    grid = np.linspace(-10.0, 0.0, 41)
    reference = [reference_loss(z, y, t, order) for t in grid]
    assert np.all(np.diff(reference) > 0)  # the infimum is at the bound
    with pytest.warns(FlatCalibrationWarning, match="no finite minimizer") as record:
        fts = FocalTemperatureScaling(input="logits", gamma=gamma).fit(z, y)
    assert record[0].filename == __file__
    assert len(record) == 1
    assert fts.gamma_ == order
    assert np.log(fts.temperature_) == pytest.approx(-10.0, abs=1e-5)
    assert fts.loss_ == pytest.approx(
        reference_loss(z, y, np.log(fts.temperature_), order), rel=1e-9
    )
    # A real gain over the identity, so the bound is kept.
    assert fts.loss_ < reference[-1] - 0.1


def test_separated_data_no_longer_separated_with_one_wrong_row():
    # One wrong row bounds the loss: a finite minimizer, no warning. Weight 0
    # on that row leaves separated data again.
    z, y = separated_logits(60, 3, low=1e-5, high=1e-3, seed=9)
    y[0] = (y[0] + 1) % 3
    with warnings.catch_warnings():
        warnings.simplefilter("error", FlatCalibrationWarning)
        fts = FocalTemperatureScaling(input="logits").fit(z, y)
    assert np.log(fts.temperature_) > -9.0
    weight = np.ones(60)
    weight[0] = 0.0
    with pytest.warns(FlatCalibrationWarning, match="no finite minimizer"):
        fts = FocalTemperatureScaling(input="logits").fit(z, y, sample_weight=weight)
    assert np.log(fts.temperature_) == pytest.approx(-10.0, abs=1e-5)


@pytest.mark.parametrize("gamma", ["fit", 2.0])
def test_separated_rows_with_no_real_gain_keep_the_identity(gamma):
    # Correct by a logit margin of 40: the loss falls by less than 1e-16
    # nats towards T -> 0, below the flat tolerance, as in TemperatureScaling.
    y = np.arange(30) % 3
    z = np.zeros((30, 3))
    z[np.arange(30), y] = 40.0
    with pytest.warns(FlatCalibrationWarning, match="flat") as record:
        fts = FocalTemperatureScaling(input="logits", gamma=gamma).fit(z, y)
    assert len(record) == 1  # no second warning about the bound
    assert fts.temperature_ == 1.0
    assert fts.gamma_ == (0.0 if gamma == "fit" else 2.0)


def test_separated_loss_zero_in_floating_point_is_kept():
    # Correct rows of probability 0.6 (TemperatureScaling's own example):
    # from T = 1e-3 down the loss is 0 in floating point; any such T is kept.
    q = np.tile([0.6, 0.4], (20, 1))
    y = np.zeros(20, dtype=int)
    with pytest.warns(FlatCalibrationWarning, match="no finite minimizer"):
        fts = FocalTemperatureScaling().fit(q, y)
    assert fts.temperature_ < 1e-3
    assert reference_loss(np.log(q), y, np.log(fts.temperature_), 0.0) == 0.0
    np.testing.assert_array_equal(fts.transform(q), np.tile([1.0, 0.0], (20, 1)))


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(5, 80),
    k=st.integers(2, 5),
    scale=st.sampled_from([1e-4, 1e-2, 1.0, 10.0, 100.0]),
    weighted=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_separated_data_agree_with_temperature_scaling(n, k, scale, weighted, seed):
    # Same temperature, same warning category; the calibration NLL is
    # never above TemperatureScaling's.
    rng = np.random.default_rng(seed)
    z = scale * rng.standard_normal((n, k))
    # Some rows tie their first two classes: separated still (no class
    # above the true class, argmax's pick of the two).
    tied = np.flatnonzero(rng.random(n) < 0.3)
    z[tied, np.argsort(z[tied], axis=1)[:, -2]] = z[tied].max(axis=1)
    y = z.argmax(axis=1)
    weight = rng.uniform(0.5, 2.0, n) if weighted else None
    with warnings.catch_warnings(record=True) as fts_warnings:
        warnings.simplefilter("always")
        fts = FocalTemperatureScaling(input="logits").fit(z, y, sample_weight=weight)
    with warnings.catch_warnings(record=True) as ts_warnings:
        warnings.simplefilter("always")
        ts = TemperatureScaling(input="logits").fit(z, y, sample_weight=weight)
    assert fts.temperature_ == ts.temperature_
    assert fts.gamma_ == 0.0
    assert [w.category for w in fts_warnings] == [w.category for w in ts_warnings]
    assert len(ts_warnings) == 1  # flat (identity) or the bound, never silent
    # Equal temperatures make the two calibration losses equal; what the
    # rule buys is the gain over the identity map: a sharp temperature is
    # kept only when it beats T = 1 by more than the flat tolerance (the
    # reference loss, computed apart, gets half of it for rounding).
    ours = reference_loss(z, y, np.log(fts.temperature_), 0.0, weights=weight)
    identity = reference_loss(z, y, 0.0, 0.0, weights=weight)
    if "no finite minimizer" in str(ts_warnings[0].message):
        assert fts.temperature_ < 1.0
        assert ours < identity - 0.5e-6 * max(1.0, identity)
    else:
        assert fts.temperature_ == 1.0


@pytest.mark.parametrize("gamma", ["fit", 0.0, 2.0])
def test_rows_with_the_true_class_tied_for_first_are_separated(gamma):
    # Separated rows (margins <= 1e-3) and 12 rows whose true class ties for
    # first with another class: no class ranks above a true class, the loss
    # (the reference transcription) falls down to log T = -10, and the fit
    # is temperature scaling's, with its warning.
    z, y = separated_logits(60, 3, low=1e-5, high=1e-3, seed=9)
    tied = np.arange(0, 60, 5)
    z[tied, (y[tied] + 1) % 3] = z[tied, y[tied]]
    order = 0.0 if gamma == "fit" else gamma
    grid = np.linspace(-10.0, 0.0, 41)
    reference = [reference_loss(z, y, t, order) for t in grid]
    assert np.all(np.diff(reference) > 0)  # the infimum is at the bound
    with pytest.warns(FlatCalibrationWarning, match="no finite minimizer") as record:
        fts = FocalTemperatureScaling(input="logits", gamma=gamma).fit(z, y)
    assert len(record) == 1
    assert fts.gamma_ == order
    assert np.log(fts.temperature_) == pytest.approx(-10.0, abs=1e-5)
    assert fts.loss_ == pytest.approx(
        reference_loss(z, y, np.log(fts.temperature_), order), rel=1e-9
    )
    if order == 0.0:
        ts = TemperatureScaling(input="logits")
        with pytest.warns(FlatCalibrationWarning, match="no finite minimizer"):
            ts.fit(z, y)
        assert fts.temperature_ == ts.temperature_


@pytest.mark.parametrize("objective", ["nll", "brier"])
def test_a_tied_row_among_correct_rows_is_separated(objective):
    # The review's case: 20 correct rows and one whose true class ties for
    # first. No map of the family gives a tied class more than 1/2, so the
    # infimum of the loss is the tied row's alone, at probability 1/2:
    # log(2) / 21 for the NLL, ((1/2)^2 + (1/2)^2) / 21 for the Brier score.
    # The joint fit ran before, and stopped silently on the plateau.
    q = np.vstack([np.tile([0.6, 0.3, 0.1], (20, 1)), [[0.45, 0.45, 0.1]]])
    y = np.zeros(21, dtype=int)
    with pytest.warns(FlatCalibrationWarning, match="no finite minimizer") as record:
        fts = FocalTemperatureScaling(objective=objective).fit(q, y)
    assert len(record) == 1
    assert fts.gamma_ == 0.0
    infimum = np.log(2.0) / 21 if objective == "nll" else 0.5 / 21
    fitted = reference_loss(np.log(q), y, np.log(fts.temperature_), 0.0, objective)
    assert fitted == pytest.approx(infimum, rel=1e-9)


@pytest.mark.parametrize("gamma", ["fit", 2.0])
def test_wholly_tied_rows_keep_the_identity(gamma):
    # Every row ties its true class with all the classes its probability
    # allows (the others at 0): the loss is the same under every map, so the
    # flat rule keeps the identity, with one warning, as before.
    q = np.array([[0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.0, 0.5, 0.5]] * 4)
    y = np.array([0, 2, 1] * 4)
    with pytest.warns(FlatCalibrationWarning, match="flat") as record:
        fts = FocalTemperatureScaling(gamma=gamma).fit(q, y)
    assert len(record) == 1
    assert fts.temperature_ == 1.0
    assert fts.gamma_ == (0.0 if gamma == "fit" else 2.0)


def test_true_classes_in_the_top_two_drive_the_order_to_its_bound():
    # Every row's true class is its first or second: not separated, but the
    # loss keeps falling as T and g fall together (the map sends the classes
    # ranked 3rd and 4th towards 0), so the joint fit stops at g = -20, with
    # a warning that names the cause. Reference: the NLL of
    # focal_minimizer(softmax(z / T)) with T minimized by scipy at each g.
    from scipy.optimize import minimize_scalar

    rng = np.random.default_rng(0)
    z = 2 * rng.standard_normal((200, 4))
    ranked = np.argsort(-z, axis=1)
    y = np.where(rng.random(200) < 0.3, ranked[:, 1], ranked[:, 0])
    profile = [
        minimize_scalar(
            lambda t, g=g: reference_loss(z, y, t, g),
            bounds=(-6.0, 1.0),
            method="bounded",
            options={"xatol": 1e-8},
        ).fun
        for g in (0.0, -5.0, -10.0, -15.0, -20.0)
    ]
    assert np.all(np.diff(profile) < 0)  # falling towards the bound
    with pytest.warns(FlatCalibrationWarning, match="bound gamma = -20") as record:
        fts = FocalTemperatureScaling(input="logits").fit(z, y)
    assert record[0].filename == __file__
    assert "first 2 of 4 classes" in str(record[0].message)
    assert fts.gamma_ == -20.0
    fitted = reference_loss(z, y, np.log(fts.temperature_), fts.gamma_)
    assert fitted <= profile[-1] + 1e-9
    # Rows of every rank, from the same map: an interior fit, no warning.
    z, y = generated(400, 4, 1.4, -1.5, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FlatCalibrationWarning)
        fts = FocalTemperatureScaling(input="logits").fit(z, y)
    assert -20.0 < fts.gamma_ < 20.0


def test_joint_fit_a_hair_inside_a_bound_warns():
    # Two identical rows with opposite labels: the loss's infimum is log 2
    # (probability 1/2 each), reached by no finite map (every map of the
    # family keeps the first class above the second), and the loss falls
    # towards it as T grows (the reference transcription). The joint fit
    # ends at gamma = -20 and, L-BFGS-B stopping where the loss is flat to
    # 1e-14, a hair short of log T = 10 (3.7e-6 measured): the warning names
    # both bounds.
    z = np.array([[0.25, 0.0], [0.25, 0.0]])
    y = np.array([0, 1])
    profile = [reference_loss(z, y, t, 0.0) for t in np.linspace(0.0, 8.0, 9)]
    assert np.all(np.diff(profile) < 0)
    with pytest.warns(FlatCalibrationWarning, match="bound") as record:
        fts = FocalTemperatureScaling(input="logits").fit(z, y)
    assert len(record) == 1
    assert "log T = 10 and gamma = -20" in str(record[0].message)
    assert 10.0 - np.log(fts.temperature_) < 1e-5
    fitted = reference_loss(z, y, np.log(fts.temperature_), fts.gamma_)
    assert fitted - np.log(2.0) < 1e-12
    # The rule itself: 1e-6 inside a bound counts as on it, 1e-3 does not.
    fts = FocalTemperatureScaling()
    for log_temperature, gamma, named in [
        (10.0 - 1e-6, 0.5, "log T = 10"),
        (-10.0 + 1e-6, 0.5, "log T = -10"),
        (0.5, -20.0 + 1e-6, "gamma = -20"),
        (0.5, 20.0 - 1e-6, "gamma = 20"),
    ]:
        with pytest.warns(FlatCalibrationWarning, match=named):
            fts._warn_at_bound(log_temperature, gamma)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FlatCalibrationWarning)
        fts._warn_at_bound(10.0 - 1e-3, -20.0 + 1e-3)


def test_flat_objective_returns_identity_with_warning():
    proba = np.eye(3)[[0, 1, 2, 0, 1, 2]]
    y = np.array([0, 1, 2, 0, 1, 2])
    with pytest.warns(FlatCalibrationWarning, match="identity map"):
        fts = FocalTemperatureScaling().fit(proba, y)
    assert (fts.temperature_, fts.gamma_) == (1.0, 0.0)


# --------------------------------------------------------------------------
# Meta-estimator mode
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def classification():
    X, y, _ = make_classification_with_posteriors(
        600, 3, n_features=4, class_sep=1.0, random_state=0
    )
    return X, y


def test_frozen_equals_transformer_on_its_probabilities(classification):
    X, y = classification
    clf = LogisticRegression(max_iter=1000).fit(X[:300], y[:300])
    meta = FocalTemperatureScaling(FrozenEstimator(clf)).fit(X[300:], y[300:])
    transformer = FocalTemperatureScaling().fit(clf.predict_proba(X[300:]), y[300:])
    assert meta.temperature_ == pytest.approx(transformer.temperature_)
    assert meta.gamma_ == pytest.approx(transformer.gamma_)
    np.testing.assert_allclose(
        meta.predict_proba(X[:10]), transformer.transform(clf.predict_proba(X[:10]))
    )
    np.testing.assert_array_equal(meta.predict(X), clf.predict(X))


def test_cv_fits_on_held_out_predictions(classification):
    X, y = classification
    cv = KFold(3, shuffle=True, random_state=0)
    meta = FocalTemperatureScaling(LogisticRegression(max_iter=1000), cv=cv).fit(X, y)
    held_out = cross_val_predict(
        LogisticRegression(max_iter=1000), X, y, cv=cv, method="predict_proba"
    )
    transformer = FocalTemperatureScaling().fit(held_out, y)
    assert meta.temperature_ == pytest.approx(transformer.temperature_)
    assert meta.gamma_ == pytest.approx(transformer.gamma_)


class _FocalStub(ClassifierMixin, BaseEstimator):
    """A fitted 'focal model': logistic probabilities and a gamma_."""

    def fit(self, X, y):
        self.model_ = LogisticRegression(max_iter=1000).fit(X, y)
        self.classes_ = self.model_.classes_
        self.gamma_ = 2.0
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


def test_gamma_auto_reads_the_training_order(classification):
    X, y = classification
    model = _FocalStub().fit(X[:300], y[:300])
    fts = FocalTemperatureScaling(FrozenEstimator(model), gamma="auto").fit(
        X[300:], y[300:]
    )
    assert fts.gamma_ == 2.0
    with pytest.raises(ValueError, match="transformer mode"):
        FocalTemperatureScaling(gamma="auto").fit(softmax(X[:, :3], axis=1), y)


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"gamma": True}, TypeError, "gamma"),
        ({"gamma": np.nan}, ValueError, "gamma"),
        ({"objective": "focal"}, ValueError, "objective"),
        ({"input": "scores"}, ValueError, "input"),
    ],
)
def test_bad_parameters(params, error, match):
    proba = softmax(np.random.default_rng(0).standard_normal((20, 3)), axis=1)
    with pytest.raises(error, match=match):
        FocalTemperatureScaling(**params).fit(proba, np.arange(20) % 3)


def test_bad_data():
    proba = softmax(np.random.default_rng(0).standard_normal((20, 3)), axis=1)
    y = np.arange(20) % 3
    with pytest.raises(ValueError, match=r"y\[2\] = 3"):
        FocalTemperatureScaling().fit(proba, np.where(np.arange(20) == 2, 3, y))
    with pytest.raises(ValueError, match="sample_weight"):
        FocalTemperatureScaling().fit(proba, y, sample_weight=-np.ones(20))
    with pytest.raises(ValueError, match="requires y"):
        FocalTemperatureScaling().fit(proba, None)
    with pytest.raises(ValueError, match="at least 2"):
        FocalTemperatureScaling(input="logits").fit(np.ones((20, 1)), 0 * y)
    bad = proba.copy()
    bad[4, 0] += 0.5
    with pytest.raises(ValueError, match="row 4"):
        FocalTemperatureScaling().fit(bad, y)


# --------------------------------------------------------------------------
# link="sigmoid": binary_psi^g(sigmoid(z / T)) per label
# --------------------------------------------------------------------------


def reference_binary_map(logits, temperature, gamma):
    """The package's binary_psi / binary_focal_minimizer on probabilities
    (tested against mpmath in their own tests); no code of the estimator."""
    q = expit(np.asarray(logits) / temperature)
    if gamma >= 0:
        return theory.binary_psi(q, gamma)
    return theory.binary_focal_minimizer(q, -gamma)


def reference_binary_loss(
    logits, Y, log_temperature, gamma, objective="nll", weights=None
):
    p = reference_binary_map(logits, np.exp(log_temperature), gamma)
    if objective == "nll":
        with np.errstate(divide="ignore"):
            losses = np.where(Y == 1, -np.log(p), -np.log1p(-p))
    else:
        losses = (p - Y) ** 2
    return np.average(losses.mean(axis=1), weights=weights)


def mp_binary_loss(logits, Y, log_temperature, gamma, objective, weights):
    """The mean per-label loss of binary_psi^gamma(sigmoid(z / T)) in mpmath."""
    rows = []
    with mpmath.workdps(30):
        temperature = mpmath.exp(mpmath.mpf(log_temperature))
        for z_row, y_row in zip(logits, Y, strict=True):
            total = mpmath.mpf(0)
            for z, y in zip(z_row, y_row, strict=True):
                q = 1 / (1 + mpmath.exp(-mpmath.mpf(z) / temperature))
                h_q, h_c = mp_h(q, gamma), mp_h(1 - q, gamma)
                p, not_p = h_q / (h_q + h_c), h_c / (h_q + h_c)
                if objective == "nll":
                    total += -mpmath.log(p if y == 1 else not_p)
                else:
                    total += (p - y) ** 2
            rows.append(float(total / len(z_row)))
    return np.average(rows, weights=weights)


def binary_generated(n, temperature, gamma, *, seed=0):
    rng = np.random.default_rng(seed)
    z = 3 * rng.standard_normal((n, 2))
    p = reference_binary_map(z, temperature, gamma)
    return z, (rng.random(p.shape) < p).astype(int)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 7.0, -0.5, -3.0])
@pytest.mark.parametrize("log_temperature", [-0.7, 0.0, 0.9])
def test_sigmoid_map_equals_binary_psi_of_scaled_sigmoid(gamma, log_temperature):
    rng = np.random.default_rng(1)
    z = 3 * rng.standard_normal((40, 3))
    logit_p, _, _ = _binary_logit_and_gradient(
        z, log_temperature, gamma, gradient=False
    )
    expected = reference_binary_map(z, np.exp(log_temperature), gamma)
    np.testing.assert_allclose(expit(logit_p), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("gamma", [1.0, 3.0])
def test_sigmoid_saturated_entries_keep_their_information(gamma):
    # sigmoid(45) rounds to 1.0 and binary_psi of it is 1; the map of the
    # logit is not: mpmath reference of h(q) / (h(q) + h(1 - q)).
    z = np.array([[45.0, -50.0, 38.0]])
    logit_p, _, _ = _binary_logit_and_gradient(z, 0.0, gamma, gradient=False)
    assert np.all(np.isfinite(logit_p))
    with mpmath.workdps(60):
        for u, got in zip(z[0], logit_p[0], strict=True):
            q = 1 / (1 + mpmath.exp(-mpmath.mpf(u)))
            expected = mpmath.log(mp_h(q, gamma) / mp_h(1 - q, gamma))
            np.testing.assert_allclose(got, float(expected), rtol=1e-12)


@pytest.mark.parametrize("objective", ["nll", "brier"])
@pytest.mark.parametrize(
    "log_temperature, gamma",
    [(0.3, 1.7), (-0.4, 1e-3), (0.0, 0.0), (0.2, -2.5), (0.1, -1e-3), (0.5, 8.0)],
)
def test_sigmoid_gradient_matches_finite_differences(objective, log_temperature, gamma):
    rng = np.random.default_rng(2)
    z = 3 * rng.standard_normal((60, 3))
    Y = (rng.random(z.shape) < 0.4).astype(int)
    weights = rng.random(60)
    keep = np.ones(z.shape, dtype=bool)
    _, gradient = _binary_calibration_loss(
        z, Y, keep, weights, objective, log_temperature, gamma
    )
    # binary_psi of high order puts 1 - p below float64's resolution: for
    # gamma >= 0 the reference loss is mpmath's h(q) / (h(q) + h(1 - q)).
    loss = reference_binary_loss if gamma < 0 else mp_binary_loss
    step = 1e-6
    numeric = []
    for dt, dg in ((step, 0.0), (0.0, step)):
        up = loss(z, Y, log_temperature + dt, gamma + dg, objective, weights)
        down = loss(z, Y, log_temperature - dt, gamma - dg, objective, weights)
        numeric.append((up - down) / (2 * step))
    np.testing.assert_allclose(gradient, numeric, rtol=2e-6, atol=1e-8)


@pytest.mark.parametrize("objective", ["nll", "brier"])
def test_sigmoid_joint_fit_equals_grid_minimum(objective):
    # In the binary family T and g are nearly exchangeable (logit p is
    # close to linear in z for both), so the fitted loss, not the point, is
    # compared with the brute-force minimum.
    z, Y = binary_generated(300, 1.4, 1.5, seed=3)
    fts = FocalTemperatureScaling(
        input="logits", link="sigmoid", objective=objective
    ).fit(z, Y)
    assert fts.link_ == "sigmoid"
    fitted = reference_binary_loss(
        z, Y, np.log(fts.temperature_), fts.gamma_, objective
    )
    np.testing.assert_allclose(fts.loss_, fitted, rtol=1e-10)
    *_, grid_value, _, _ = grid_minimum(
        lambda t, g: reference_binary_loss(z, Y, t, g, objective),
        (-1.5, 1.5),
        (-4.0, 6.0),
        n_coarse=21,
        n_fine=11,
    )
    assert fts.loss_ <= grid_value + 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_sigmoid_never_worse_than_temperature_scaling_or_signed_map(seed):
    temperature, gamma = [(0.6, 2.0), (1.5, -1.0), (1.0, 0.0), (2.0, 3.0)][seed]
    z, Y = binary_generated(400, temperature, gamma, seed=seed)
    fts = FocalTemperatureScaling(input="logits", link="sigmoid").fit(z, Y)
    ts = TemperatureScaling(input="logits", link="sigmoid").fit(z, Y)
    signed = FocalPosteriorRecovery(gamma="fit", link="sigmoid").fit(expit(z), Y)
    ours = reference_binary_loss(z, Y, np.log(fts.temperature_), fts.gamma_)
    assert ours <= reference_binary_loss(z, Y, np.log(ts.temperature_), 0.0) + 1e-12
    assert ours <= reference_binary_loss(z, Y, 0.0, float(signed.gamma_)) + 1e-12


def separated_label_logits(n, n_labels, *, low, high, seed):
    """Per-label logits of sizes in [low, high] on their label's side of 0."""
    rng = np.random.default_rng(seed)
    Y = rng.integers(0, 2, (n, n_labels))
    return np.where(Y == 1, 1.0, -1.0) * rng.uniform(low, high, Y.shape), Y


@pytest.mark.parametrize("gamma", ["fit", 1.5])
def test_sigmoid_separated_entries_sharpen_to_the_bound_with_a_warning(gamma):
    # |logit| <= 1e-3 on the label's side: the per-label loss falls all the
    # way to log T = -10 (|z| / T <= 22, still resolved), no finite minimizer.
    z, Y = separated_label_logits(50, 3, low=1e-5, high=1e-3, seed=4)
    order = 0.0 if gamma == "fit" else gamma
    grid = np.linspace(-10.0, 0.0, 41)
    reference = [reference_binary_loss(z, Y, t, order) for t in grid]
    assert np.all(np.diff(reference) > 0)  # the infimum is at the bound
    with pytest.warns(FlatCalibrationWarning, match="no finite minimizer") as record:
        fts = FocalTemperatureScaling(input="logits", link="sigmoid", gamma=gamma).fit(
            z, Y
        )
    assert record[0].filename == __file__
    assert len(record) == 1
    assert fts.gamma_ == order
    assert np.log(fts.temperature_) == pytest.approx(-10.0, abs=1e-5)
    assert fts.loss_ == pytest.approx(
        reference_binary_loss(z, Y, np.log(fts.temperature_), order), rel=1e-9
    )
    assert fts.loss_ < reference[-1] - 0.1  # a real gain: the bound is kept
    # One entry on the wrong side, by a logit of 1: not separated, and the
    # fit no longer sharpens (on such data the joint fit runs along the
    # family's near-degenerate ridge of T and g, and may say so).
    Y[0, 0] = 1 - Y[0, 0]
    z[0, 0] = 1.0 - 2.0 * Y[0, 0]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        fts = FocalTemperatureScaling(input="logits", link="sigmoid").fit(z, Y)
    assert not any("no finite minimizer" in str(w.message) for w in record)
    assert np.log(fts.temperature_) > -9.0


def test_sigmoid_separated_entries_with_no_real_gain_keep_the_identity():
    z, Y = separated_label_logits(30, 2, low=40.0, high=50.0, seed=5)
    with pytest.warns(FlatCalibrationWarning, match="flat") as record:
        fts = FocalTemperatureScaling(input="logits", link="sigmoid").fit(z, Y)
    assert len(record) == 1
    assert (fts.temperature_, fts.gamma_) == (1.0, 0.0)
    np.testing.assert_allclose(fts.transform(z), expit(z), rtol=1e-12)


@pytest.mark.parametrize("case", ["logit at 0", "probability 0 on a 1"])
@pytest.mark.parametrize("objective", ["nll", "brier"])
def test_sigmoid_entries_at_zero_or_unchangeable_still_separated(case, objective):
    # Entries on their label's side by at most 1e-3, plus entry (0, 0): a
    # logit of exactly 0 (the same loss at every map), or a probability of
    # 0 on a 1 (infinite NLL, left out; Brier score 1 at every map). The
    # loss (a direct transcription over the entries it keeps) falls down to
    # log T = -10: the temperature is fitted alone, at g = 0, and warns, as
    # TemperatureScaling(link="sigmoid") does with the NLL (which missed the
    # second case before).
    rng = np.random.default_rng(5)
    Y = rng.integers(0, 2, (40, 3))
    proba = np.where(Y == 1, 0.5, -0.5) * rng.uniform(1e-5, 1e-3, Y.shape) + 0.5
    if case == "logit at 0":
        proba[0, 0] = 0.5
    else:
        proba[0, 0], Y[0, 0] = 0.0, 1

    def loss(log_temperature):
        with np.errstate(divide="ignore"):
            z = np.log(proba) - np.log1p(-proba)
            p = 1.0 / (1.0 + np.exp(-z / np.exp(log_temperature)))
            if objective == "brier":
                return np.mean((p - Y) ** 2)
            losses = -np.log(np.where(Y == 1, p, 1.0 - p))
        return np.mean(losses[np.isfinite(losses)])

    values = [loss(t) for t in np.linspace(-10.0, 0.0, 41)]
    assert np.all(np.diff(values) > 0)
    fts = FocalTemperatureScaling(link="sigmoid", objective=objective)
    with pytest.warns(FlatCalibrationWarning, match="no finite minimizer") as record:
        fts.fit(proba, Y)
    assert len(record) == 1
    assert fts.gamma_ == 0.0
    assert np.log(fts.temperature_) == pytest.approx(-10.0, abs=1e-5)
    assert fts.loss_ == pytest.approx(loss(np.log(fts.temperature_)), rel=1e-9)
    if objective == "nll":
        with pytest.warns(FlatCalibrationWarning, match="no finite minimizer"):
            ts = TemperatureScaling(link="sigmoid").fit(proba, Y)
        assert fts.temperature_ == pytest.approx(ts.temperature_, rel=1e-9)


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(5, 60),
    n_labels=st.integers(1, 4),
    scale=st.sampled_from([1e-4, 1e-2, 1.0, 10.0, 100.0]),
    weighted=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_sigmoid_separated_entries_agree_with_temperature_scaling(
    n, n_labels, scale, weighted, seed
):
    rng = np.random.default_rng(seed)
    z = scale * rng.standard_normal((n, n_labels))
    z[rng.random(z.shape) < 0.2] = 0.0  # at 0: separated with either label
    Y = ((z > 0) | ((z == 0) & (rng.random(z.shape) < 0.5))).astype(int)
    weight = rng.uniform(0.5, 2.0, n) if weighted else None
    with warnings.catch_warnings(record=True) as fts_warnings:
        warnings.simplefilter("always")
        fts = FocalTemperatureScaling(input="logits", link="sigmoid").fit(
            z, Y, sample_weight=weight
        )
    with warnings.catch_warnings(record=True) as ts_warnings:
        warnings.simplefilter("always")
        ts = TemperatureScaling(input="logits", link="sigmoid").fit(
            z, Y, sample_weight=weight
        )
    # The same search on the same loss, computed by each estimator's code.
    assert fts.temperature_ == pytest.approx(ts.temperature_, rel=1e-9)
    assert fts.gamma_ == 0.0
    assert [w.category for w in fts_warnings] == [w.category for w in ts_warnings]
    assert len(ts_warnings) == 1


def test_sigmoid_frozen_equals_transformer_on_its_probabilities():
    X, Y = make_multilabel_classification(
        400, n_features=6, n_classes=3, random_state=0
    )
    clf = MultiOutputClassifier(LogisticRegression(max_iter=1000)).fit(X[:200], Y[:200])
    proba = np.column_stack([p[:, 1] for p in clf.predict_proba(X)])
    meta = FocalTemperatureScaling(FrozenEstimator(clf)).fit(X[200:], Y[200:])
    assert meta.link_ == "sigmoid"  # link="auto" and an indicator y
    transformer = FocalTemperatureScaling(link="sigmoid").fit(proba[200:], Y[200:])
    assert meta.temperature_ == pytest.approx(transformer.temperature_)
    assert meta.gamma_ == pytest.approx(transformer.gamma_)
    expected = reference_binary_map(
        np.log(proba[:10]) - np.log1p(-proba[:10]), meta.temperature_, meta.gamma_
    )
    np.testing.assert_allclose(meta.predict_proba(X[:10]), expected, rtol=1e-10)
    np.testing.assert_allclose(transformer.transform(proba[:10]), expected, rtol=1e-10)


def test_sigmoid_bad_data():
    z = np.random.default_rng(0).standard_normal((20, 2))
    with pytest.raises(ValueError, match="multi-label indicator"):
        FocalTemperatureScaling(input="logits", link="sigmoid").fit(z, np.zeros(20))
    with pytest.raises(ValueError, match=r"y\[3, 1\]"):
        Y = np.zeros((20, 2))
        Y[3, 1] = 0.5
        FocalTemperatureScaling(input="logits", link="sigmoid").fit(z, Y)
