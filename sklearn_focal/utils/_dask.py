"""Dask arrays in the row maps: detection without importing dask, blockwise rows.

The package's row functions (``theory.psi``, ``theory.focal_minimizer``, the
calibrators' ``transform``) take numpy rows. On a dask array chunked along
rows they run chunk by chunk through :func:`map_row_blocks`, lazily, and the
result keeps the input's row chunks. Importing this module imports neither
dask nor numpy: :func:`is_dask_array` looks dask up in ``sys.modules``, since
an object cannot be a dask array unless dask is already imported.

A row error raised inside a chunk names the chunk's local row; it is raised
again with the global row (the chunk's offset added). The package's
validators all name rows as ``row <i>`` (the policy of
:mod:`sklearn_focal.utils.validation`), which is what is rewritten.
"""
# SPDX-License-Identifier: BSD-3-Clause

import re
import sys

__all__ = [
    "block_offsets",
    "is_dask_array",
    "map_row_blocks",
    "reraise_with_offset",
]

# "row 3" (probability rows) and "at index (3, 1)" / "at index 3" (elementwise
# maps): the first integer is the position along axis 0.
_ROW = re.compile(r"\b(row |at index \(?)(\d+)\b")


def is_dask_array(x):
    """Whether ``x`` is a ``dask.array.Array``, without importing dask.

    Examples
    --------
    >>> from sklearn_focal.utils._dask import is_dask_array
    >>> is_dask_array([[0.5, 0.5]])
    False
    """
    module = sys.modules.get("dask.array")
    return module is not None and isinstance(x, module.Array)


def _shift_rows(message, offset):
    return _ROW.sub(lambda m: f"{m.group(1)}{int(m.group(2)) + offset}", message)


def reraise_with_offset(exc, offset):
    """Raise ``exc`` again with its row positions shifted by ``offset``.

    ``row <i>`` and ``at index (<i>, ...)`` / ``at index <i>`` are rewritten.

    Only ValueError and TypeError (the validators' exceptions) are rewritten;
    anything else is raised unchanged.

    Examples
    --------
    >>> from sklearn_focal.utils._dask import reraise_with_offset
    >>> try:
    ...     reraise_with_offset(ValueError("q rows must sum to 1; row 3 sums"), 100)
    ... except ValueError as exc:
    ...     print(exc)
    q rows must sum to 1; row 103 sums
    >>> try:
    ...     reraise_with_offset(ValueError("p: bad value 1.5 at index (1, 0)"), 10)
    ... except ValueError as exc:
    ...     print(exc)
    p: bad value 1.5 at index (11, 0)
    """
    if offset and type(exc) in (ValueError, TypeError) and len(exc.args) == 1:
        message = _shift_rows(str(exc.args[0]), offset)
        raise type(exc)(message) from None
    raise exc


def block_offsets(chunks):
    """First global row of every chunk, from a dask array's row chunk sizes.

    Examples
    --------
    >>> from sklearn_focal.utils._dask import block_offsets
    >>> block_offsets((3, 3, 2))
    [0, 3, 6]
    """
    offsets, start = [], 0
    for size in chunks:
        offsets.append(start)
        start += int(size)
    return offsets


def _call_on_block(block, row_func, row_args, row_kwargs, block_info=None):
    offset = 0 if block_info is None else block_info[0]["array-location"][0][0]
    try:
        return row_func(block, *row_args, **row_kwargs)
    except (ValueError, TypeError) as exc:
        reraise_with_offset(exc, offset)


def map_row_blocks(
    func, x, *args, dtype, n_columns=None, name="rows", allow_1d=False, **kwargs
):
    """Apply the numpy row function ``func(block, *args, **kwargs)`` lazily per chunk.

    ``x`` is a 2-D dask array; its columns are first gathered into one chunk
    (a row needs all its entries), its row chunks are kept. Errors raised by
    ``func`` name global rows (see :func:`reraise_with_offset`).

    Parameters
    ----------
    func : callable
        Maps an ndarray of rows to an ndarray with as many rows.
    x : dask.array.Array of shape (n_samples, n_classes)
        Rows, chunked along axis 0.
    *args, **kwargs
        Passed to ``func``; they travel to the workers, so keep them small.
    dtype : dtype
        dtype of the result.
    n_columns : int, default=None
        Columns of the result; None: as many as ``x``.
    name : str, default="rows"
        Name of the input in the messages.
    allow_1d : bool, default=False
        Also take a 1-D array (an elementwise map), chunked as it is.

    Returns
    -------
    dask.array.Array
        Lazy result, with the row chunks of ``x``.
    """
    import numpy as np

    if x.ndim != 2 and not (x.ndim == 1 and allow_1d):
        raise ValueError(
            f"{name} must be a 2-D dask array (n_samples, n_classes) chunked "
            f"along rows, got {x.ndim} dimension(s)"
        )
    if any(np.isnan(size) for size in x.chunks[0]):
        raise ValueError(
            f"{name} has unknown chunk sizes; call compute_chunk_sizes() first, "
            "so that errors can name the global row"
        )
    if x.ndim == 1:
        return _map_blocks(func, x, args, kwargs, dtype, x.chunks)
    if len(x.chunks[1]) > 1:
        x = x.rechunk({1: -1})
    n_columns = x.shape[1] if n_columns is None else n_columns
    return _map_blocks(func, x, args, kwargs, dtype, (x.chunks[0], (n_columns,)))


def _map_blocks(func, x, args, kwargs, dtype, chunks):
    """``func`` lazily on every block of ``x``; errors name global rows."""
    import numpy as np

    da = sys.modules["dask.array"]
    return da.map_blocks(
        _call_on_block,
        x,
        row_func=func,
        row_args=args,
        row_kwargs=kwargs,
        dtype=dtype,
        chunks=chunks,
        meta=np.empty((0,) * len(chunks), dtype=dtype),
    )
