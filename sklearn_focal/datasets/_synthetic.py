"""Classification data generators whose true class posterior is known.

Every generator returns ``X, y, posterior``: the features, the labels drawn
from the joint distribution, and the exact class-posterior probabilities
:math:`\\eta(x) = p(y \\mid x)` of every row. With the true posterior at hand,
the quality of a probability estimate can be measured directly, for example
with the Kullback-Leibler divergence :math:`KL(\\eta(x) \\| q(x))`, instead of
through a proxy computed from hard labels such as the expected calibration
error.
"""
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import numpy as np
from scipy.special import log_softmax
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array

from sklearn_focal.utils._compat import Interval, validate_params
from sklearn_focal.utils.validation import check_class_priors, check_integer

__all__ = [
    "focal_synthetic_posterior",
    "make_classification_with_posteriors",
    "make_focal_synthetic",
]

# The 1-D, 3-class problem of make_focal_synthetic: Gaussian class-conditional
# densities N(mean, scale**2) mixed with the class priors.
_FOCAL_SYNTHETIC_MEANS = np.array([-2.0, 0.0, 2.0])
_FOCAL_SYNTHETIC_SCALES = np.array([1.0, 1.0, 1.0])
_FOCAL_SYNTHETIC_PRIORS = np.array([1.0, 1.0, 1.0]) / 3.0


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_classes": [Interval(Integral, 2, None, closed="left")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "weights": ["array-like", None],
        "class_sep": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_classification_with_posteriors(
    n_samples: int = 100,
    n_classes: int = 3,
    *,
    n_features: int = 2,
    weights=None,
    class_sep: float = 1.0,
    random_state=None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Generate a Gaussian classification problem and its exact posteriors.

    Each class ``k`` has the prior ``weights[k]`` and a Gaussian
    class-conditional density :math:`N(\\mu_k, \\Sigma)` whose covariance
    :math:`\\Sigma` is shared by all classes. The labels are drawn from the
    priors, then each row of ``X`` from its class's density. Because the
    covariance is shared, the log-posterior is linear in ``x``:

    .. math::

        \\eta_k(x) = \\operatorname{softmax}_k\\left(
        x^\\top \\Sigma^{-1} \\mu_k - \\tfrac12 \\mu_k^\\top \\Sigma^{-1} \\mu_k
        + \\log \\pi_k \\right),

    so the returned posterior is exact, not estimated.

    Parameters
    ----------
    n_samples : int, default=100
        Number of samples.

    n_classes : int, default=3
        Number of classes, at least 2.

    n_features : int, default=2
        Number of features.

    weights : array-like of shape (n_classes,) or (n_classes - 1,), default=None
        Class priors. They must be positive. With ``n_classes`` values they
        must sum to 1; with ``n_classes - 1`` values the last class gets
        ``1 - sum(weights)``. ``None`` gives balanced classes. Imbalanced
        priors shift the posterior towards the frequent classes.

    class_sep : float, default=1.0
        Scale of the class means: each mean is drawn from
        :math:`N(0, \\text{class\\_sep}^2 I)`. Larger values make the classes
        easier to tell apart and the posteriors more confident.

    random_state : int, RandomState instance or None, default=None
        Seed of the means, covariance, labels and features. Pass an int for
        reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The features.

    y : ndarray of shape (n_samples,)
        The integer labels in ``range(n_classes)``.

    posterior : ndarray of shape (n_samples, n_classes)
        The true class-posterior probabilities :math:`p(y=k \\mid x)` of each
        row; rows sum to 1.

    See Also
    --------
    make_focal_synthetic : The 1-D, 3-class problem of Charoenphakdee et al.
    sklearn.datasets.make_classification : Random classification problem
        without known posteriors.

    Examples
    --------
    >>> from sklearn_focal.datasets import make_classification_with_posteriors
    >>> X, y, posterior = make_classification_with_posteriors(
    ...     500, 4, n_features=3, weights=[0.1, 0.2, 0.3, 0.4], random_state=0
    ... )
    >>> X.shape, y.shape, posterior.shape
    ((500, 3), (500,), (500, 4))
    >>> bool(abs(posterior.sum(axis=1) - 1).max() < 1e-12)
    True
    """
    # validate_params lets a bool through as 1 (bool is an Integral)
    n_samples = check_integer(n_samples, "n_samples", minimum=1)
    n_classes = check_integer(n_classes, "n_classes", minimum=2)
    n_features = check_integer(n_features, "n_features", minimum=1)
    priors = check_class_priors(weights, n_classes)
    rng = check_random_state(random_state)

    means = class_sep * rng.standard_normal((n_classes, n_features))
    # Shared covariance L @ L.T with a random orientation and axis scales in
    # [0.5, 1.5]: correlated features, yet well conditioned.
    rotation, _ = np.linalg.qr(rng.standard_normal((n_features, n_features)))
    chol = rotation * rng.uniform(0.5, 1.5, size=n_features)
    covariance = chol @ chol.T

    y = rng.choice(n_classes, size=n_samples, p=priors)
    X = means[y] + rng.standard_normal((n_samples, n_features)) @ chol.T

    # Linear log-posterior: precision-weighted means and offsets.
    coef = np.linalg.solve(covariance, means.T)  # (n_features, n_classes)
    intercept = -0.5 * np.einsum("kd,dk->k", means, coef) + np.log(priors)
    posterior = np.exp(log_softmax(X @ coef + intercept, axis=1))
    return X, y, posterior


def focal_synthetic_posterior(X) -> np.ndarray:
    """True class posterior of the :func:`make_focal_synthetic` problem.

    Use it to draw the exact posterior curves on a grid, or to score a model
    on points that were not drawn by :func:`make_focal_synthetic`.

    Parameters
    ----------
    X : array-like of shape (n_samples, 1) or (n_samples,)
        Points on the real line.

    Returns
    -------
    posterior : ndarray of shape (n_samples, 3)
        :math:`p(y=k \\mid x)` for the three classes; rows sum to 1.

    See Also
    --------
    make_focal_synthetic : Draw a sample from the same problem.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_focal.datasets import focal_synthetic_posterior
    >>> focal_synthetic_posterior(np.array([[0.0]])).round(3)
    array([[0.107, 0.787, 0.107]])
    """
    X = check_array(X, ensure_2d=False, dtype=np.float64, input_name="X")
    if X.ndim == 2:
        if X.shape[1] != 1:
            raise ValueError(f"X must have a single feature, got shape {X.shape}.")
        X = X[:, 0]
    elif X.ndim != 1:
        raise ValueError(f"X must be 1-D or (n_samples, 1), got shape {X.shape}.")
    z = (X[:, None] - _FOCAL_SYNTHETIC_MEANS) / _FOCAL_SYNTHETIC_SCALES
    log_joint = (
        -0.5 * z**2 - np.log(_FOCAL_SYNTHETIC_SCALES) + np.log(_FOCAL_SYNTHETIC_PRIORS)
    )
    return np.exp(log_softmax(log_joint, axis=1))


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_focal_synthetic(
    n_samples: int = 1000, *, random_state=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Generate the 1-D, 3-class problem of the focal-loss posterior paper.

    This is the synthetic problem used by Charoenphakdee et al. (Sec. 5.2,
    Fig. 3) to show that a network trained with the focal loss is
    under-confident and that :math:`\\Psi^\\gamma` recovers the true posterior.
    The three classes are equally likely and their class-conditional
    densities are the Gaussians :math:`N(-2, 1)`, :math:`N(0, 1)` and
    :math:`N(2, 1)`. The middle class is the most likely near 0, the outer
    classes in the tails; the largest posterior ranges from about 0.5 at the
    class boundaries :math:`x = \\pm 1` to almost 1 far out.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of samples.

    random_state : int, RandomState instance or None, default=None
        Seed of the labels and features. Pass an int for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, 1)
        The feature.

    y : ndarray of shape (n_samples,)
        The labels in ``{0, 1, 2}``.

    posterior : ndarray of shape (n_samples, 3)
        The true class-posterior probabilities of each row; rows sum to 1.

    See Also
    --------
    focal_synthetic_posterior : The posterior of this problem at any point.
    make_classification_with_posteriors : Gaussian problems of any size.

    Notes
    -----
    The paper gives the distribution only as a plot (its Fig. 3a), which the
    text copy this package was built from does not contain. The densities
    above reproduce its shape (one feature, three overlapping classes, each
    class the most likely on one interval, both confident and uncertain
    regions) rather than its exact numbers.

    References
    ----------
    .. [1] N. Charoenphakdee, J. Vongkulbhisal, N. Chairatanakul and
       M. Sugiyama, "On Focal Loss for Class-Posterior Probability Estimation:
       A Theoretical Perspective", CVPR 2021.

    Examples
    --------
    >>> from sklearn_focal.datasets import make_focal_synthetic
    >>> X, y, posterior = make_focal_synthetic(1000, random_state=0)
    >>> X.shape, y.shape, posterior.shape
    ((1000, 1), (1000,), (1000, 3))
    >>> sorted(set(y.tolist()))
    [0, 1, 2]
    """
    n_samples = check_integer(n_samples, "n_samples", minimum=1)
    rng = check_random_state(random_state)
    y = rng.choice(3, size=n_samples, p=_FOCAL_SYNTHETIC_PRIORS)
    x = _FOCAL_SYNTHETIC_MEANS[y] + _FOCAL_SYNTHETIC_SCALES[y] * rng.standard_normal(
        n_samples
    )
    X = x[:, None]
    return X, y, focal_synthetic_posterior(X)
