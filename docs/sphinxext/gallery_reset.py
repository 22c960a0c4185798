"""Reset hook run by sphinx-gallery before every example.

Referenced by name in ``conf.py`` (``reset_modules``) so that the Sphinx
configuration stays picklable.
"""
# SPDX-License-Identifier: BSD-3-Clause

import os


def reset_state(gallery_conf, fname):
    """Give every example the same fresh numpy and torch global state."""
    import numpy as np

    np.random.seed(0)  # noqa: NPY002 - the legacy global state, for safety
    try:
        import torch
    except ImportError:
        return
    torch.manual_seed(0)
    # The examples train small MLPs, for which one thread is the fastest.
    torch.set_num_threads(int(os.environ.get("SKLEARN_FOCAL_DOCS_TORCH_THREADS", "1")))
