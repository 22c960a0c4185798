"""Compiled fast-math building blocks shared by the package's kernels.

- :func:`power_by_mode`: ``base ** exponent`` by multiplications when the
  exponent is an integer or a half-integer (:func:`power_mode`), used by the
  theory kernels (``(1 - v) ** (gamma - 1)``) and the loss kernels
  (``(1 - p) ** gamma``); :func:`power_by_bits`, the integer power without
  branches, for loops that must vectorize;
- :func:`exp_nonpositive`, :func:`exp_nonpositive_accurate` and
  :func:`log1p_unit`: ``exp`` and ``log1p`` on the reduced ranges the loss
  kernels need, written so that LLVM vectorizes the loops that call them
  (libm's ``exp`` and ``log1p`` are opaque calls);
- :func:`log_normal_accurate`: ``log`` of positive normal doubles to within
  one ulp (fdlibm's method), vectorizable, for the posterior maps; its two
  halves :func:`log_reduction` and :func:`log_from_reduction` let a caller
  share one division among several logs.

The functions are ``njit`` with ``inline="always"`` or small enough to
inline; they are called from other compiled functions, not from Python
(calling them from Python works, slowly, as the tests do). numba is imported
when this module is first used, never at package import.
"""
# SPDX-License-Identifier: BSD-3-Clause

import math

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from sklearn_focal.utils import _numba_cache  # noqa: F401  (caches outside the package)

__all__ = [
    "POWER_BITS",
    "POWER_GENERAL",
    "POWER_HALF_INTEGER",
    "POWER_INTEGER",
    "exp_nonpositive",
    "exp_nonpositive_accurate",
    "log1p_unit",
    "log_from_reduction",
    "log_normal_accurate",
    "log_reduction",
    "power_by_bits",
    "power_by_mode",
    "power_mode",
]

POWER_INTEGER = 0
POWER_HALF_INTEGER = 1
POWER_GENERAL = 2


def power_mode(exponent):
    """Return how ``(1 - v) ** exponent`` is computed: multiplications when possible.

    Parameters
    ----------
    exponent : float
        The exponent.

    Returns
    -------
    mode : int
        ``POWER_INTEGER``, ``POWER_HALF_INTEGER`` (an integer power times a
        square root) or ``POWER_GENERAL`` (``**``), for :func:`power_by_mode`.

    Examples
    --------
    >>> from sklearn_focal.utils import _fastmath
    >>> _fastmath.power_mode(1.5) == _fastmath.POWER_HALF_INTEGER
    True
    """
    if exponent == round(exponent) and abs(exponent) < 2**31:
        return POWER_INTEGER
    if 2 * exponent == round(2 * exponent) and abs(exponent) < 2**31:
        return POWER_HALF_INTEGER
    return POWER_GENERAL


@njit(cache=True, inline="always")
def integer_power(base, m):
    # Explicit products for the common small exponents: a runtime ``**`` is slow.
    if m == 0:
        return 1.0
    if m == 1:
        return base
    if m == 2:
        return base * base
    if m == -1:
        return 1.0 / base
    if m == 3:
        return base * base * base
    if m == 4:
        squared = base * base
        return squared * squared
    return base**m


@njit(cache=True, inline="always")
def power_by_mode(base, exponent, mode, m):
    """``base ** exponent``; ``m`` is the integer part of the exponent."""
    if mode == POWER_INTEGER:
        return integer_power(base, m)
    if mode == POWER_HALF_INTEGER:
        return integer_power(base, m) * math.sqrt(base)
    return base**exponent


# power_by_bits covers exponents below 2**POWER_BITS.
POWER_BITS = 7


