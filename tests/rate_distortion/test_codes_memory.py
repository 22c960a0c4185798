"""Memory of the optimized codes does not grow as k**2 (issue #17).

Peak memory is read with tracemalloc (numpy reports its buffers to it); no
test times anything.
"""

import tracemalloc

import numpy as np
import pytest

from sklearn_focal import FocalRateDistortion
from sklearn_focal import rate_distortion as rd
from sklearn_focal.rate_distortion._codes import _PartitionSearch


def _peak_bytes(function, *args, **kwargs):
    # Load the compiled kernels first: tracemalloc would trace (and slow down)
    # numba's loading of them.
    rd.optimized_code([0.5, 0.3, 0.2], 2, 1.0)
    tracemalloc.start()
    try:
        out = function(*args, **kwargs)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return out, peak


def _direct_distortion_bits(p, code, gamma):
    """E[(1 - q)^gamma log2(1/q)] with q the codebook entry of each symbol."""
    q = code.codebook[code.encoder, np.arange(p.size)]
    return float(np.sum(p * (1 - q) ** gamma * -np.log2(q)))


@pytest.mark.slow  # tracemalloc slows the compressor's heap loop (about 5 s)
def test_greedy_code_of_a_large_source_completes_in_bounded_memory():
    # 1e5 symbols: a k x k identity alone would be 10 GB.
    p = np.random.default_rng(0).dirichlet(np.ones(100_000))
    code, peak = _peak_bytes(rd.optimized_code, p, 4, 2.0, max_iter=0)
    assert peak < 128 * 2**20
    assert code.method == "greedy" and code.n_iter == 0
    assert code.codebook.shape == (4, p.size)
    assert code.distortion == pytest.approx(
        _direct_distortion_bits(p, code, 2.0), rel=1e-9
    )
    assert code.distortion <= rd.achievability_bounds(p, 4, 2.0)["eq28"] * (1 + 1e-12)


def test_greedy_estimator_of_a_large_source():
    p = np.random.default_rng(1).dirichlet(np.ones(100_000))
    model = FocalRateDistortion.from_pmf(p, gamma=1.0, n_codewords=3, method="greedy")
    assert model.n_messages_ == 3 and not model.is_optimal_
    assert model.converse_bound_ <= model.distortion_


def test_local_search_memory_is_not_quadratic_in_the_support():
    # k = 700: each k x k float64 array is 3.9 MB, and the search built
    # several (identity, diagonal of p, cells without each symbol): 49 MB
    # peak before; now the 2 MB cost blocks and what min_focal_entropy
    # needs for them (about 24 MB).
    p = np.random.default_rng(2).dirichlet(np.ones(700))
    code, peak = _peak_bytes(
        rd.optimized_code, p, 3, 1.0, max_iter=1, swaps=False, n_restarts=0
    )
    assert peak < 32 * 2**20
    assert code.n_iter == 1
    assert code.distortion <= rd.achievability_bounds(p, 3, 1.0)["eq28"]


@pytest.mark.parametrize("k, n_cells, step", [(9, 3, 4), (30, 4, 7), (17, 2, 1000)])
def test_swap_blocks_are_the_upper_triangle_in_order(k, n_cells, step):
    # The swaps are generated a few rows at a time; their order and blocks
    # must be those of the full upper triangle, so that ties resolve alike.
    rng = np.random.default_rng(k)
    ps = rng.dirichlet(np.ones(k))
    labels = rng.integers(0, n_cells, size=k)
    search = _PartitionSearch(ps, labels, n_cells, 1.0)
    xs, ys = np.nonzero(np.triu(labels[:, None] != labels[None, :], 1))
    blocks = list(search._swap_blocks(step))
    assert all(bx.size == step for bx, _ in blocks[:-1])
    np.testing.assert_array_equal(np.concatenate([bx for bx, _ in blocks]), xs)
    np.testing.assert_array_equal(np.concatenate([by for _, by in blocks]), ys)
