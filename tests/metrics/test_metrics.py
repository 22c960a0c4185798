"""Tests for sklearn_focal.metrics.

Expected values come from hand computations, brute-force loops written here,
scipy, scikit-learn, netcal and torchmetrics; never from the code under test.
"""

import copy
import tracemalloc

import mpmath
import numpy as np
import pytest
import sklearn
from hypothesis import given
from hypothesis import strategies as st
from mptestutils import Arg, ProbArg, assert_mpmath_equal, mp_kl
from scipy.stats import entropy
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import calibration_curve
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss
from sklearn.model_selection import GridSearchCV, KFold, cross_validate

from sklearn_focal.metrics import (
    ConfidenceInterval,
    binned_calibration,
    calibration_scorers,
    classwise_calibration_error,
    expected_calibration_error,
    maximum_calibration_error,
    multiclass_brier_score,
    neg_classwise_calibration_error,
    neg_expected_calibration_error,
    neg_maximum_calibration_error,
    neg_multiclass_brier_score,
    neg_posterior_kl_divergence,
    posterior_kl_divergence,
)
from sklearn_focal.utils._compat import BRIER_SCORE_LOSS_MULTICLASS


def _softmax_rows(rng, n, k, scale=2.0):
    logits = scale * rng.normal(size=(n, k))
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    return probs / probs.sum(axis=1, keepdims=True)


def _off_edges(values, n_bins):
    """True when no value lies within 1e-9 of an equal-width bin edge."""
    scaled = np.asarray(values) * n_bins
    return np.all(np.abs(scaled - np.round(scaled)) > 1e-9)


def _brute_force_ece(scores, outcomes, edges, norm="l1"):
    """Per-bin loop, half-open bins with the last one closed."""
    n = len(scores)
    gaps, masses = [], []
    for b in range(len(edges) - 1):
        lo, hi = edges[b], edges[b + 1]
        last = b == len(edges) - 2
        inside = (scores >= lo) & ((scores <= hi) if last else (scores < hi))
        if inside.sum() == 0:
            continue
        gaps.append(abs(outcomes[inside].mean() - scores[inside].mean()))
        masses.append(inside.sum() / n)
    gaps, masses = np.array(gaps), np.array(masses)
    if norm == "l1":
        return float(np.sum(gaps * masses))
    if norm == "l2":
        return float(np.sqrt(np.sum(gaps**2 * masses)))
    return float(gaps.max())


def _reference_ece(
    y, probs, labels, *, kind="top_label", norm="l1", strategy="uniform", n_bins=10
):
    """ECE by brute force: one (scores, outcomes) curve, the top label's, or
    one per class (their errors averaged); equal-width or linear-quantile
    edges per curve."""
    labels = np.asarray(labels)
    probs = np.asarray(probs, dtype=np.float64)
    if kind == "top_label":
        top = probs.argmax(axis=1)
        curves = [(probs.max(axis=1), (labels[top] == y).astype(float))]
    else:
        curves = [
            (probs[:, c], (y == label).astype(float)) for c, label in enumerate(labels)
        ]
    errors = []
    for scores, outcomes in curves:
        levels = np.linspace(0, 1, n_bins + 1)
        edges = levels if strategy == "uniform" else np.quantile(scores, levels)
        errors.append(_brute_force_ece(scores, outcomes, edges, norm))
    return float(np.mean(errors))


def _reference_brier(y, probs, labels):
    """Mean over rows of the squared distance to the one-hot label."""
    onehot = (np.asarray(y)[:, None] == np.asarray(labels)[None, :]).astype(float)
    return float(np.mean(np.sum((np.asarray(probs) - onehot) ** 2, axis=1)))


def _reference_kl(p, q):
    """Mean over rows of sum_i p_i log(p_i / q_i), 0 log 0 = 0, in nats."""
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p / q), 0.0)
    return float(terms.sum(axis=1).mean())


def _reference_scores(y, probs, labels):
    """The calibration metrics of the scorers, each by an independent route."""
    return {
        "expected_calibration_error": _reference_ece(y, probs, labels),
        "classwise_calibration_error": _reference_ece(
            y, probs, labels, kind="classwise"
        ),
        "maximum_calibration_error": _reference_ece(y, probs, labels, norm="max"),
        "multiclass_brier_score": _reference_brier(y, probs, labels),
    }


# --------------------------------------------------------------------------
# Cross-checks against other libraries (test-only dependencies)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n_classes", [2, 3, 10])
@pytest.mark.parametrize("n_bins", [5, 10, 15])
def test_ece_matches_netcal(seed, n_classes, n_bins):
    netcal_metrics = pytest.importorskip("netcal.metrics")
    rng = np.random.default_rng(seed)
    probs = _softmax_rows(rng, 500, n_classes)
    y = rng.integers(0, n_classes, 500)
    assert _off_edges(probs, n_bins)
    expected = netcal_metrics.ECE(bins=n_bins).measure(probs, y)
    # netcal scores a two-column input by its positive-class probability
    kind = "binary" if n_classes == 2 else "top_label"
    ours = expected_calibration_error(y, probs, n_bins=n_bins, kind=kind)
    assert ours == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("n_classes", [3, 7])
@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
def test_ece_matches_torchmetrics(seed, n_classes, norm):
    torch = pytest.importorskip("torch")
    classification = pytest.importorskip("torchmetrics.classification")
    rng = np.random.default_rng(seed)
    probs = _softmax_rows(rng, 800, n_classes)
    y = rng.integers(0, n_classes, 800)
    assert _off_edges(probs.max(axis=1), 10)
    metric = classification.MulticlassCalibrationError(
        num_classes=n_classes, n_bins=10, norm=norm
    )
    expected = metric(torch.tensor(probs), torch.tensor(y)).item()
    ours = expected_calibration_error(y, probs, n_bins=10, norm=norm)
    assert ours == pytest.approx(expected, abs=1e-6)


