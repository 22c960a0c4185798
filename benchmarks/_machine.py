"""What every benchmark prints about the machine, and equal thread counts.

``describe()`` names the CPU model, its widest SIMD level (from
/proc/cpuinfo's flags) and the core count; ``threads(n)`` limits numpy's
BLAS/OpenMP pools, numba and torch (when installed) to ``n`` threads, so that
a contender and its baseline run on as many threads each.
"""
# SPDX-License-Identifier: BSD-3-Clause

import contextlib
import importlib.util
import os
import platform
import sys


def _cpuinfo():
    try:
        with open("/proc/cpuinfo") as handle:
            return handle.read()
    except OSError:
        return ""


def simd_level():
    """The widest x86 vector extension the CPU reports (or the machine name)."""
    text = _cpuinfo()
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    for name, flag in (
        ("AVX-512 (avx512f)", "avx512f"),
        ("AVX2", "avx2"),
        ("AVX", "avx"),
        ("SSE4.2", "sse4_2"),
    ):
        if flag in flags:
            return name
    return platform.machine()


def cpu_model():
    for line in _cpuinfo().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def describe():
    """One line: CPU model, SIMD level, cores, numpy and Python versions."""
    import numpy as np

    features = os.environ.get("NPY_DISABLE_CPU_FEATURES")
    emulated = f", NPY_DISABLE_CPU_FEATURES={features}" if features else ""
    return (
        f"CPU {cpu_model()}, {simd_level()}, {os.cpu_count()} cores{emulated}; "
        f"numpy {np.__version__}, Python {sys.version.split()[0]}"
    )


@contextlib.contextmanager
def threads(n):
    """Run the block with ``n`` threads in BLAS/OpenMP, numba and torch."""
    # numba is imported here, not only when already loaded: the package loads
    # it lazily at the first kernel call, inside the timed block, and its
    # threads would then run unlimited.
    import numba
    from threadpoolctl import threadpool_limits

    saved = [(numba.set_num_threads, numba.get_num_threads())]
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    if "torch" in sys.modules or importlib.util.find_spec("torch") is not None:
        import torch

        saved.append((torch.set_num_threads, torch.get_num_threads()))
        torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        for setter, value in saved:
            setter(value)
