"""The one mpmath reference harness of the test suite (after scipy's
``scipy/special/_mptestutils.py``).

Three parts, each small:

* **Argument specs** that cover every order of magnitude: :class:`Arg` (a
  real interval: log-spaced magnitudes from 1e-300 to 1e300 of both signs,
  points near 0 and near 1 from both sides, a linear grid), :class:`ProbArg`
  (probabilities, spaced in the logit: tails down to 1e-300 near 0 and to
  one ulp below 1), :class:`FixedArg` and :func:`get_args` (their grid).
* **Comparison**: :func:`assert_mpmath_equal` evaluates a float64 function
  and an mpmath reference on the same doubles and reports the worst points;
  :func:`mp_assert_allclose` compares values with references computed
  elsewhere (lists of ``mpf``, or strings read back from ``tests/data``).
* **References written from the papers' definitions**, in plain mpmath and
  sharing no code with the package: phi and h (eqs. 10 and 13 of
  Charoenphakdee et al., 2021), Psi (eq. 12), ``log h`` on the logit, the
  thresholds of Thm 8, a bracketed root, softmax, the KL divergence; and
  :func:`reference_psi`, the naive
  float64 closed form for well-conditioned inputs (entries inside (0, 1)).

Expensive references are precomputed into ``tests/data`` (JSON, with the
mpmath values as strings): :func:`dump_references` writes them and
:func:`load_references` reads them back; each data file is guarded by one
entry recomputed live in its test module.

Examples
--------
>>> import numpy as np
>>> assert_mpmath_equal(np.log1p, mpmath.log1p, [Arg(-1, np.inf, False)], rtol=1e-15)
>>> assert_mpmath_equal(
...     lambda x: np.log(1 + x), mpmath.log1p, [Arg(-1, np.inf, False)], rtol=1e-15
... )  # doctest: +ELLIPSIS
Traceback (most recent call last):
AssertionError: <lambda>: ... points outside rtol=1e-15, atol=0
...
>>> values = ProbArg().values(50)
>>> bool(values.min() < 1e-290 and 1 - values.max() < 1e-15)
True
"""

import itertools
import json

import mpmath
import numpy as np

__all__ = [
    "HARD_LOGIT_ROWS",
    "Arg",
    "FixedArg",
    "ProbArg",
    "assert_mpmath_equal",
    "dump_references",
    "get_args",
    "load_references",
    "mp_assert_allclose",
    "mp_bracketed_root",
    "mp_h",
    "mp_kl",
    "mp_log_h_logit",
    "mp_phi",
    "mp_psi",
    "mp_psi_rows",
    "mp_softmax",
    "mp_thresholds",
    "reference_psi",
]

DPS = 40  # working digits of every reference; local to each evaluation

# Logit rows over the hard regions of a softmax loss: saturated, tied, huge
# and tiny margins (the losses' mpmath tests run their kernels on them).
HARD_LOGIT_ROWS = (
    (30.0, 0.0, 0.0),
    (0.0, 30.0, -5.0),
    (700.0, 0.0, -700.0),
    (-700.0, 700.0, 0.0),
    (1.0, 1.0, 1.0),
    (5.0, 5.0, -3.0),
    (1e-8, 0.0, -1e-8),
    (40.0, 39.0, -40.0),
)


# --------------------------------------------------------------------------
# Argument specs
# --------------------------------------------------------------------------


