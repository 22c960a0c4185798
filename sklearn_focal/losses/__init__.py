"""Numerically stable focal losses for PyTorch.

The focal loss of Lin et al. (2017) on a predicted class probability ``p_t``
of the true class is ``-(1 - p_t)**gamma * log(p_t)``. This module computes it
entirely in log space:

- ``log p_t`` is a log-softmax (a log-sigmoid for binary problems);
- ``log(1 - p_t)`` is the log-sum-exp of the *other* logits minus the
  log-sum-exp of all logits, which is exact for any margin (no ``1 - p``
  cancellation, no ``eps`` clamp);
- the modulating factor is ``exp(gamma * log(1 - p_t))`` (for class-index
  targets the equal ``(1 - p_t)**gamma`` of that exactly summed ``1 - p_t``,
  with an analytic gradient that is bounded for every ``gamma >= 0``).

The losses are finite, with finite gradients, for every ``gamma >= 0``
(including ``0 < gamma < 1``, where ``d/dp (1 - p)**gamma`` is unbounded) and
logits of any magnitude, and they compute in float32 when given float16 or
bfloat16 logits (for instance under :func:`torch.autocast`).

Where each form of the loss lives, and why there are that many:

===================  ============================  ============================
path                 compiled CPU kernel           torch (other devices, and
                     (float32/float64 CPU logits)  CPU with the switch off)
===================  ============================  ============================
class indices        ``hard_target_focal_rows``    :class:`_HardTargetFocal`
                     (``_positions`` for (N, C,
                     d1, ...) logits, in place)
soft targets,        ``soft_target_focal_rows``    :func:`_focal_terms` of the
label smoothing                                    softmax (:func:`_elementwise_focal`)
sigmoid (binary,     ``binary_focal_rows``         :func:`_focal_terms` of the
multi-label)                                       two log-sigmoids
===================  ============================  ============================

The kernels live in :mod:`sklearn_focal.losses._kernels`. The torch side has
two forms. :func:`_focal_terms` is the element-wise term
``-exp(gamma log(1 - p)) log p`` for any ``(log p, log(1 - p))`` pair, with
autograd's gradient. :class:`_HardTargetFocal` is the fused class-index
form of every GPU batch: one softmax, one (N, C) tensor kept for backward
and an analytic gradient, where the element-wise form would evaluate and
keep all C terms of every row to use one. The soft-target kernel could serve
class indices too, but costs more passes per row than the hard-target
kernel, which the benchmark's training-size ratio depends on.
:func:`_use_compiled_kernels` is the private switch between the columns.

Importing this module imports torch; ``import sklearn_focal`` does not.
"""
# SPDX-License-Identifier: BSD-3-Clause

from sklearn_focal.losses._binary import binary_focal_loss_with_logits
from sklearn_focal.losses._modules import BinaryFocalLoss, FocalLoss
from sklearn_focal.losses._softmax import focal_loss_with_logits

__all__ = [
    "BinaryFocalLoss",
    "FocalLoss",
    "binary_focal_loss_with_logits",
    "focal_loss_with_logits",
]