def test_confidence_exactly_one_lands_in_last_bin_like_torchmetrics():
    # torchmetrics#3510: confidence 1.0 could land in a phantom bin. One-hot
    # predictions must fall in the closed last bin [0.9, 1].
    torch = pytest.importorskip("torch")
    classification = pytest.importorskip("torchmetrics.classification")
    netcal_metrics = pytest.importorskip("netcal.metrics")
    y = np.array([0, 1, 2, 0, 1, 2])
    probs = np.eye(3)[[0, 1, 2, 1, 1, 2]]  # one wrong, all confidence 1.0
    # one bin [0.9, 1] with accuracy 5/6 and confidence 1: ECE = 1/6
    assert expected_calibration_error(y, probs) == pytest.approx(1 / 6, abs=1e-12)
    tm = classification.MulticlassCalibrationError(num_classes=3, n_bins=10)
    assert tm(torch.tensor(probs), torch.tensor(y)).item() == pytest.approx(
        1 / 6, abs=1e-6
    )
    nc = netcal_metrics.ECE(bins=10).measure(probs, y)
    assert nc == pytest.approx(1 / 6, abs=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
@pytest.mark.parametrize("n_bins", [5, 10])
def test_binary_ece_matches_sklearn_calibration_curve(seed, strategy, n_bins):
    rng = np.random.default_rng(seed)
    # (n - 1) * b / n_bins is not an integer: linear-interpolation quantile
    # edges are not data points, so no score sits on an inner edge
    n = 1998  # n - 1 = 1997 is prime
    p = rng.uniform(size=n)
    y = (rng.uniform(size=n) < p**1.5).astype(int)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=n_bins, strategy=strategy)
    if strategy == "uniform":
        edges = np.linspace(0, 1, n_bins + 1)
    else:
        edges = np.percentile(p, np.linspace(0, 100, n_bins + 1))
    assert not np.isin(p, edges[1:-1]).any()
    counts = np.histogram(p, bins=edges)[0]
    expected = np.sum(counts[counts > 0] / n * np.abs(prob_true - prob_pred))
    ours = expected_calibration_error(
        y, p, n_bins=n_bins, strategy=strategy, kind="binary"
    )
    assert ours == pytest.approx(expected, abs=1e-6)
    # the (n, 2) form gives the same number
    two_columns = np.column_stack([1 - p, p])
    assert expected_calibration_error(
        y, two_columns, n_bins=n_bins, strategy=strategy, kind="binary"
    ) == pytest.approx(ours, abs=1e-15)
    # and binned_calibration gives calibration_curve's arrays
    result = binned_calibration(y, p, n_bins=n_bins, strategy=strategy, kind="binary")
    occupied = result.bin_weight[0] > 0
    np.testing.assert_allclose(result.accuracy[0][occupied], prob_true, atol=1e-12)
    np.testing.assert_allclose(
        result.mean_confidence[0][occupied], prob_pred, atol=1e-12
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_classwise_matches_per_class_calibration_curve(seed):
    rng = np.random.default_rng(seed)
    k = 4
    probs = _softmax_rows(rng, 999, k)
    y = rng.integers(0, k, 999)
    per_class = []
    for c in range(k):
        score = probs[:, c]
        assert _off_edges(score, 10)
        prob_true, prob_pred = calibration_curve(y == c, score, n_bins=10)
        counts = np.histogram(score, bins=np.linspace(0, 1, 11))[0]
        per_class.append(
            np.sum(counts[counts > 0] / len(y) * np.abs(prob_true - prob_pred))
        )
    ours = classwise_calibration_error(y, probs)
    assert ours == pytest.approx(np.mean(per_class), abs=1e-12)
    assert expected_calibration_error(y, probs, kind="classwise") == ours


# --------------------------------------------------------------------------
# Hand-computed cases and edge cases
# --------------------------------------------------------------------------


def test_hand_computed_norms_and_empty_bins():
    y = np.array([0, 1, 1, 0])
    probs = np.array([[0.95, 0.05], [0.25, 0.75], [0.32, 0.68], [0.35, 0.65]])
    # top-label confidences .95 (right), .75 (right), .68 (right), .65 (wrong)
    # 5 bins: [.8, 1] holds .95, gap .05; [.6, .8) holds the rest,
    # mean confidence 2.08/3, accuracy 2/3. The other three bins are empty
    # and must not count.
    gap_high = 0.05
    gap_mid = abs(2 / 3 - 2.08 / 3)
    l1 = 0.25 * gap_high + 0.75 * gap_mid
    l2 = np.sqrt(0.25 * gap_high**2 + 0.75 * gap_mid**2)
    assert expected_calibration_error(y, probs, n_bins=5) == pytest.approx(l1)
    assert expected_calibration_error(y, probs, n_bins=5, norm="l2") == pytest.approx(
        l2
    )
    assert maximum_calibration_error(y, probs, n_bins=5) == pytest.approx(
        max(gap_high, gap_mid)
    )
    result = binned_calibration(y, probs, n_bins=5)
    np.testing.assert_array_equal(result.bin_count, [[0, 0, 0, 3, 1]])
    assert np.isnan(result.accuracy[0, :3]).all()


def test_confidence_exactly_zero_is_counted_in_first_bin():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.0, 0.0, 1.0, 1.0])
    assert expected_calibration_error(y, p, kind="binary") == 0.0
    result = binned_calibration(y, p, kind="binary")
    assert result.bin_count[0, 0] == 2 and result.bin_count[0, -1] == 2
    # positives predicted with probability 0: the gap is 1 in the first bin
    assert expected_calibration_error(
        [1, 1, 1, 1], p, kind="binary", labels=[0, 1]
    ) == (pytest.approx(0.5))


