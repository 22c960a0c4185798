"""Calls from two Python threads are safe on numba's workqueue threading layer.

workqueue is not thread safe: two threads inside parallel regions at once
abort the process. The kernels' one dispatch rule (``utils._parallel.dispatch``)
runs small inputs on serial twins and serializes the parallel kernels unless
the layer is known to be thread safe. The check runs in a subprocess, since
the layer is fixed per process and an abort would kill the test runner.
"""

import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import threading

    import numpy as np
    import torch

    from sklearn_focal import theory
    from sklearn_focal.losses import BinaryFocalLoss, FocalLoss

    rng = np.random.default_rng(0)


    def rows(n, k):
        return rng.dirichlet(np.ones(k), size=n)


    def loss_grad(module, logits, target):
        x = logits.clone().requires_grad_(True)
        module(x, target).backward()
        return x.grad.numpy()


    # Small inputs (serial twins) and large ones (parallel kernels).
    small, large = rows(50, 3), rows(40_000, 2)
    logits_small = torch.from_numpy(rng.standard_normal((50, 4)))
    logits_large = torch.from_numpy(rng.standard_normal((20_000, 4)))
    labels_small = torch.from_numpy(rng.integers(0, 4, 50))
    labels_large = torch.from_numpy(rng.integers(0, 4, 20_000))
    binary_large = torch.from_numpy(rng.standard_normal(70_000))
    binary_target = torch.from_numpy(rng.integers(0, 2, 70_000).astype(float))
    tasks = [
        lambda: theory.psi(small, 2.0),
        lambda: theory.psi(large, 2.0),
        lambda: theory.focal_minimizer(small, 2.0),
        lambda: theory.focal_minimizer(large, 2.0),
        lambda: loss_grad(FocalLoss(gamma=2.0), logits_small, labels_small),
        lambda: loss_grad(FocalLoss(gamma=2.0), logits_large, labels_large),
        lambda: loss_grad(BinaryFocalLoss(gamma=2.0), binary_large, binary_target),
    ]
    expected = [task() for task in tasks]  # single-threaded
    errors = []


    def hammer(offset):
        try:
            for repeat in range(6):
                for i in range(len(tasks)):
                    j = (i + offset + repeat) % len(tasks)
                    if not np.array_equal(tasks[j](), expected[j]):
                        errors.append(f"task {j} differs")
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))


    threads = [threading.Thread(target=hammer, args=(s,)) for s in (0, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    import numba

    print("layer", numba.threading_layer())
    """
)


@pytest.mark.parametrize("layer", ["workqueue"])
def test_two_threads_on_the_workqueue_layer(layer):
    pytest.importorskip("torch")
    env = dict(os.environ, NUMBA_THREADING_LAYER=layer, NUMBA_NUM_THREADS="2")
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"layer {layer}" in result.stdout


def test_small_inputs_never_enter_a_parallel_region(monkeypatch):
    from sklearn_focal.utils import _parallel

    def parallel(*args):
        raise AssertionError("a parallel kernel ran on a small input")

    def serial(*args):
        return ("serial", args)

    size = _parallel.PARALLEL_MIN_SIZE - 1
    assert _parallel.dispatch(parallel, serial, 1, 2, size=size) == ("serial", (1, 2))
    # Above the threshold, the parallel kernel; under the lock while the
    # threading layer is not known to be thread safe.
    monkeypatch.setattr(_parallel, "_layer_is_thread_safe", False)
    seen = []

    def locked(*args):
        seen.append(_parallel._PARALLEL_LOCK.locked())
        return "parallel"

    assert _parallel.dispatch(locked, serial, size=size + 1) == "parallel"
    assert seen == [True]


def test_both_consumers_share_the_one_dispatch_rule():
    from sklearn_focal.losses import _kernels as _loss_kernels
    from sklearn_focal.theory import _kernels as _theory_kernels
    from sklearn_focal.utils import _parallel

    assert _theory_kernels.dispatch is _parallel.dispatch
    assert _loss_kernels.dispatch is _parallel.dispatch
    # The threading-layer cache and the lock live in one module only.
    assert not hasattr(_theory_kernels, "_PARALLEL_LOCK")
    assert not hasattr(_loss_kernels, "_PARALLEL_LOCK")