class Arg:
    """Real numbers in ``[a, b]`` over every order of magnitude.

    ``values(n)`` returns about ``n`` sorted doubles: log-spaced magnitudes
    from 1e-300 to 1e300 with both signs (clipped to the interval), points
    at distances 1e-16 to 1e-1 on both sides of 0 and of 1, a
    linear grid over the finite part of the interval, and the finite ends
    when they are inclusive.
    """

    def __init__(self, a=-np.inf, b=np.inf, inclusive_a=True, inclusive_b=True):
        if not a < b:
            raise ValueError(f"empty interval [{a}, {b}]")
        self.a, self.b = float(a), float(b)
        self.inclusive_a, self.inclusive_b = inclusive_a, inclusive_b

    def _inside(self, x):
        above = x >= self.a if self.inclusive_a else x > self.a
        below = x <= self.b if self.inclusive_b else x < self.b
        return x[above & below & np.isfinite(x)]

    def values(self, n):
        n_log, n_near, n_lin = n // 2, n // 4, n - n // 2 - n // 4
        magnitudes = np.logspace(-300, 300, max(n_log // 2, 2))
        offsets = np.logspace(-16, -1, max(n_near // 4, 2))
        near = np.concatenate([offsets, -offsets, 1 + offsets, 1 - offsets])
        low, high = max(self.a, -10.0), min(self.b, 10.0)
        linear = np.linspace(low, high, max(n_lin, 2)) if low < high else []
        ends = [v for v in (self.a, self.b) if np.isfinite(v)]
        points = np.concatenate(
            [magnitudes, -magnitudes, near, linear, ends, [0.0, 1.0, -1.0]]
        )
        return np.unique(self._inside(points))


class ProbArg:
    """Probabilities, spaced evenly in the logit and in its magnitude.

    ``values(n)`` returns about ``n`` sorted doubles in (0, 1): tails
    ``10**-k`` for ``k`` up to 300 near 0, ``1 - 10**-k`` down to one ulp
    below 1 near 1, and ``expit(t)`` for ``t`` evenly spaced in [-30, 30].
    The ends 0 and 1 are added when ``inclusive``.
    """

    def __init__(self, inclusive=False):
        self.inclusive = inclusive

    def values(self, n):
        n_low, n_high = n // 3, n // 6
        low = np.logspace(-300, -1, max(n_low, 2))
        high = 1.0 - np.logspace(np.log10(2.0**-53), -1, max(n_high, 2))
        logits = np.linspace(-30, 30, max(n - n_low - n_high, 2))
        middle = 1.0 / (1.0 + np.exp(-logits))
        points = np.concatenate([low, high, middle])
        points = points[(points > 0) & (points < 1)]
        if self.inclusive:
            points = np.concatenate([points, [0.0, 1.0]])
        return np.unique(points)


class FixedArg:
    """Exactly the given values."""

    def __init__(self, values):
        self._values = np.asarray(values, dtype=np.float64)

    def values(self, n):
        return self._values


def get_args(specs, n):
    """Grid of argument tuples, shape ``(m, len(specs))``, about ``n`` rows.

    Each non-fixed spec gets ``n ** (1 / number of non-fixed specs)`` values
    (as scipy does); fixed specs contribute all of theirs.
    """
    free = sum(not isinstance(spec, FixedArg) for spec in specs)
    per_spec = max(int(round(n ** (1.0 / max(free, 1)))), 2)
    axes = [spec.values(per_spec) for spec in specs]
    return np.array(list(itertools.product(*axes)), dtype=np.float64).reshape(
        -1, len(specs)
    )


# --------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------


def _to_float(value):
    """An mpmath number rounded to the nearest double (overflow to inf)."""
    if isinstance(value, mpmath.mpc):
        raise TypeError("complex reference")
    return float(value)


def _failures(actual, desired, rtol, atol):
    actual = np.asarray(actual, dtype=np.float64)
    desired = np.asarray(desired, dtype=np.float64)
    both_nan = np.isnan(actual) & np.isnan(desired)
    infinite = np.isinf(desired)
    same_inf = infinite & (actual == desired)
    error = np.abs(actual - desired)
    with np.errstate(invalid="ignore"):
        close = error <= atol + rtol * np.abs(desired)
    ok = both_nan | same_inf | (close & ~infinite)
    return np.flatnonzero(~ok), error


def _report(message, args, actual, desired, bad, error, max_shown=20):
    lines = [message]
    for i in bad[:max_shown]:
        where = "" if args is None else f"{tuple(float(v) for v in args[i])!r}: "
        relative = error[i] / abs(desired[i]) if desired[i] else np.inf
        lines.append(
            f"  {where}got {float(actual[i])!r}, mpmath {float(desired[i])!r} "
            f"(rel {relative:.3g})"
        )
    if len(bad) > max_shown:
        lines.append(f"  ... and {len(bad) - max_shown} more")
    return "\n".join(lines)


def assert_mpmath_equal(
    func,
    mpmath_func,
    specs,
    *,
    rtol=1e-13,
    atol=0.0,
    n=500,
    dps=DPS,
    param_filter=None,
    vectorized=True,
):
    """``func`` agrees with ``mpmath_func`` on a grid drawn from ``specs``.

    Parameters
    ----------
    func : callable
        The float64 function under test. Called once with one array per
        spec when ``vectorized``, else once per point with floats.
    mpmath_func : callable
        The reference, called with ``mpf`` arguments (the same doubles) at
        ``dps`` digits; its result is rounded to the nearest double.
    specs : list of Arg, ProbArg or FixedArg
        One spec per argument; see :func:`get_args`.
    rtol, atol : float
        Each point must satisfy ``|got - ref| <= atol + rtol |ref|``; an
        infinite reference must be matched exactly, NaN by NaN.
    n : int
        About how many points to test.
    param_filter : callable, optional
        Keeps the points where ``param_filter(*args)`` is true.
    """
    args = get_args(specs, n)
    if param_filter is not None:
        args = args[np.array([bool(param_filter(*row)) for row in args], dtype=bool)]
    if len(args) == 0:
        raise ValueError("no argument left to test")
    if vectorized:
        actual = np.asarray(func(*args.T), dtype=np.float64)
    else:
        actual = np.array([func(*row) for row in args], dtype=np.float64)
    with mpmath.workdps(dps):
        desired = np.array(
            [
                _to_float(mpmath_func(*(mpmath.mpf(float(v)) for v in row)))
                for row in args
            ]
        )
    bad, error = _failures(actual, desired, rtol, atol)
    if len(bad):
        name = getattr(func, "__name__", repr(func))
        raise AssertionError(
            _report(
                f"{name}: {len(bad)} of {len(args)} points outside "
                f"rtol={rtol:g}, atol={atol:g}",
                args,
                actual,
                desired,
                bad,
                error,
            )
        )


def mp_assert_allclose(actual, desired, rtol=1e-13, atol=0.0):
    """``actual`` (floats) against references (``mpf``, strings or floats).

    The references are rounded to doubles once, then compared as in
    :func:`assert_mpmath_equal`.
    """
    actual = np.ravel(np.asarray(actual, dtype=np.float64))
    desired = np.array(
        [_to_float(mpmath.mpf(v)) for v in np.ravel(np.asarray(desired, dtype=object))]
    )
    if actual.shape != desired.shape:
        raise AssertionError(f"shapes differ: {actual.shape} vs {desired.shape}")
    bad, error = _failures(actual, desired, rtol, atol)
    if len(bad):
        raise AssertionError(
            _report(
                f"{len(bad)} of {len(actual)} values outside rtol={rtol:g}, "
                f"atol={atol:g} (index: value)",
                np.arange(len(actual))[:, None],
                actual,
                desired,
                bad,
                error,
            )
        )


def dump_references(path, items, digits=30):
    """Write ``items`` (dicts) as JSON, with ``mpf`` values as strings."""

    def encode(value):
        if isinstance(value, mpmath.mpf):
            return mpmath.nstr(value, digits)
        if isinstance(value, list | tuple):
            return [encode(v) for v in value]
        return value

    records = [{key: encode(value) for key, value in item.items()} for item in items]
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(records, indent=1) + "\n")


def load_references(path):
    """The records of :func:`dump_references`; strings stay strings (pass
    them to ``mpmath.mpf`` or :func:`mp_assert_allclose`)."""
    return json.loads(path.read_text())


# --------------------------------------------------------------------------
# References from the definitions
# --------------------------------------------------------------------------


def mp_phi(v, gamma):
    """Eq. 10: ``(1 - v)^gamma - gamma (1 - v)^(gamma - 1) v log v``.

    ``phi(0) = 1``, ``phi(1) = 0`` for ``gamma > 0``, and ``phi = 1`` at
    ``gamma = 0``.
    """
    v, g = mpmath.mpf(v), mpmath.mpf(gamma)
    if g == 0 or v == 0:
        return mpmath.mpf(1)
    if v == 1:
        return mpmath.mpf(0)
    return (1 - v) ** g - g * (1 - v) ** (g - 1) * v * mpmath.log(v)


def mp_h(v, gamma):
    """Eq. 13: ``v / phi(v)``, with ``h(1) = inf`` for ``gamma > 0``."""
    v = mpmath.mpf(v)
    if v == 1 and gamma > 0:
        return mpmath.inf
    return v / mp_phi(v, gamma)


def mp_psi(row, gamma, alpha=None):
    """Eq. 12, ``h(q_i) / alpha_i`` normalized; rows holding a 1 (with
    ``gamma > 0``) are their own image."""
    if gamma > 0 and any(float(v) == 1.0 for v in row):
        return [mpmath.mpf(1) if float(v) == 1.0 else mpmath.mpf(0) for v in row]
    weights = [1] * len(row) if alpha is None else list(alpha)
    values = [mp_h(v, gamma) / mpmath.mpf(a) for v, a in zip(row, weights, strict=True)]
    total = mpmath.fsum(values)
    return [value / total for value in values]


def mp_psi_rows(q, gamma, alpha=None, dps=DPS):
    """:func:`mp_psi` of every row of ``q``, rounded to a float64 array."""
    q = np.atleast_2d(np.asarray(q, dtype=np.float64))
    with mpmath.workdps(dps):
        out = [[float(v) for v in mp_psi(list(row), gamma, alpha)] for row in q]
    return np.array(out)


def mp_log_h_logit(t, gamma):
    """``log h(v)`` at ``v = 1 / (1 + e^-t)``, exact where ``v`` rounds to 1:
    ``log v - (gamma - 1) log(1 - v) - log(1 - v - gamma v log v)``."""
    g, t = mpmath.mpf(gamma), mpmath.mpf(t)
    v = 1 / (1 + mpmath.exp(-t))
    log_v = -mpmath.log1p(mpmath.exp(-t))
    one_minus = 1 / (1 + mpmath.exp(t))  # not 1 - v: v may round to 1
    log_one_minus = -mpmath.log1p(mpmath.exp(t))
    return log_v - (g - 1) * log_one_minus - mpmath.log(one_minus - g * v * log_v)


def mp_bracketed_root(function, low, high, tolerance):
    """The root of an increasing ``function`` in ``[low, high]``, by
    bisection to ``tolerance * (1 + |low|)``."""
    low, high = mpmath.mpf(low), mpmath.mpf(high)
    while high - low > tolerance * (1 + abs(low)):
        middle = (low + high) / 2
        if function(middle) > 0:
            high = middle
        else:
            low = middle
    return (low + high) / 2


def mp_thresholds(gamma):
    """``(tau_oc, tau_uc)`` of Thm 8 for ``0 < gamma <= 1e3``, by bisection:
    tau_oc, the peak of phi, solves ``2(1 - v) + (1 - gamma v) log v = 0``;
    tau_uc, beyond it, solves ``phi(v) = 1``."""
    g = mpmath.mpf(gamma)

    def peak(v):
        return 2 * (1 - v) + (1 - g * v) * mpmath.log(v)

    high = min(1 / g, mpmath.mpf("0.999"))
    assert peak(mpmath.mpf("1e-30")) < 0 < peak(high)
    tau_oc = mp_bracketed_root(
        peak, "1e-30", high, mpmath.mpf(10) ** (2 - mpmath.mp.dps)
    )
    tau_uc = mp_bracketed_root(
        lambda v: 1 - mp_phi(v, g),
        tau_oc,
        1 - mpmath.mpf(10) ** -30,
        mpmath.mpf(10) ** (2 - mpmath.mp.dps),
    )
    return tau_oc, tau_uc


def mp_softmax(row, temperature=1):
    """``softmax(row / temperature)`` of the given doubles (or ``mpf``, used
    at full precision), as ``mpf``."""
    scaled = [
        (v if isinstance(v, mpmath.mpf) else mpmath.mpf(float(v)))
        / mpmath.mpf(temperature)
        for v in row
    ]
    top = max(scaled)
    terms = [mpmath.exp(v - top) for v in scaled]
    total = mpmath.fsum(terms)
    return [term / total for term in terms]


def mp_kl(p, q):
    """``sum_i p_i log(p_i / q_i)`` in nats, with ``0 log 0 = 0``."""
    total = mpmath.mpf(0)
    for pi, qi in zip(p, q, strict=True):
        pi, qi = mpmath.mpf(pi), mpmath.mpf(qi)
        if pi == 0:
            continue
        if qi == 0:
            return mpmath.inf
        total += pi * mpmath.log(pi / qi)
    return total


def reference_psi(q, gamma, alpha=None):
    """Eqs. 12-13 in naive float64, for entries strictly inside (0, 1).

    Well conditioned there (no 0/0), vectorized, and fast: the reference of
    bulk tests; :func:`mp_psi` is the one for hard inputs.
    """
    q = np.asarray(q, dtype=np.float64)
    h = q / ((1 - q) ** gamma - gamma * (1 - q) ** (gamma - 1) * q * np.log(q))
    if alpha is not None:
        h = h / np.asarray(alpha, dtype=np.float64)
    return h / h.sum(axis=-1, keepdims=True)