def test_inner_edge_belongs_to_upper_bin():
    # 0.5 is an exact edge of linspace(0, 1, 3): it belongs to [0.5, 1]
    result = binned_calibration([1, 0], [0.5, 0.25], n_bins=2, kind="binary")
    np.testing.assert_array_equal(result.bin_count, [[1, 1]])


def test_labels_handle_absent_classes_and_column_order():
    y = np.array(["cat", "cat", "dog"])
    probs = np.array([[0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1]])
    labels = ["cat", "dog", "emu"]
    with pytest.raises(ValueError, match="pass labels="):
        expected_calibration_error(y, probs)
    ours = expected_calibration_error(y, probs, labels=labels)
    # all right: confidences .7, .6, .7 -> bins [.7, .8) (x2) and [.6, .7)
    expected = (2 / 3) * 0.3 + (1 / 3) * 0.4
    assert ours == pytest.approx(expected)
    # the same problem with the columns (and labels) permuted
    order = [2, 0, 1]
    permuted = expected_calibration_error(
        y, probs[:, order], labels=[labels[i] for i in order]
    )
    assert permuted == pytest.approx(expected)
    # multiclass Brier sees the columns through labels too
    onehot = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0]])
    brier = np.mean(np.sum((probs - onehot) ** 2, axis=1))
    assert multiclass_brier_score(y, probs, labels=labels) == pytest.approx(brier)


def test_string_labels_binary():
    y = np.array(["no", "yes", "yes", "no"])
    p = np.array([0.2, 0.9, 0.55, 0.45])
    numeric = expected_calibration_error((y == "yes").astype(int), p, kind="binary")
    assert expected_calibration_error(y, p, kind="binary") == numeric
    assert numeric == pytest.approx(
        _brute_force_ece(p, (y == "yes").astype(float), np.linspace(0, 1, 11))
    )


def test_auto_bins_are_equal_mass():
    rng = np.random.default_rng(0)
    probs = _softmax_rows(rng, 1000, 3)
    y = rng.integers(0, 3, 1000)
    result = binned_calibration(y, probs, n_bins="auto")
    assert result.bin_count.shape == (1, 10)  # 1000 ** (1/3) = 10
    np.testing.assert_array_equal(result.bin_count, 100)
    ours = expected_calibration_error(y, probs, n_bins="auto")
    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == y).astype(float)
    order = np.argsort(conf)
    expected = np.mean(
        [abs(correct[b].mean() - conf[b].mean()) for b in np.split(order, 10)]
    )
    assert ours == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
def test_top_label_matches_brute_force(seed, norm):
    rng = np.random.default_rng(seed)
    probs = _softmax_rows(rng, 300, 5)
    y = rng.integers(0, 5, 300)
    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == y).astype(float)
    edges = np.linspace(0, 1, 8)
    expected = _brute_force_ece(conf, correct, edges, norm)
    assert expected_calibration_error(y, probs, n_bins=7, norm=norm) == pytest.approx(
        expected, abs=1e-12
    )


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------


@st.composite
def _problems(draw):
    n = draw(st.integers(1, 40))
    k = draw(st.integers(2, 5))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.full(k, 0.5), size=n)
    y = rng.integers(0, k, n)
    weights = rng.integers(0, 4, n)
    weights[0] = max(weights[0], 1)
    return y, probs, weights


@given(
    _problems(),
    st.sampled_from(["top_label", "classwise"]),
    st.sampled_from(["l1", "l2", "max"]),
)
def test_integer_weights_equal_repeated_rows(problem, kind, norm):
    y, probs, weights = problem
    k = probs.shape[1]
    labels = np.arange(k)
    weighted = expected_calibration_error(
        y, probs, sample_weight=weights, kind=kind, norm=norm, labels=labels
    )
    repeated = expected_calibration_error(
        np.repeat(y, weights),
        np.repeat(probs, weights, axis=0),
        kind=kind,
        norm=norm,
        labels=labels,
    )
    assert weighted == pytest.approx(repeated, abs=1e-12)
    assert 0.0 <= weighted <= 1.0


@given(_problems(), st.sampled_from([1, 3, 10, "auto"]))
def test_ece_bounded_and_row_order_invariant(problem, n_bins):
    y, probs, _ = problem
    labels = np.arange(probs.shape[1])
    ece = expected_calibration_error(
        y, probs, n_bins=n_bins, strategy="quantile", labels=labels
    )
    order = np.random.default_rng(0).permutation(len(y))
    shuffled = expected_calibration_error(
        y[order], probs[order], n_bins=n_bins, strategy="quantile", labels=labels
    )
    assert 0.0 <= ece <= 1.0
    assert shuffled == pytest.approx(ece, abs=1e-12)
    # a single bin: |accuracy - mean confidence|
    one_bin = expected_calibration_error(y, probs, n_bins=1, labels=labels)
    acc = np.mean(probs.argmax(axis=1) == y)
    assert one_bin == pytest.approx(abs(acc - probs.max(axis=1).mean()), abs=1e-12)


# --------------------------------------------------------------------------
# KL divergence and Brier score
# --------------------------------------------------------------------------