@njit(cache=True, inline="always")
def power_by_bits(base, n):
    """``base ** n`` for integral ``0 <= n < 2**POWER_BITS``, vectorizable.

    Square-and-multiply over the bits of ``n`` written out with selects: no
    branch and no call, so that a loop calling it with a loop-invariant ``n``
    vectorizes (:func:`power_by_mode` branches on the exponent, and its
    general case is a call). The relative error is below ``n`` ulps, as for
    ``n - 1`` multiplications; for ``0 < base <= 1`` every partial product is
    at least the result, so nothing underflows before it.
    """
    p = base if n & 1 else 1.0
    s = base * base
    p = p * s if n & 2 else p
    s = s * s
    p = p * s if n & 4 else p
    s = s * s
    p = p * s if n & 8 else p
    s = s * s
    p = p * s if n & 16 else p
    s = s * s
    p = p * s if n & 32 else p
    s = s * s
    return p * s if n & 64 else p


@intrinsic
def _float64_bits(typingctx, value):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.int64))

    return types.int64(types.float64), codegen


@intrinsic
def _float64_from_bits(typingctx, bits):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return types.float64(types.int64), codegen


# exp(d) = 2**n exp(r), n = round(d / log 2), |r| <= log(2)/2 (Cody-Waite).
_ROUND_SHIFT = 1.5 * 2.0**52  # x + shift rounds x to an integer in the low bits
_LOG2_E = 1.4426950408889634
_LN2_HIGH = 6.93147180369123816490e-01
_LN2_LOW = 1.90821492927058770002e-10
_EXP_NORMAL_MIN = -708.0  # exp(-708) is still a normal double


@njit(cache=True)
def _exp_reduction(d):
    """``(n, r)`` with ``d = n log 2 + r``, ``n`` integral, ``|r| <= log(2)/2``."""
    n = (d * _LOG2_E + _ROUND_SHIFT) - _ROUND_SHIFT
    return n, (d - n * _LN2_HIGH) - n * _LN2_LOW


@njit(cache=True)
def _two_to(n):
    """``2**n`` for integral ``n`` in [-1022, 0], from its exponent bits."""
    # The low bits of n + shift hold n: the biased exponent of 2**n.
    return _float64_from_bits(((_float64_bits(n + _ROUND_SHIFT) + 1023) & 0x7FF) << 52)


@njit(cache=True, inline="always")
def exp_nonpositive(d):
    """``exp(d)`` for ``d <= 0`` to 1e-11 relative error, in a form LLVM vectorizes.

    Used for float32 logits only, where that is 1e-4 ulp of the float32
    result. ``d`` below -708 gives exp(-708) (both are 0 in float32, and
    they only enter float32 outputs); NaN propagates.
    """
    n, r = _exp_reduction(np.maximum(d, _EXP_NORMAL_MIN))  # NaN stays NaN
    # Taylor to degree 9 (Horner): |r|**10 / 10! < 7e-12 for |r| <= log(2)/2.
    poly = 1.0 / 362880.0
    poly = poly * r + 1.0 / 40320.0
    poly = poly * r + 1.0 / 5040.0
    poly = poly * r + 1.0 / 720.0
    poly = poly * r + 1.0 / 120.0
    poly = poly * r + 1.0 / 24.0
    poly = poly * r + 1.0 / 6.0
    poly = poly * r + 0.5
    poly = poly * r + 1.0
    poly = poly * r + 1.0
    return poly * _two_to(n)


_EXP_UNDERFLOW = -746.0  # exp(-746) < 2**-1075: rounds to 0 in float64


@njit(cache=True, inline="always")
def exp_nonpositive_accurate(d):
    """``exp(d)`` for ``d <= 0`` to about 1 ulp of float64, vectorizable.

    The same reduction as :func:`exp_nonpositive`, a degree-13 polynomial
    (truncation below 5e-18), and ``2**n`` applied in two normal factors so
    that subnormal results round once and ``d <= -746`` gives 0, as libm does.
    NaN propagates.
    """
    n, r = _exp_reduction(np.maximum(d, _EXP_UNDERFLOW))  # NaN stays NaN
    # Taylor to degree 13 (Horner), written out: a loop would leave a phi
    # node that numba's inlining reports.
    poly = 1.0 / 6227020800.0
    poly = poly * r + 1.0 / 479001600.0
    poly = poly * r + 1.0 / 39916800.0
    poly = poly * r + 1.0 / 3628800.0
    poly = poly * r + 1.0 / 362880.0
    poly = poly * r + 1.0 / 40320.0
    poly = poly * r + 1.0 / 5040.0
    poly = poly * r + 1.0 / 720.0
    poly = poly * r + 1.0 / 120.0
    poly = poly * r + 1.0 / 24.0
    poly = poly * r + 1.0 / 6.0
    poly = poly * r + 0.5
    poly = poly * r + 1.0
    poly = poly * r + 1.0
    normal_part = np.maximum(n, -1022.0)
    rest = n - normal_part  # 0, or down to -54 for subnormal results
    return poly * _two_to(normal_part) * _two_to(rest)


