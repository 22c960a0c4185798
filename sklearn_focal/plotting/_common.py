"""Helpers shared by the Displays: matplotlib, axes, the focal-estimator constructor."""
# SPDX-License-Identifier: BSD-3-Clause

import weakref

# histogram twin axis of each main axis, so that overlays share it
_HIST_AXES = weakref.WeakKeyDictionary()


def _check_matplotlib(caller_name):
    """Import pyplot, or raise an ImportError that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller_name} requires matplotlib. Install it with "
            '`pip install "sklearn-focal[plot]"` or `pip install matplotlib`.'
        ) from exc
    return plt


def _get_ax(ax):
    plt = _check_matplotlib("sklearn_focal.plotting")
    if ax is None:
        _, ax = plt.subplots()
    return ax