def test_posterior_kl_divergence_matches_scipy():
    rng = np.random.default_rng(0)
    eta = rng.dirichlet(np.ones(4), size=50)
    q = rng.dirichlet(np.ones(4), size=50)
    expected = np.mean([entropy(e, r) for e, r in zip(eta, q, strict=True)])
    assert posterior_kl_divergence(eta, q) == pytest.approx(expected, rel=1e-12)
    bits = np.mean([entropy(e, r, base=2) for e, r in zip(eta, q, strict=True)])
    assert posterior_kl_divergence(eta, q, base=2) == pytest.approx(bits, rel=1e-12)
    w = rng.uniform(size=50)
    weighted = np.average(
        [entropy(e, r) for e, r in zip(eta, q, strict=True)], weights=w
    )
    assert posterior_kl_divergence(eta, q, sample_weight=w) == pytest.approx(weighted)


def test_posterior_kl_divergence_matches_mpmath_at_every_order_of_magnitude():
    # Binary rows [p, 1 - p] with p from 1e-300 to one ulp below 1, every
    # pair of them; the reference sums p_i log(p_i / q_i) at 40 digits on the
    # same doubles.
    def kl(eta, q):
        return np.array(
            [
                posterior_kl_divergence([[e, 1.0 - e]], [[r, 1.0 - r]])
                for e, r in zip(eta, q, strict=True)
            ]
        )

    def reference(e, r):
        complement = [mpmath.mpf(1.0 - float(v)) for v in (e, r)]
        return mp_kl([e, complement[0]], [r, complement[1]])

    assert_mpmath_equal(kl, reference, [ProbArg(), ProbArg()], rtol=1e-12, n=900)


def test_posterior_kl_divergence_edge_cases():
    # 0 log 0 = 0, and binary 1-D input
    assert posterior_kl_divergence([[1.0, 0.0]], [[0.5, 0.5]]) == pytest.approx(
        np.log(2)
    )
    assert posterior_kl_divergence([1.0], [0.5]) == pytest.approx(np.log(2))
    assert posterior_kl_divergence([[0.5, 0.5]], [[1.0, 0.0]]) == np.inf
    with pytest.raises(ValueError, match="same shape"):
        posterior_kl_divergence(np.full((3, 2), 0.5), np.full((3, 3), 1 / 3))


@pytest.mark.skipif(
    not BRIER_SCORE_LOSS_MULTICLASS,
    reason="its reference, multiclass brier_score_loss, needs scikit-learn >= 1.7",
)
def test_multiclass_brier_matches_sklearn():
    rng = np.random.default_rng(0)
    probs = _softmax_rows(rng, 200, 4)
    y = rng.integers(0, 4, 200)
    w = rng.uniform(size=200)
    expected = brier_score_loss(y, probs, scale_by_half=False, sample_weight=w)
    assert multiclass_brier_score(y, probs, sample_weight=w) == pytest.approx(expected)
    p = probs[:, 0] / probs[:, :2].sum(axis=1)
    yb = (y % 2).astype(int)
    assert multiclass_brier_score(yb, p) == pytest.approx(2 * brier_score_loss(yb, p))


# --------------------------------------------------------------------------
# Bootstrap confidence intervals
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "metric, args",
    [
        (expected_calibration_error, "labels"),
        (maximum_calibration_error, "labels"),
        (classwise_calibration_error, "labels"),
        (multiclass_brier_score, "labels"),
        (posterior_kl_divergence, "posteriors"),
    ],
)
def test_return_ci(metric, args):
    rng = np.random.default_rng(0)
    probs = _softmax_rows(rng, 300, 3, scale=1.0)
    if args == "labels":
        first = rng.integers(0, 3, 300)
    else:
        first = rng.dirichlet(np.ones(3), size=300)
    value = metric(first, probs)
    result = metric(first, probs, return_ci=True, n_bootstraps=200, random_state=0)
    assert isinstance(result[1], ConfidenceInterval)
    assert result[0] == value
    low, high = result[1]
    assert low < high
    assert low <= value + 0.05 and value - 0.05 <= high
    again = metric(first, probs, return_ci=True, n_bootstraps=200, random_state=0)
    assert again == result
    narrow = metric(
        first,
        probs,
        return_ci=True,
        n_bootstraps=200,
        random_state=0,
        confidence_level=0.5,
    )
    assert narrow[1].high - narrow[1].low < high - low
    # By hand: the percentile interval of the metric, written here, over rows
    # resampled with RandomState(random_state).randint.
    reference = {
        expected_calibration_error: lambda a, b: _reference_ece(a, b, [0, 1, 2]),
        maximum_calibration_error: lambda a, b: _reference_ece(
            a, b, [0, 1, 2], norm="max"
        ),
        classwise_calibration_error: lambda a, b: _reference_ece(
            a, b, [0, 1, 2], kind="classwise"
        ),
        multiclass_brier_score: lambda a, b: _reference_brier(a, b, [0, 1, 2]),
        posterior_kl_divergence: _reference_kl,
    }[metric]
    assert value == pytest.approx(reference(first, probs), abs=1e-12)
    draws = np.random.RandomState(0)
    replicates = []
    for _ in range(200):
        rows = draws.randint(0, 300, size=300)
        replicates.append(reference(first[rows], probs[rows]))
    for level, interval in [(0.95, result[1]), (0.5, narrow[1])]:
        tail = 50 * (1 - level)
        expected = np.percentile(replicates, [tail, 100 - tail])
        np.testing.assert_allclose(interval, expected, rtol=0, atol=1e-12)


