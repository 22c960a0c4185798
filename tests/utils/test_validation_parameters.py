"""The scalar and parameter-array rules of sklearn_focal.utils.validation.

check_real (scales, intercepts, means, significance levels),
check_finite_array (coefficients, thresholds, means, matrices),
check_positive_definite and check_sample_aligned's ``positive`` option. The
policy: TypeError for a wrong type (a bool is never a number), ValueError
for a wrong value, naming the parameter and the first bad row or index.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sklearn_focal.utils import validation as v

# --------------------------------------------------------------------------
# check_real
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, kwargs, error, match",
    [
        (True, {}, TypeError, "my_x must be a real number, got bool"),
        (np.array(False), {}, TypeError, "my_x must be a real number, got bool"),
        ("1", {}, TypeError, "my_x must be a real number, got str"),
        (None, {}, TypeError, "my_x must be a real number, got NoneType"),
        ([1.0], {}, TypeError, "my_x must be a real number, got list"),
        (np.nan, {}, ValueError, "my_x must be finite, got nan"),
        (-np.inf, {}, ValueError, "my_x must be finite, got -inf"),
        (0.0, {"lower": 0}, ValueError, r"my_x must be > 0, got 0.0"),
        (-1e-300, {"lower": 0, "closed": "left"}, ValueError, "my_x must be >= 0"),
        (1.0, {"upper": 1}, ValueError, r"my_x must be < 1, got 1.0"),
        (2.0, {"upper": 1, "closed": "right"}, ValueError, r"my_x must be <= 1"),
        (1.0, {"lower": 0, "upper": 1}, ValueError, r"my_x must be in \(0, 1\), got"),
        (0.0, {"lower": 0, "upper": 1}, ValueError, r"my_x must be in \(0, 1\), got"),
        (
            -0.5,
            {"lower": 0, "upper": 1, "closed": "both"},
            ValueError,
            r"my_x must be in \[0, 1\], got -0.5",
        ),
    ],
)
def test_check_real_errors(value, kwargs, error, match):
    with pytest.raises(error, match=match):
        v.check_real(value, "my_x", **kwargs)


@pytest.mark.parametrize(
    "value, kwargs, expected",
    [
        (2, {}, 2.0),
        (np.float32(0.5), {"lower": 0, "upper": 1}, 0.5),
        (np.array(3), {}, 3.0),
        (np.int64(0), {"lower": 0, "closed": "left"}, 0.0),
        (1.0, {"upper": 1, "closed": "right"}, 1.0),
        (-1e300, {}, -1e300),
    ],
)
def test_check_real_returns_float(value, kwargs, expected):
    out = v.check_real(value, "x", **kwargs)
    assert type(out) is float
    assert out == expected


@given(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["neither", "left", "right", "both"]),
)
def test_check_real_interval_membership(value, closed):
    # membership in [-1, 1] with the closed sides written here
    inside = (-1 < value < 1) or (
        (value == -1 and closed in ("left", "both"))
        or (value == 1 and closed in ("right", "both"))
    )
    if inside:
        assert v.check_real(value, "x", lower=-1, upper=1, closed=closed) == value
    else:
        with pytest.raises(ValueError, match=r"x must be in [\[(]-1, 1[\])]"):
            v.check_real(value, "x", lower=-1, upper=1, closed=closed)


def test_check_gamma_is_check_real_from_zero():
    # the gamma rule is the scalar rule on [0, inf): same messages as before
    with pytest.raises(ValueError, match=r"gamma must be >= 0, got -0.5"):
        v.check_gamma(-0.5)
    assert v.check_gamma(0) == 0.0
    assert v.check_gamma(-3, signed=True) == -3.0


# --------------------------------------------------------------------------
# check_finite_array
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values, kwargs, error, match",
    [
        ([True, False], {}, TypeError, "coef must hold real numbers, got dtype bool"),
        (["a"], {}, TypeError, "coef must hold real numbers, got dtype <U1"),
        ([[1.0], [1.0, 2.0]], {}, ValueError, "coef could not be converted"),
        ([1.0, 2.0], {"shape": (3,)}, ValueError, r"coef must have shape \(3,\), got"),
        (
            [0.0, 1.0, np.nan],
            {},
            ValueError,
            r"coef must be finite \(no NaN or inf\); row 2 is nan",
        ),
        (np.inf, {}, ValueError, r"coef must be finite \(no NaN or inf\), got inf"),
        (
            [[1.0, 2.0], [3.0, -np.inf]],
            {},
            ValueError,
            r"coef must be finite \(no NaN or inf\); index \(1, 1\) is -inf",
        ),
        ([1.0, 0.0, -1.0], {"positive": True}, ValueError, "> 0; row 1 is 0.0"),
        (
            [1.0, -2.0],
            {"positive": True, "why": " for a count"},
            ValueError,
            "coef must be > 0 for a count; row 1 is -2.0",
        ),
        (0.0, {"positive": True}, ValueError, "coef must be > 0, got 0.0"),
    ],
)
def test_check_finite_array_errors(values, kwargs, error, match):
    with pytest.raises(error, match=match):
        v.check_finite_array(values, "coef", **kwargs)


def test_check_finite_array_returns_a_float64_copy():
    source = np.array([1, 2, 3], dtype=np.int32)
    out = v.check_finite_array(source, "x", shape=(3,), positive=True)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [1.0, 2.0, 3.0])
    floats = np.array([0.5, -1.0])
    copied = v.check_finite_array(floats, "x")
    copied[0] = 7.0
    assert floats[0] == 0.5  # the input is never modified
    assert v.check_finite_array(2.5, "x").shape == ()
    assert v.check_finite_array([], "x").shape == (0,)


@given(st.lists(st.floats(), min_size=1, max_size=20))
def test_check_finite_array_names_the_first_nonfinite_row(values):
    finite = [math.isfinite(x) for x in values]
    if all(finite):
        np.testing.assert_array_equal(v.check_finite_array(values, "x"), values)
    else:
        row = finite.index(False)
        with pytest.raises(
            ValueError, match=rf"x must be finite \(no NaN or inf\); row {row} is "
        ):
            v.check_finite_array(values, "x")


def test_check_sample_aligned_positive():
    with pytest.raises(ValueError, match="threshold must be > 0 because; row 1 is"):
        v.check_sample_aligned(
            [1.0, 0.0], "threshold", 2, positive=True, why=" because"
        )
    with pytest.raises(
        ValueError, match=r"threshold must be finite \(no NaN or inf\); row 0 is nan"
    ):
        v.check_sample_aligned([np.nan, 0.0], "threshold", 2, positive=True)
    np.testing.assert_array_equal(
        v.check_sample_aligned(2, "threshold", 3, positive=True), [2.0, 2.0, 2.0]
    )


# --------------------------------------------------------------------------
# check_positive_definite
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "matrix, match",
    [
        (np.eye(3), r"info must have shape \(2, 2\)"),
        (
            [[1.0, np.nan], [np.nan, 1.0]],
            r"info must be finite \(no NaN or inf\); index \(0, 1\) is nan",
        ),
        ([[1.0, 0.1], [0.0, 1.0]], r"info must be symmetric; entry \(0, 1\) is 0.1"),
        ([[1.0, 2.0], [2.0, 1.0]], "info must be positive definite"),
        (np.zeros((2, 2)), "info must be positive definite"),
    ],
)
def test_check_positive_definite_errors(matrix, match):
    with pytest.raises(ValueError, match=match):
        v.check_positive_definite(matrix, "info", 2)


def test_check_positive_definite_symmetrizes_rounding():
    matrix = np.array([[2.0, 0.5], [0.5 * (1 + 1e-14), 1.0]])
    out = v.check_positive_definite(matrix, "info", 2)
    np.testing.assert_array_equal(out, out.T)
    np.testing.assert_allclose(out, matrix, rtol=1e-13)
