"""The one place where sklearn_focal touches scikit-learn's private names.

Every other module imports the helpers below from here, never from a private
scikit-learn module, so that a rename in a future scikit-learn release is
fixed in this file alone. The supported range is ``scikit-learn>=1.6,<2``
(``pyproject.toml``); CI runs the test suite against the oldest (1.6.x) and
the newest release.

What is private, and why it is still used:

- ``_fit_context`` (``sklearn.base``): the decorator that runs the declarative
  parameter validation in ``fit``. Every contrib estimator needs it; there is
  no public spelling.
- ``Interval``, ``StrOptions``, ``HasMethods``, ``validate_params`` and
  ``validate_parameter_constraints`` (``sklearn.utils._param_validation``):
  the vocabulary of ``_parameter_constraints``.
- ``_safe_indexing`` (``sklearn.utils``): listed in the public API reference
  under this name; re-exported here as :func:`safe_indexing`.
- ``_check_feature_names_in`` and ``_check_method_params``
  (``sklearn.utils.validation``): ``get_feature_names_out`` of a fitted
  transformer and the per-fold slicing of fit parameters in a
  cross-validation loop.

``routing_enabled`` is written from public pieces (``sklearn.get_config``).

The ``sklearn-compat`` package offers ``_fit_context`` and ``validate_params``
but not the constraint classes, and it caps scikit-learn one minor release
ahead (``<1.10`` in 0.1.6), tighter than this package's ``<2``; every name
used here lives at the same place from 1.6 to 1.9, so the shim stays ours.
"""
# SPDX-License-Identifier: BSD-3-Clause

from inspect import signature

import sklearn

# Private scikit-learn names (the ones with an underscore, and all of
# sklearn.utils._param_validation), imported here and nowhere else.
from sklearn.base import _fit_context as fit_context
from sklearn.metrics import brier_score_loss
from sklearn.utils import _safe_indexing as safe_indexing
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_parameter_constraints,
    validate_params,
)
from sklearn.utils.validation import _check_feature_names_in as check_feature_names_in
from sklearn.utils.validation import _check_method_params as check_method_params

__all__ = [
    "BRIER_SCORE_LOSS_MULTICLASS",
    "HasMethods",
    "Interval",
    "SKLEARN_VERSION",
    "StrOptions",
    "check_feature_names_in",
    "check_method_params",
    "fit_context",
    "routing_enabled",
    "safe_indexing",
    "validate_parameter_constraints",
    "validate_params",
]


def _parse_version(version: str) -> tuple[int, ...]:
    """The leading integers of a version string: ``"1.6.1" -> (1, 6, 1)``.

    Examples
    --------
    >>> from sklearn_focal.utils._compat import _parse_version
    >>> _parse_version("1.10.0rc1")
    (1, 10, 0)
    >>> _parse_version("1.6.1") < _parse_version("1.10")
    True
    """
    parts = []
    for piece in version.split(".")[:3]:
        digits = ""
        for char in piece:
            if not char.isdigit():
                break
            digits += char
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


#: The installed scikit-learn as a tuple of ints, such as ``(1, 9, 1)``.
SKLEARN_VERSION = _parse_version(sklearn.__version__)

#: Whether :func:`sklearn.metrics.brier_score_loss` scores multiclass
#: probabilities (``labels=`` and 2-D ``y_proba``, scikit-learn >= 1.7).
BRIER_SCORE_LOSS_MULTICLASS = "labels" in signature(brier_score_loss).parameters


def routing_enabled() -> bool:
    """Whether metadata routing is enabled (``sklearn.set_config``).

    The public spelling of scikit-learn's private ``_routing_enabled``.

    Returns
    -------
    enabled : bool
        The ``enable_metadata_routing`` setting of the current configuration.

    Examples
    --------
    >>> import sklearn
    >>> from sklearn_focal.utils._compat import routing_enabled
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     routing_enabled()
    True
    >>> routing_enabled()
    False
    """
    return bool(sklearn.get_config().get("enable_metadata_routing", False))