def test_bootstrap_interval_covers_known_brier():
    # Brier score of a constant prediction 0.5 in the binary case is exactly
    # 0.5 (2 x 0.25): every bootstrap replicate equals it.
    y = np.array([0, 1] * 20)
    value, (low, high) = multiclass_brier_score(
        y, np.full(40, 0.5), return_ci=True, n_bootstraps=50, random_state=1
    )
    assert value == low == high == pytest.approx(0.5)


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "y_true, y_prob, kwargs, match",
    [
        ([0, 1], [[np.nan, 1.0], [0.5, 0.5]], {}, "NaN or inf"),
        ([0, 1], [[np.inf, 0.0], [0.5, 0.5]], {}, "NaN or inf"),
        ([0, 1], [[-0.1, 1.1], [0.5, 0.5]], {}, "negative"),
        ([0, 1], [[0.3, 0.3], [0.5, 0.5]], {}, "sum to 1; row 0"),
        ([0, 1, 1], [[0.5, 0.5], [0.5, 0.5]], {}, "3 samples but y_prob has 2"),
        ([0, 1], [1.2, 0.5], {}, r"\[0, 1\]"),
        ([0, 1], [np.nan, 0.5], {}, "NaN or inf"),
        ([], [], {}, "empty"),
        ([0, 1], [[0.5, 0.5], [0.5, 0.5]], {"labels": [0, 1, 2]}, "3 entries"),
        ([0, 5], [[0.5, 0.5], [0.5, 0.5]], {"labels": [0, 1]}, r"not in labels: \[5\]"),
        ([0, 0], [[0.5, 0.5], [0.5, 0.5]], {"labels": [0, 0]}, "unique"),
        ([0, 1, 2], np.full((3, 3), 1 / 3), {"kind": "binary"}, "two classes"),
        ([0, 1], [[0.5, 0.5], [0.5, 0.5]], {"sample_weight": [1, 2, 3]}, "3 entries"),
        ([0, 1], [[0.5, 0.5], [0.5, 0.5]], {"sample_weight": [-1, 2]}, ">= 0"),
        ([0, 1], np.full((2, 2, 1), 0.5), {}, "shape"),
    ],
)
def test_bad_input_raises(y_true, y_prob, kwargs, match):
    with pytest.raises(ValueError, match=match):
        expected_calibration_error(y_true, y_prob, **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [{"n_bins": 0}, {"n_bins": "many"}, {"strategy": "kmeans"}, {"norm": "l3"}],
)
def test_bad_parameters_raise(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        expected_calibration_error([0, 1], [0.2, 0.7], **kwargs)


def test_aliases_refuse_their_fixed_argument():
    with pytest.raises(TypeError, match="norm"):
        maximum_calibration_error([0, 1], [0.2, 0.7], norm="l1")
    with pytest.raises(TypeError, match="kind"):
        classwise_calibration_error([0, 1], [0.2, 0.7], kind="top_label")


# --------------------------------------------------------------------------
# Scorers
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def three_class_data():
    X, y = make_classification(
        n_samples=120,
        n_features=5,
        n_informative=3,
        n_classes=3,
        random_state=0,
    )
    return X, y


class _FixedProba(ClassifierMixin, BaseEstimator):
    """Fixed predict_proba rows; predict and decision_function disagree with
    them, so a scorer reading the wrong method gives another number."""

    def __init__(self, proba=None):
        self.proba = proba

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return self.proba[: len(X)]

    def predict(self, X):
        return self.classes_[self.proba[: len(X)].argmin(axis=1)]

    def decision_function(self, X):
        return -self.proba[: len(X)]


@pytest.mark.parametrize(
    "scorer, metric",
    [
        (neg_expected_calibration_error, expected_calibration_error),
        (neg_classwise_calibration_error, classwise_calibration_error),
        (neg_maximum_calibration_error, maximum_calibration_error),
        (neg_multiclass_brier_score, multiclass_brier_score),
    ],
)
def test_scorers_equal_negated_metric(three_class_data, scorer, metric):
    X, y = three_class_data
    clf = LogisticRegression().fit(X, y)
    expected = -metric(y, clf.predict_proba(X))
    assert scorer(clf, X, y) == pytest.approx(expected)
    # greater is better: the score is minus the metric, computed here by brute
    # force, on the classifier's predict_proba (not predict/decision_function)
    reference = _reference_scores(y, clf.predict_proba(X), clf.classes_)
    assert reference[metric.__name__] > 0
    assert scorer(clf, X, y) == pytest.approx(-reference[metric.__name__], abs=1e-12)
    stub = _FixedProba(clf.predict_proba(X)[::-1].copy()).fit(X, y)
    stubbed = _reference_scores(y, stub.predict_proba(X), stub.classes_)
    assert scorer(stub, X, y) == pytest.approx(-stubbed[metric.__name__], abs=1e-12)


def test_scorers_handle_a_test_fold_missing_a_class():
    # classes 0, 1, 2; class 2 only occurs in samples 0-4 and 20-24, so the
    # third unshuffled fold tests on {0, 1} while every fold trains on all.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 60)
    y[0:5] = 2
    y[20:25] = 2
    X = rng.normal(size=(60, 3)) + y[:, None]
    cv = KFold(3)
    scorers = calibration_scorers()
    results = cross_validate(LogisticRegression(), X, y, cv=cv, scoring=scorers)
    for fold, (train, test) in enumerate(cv.split(X)):
        clf = LogisticRegression().fit(X[train], y[train])
        probs = clf.predict_proba(X[test])
        labels = clf.classes_
        np.testing.assert_array_equal(labels, [0, 1, 2])
        # brute force with all three columns, the absent class's included
        expected = {
            f"neg_{name}": value
            for name, value in _reference_scores(y[test], probs, labels).items()
        }
        expected["neg_log_loss"] = log_loss(y[test], probs, labels=labels)
        if BRIER_SCORE_LOSS_MULTICLASS:
            expected["neg_brier_score"] = brier_score_loss(
                y[test], probs, labels=labels
            )
        else:
            # scikit-learn < 1.7 scores binary problems only; the scorer falls
            # back to the unscaled multiclass score that 1.7 adopted
            expected["neg_brier_score"] = expected["neg_multiclass_brier_score"]
        for name, value in expected.items():
            assert results[f"test_{name}"][fold] == pytest.approx(-value), name
        accuracy = np.mean(labels[probs.argmax(axis=1)] == y[test])
        assert results["test_accuracy"][fold] == accuracy
    # fold 3 really lacks class 2: without labels the metric cannot know the
    # third column and refuses rather than misaligning
    train, test = list(cv.split(X))[2]
    assert 2 not in y[test]
    probs = LogisticRegression().fit(X[train], y[train]).predict_proba(X[test])
    with pytest.raises(ValueError, match="pass labels="):
        expected_calibration_error(y[test], probs)


def test_calibration_scorers_binary_string_labels():
    rng = np.random.default_rng(1)
    y = np.where(rng.uniform(size=80) < 0.5, "ham", "spam")
    X = rng.normal(size=(80, 2)) + (y == "spam")[:, None]
    results = cross_validate(
        LogisticRegression(), X, y, cv=KFold(2), scoring=calibration_scorers()
    )
    clf = LogisticRegression().fit(X[40:], y[40:])
    p = clf.predict_proba(X[:40])
    assert results["test_neg_brier_score"][0] == pytest.approx(
        -brier_score_loss(y[:40], p[:, 1], pos_label="spam")
    )
    assert results["test_neg_expected_calibration_error"][0] == pytest.approx(
        -expected_calibration_error(y[:40], p)
    )
    assert results["test_neg_expected_calibration_error"][0] == pytest.approx(
        -_reference_ece(y[:40], p, clf.classes_), abs=1e-12
    )
    assert results["test_neg_multiclass_brier_score"][0] == pytest.approx(
        -_reference_brier(y[:40], p, clf.classes_), abs=1e-12
    )
    assert results["test_accuracy"][0] == pytest.approx(clf.score(X[:40], y[:40]))


def test_calibration_scorers_returns_fresh_copies():
    first, second = calibration_scorers(), calibration_scorers()
    assert set(first) == {
        "neg_log_loss",
        "neg_brier_score",
        "neg_multiclass_brier_score",
        "neg_expected_calibration_error",
        "neg_classwise_calibration_error",
        "neg_maximum_calibration_error",
        "accuracy",
    }
    assert (
        first["neg_expected_calibration_error"]
        is not (second["neg_expected_calibration_error"])
    )
    # Fresh: a request set on one copy does not reach the other.
    with sklearn.config_context(enable_metadata_routing=True):
        first["neg_expected_calibration_error"].set_score_request(sample_weight=True)
        requests = {
            name: scorers["neg_expected_calibration_error"]
            .get_metadata_routing()
            .score.requests.get("sample_weight")
            for name, scorers in [("first", first), ("second", second)]
        }
    assert requests == {"first": True, "second": None}


def test_calibration_scorers_advice_to_refit_on_the_log_loss():
    # The docstring's advice (refit="neg_log_loss", not an ECE), checked: the
    # ECE is not proper. Predicting the class frequencies everywhere is
    # perfectly calibrated in-sample (one bin, accuracy = confidence = the
    # majority frequency) yet useless; the log loss prefers the real model.
    from sklearn.dummy import DummyClassifier

    X, y = make_classification(300, n_informative=3, n_classes=3, random_state=0)
    scorers = calibration_scorers()
    useless = DummyClassifier(strategy="prior").fit(X, y)
    model = LogisticRegression().fit(X, y)
    ece = scorers["neg_expected_calibration_error"]
    nll = scorers["neg_log_loss"]
    assert ece(useless, X, y) == pytest.approx(0.0, abs=1e-12)
    assert ece(model, X, y) < -0.01  # the ECE would select the useless model
    assert nll(model, X, y) > nll(useless, X, y) + 0.1  # the log loss does not
    search = GridSearchCV(
        DummyClassifier(),
        {"strategy": ["prior", "stratified"]},
        scoring=scorers,
        refit="neg_log_loss",
        cv=KFold(3),
    ).fit(X, y)
    means = search.cv_results_["mean_test_neg_log_loss"]
    assert search.best_index_ == int(np.argmax(means))


@pytest.fixture
def metadata_routing():
    sklearn.set_config(enable_metadata_routing=True)
    try:
        yield
    finally:
        sklearn.set_config(enable_metadata_routing=False)


def test_kl_scorer_receives_posteriors_per_fold(metadata_routing):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 2))
    logits = np.column_stack([X[:, 0], X[:, 1], -X[:, 0]])
    P = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = (P.cumsum(axis=1) < rng.uniform(size=(90, 1))).sum(axis=1)
    scorer = copy.deepcopy(neg_posterior_kl_divergence).set_score_request(p_true=True)
    cv = KFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(
        LogisticRegression(), {"C": [0.01, 1.0]}, scoring=scorer, cv=cv
    ).fit(X, y, p_true=P)
    for i, C in enumerate([0.01, 1.0]):
        for fold, (train, test) in enumerate(cv.split(X)):
            clf = LogisticRegression(C=C).fit(X[train], y[train])
            q = clf.predict_proba(X[test])
            expected = np.mean([entropy(e, r) for e, r in zip(P[test], q, strict=True)])
            got = search.cv_results_[f"split{fold}_test_score"][i]
            assert got == pytest.approx(-expected, rel=1e-10)
    # the multi-metric dict carries it too
    scorers = calibration_scorers(posterior_kl=True)
    results = cross_validate(
        LogisticRegression(), X, y, cv=cv, scoring=scorers, params={"p_true": P}
    )
    assert results["test_neg_posterior_kl_divergence"].shape == (3,)
    assert np.all(results["test_neg_posterior_kl_divergence"] < 0)
    for fold, (train, test) in enumerate(cv.split(X)):
        q = LogisticRegression().fit(X[train], y[train]).predict_proba(X[test])
        expected = _reference_kl(P[test], q)
        got = results["test_neg_posterior_kl_divergence"][fold]
        assert got == pytest.approx(-expected, rel=1e-10)


