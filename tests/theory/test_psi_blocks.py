"""psi's vectorized path (issue #17): blocks of rows computed as one flat
stretch, flagged rows redone exactly, row codes unchanged.

The hard rows below sit at every position of a block (and of the parallel
kernel's input), next to ordinary rows, and must give the mpmath value of
their own row (eq. 12, written in tests/mptestutils.py).
"""

import mpmath
import numpy as np
import pytest
from mptestutils import mp_psi_rows

from sklearn_focal.theory import psi
from sklearn_focal.utils._fastmath import POWER_BITS, power_by_bits


def _rows():
    """Ordinary rows and rows for the exact path (K = 5)."""
    rng = np.random.default_rng(7)
    ordinary = rng.dirichlet(np.ones(5) * 0.5, size=12)
    hard = np.array(
        [
            [1.0, 0.0, 0.0, 0.0, 0.0],  # one-hot: a fixed point
            [0.5, 0.5, 0.0, 0.0, 0.0],
            [1 - 1e-15, 5e-16, 5e-16, 0.0, 0.0],  # 1 - v near one ulp
            [1 - 1e-9, 1e-9 - 2e-150, 1e-150, 1e-150, 0.0],  # h(v) = v below
            [1e-120, 1e-200, 1e-300, 0.25, 0.75 - 1e-120],
            [1 - 3e-7, 1e-7, 1e-7, 1e-7, 0.0],  # power leaves its range (large gamma)
            [0.2, 0.2, 0.2, 0.2, 0.2],
            [5e-324, 0.6, 0.4, 0.0, 0.0],  # a subnormal entry
        ]
    )
    return np.vstack([ordinary, hard])


def _relative_error(values, reference):
    scale = np.where(reference == 0, 1.0, np.abs(reference))
    error = np.abs(values - reference) / scale
    # Entries whose reference is below 1e-290 only need to be as small.
    tiny = np.abs(reference) < 1e-290
    error[tiny] = np.where(np.abs(values[tiny]) <= 1e-289, 0.0, np.inf)
    return float(np.max(error))


# Integer and half-integer gamma - 1 (powers by multiplications), then
# others (the power by exp and log), 130 beyond power_by_bits' 2**7.
GAMMAS = [0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 20.5, 50.0, 0.01, 0.3, 2.7, 130.0, 1000.0]


@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("n_rows", [20, 14_000])  # the serial and parallel kernels
def test_blocked_psi_matches_mpmath_at_every_position(gamma, n_rows):
    distinct = _rows()
    reference = mp_psi_rows(distinct, gamma)
    rng = np.random.default_rng(int(gamma * 10) + n_rows)
    which = rng.integers(0, len(distinct), size=n_rows)
    which[: len(distinct)] = np.arange(len(distinct))
    result = psi(distinct[which], gamma)
    assert _relative_error(result, reference[which]) <= 1e-12
    # Each row as it would come alone: the same bits (rows are independent).
    for i in range(len(distinct)):
        np.testing.assert_array_equal(psi(distinct[i], gamma), result[i])


@pytest.mark.parametrize("gamma", [0.5, 2.0, 7.5, 0.7])
def test_blocked_psi_with_alpha_matches_mpmath(gamma):
    distinct = _rows()
    alpha = np.array([0.1, 0.2, 0.3, 0.15, 0.25])
    reference = mp_psi_rows(distinct, gamma, alpha)
    which = np.random.default_rng(3).integers(0, len(distinct), size=3000)
    result = psi(distinct[which], gamma, alpha=alpha)
    assert _relative_error(result, reference[which]) <= 1e-12


@pytest.mark.parametrize("n_rows", [3000, 40_000])
@pytest.mark.parametrize(
    "defects, message",
    [
        # NaN is reported before a negative entry, a negative entry before a
        # bad sum, each at its first row, wherever it sits in a block.
        (
            {"negative": 1700, "nan": 2500, "sum": 5},
            r"NaN or inf \(first in row 2500\)",
        ),
        ({"negative": 2999, "sum": 3}, r"negative probabilities \(first in row 2999\)"),
        ({"sum": 1234}, r"row 1234 sums to"),
        ({"inf": 2000, "nan": 2001}, r"NaN or inf \(first in row 2000\)"),
    ],
)
def test_first_defect_codes_in_blocks(defects, message, n_rows):
    rows = np.random.default_rng(0).dirichlet(np.ones(5), size=n_rows)
    rows[::97, 0] = 1.0  # flagged rows (one-hot) in many blocks
    rows[::97, 1:] = 0.0
    if "negative" in defects:
        rows[defects["negative"], :2] = [-0.25, rows[defects["negative"], 1] + 0.25]
    if "nan" in defects:
        rows[defects["nan"], 3] = np.nan
    if "inf" in defects:
        rows[defects["inf"], 2] = np.inf
    if "sum" in defects:
        rows[defects["sum"], 4] += 0.1
    for gamma in (0.5, 2.0, 0.3):
        with pytest.raises(ValueError, match=message):
            psi(rows, gamma)


def test_power_by_bits_matches_mpmath():
    bases = np.concatenate([[0.0, 1.0, 0.5], 1 - np.logspace(-16, -0.01, 60)])
    with mpmath.workdps(40):
        for n in range(2**POWER_BITS):
            for base in bases:
                got = power_by_bits(base, n)
                want = float(mpmath.mpf(float(base)) ** n)
                # Squaring doubles the relative error: about n/2 ulps, n at most
                # (exact at 0 and 1), as repeated multiplication.
                assert abs(got - want) <= max(n, 1) * np.spacing(want), (base, n)


@pytest.mark.parametrize("gamma", [0.3, 0.5, 2.0, 3.0, 130.0])
@pytest.mark.parametrize("n_rows", [1, 20_000])
def test_an_entry_just_above_one_is_the_one_hot_fixed_point(gamma, n_rows):
    # The row sums accept 1 + 1e-9; h(v) -> inf as v -> 1, so the limit of
    # Psi is the one-hot row (mpmath's reference keeps rows holding a 1).
    # It used to be NaN (log(1 - v) of v > 1).
    rows = np.tile([[1 + 1e-9, 1e-12, 0.0], [0.2, 0.3, 0.5]], (n_rows, 1))
    result = psi(rows, gamma)
    np.testing.assert_array_equal(result[::2], np.tile([1.0, 0.0, 0.0], (n_rows, 1)))
    np.testing.assert_allclose(
        result[1::2],
        np.tile(mp_psi_rows([[0.2, 0.3, 0.5]], gamma), (n_rows, 1)),
        rtol=1e-12,
    )
