"""Data plumbing and the default network of FocalClassifier.

The array batches that skip per-sample collation, the device rule, the
float32 cast of the inputs and the default multilayer perceptron.
"""
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numpy as np
import torch
from skorch.dataset import Dataset
from torch import nn
from torch.utils.data import (
    BatchSampler,
    Subset,
)
from torch.utils.data import Dataset as TorchDataset

# The keys of the dict that carries the inputs and per-sample weights through
# skorch's Dataset (skorch's documented route for sample weights).
_INPUT = "X"
_SAMPLE_WEIGHT = "sample_weight"


def _as_float32(X):
    """Finite ``X`` as float32, refusing values that the cast makes infinite."""
    if X.dtype == np.float32:
        return X
    with np.errstate(over="ignore"):
        X32 = X.astype(np.float32)
    overflow = np.isinf(X32)
    if overflow.any():
        rows = np.flatnonzero(overflow.any(axis=1))
        raise ValueError(
            "X has values that overflow float32 (|x| > "
            f"{float(np.finfo(np.float32).max):.4g}) in {rows.size} rows, first "
            f"rows {rows[:10].tolist()}; FocalClassifier computes in float32, "
            "where they are infinite. Scale the features (e.g. StandardScaler)."
        )
    return X32


class _MLP(nn.Module):
    """Fully connected ReLU network returning logits (the default module)."""

    def __init__(self, n_features, n_classes, hidden_layer_sizes=(100,), dropout=0.0):
        super().__init__()
        layers = []
        width_in = n_features
        for width in hidden_layer_sizes:
            layers.append(nn.Linear(width_in, width))
            layers.append(nn.ReLU())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width_in = width
        layers.append(nn.Linear(width_in, n_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, X):
        return self.layers(X)


def _resolve_device(device):
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


# DataLoader arguments that work one sample at a time.
_PER_SAMPLE_LOADER_ARGS = frozenset({"sampler", "batch_sampler", "collate_fn"})


class _IndexArrayBatchSampler(BatchSampler):
    """BatchSampler yielding index arrays rather than lists."""

    def __iter__(self):
        for batch in super().__iter__():
            yield np.asarray(batch, dtype=np.intp)


class _ArrayBatches(TorchDataset):
    """The arrays of a skorch Dataset (or of a Subset of one), indexed a batch
    at a time: ``self[index_array]`` is ``(X[rows], y[rows])``."""

    def __init__(self, X, y, rows):
        self.X, self.y, self.rows = X, y, rows

    def __len__(self):
        if self.rows is not None:
            return len(self.rows)
        return len(self.X[_INPUT] if isinstance(self.X, dict) else self.X)

    def __getitem__(self, index):
        rows = index if self.rows is None else self.rows[index]
        if isinstance(self.X, dict):  # inputs and sample weights
            X = {key: value[rows] for key, value in self.X.items()}
        else:
            X = self.X[rows]
        if self.y is None:  # prediction: skorch's placeholder target
            return X, torch.zeros((len(rows), 1))
        return X, self.y[rows]


def _array_batches(dataset):
    """:class:`_ArrayBatches` over skorch's own Dataset of arrays, or over a
    Subset of one by an index array (skorch's validation split); else None."""
    rows = None
    while isinstance(dataset, Subset):
        if not isinstance(dataset.indices, np.ndarray):
            return None
        rows = dataset.indices if rows is None else dataset.indices[rows]
        dataset = dataset.dataset
    arrays = (np.ndarray, torch.Tensor)
    if not (
        type(dataset) is Dataset
        and (dataset.y is None or isinstance(dataset.y, arrays))
    ):
        return None
    X = dataset.X
    if not (
        isinstance(X, arrays)
        or (isinstance(X, dict) and all(isinstance(v, arrays) for v in X.values()))
    ):
        return None
    return _ArrayBatches(X, dataset.y, rows)


def _encoded_accuracy(net, X, y):
    """Accuracy of ``net`` on ``X`` against encoded labels ``y``.

    For a multi-label indicator ``y`` (2-D), the subset accuracy of
    :meth:`predict` (every label of a row right), as ``score`` reports it.
    """
    y = np.asarray(y)
    if y.ndim == 2:
        predicted = np.asarray(net.predict(X)) > 0
        return float(np.mean(np.all(predicted == (y > 0.5), axis=1)))
    predicted = np.argmax(net.predict_raw_proba(X), axis=1)
    return float(np.mean(predicted == y))


def _is_auto(device):
    return isinstance(device, str) and device == "auto"


def _max_abs(tensors):
    """Max-norms of a list of tensors (fused where torch offers it)."""
    foreach_norm = getattr(torch, "_foreach_norm", None)
    if foreach_norm is not None:
        try:
            return [n.float() for n in foreach_norm(tensors, float("inf"))]
        except (RuntimeError, TypeError):
            pass
    return [t.detach().abs().max().float() for t in tensors]


def _softmax(logits):
    return torch.softmax(logits, dim=-1)


def _identity(logits):
    return logits