def test_kl_scorer_without_posteriors_says_how_to_route(three_class_data):
    X, y = three_class_data
    clf = LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match="enable_metadata_routing"):
        neg_posterior_kl_divergence(clf, X, y)


@pytest.mark.parametrize("kind", ["top_label", "classwise"])
@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_bootstrap_is_percentile_over_resampled_rows(kind, strategy):
    # the interval is the percentile interval of the metric recomputed on
    # rows drawn with replacement (RandomState(seed).randint per replicate)
    rng = np.random.default_rng(3)
    probs = _softmax_rows(rng, 120, 3)
    y = rng.integers(0, 3, 120)
    kwargs = {"kind": kind, "strategy": strategy, "labels": [0, 1, 2]}
    _, ci = expected_calibration_error(
        y, probs, return_ci=True, n_bootstraps=30, random_state=7, **kwargs
    )
    draws = np.random.RandomState(7)
    replicates = []
    for _ in range(30):
        rows = draws.randint(0, 120, size=120)
        replicates.append(
            _reference_ece(
                y[rows], probs[rows], [0, 1, 2], kind=kind, strategy=strategy
            )
        )
    low, high = np.percentile(replicates, [2.5, 97.5])
    assert ci.low == pytest.approx(low, abs=1e-12)
    assert ci.high == pytest.approx(high, abs=1e-12)