_LN2 = 0.6931471805599453
_SQRT2_MINUS_1 = 0.41421356237309503


@njit(cache=True)
def log1p_unit(e):
    """``log1p(e)`` for ``0 <= e <= 1`` to 1e-13 relative error, vectorizable.

    ``1 + e = 2**k (1 + t)`` with ``|t| <= sqrt(2) - 1`` (``k`` is 0 or 1),
    then ``log1p(t) = 2 atanh(s)``, ``s = t / (2 + t)``, ``|s| <= 0.172``:
    eight terms of the odd series leave ``|s|**16 / 17 < 4e-14``.
    """
    high = e > _SQRT2_MINUS_1
    t = 0.5 * (e - 1.0) if high else e
    s = t / (2.0 + t)
    s2 = s * s
    series = 1.0 / 15.0
    series = series * s2 + 1.0 / 13.0
    series = series * s2 + 1.0 / 11.0
    series = series * s2 + 1.0 / 9.0
    series = series * s2 + 1.0 / 7.0
    series = series * s2 + 1.0 / 5.0
    series = series * s2 + 1.0 / 3.0
    series = series * s2 + 1.0
    return 2.0 * s * series + (_LN2 if high else 0.0)


# fdlibm's e_log.c: log(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2)), s = f / (2 + f),
# R a minimax polynomial; the error is below one ulp.
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
_MANTISSA_BITS = (1 << 52) - 1
_ONE_BITS = 0x3FF << 52
_SQRT2 = 1.4142135623730951


@njit(cache=True, inline="always")
def log_reduction(x):
    """``(k, f)`` with ``x = 2**k (1 + f)``, ``1 + f`` in [sqrt(2)/2, sqrt(2)), exact.

    For positive normal finite ``x`` (read from the bits); ``k`` as a float.
    With :func:`log_from_reduction`, the two halves of
    :func:`log_normal_accurate`, for callers that share one division among
    several logs.
    """
    bits = _float64_bits(x)
    k = ((bits >> 52) & 0x7FF) - 1023
    m = _float64_from_bits((bits & _MANTISSA_BITS) | _ONE_BITS)  # in [1, 2)
    high = m > _SQRT2
    m = 0.5 * m if high else m
    k = k + 1 if high else k
    return float(k), m - 1.0


@njit(cache=True, inline="always")
def log_from_reduction(dk, f, s):
    """``log(2**dk (1 + f))`` given ``s = f / (2 + f)`` (fdlibm's polynomial).

    ``s`` enters only the correction ``s (f^2/2 + R(s^2))``, at most 5% of the
    result: an ``s`` a few roundings off still gives a result within one ulp.
    """
    hfsq = 0.5 * f * f
    z = s * s
    w = z * z
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    r = t2 + t1
    return dk * _LN2_HIGH - ((hfsq - (s * (hfsq + r) + dk * _LN2_LOW)) - f)


@njit(cache=True, inline="always")
def log_normal_accurate(x):
    """``log(x)`` for positive normal finite ``x``, within one ulp, vectorizable.

    ``x = 2**k m`` with ``m`` in [sqrt(2)/2, sqrt(2)), read from the bits;
    ``f = m - 1`` is exact, and ``log(1 + f)`` is fdlibm's polynomial. Zero,
    subnormal, negative and non-finite ``x`` give meaningless values: callers
    send those elsewhere.
    """
    dk, f = log_reduction(x)
    return log_from_reduction(dk, f, f / (2.0 + f))
