"""min_focal_entropy works in row blocks: memory beyond its input stays small.

Peak memory is read with tracemalloc; no test times anything (issue #17).
"""

import tracemalloc

import numpy as np
import pytest

from sklearn_focal.theory import focal_entropy, focal_minimizer, min_focal_entropy


@pytest.mark.parametrize("gamma", [0.0, 2.0])
def test_min_focal_entropy_peak_memory_is_below_twice_the_input(gamma):
    p = np.random.default_rng(0).dirichlet(np.full(10, 0.5), size=150_000)
    min_focal_entropy(p, gamma)  # compiled kernels and thread pool loaded
    tracemalloc.start()
    try:
        values = min_focal_entropy(p, gamma)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= 2 * p.nbytes  # 8.8x before
    # Across its blocks it is still the focal-entropy at the minimizer.
    rows = np.r_[0:5, 26_000:26_300, 149_990:150_000]
    expected = focal_entropy(p[rows], focal_minimizer(p[rows], gamma), gamma)
    np.testing.assert_allclose(values[rows], expected, rtol=1e-12)


@pytest.mark.parametrize("n_rows", [1, 1999, 2000, 2001, 54_428, 54_430])
def test_min_focal_entropy_rows_do_not_depend_on_the_blocks(n_rows):
    # Row counts around the block edges (26_214 rows of 10 entries, blocks of
    # at least 2000 rows): every row, on either side of an edge, is the
    # focal-entropy of p at its minimizer.
    rng = np.random.default_rng(n_rows)
    p = rng.dirichlet(np.full(10, 0.3), size=n_rows)
    values = min_focal_entropy(p, 2.0)
    expected = focal_entropy(p, focal_minimizer(p, 2.0), 2.0)
    np.testing.assert_allclose(values, expected, rtol=1e-12)
    assert values.shape == (n_rows,)