def test_weighted_quantile_edges_are_inverted_cdf_quantiles():
    rng = np.random.default_rng(5)
    p = rng.uniform(size=50)
    y = rng.integers(0, 2, 50)
    w = rng.integers(1, 5, 50)
    result = binned_calibration(
        y, p, n_bins=4, strategy="quantile", kind="binary", sample_weight=w
    )
    expected = np.quantile(np.repeat(p, w), [0.25, 0.5, 0.75], method="inverted_cdf")
    np.testing.assert_allclose(result.bin_edges[0, 1:-1], expected)
    np.testing.assert_allclose(result.bin_edges[0, [0, -1]], [0.0, 1.0])
    # each equal-mass bin holds about a quarter of the weight
    assert np.all(np.abs(result.bin_weight / w.sum() - 0.25) < 0.1)


# --------------------------------------------------------------------------
# Trust at the edges: memory, integer and base rules, sample weights
# --------------------------------------------------------------------------

FOUR_PROBS = np.array([[0.95, 0.05], [0.25, 0.75], [0.32, 0.68], [0.6, 0.4]])
FOUR_Y = np.array([0, 1, 0, 1])


def _peak_memory(func):
    tracemalloc.start()
    try:
        result = func()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
@pytest.mark.parametrize("kind", ["top_label", "classwise"])
@pytest.mark.parametrize("weighted", [False, True])
def test_huge_n_bins_is_cheap_and_exact(strategy, kind, weighted):
    """n_bins=10**8 on 4 samples allocated 7 GB; every sample sits alone in a
    bin, so the ECE is the weighted mean of |outcome - score| (per curve)."""
    w = np.array([1.0, 2.0, 0.5, 3.0]) if weighted else None
    value, peak = _peak_memory(
        lambda: expected_calibration_error(
            FOUR_Y,
            FOUR_PROBS,
            n_bins=10**8,
            strategy=strategy,
            kind=kind,
            sample_weight=w,
        )
    )
    assert peak < 2**20
    if kind == "top_label":
        scores = FOUR_PROBS.max(axis=1)[:, None]
        outcomes = (FOUR_PROBS.argmax(axis=1) == FOUR_Y)[:, None]
    else:
        scores = FOUR_PROBS
        outcomes = FOUR_Y[:, None] == np.arange(2)
    weights = np.ones(4) if w is None else w
    per_curve = np.average(np.abs(outcomes - scores), axis=0, weights=weights)
    assert value == pytest.approx(per_curve.mean(), abs=1e-15)


def _dense_reference_counts(scores, n_bins, strategy):
    """Bin counts from the documented dense edges, written here."""
    levels = np.linspace(0.0, 1.0, n_bins + 1)
    edges = levels if strategy == "uniform" else np.quantile(scores, levels)
    index = np.searchsorted(edges[1:-1], scores, side="right")
    return np.bincount(index, minlength=n_bins)


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
@pytest.mark.parametrize("n_bins", [7, 1000, 123_457])
def test_bins_match_the_dense_definition(strategy, n_bins):
    rng = np.random.default_rng(n_bins)
    p = np.round(rng.uniform(size=200), 3)  # ties and values on edges
    p[:3] = [0.0, 1.0, 0.5]
    y = rng.integers(0, 2, 200)
    result = binned_calibration(y, p, n_bins=n_bins, strategy=strategy, kind="binary")
    np.testing.assert_array_equal(
        result.bin_count[0], _dense_reference_counts(p, n_bins, strategy)
    )


