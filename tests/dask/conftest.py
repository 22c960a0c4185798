"""Fixtures of the dask tests."""

import os

import pytest


@pytest.fixture(autouse=True)
def _restore_environment():
    """Undo what a LocalCluster's nannies write into this process's environment.

    The nannies run in the test process and apply
    ``distributed.nanny.pre-spawn-environ`` (``OMP_NUM_THREADS``,
    ``NUMBA_NUM_THREADS``, ...) to ``os.environ`` before spawning workers, and
    leave it there. numba rereads ``NUMBA_NUM_THREADS`` at every compilation
    and refuses a value other than the one its threads were launched with, so
    a later test in the same pytest worker failed to compile its kernels.
    """
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
