"""Tests for the generators with known posteriors."""

import numpy as np
import pytest
from scipy import stats

from sklearn_focal.datasets import (
    focal_synthetic_posterior,
    make_classification_with_posteriors,
    make_focal_synthetic,
)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    "n_classes, n_features, weights",
    [(2, 1, None), (3, 2, [0.2, 0.3, 0.5]), (5, 4, [0.05, 0.1, 0.15, 0.3])],
)
def test_make_classification_with_posteriors_shapes(
    seed, n_classes, n_features, weights
):
    X, y, posterior = make_classification_with_posteriors(
        300, n_classes, n_features=n_features, weights=weights, random_state=seed
    )
    assert X.shape == (300, n_features)
    assert y.shape == (300,)
    assert posterior.shape == (300, n_classes)
    assert set(np.unique(y)) <= set(range(n_classes))
    assert np.all(posterior >= 0)
    np.testing.assert_allclose(posterior.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_make_classification_with_posteriors_is_reproducible():
    a = make_classification_with_posteriors(50, 3, random_state=7)
    b = make_classification_with_posteriors(50, 3, random_state=7)
    c = make_classification_with_posteriors(50, 3, random_state=8)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("seed", [0, 3])
def test_make_classification_posterior_matches_scipy_gaussians(seed):
    # Replay the generator's draws of the means and the shared covariance,
    # then compute the posterior independently: Bayes' rule with
    # scipy.stats.multivariate_normal densities (not the linear log-odds
    # shortcut the generator uses).
    n_classes, n_features, class_sep = 4, 3, 1.5
    weights = np.array([0.1, 0.2, 0.3, 0.4])
    X, y, posterior = make_classification_with_posteriors(
        2000,
        n_classes,
        n_features=n_features,
        weights=weights,
        class_sep=class_sep,
        random_state=seed,
    )
    rng = np.random.RandomState(seed)
    means = class_sep * rng.standard_normal((n_classes, n_features))
    rotation, _ = np.linalg.qr(rng.standard_normal((n_features, n_features)))
    chol = rotation * rng.uniform(0.5, 1.5, size=n_features)
    covariance = chol @ chol.T
    joint = np.column_stack(
        [
            weights[k] * stats.multivariate_normal(means[k], covariance).pdf(X)
            for k in range(n_classes)
        ]
    )
    expected = joint / joint.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(posterior, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "weights", [None, [0.7, 0.2, 0.1], [0.05, 0.15]], ids=["balanced", "K", "K-1"]
)
def test_make_classification_labels_follow_posterior(weights):
    # The labels are drawn from the joint distribution, so E[1{y=k} | x] is
    # the posterior: binned by predicted posterior, the label frequencies
    # match the mean posterior (a calibration check with the truth), and the
    # class frequencies match the priors.
    n = 60_000
    X, y, posterior = make_classification_with_posteriors(
        n, 3, n_features=2, weights=weights, random_state=0
    )
    onehot = np.eye(3)[y]
    # Priors: E[eta(X)] = pi and the label frequencies are pi.
    priors = (
        np.full(3, 1 / 3)
        if weights is None
        else np.append(weights, 1 - np.sum(weights))[:3]
    )
    se = np.sqrt(priors * (1 - priors) / n)
    np.testing.assert_array_less(np.abs(onehot.mean(axis=0) - priors), 5 * se)
    np.testing.assert_array_less(np.abs(posterior.mean(axis=0) - priors), 5 * se)
    for k in range(3):
        bins = np.quantile(posterior[:, k], np.linspace(0, 1, 11))
        idx = np.clip(np.searchsorted(bins, posterior[:, k], side="right") - 1, 0, 9)
        for b in range(10):
            mask = idx == b
            freq = onehot[mask, k].mean()
            mean_eta = posterior[mask, k].mean()
            se = np.sqrt(max(mean_eta * (1 - mean_eta), 1e-4) / mask.sum())
            assert abs(freq - mean_eta) < 5 * se + 1e-3, (k, b, freq, mean_eta)


def test_make_classification_imbalanced_priors_shift_posterior():
    _, y, posterior = make_classification_with_posteriors(
        20_000, 3, weights=[0.8, 0.15, 0.05], random_state=0
    )
    assert np.bincount(y, minlength=3).argmax() == 0
    assert posterior.mean(axis=0).argmax() == 0


def test_make_classification_class_sep_sharpens_posteriors():
    _, _, p_close = make_classification_with_posteriors(
        2000, 3, class_sep=0.3, random_state=0
    )
    _, _, p_far = make_classification_with_posteriors(
        2000, 3, class_sep=5.0, random_state=0
    )
    assert p_far.max(axis=1).mean() > p_close.max(axis=1).mean() + 0.2


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_samples": 0}, "n_samples"),
        ({"n_classes": 1}, "n_classes"),
        ({"n_features": 0}, "n_features"),
        ({"class_sep": 0.0}, "class_sep"),
        ({"class_sep": -1.0}, "class_sep"),
        ({"weights": [0.5, 0.5, 0.5]}, "sum to 1"),
        ({"weights": [0.5, 0.6]}, "sum to less than 1"),
        ({"weights": [0.5, -0.1, 0.6]}, "positive"),
        ({"weights": [0.5, 0.0, 0.5]}, "positive"),
        ({"weights": [1.0]}, "length"),
        ({"weights": [[0.5, 0.5, 0.0]]}, "1-D"),
        ({"weights": [0.5, np.nan, 0.5]}, "NaN"),
        ({"random_state": "seed"}, "random_state"),
    ],
)
def test_make_classification_with_posteriors_bad_input(kwargs, match):
    params = {"n_samples": 10, "n_classes": 3} | kwargs
    with pytest.raises(ValueError, match=match):
        make_classification_with_posteriors(**params)