def test_binned_calibration_refuses_huge_dense_requests_cheaply():
    def call():
        with pytest.raises(ValueError, match="n_bins=100000000") as info:
            binned_calibration(FOUR_Y, FOUR_PROBS, n_bins=10**8)
        return info

    info, peak = _peak_memory(call)
    assert info.match("expected_calibration_error has no such limit")
    assert peak < 2**20


@pytest.mark.parametrize("n_bins", [2**53 + 1, 10**30])
def test_n_bins_upper_bound(n_bins):
    with pytest.raises(ValueError, match="n_bins must be at most 2\\*\\*53"):
        expected_calibration_error(FOUR_Y, FOUR_PROBS, n_bins=n_bins)


@pytest.mark.parametrize("n_bins", [True, np.True_, 2.0, "10"])
@pytest.mark.parametrize(
    "metric",
    [expected_calibration_error, binned_calibration, maximum_calibration_error],
)
def test_n_bins_is_an_integer_not_a_bool(n_bins, metric):
    """True was accepted as one bin."""
    with pytest.raises(TypeError, match="n_bins"):
        metric(FOUR_Y, FOUR_PROBS, n_bins=n_bins)


def test_n_bins_accepts_numpy_integers():
    assert expected_calibration_error(
        FOUR_Y, FOUR_PROBS, n_bins=np.int64(5)
    ) == expected_calibration_error(FOUR_Y, FOUR_PROBS, n_bins=5)
    expected = _reference_ece(FOUR_Y, FOUR_PROBS, [0, 1], n_bins=5)
    for n_bins in (np.int64(5), np.int32(5), np.uint8(5)):
        value = expected_calibration_error(FOUR_Y, FOUR_PROBS, n_bins=n_bins)
        assert value == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize("base", [0.5, 1, 1.0, 0, -2.0, np.nan, np.inf])
def test_kl_base_must_exceed_one(base):
    """base=0.5 gave a KL divergence of -0.74."""
    with pytest.raises(ValueError, match="base"):
        posterior_kl_divergence([0.5, 0.5], [0.9, 0.1], base=base)


@pytest.mark.parametrize("base", ["2", True, [2.0]])
def test_kl_base_type_errors(base):
    with pytest.raises(TypeError, match="base"):
        posterior_kl_divergence([0.5, 0.5], [0.9, 0.1], base=base)


def test_kl_base_matches_mpmath_from_just_above_one_to_huge():
    # KL in base b is the nats value over log b, for b from one ulp above 1
    # (log b ~ 2e-16) to 1e300.
    p, q = [0.5, 0.3, 0.2], [0.2, 0.3, 0.5]

    def in_base(bases):
        return [posterior_kl_divergence([p], [q], base=b) for b in bases]

    def reference(b):
        return mp_kl(p, q) / mpmath.log(b)

    assert_mpmath_equal(
        in_base, reference, [Arg(1.0, np.inf, inclusive_a=False)], rtol=1e-14
    )


def test_kl_base_scales_by_log_base():
    p, q = [[0.5, 0.5], [0.2, 0.8]], [[0.9, 0.1], [0.3, 0.7]]
    expected = np.mean([entropy(a, b, base=3) for a, b in zip(p, q, strict=True)])
    assert posterior_kl_divergence(p, q, base=3) == pytest.approx(expected)
    assert posterior_kl_divergence(p, q, base=np.float32(3)) == pytest.approx(expected)


WEIGHTED_METRICS = [
    lambda w: expected_calibration_error(FOUR_Y, FOUR_PROBS, sample_weight=w),
    lambda w: expected_calibration_error(
        FOUR_Y, FOUR_PROBS, sample_weight=w, strategy="quantile"
    ),
    lambda w: binned_calibration(FOUR_Y, FOUR_PROBS, sample_weight=w),
    lambda w: multiclass_brier_score(FOUR_Y, FOUR_PROBS, sample_weight=w),
    lambda w: posterior_kl_divergence(FOUR_PROBS, FOUR_PROBS, sample_weight=w),
]


@pytest.mark.parametrize(
    "w, match",
    [
        ([1.0, -1.0, 1.0, 1.0], "row 1 is -1.0"),
        ([1.0, -1.0, 0.0, 0.0], "row 1 is -1.0"),
        ([0.0, 0.0, 0.0, 0.0], "sums to zero"),
        ([1.0, 1.0, np.nan, 1.0], "row 2 is nan"),
        ([1.0, 1.0, 1.0, -np.inf], "row 3 is -inf"),
        ([1e308, 1e308, 1e308, 1.0], "sums to infinity"),
        ([[1.0, 1.0, 1.0, 1.0]], "1-D"),
    ],
)
@pytest.mark.parametrize("metric", WEIGHTED_METRICS)
def test_bad_sample_weight_is_refused(w, match, metric):
    with pytest.raises(ValueError, match="sample_weight") as info:
        metric(w)
    assert info.match(match)


@pytest.mark.parametrize("w", [[True, True, False, True], ["1", "1", "1", "1"]])
@pytest.mark.parametrize("metric", WEIGHTED_METRICS)
def test_sample_weight_must_be_real_numbers(w, metric):
    with pytest.raises(TypeError, match="sample_weight must hold real numbers"):
        metric(w)


def test_sample_weight_is_not_modified():
    w = np.array([1.0, 2.0, 3.0, 4.0])
    expected_calibration_error(FOUR_Y, FOUR_PROBS, sample_weight=w)
    np.testing.assert_array_equal(w, [1.0, 2.0, 3.0, 4.0])
