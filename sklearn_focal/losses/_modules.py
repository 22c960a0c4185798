"""The nn.Module forms of the focal losses."""
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import torch
from torch import Tensor, nn

from sklearn_focal.losses._binary import binary_focal_loss_with_logits
from sklearn_focal.losses._common import (
    _as_weight,
    _check_binary_alpha,
    _check_ignore_index,
    _check_label_smoothing,
    _check_reduction,
)
from sklearn_focal.losses._softmax import _focal_loss, _sample_weighted_focal_loss
from sklearn_focal.utils.validation import check_gamma as _check_gamma


class FocalLoss(nn.Module):
    r"""Multi-class focal loss on logits, a drop-in for ``CrossEntropyLoss``.

    Computes :math:`-\alpha_t (1 - p_t)^\gamma \log p_t` with
    :math:`p = \operatorname{softmax}(x)`, in log space (see
    :func:`focal_loss_with_logits`). With ``gamma=0`` it equals
    :class:`torch.nn.CrossEntropyLoss` with ``weight=alpha``.

    Parameters
    ----------
    gamma : float, default=2.0
        Focusing parameter, ``gamma >= 0``.
    alpha : array-like of shape (C,) or Tensor, default=None
        Per-class weights. Stored as the buffer ``alpha`` so that ``.to()``
        moves it with the module.
    reduction : {'mean', 'sum', 'none'}, default='mean'
        As in ``CrossEntropyLoss``; ``'mean'`` is the ``alpha``-weighted mean
        for class-index targets.
    ignore_index : int, default=-100
        Class-index target value to ignore.
    label_smoothing : float, default=0.0
        Amount of label smoothing in ``[0, 1]``.
    weight : array-like of shape (C,) or Tensor, default=None
        Alias of ``alpha``, the name ``CrossEntropyLoss`` uses, so that
        ``FocalLoss(gamma=0.0, weight=w)`` replaces
        ``CrossEntropyLoss(weight=w)``. Giving both raises a ValueError.

    Attributes
    ----------
    alpha : Tensor of shape (C,) or None
        The per-class weights (a buffer); ``weight`` is the same tensor.

    Notes
    -----
    :meth:`forward` takes an optional ``sample_weight`` of shape (N,), see
    :func:`focal_loss_with_logits`.

    See Also
    --------
    focal_loss_with_logits : The functional form.
    BinaryFocalLoss : Sigmoid focal loss.
    sklearn_focal.theory.psi : Recovers the class posterior from the softmax
        output of a focal-trained model.

    Examples
    --------
    >>> import torch
    >>> from sklearn_focal.losses import FocalLoss
    >>> criterion = FocalLoss(gamma=2.0, alpha=[1.0, 2.0, 1.0])
    >>> logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    >>> loss = criterion(logits, torch.tensor([0, 1]))
    >>> loss.shape
    torch.Size([])
    """

    def __init__(
        self,
        gamma: float = 2.0,
        alpha=None,
        reduction: str = "mean",
        ignore_index: int = -100,
        label_smoothing: float = 0.0,
        weight=None,
    ):
        super().__init__()
        self.gamma = _check_gamma(gamma)
        self.reduction = _check_reduction(reduction)
        self.ignore_index = _check_ignore_index(ignore_index)
        self.label_smoothing = _check_label_smoothing(label_smoothing)
        if weight is not None:
            if alpha is not None:
                raise ValueError(
                    "weight is an alias of alpha (the per-class weights); give "
                    "one of them, not both."
                )
            alpha = _as_weight(weight, "weight")
        self.register_buffer("alpha", _as_weight(alpha, "alpha"))

    @property
    def weight(self) -> Tensor | None:
        """The per-class weights ``alpha``, under ``CrossEntropyLoss``'s name."""
        return self.alpha

    def forward(self, input: Tensor, target: Tensor, sample_weight=None) -> Tensor:
        """The focal loss of ``input`` logits against ``target``.

        Parameters
        ----------
        input : Tensor of shape (N, C), (N, C, d1, ..., dk) or (C,)
            Unnormalized logits.
        target : Tensor
            Class indices or class probabilities, see
            :func:`focal_loss_with_logits`.
        sample_weight : array-like or Tensor of shape (N,), default=None
            Non-negative per-sample weights; ``'mean'`` then divides by the
            summed weights (see :func:`focal_loss_with_logits`).

        Returns
        -------
        loss : Tensor
            A scalar, or the per-sample losses for ``reduction='none'``.
        """
        if not isinstance(input, Tensor) or not input.is_floating_point():
            raise TypeError("input must be a floating-point torch.Tensor of logits.")
        if input.ndim == 0:
            raise ValueError("input must have a class dimension; got a 0-d tensor.")
        if self.alpha is not None:
            n_classes = input.shape[0] if input.ndim == 1 else input.shape[1]
            if self.alpha.shape[0] != n_classes:
                raise ValueError(
                    f"alpha has {self.alpha.shape[0]} entries but the input has "
                    f"{n_classes} classes."
                )
        if sample_weight is not None:
            return _sample_weighted_focal_loss(
                input,
                target,
                self.gamma,
                self.alpha,
                self.reduction,
                self.ignore_index,
                self.label_smoothing,
                sample_weight,
            )
        return _focal_loss(
            input,
            target,
            self.gamma,
            self.alpha,
            self.reduction,
            self.ignore_index,
            self.label_smoothing,
        )

    def extra_repr(self) -> str:
        return (
            f"gamma={self.gamma}, reduction={self.reduction!r}, "
            f"ignore_index={self.ignore_index}, "
            f"label_smoothing={self.label_smoothing}"
        )


class BinaryFocalLoss(nn.Module):
    r"""Sigmoid focal loss for binary and multi-label targets.

    See :func:`binary_focal_loss_with_logits`. With ``gamma=0`` and
    ``alpha=None`` it equals :class:`torch.nn.BCEWithLogitsLoss`.

    Parameters
    ----------
    gamma : float, default=2.0
        Focusing parameter, ``gamma >= 0``.
    alpha : float in [0, 1], default=None
        Weight of the positive term (``1 - alpha`` for the negative term).
    reduction : {'mean', 'sum', 'none'}, default='mean'
        Reduction over all elements.
    pos_weight : Tensor or float, default=None
        Extra weight of the positive term, one per label, as in
        ``BCEWithLogitsLoss``. Stored as a buffer.

    See Also
    --------
    FocalLoss : Softmax focal loss.

    Examples
    --------
    >>> import torch
    >>> from sklearn_focal.losses import BinaryFocalLoss
    >>> criterion = BinaryFocalLoss(gamma=2.0, alpha=0.25)
    >>> logits = torch.tensor([[3.0, -2.0], [0.0, 1.0]])
    >>> labels = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> criterion(logits, labels).shape
    torch.Size([])
    """

    def __init__(
        self,
        gamma: float = 2.0,
        alpha: float | None = None,
        reduction: str = "mean",
        pos_weight=None,
    ):
        super().__init__()
        self.gamma = _check_gamma(gamma)
        self.alpha = _check_binary_alpha(alpha)
        self.reduction = _check_reduction(reduction)
        if pos_weight is not None:
            pos_weight = torch.as_tensor(pos_weight)
            if not pos_weight.is_floating_point():
                pos_weight = pos_weight.to(torch.get_default_dtype())
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return binary_focal_loss_with_logits(
            input,
            target,
            gamma=self.gamma,
            alpha=self.alpha,
            reduction=self.reduction,
            pos_weight=self.pos_weight,
        )

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}, alpha={self.alpha}, reduction={self.reduction!r}"
