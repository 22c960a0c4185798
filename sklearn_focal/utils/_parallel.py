"""The one rule for running a compiled kernel serially or in parallel.

Every compiled kernel of the package comes as a twin pair: a ``parallel=True``
dispatcher and a serial one with the same body. :func:`dispatch` picks one by
input size and makes parallel calls safe from several Python threads. The
theory kernels (:mod:`sklearn_focal.theory._kernels`) and the loss kernels
(:mod:`sklearn_focal.losses._kernels`) both call it. Importing this module
imports neither numba nor numpy.
"""
# SPDX-License-Identifier: BSD-3-Clause

import threading

__all__ = ["PARALLEL_MIN_SIZE", "dispatch"]

# Inputs smaller than this run the serial twin: waking the pool costs more.
# The twins use numpy's error model, as parallel kernels do (1/0 is inf).
PARALLEL_MIN_SIZE = 1 << 16
# numba's workqueue threading layer aborts the process when two threads enter
# parallel regions at once; tbb and omp are thread safe. The layer is known
# only after the first parallel call: until then, and for workqueue, the
# parallel kernels run one at a time.
_PARALLEL_LOCK = threading.Lock()
_THREAD_SAFE_LAYERS = ("tbb", "omp")
_layer_is_thread_safe = False


def dispatch(parallel_kernel, serial_kernel, *args, size):
    """Call a compiled kernel by the package's one rule for parallelism.

    Below ``PARALLEL_MIN_SIZE`` elements, ``serial_kernel(*args)``: no parallel
    region is entered. Above, ``parallel_kernel(*args)``, serialized by a
    module lock unless numba's threading layer is known to be thread safe, so
    that calls from several Python threads are safe on every layer.

    Parameters
    ----------
    parallel_kernel, serial_kernel : callable
        The twins: the same body compiled with and without ``parallel=True``.
    *args
        The kernel's arguments.
    size : int
        The number of elements the call works on.

    Returns
    -------
    result : object
        What the kernel returns.

    Examples
    --------
    >>> from sklearn_focal.utils._parallel import dispatch
    >>> dispatch(max, min, 3, 5, size=10)  # a small input: the serial twin
    3
    """
    global _layer_is_thread_safe
    if size < PARALLEL_MIN_SIZE:
        return serial_kernel(*args)
    if _layer_is_thread_safe:
        return parallel_kernel(*args)
    with _PARALLEL_LOCK:
        result = parallel_kernel(*args)
        try:
            _layer_is_thread_safe = _threading_layer() in _THREAD_SAFE_LAYERS
        except ValueError:  # no parallel region has run yet
            pass
    return result


def _threading_layer():
    """numba's threading layer; ValueError before the first parallel region."""
    import numba

    return numba.threading_layer()