def test_make_focal_synthetic_shapes_and_reproducibility():
    X, y, posterior = make_focal_synthetic(500, random_state=0)
    assert X.shape == (500, 1)
    assert y.shape == (500,)
    assert posterior.shape == (500, 3)
    np.testing.assert_allclose(posterior.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    X2, y2, p2 = make_focal_synthetic(500, random_state=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    np.testing.assert_array_equal(posterior, p2)


def test_focal_synthetic_posterior_matches_scipy():
    # Bayes' rule with scipy.stats.norm densities and equal priors.
    x = np.linspace(-8, 8, 401)
    joint = np.column_stack([stats.norm(m, 1.0).pdf(x) for m in (-2.0, 0.0, 2.0)])
    expected = joint / joint.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(focal_synthetic_posterior(x), expected, rtol=1e-12)
    np.testing.assert_allclose(
        focal_synthetic_posterior(x[:, None]), expected, rtol=1e-12
    )


def test_focal_synthetic_posterior_far_tails_are_finite():
    # Log-space: no 0/0 where every density underflows.
    posterior = focal_synthetic_posterior(np.array([-60.0, 60.0]))
    assert np.all(np.isfinite(posterior))
    np.testing.assert_allclose(posterior[0], [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(posterior[1], [0, 0, 1], atol=1e-12)


def test_make_focal_synthetic_labels_follow_posterior():
    # Empirical frequencies of y in bins of x match the true posterior.
    n = 90_000
    X, y, posterior = make_focal_synthetic(n, random_state=1)
    np.testing.assert_allclose(np.bincount(y) / n, [1 / 3] * 3, atol=0.01)
    edges = np.linspace(-4, 4, 17)
    idx = np.digitize(X[:, 0], edges)
    for b in range(1, len(edges)):
        mask = idx == b
        freq = np.bincount(y[mask], minlength=3) / mask.sum()
        mean_eta = posterior[mask].mean(axis=0)
        se = np.sqrt(np.maximum(mean_eta * (1 - mean_eta), 1e-4) / mask.sum())
        np.testing.assert_array_less(np.abs(freq - mean_eta), 5 * se + 1e-3)


def test_make_focal_synthetic_posterior_shape_of_the_problem():
    # Each class is the most likely somewhere; both confident and uncertain
    # regions exist.
    _, _, posterior = make_focal_synthetic(5000, random_state=0)
    assert set(posterior.argmax(axis=1).tolist()) == {0, 1, 2}
    top = posterior.max(axis=1)
    assert top.min() < 0.55
    assert top.max() > 0.99


@pytest.mark.parametrize(
    "kwargs, match",
    [({"n_samples": 0}, "n_samples"), ({"n_samples": 1.5}, "n_samples")],
)
def test_make_focal_synthetic_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_focal_synthetic(**kwargs)


def test_focal_synthetic_posterior_bad_input():
    with pytest.raises(ValueError, match="single feature"):
        focal_synthetic_posterior(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="NaN"):
        focal_synthetic_posterior(np.array([0.0, np.nan]))


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"n_samples": True}, "n_samples"),
        ({"n_samples": np.True_}, "n_samples"),
        ({"n_samples": 10.0}, "n_samples"),
        ({"n_features": True}, "n_features"),
        ({"n_classes": np.True_}, "n_classes"),
    ],
)
def test_make_classification_with_posteriors_counts_are_ints_not_bools(kwargs, name):
    """n_samples=True drew one sample; bool is never a number."""
    with pytest.raises(TypeError, match=name):
        make_classification_with_posteriors(random_state=0, **kwargs)


@pytest.mark.parametrize("n_samples", [True, np.True_, 5.0])
def test_make_focal_synthetic_n_samples_is_an_int(n_samples):
    with pytest.raises(TypeError, match="n_samples"):
        make_focal_synthetic(n_samples, random_state=0)


def test_generators_accept_numpy_ints():
    X, y, posterior = make_classification_with_posteriors(
        np.int64(7), np.int32(3), n_features=np.uint8(2), random_state=0
    )
    assert X.shape == (7, 2) and posterior.shape == (7, 3)
    X, y, posterior = make_focal_synthetic(np.int64(5), random_state=0)
    assert X.shape == (5, 1)
