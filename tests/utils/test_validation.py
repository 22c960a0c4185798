"""The validators of sklearn_focal.utils.validation, tested directly.

One exception policy: TypeError for a wrong type (a bool or a string where
a number is expected, a float where an integer is), ValueError for a wrong
value; every message names the parameter and, for rows, the first bad row.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_focal import (
    FocalPosteriorRecovery,
    TemperatureScaling,
    rate_distortion,
    theory,
)
from sklearn_focal.theory._focal_terms import entropy_nats, focal_terms, log1mexp
from sklearn_focal.utils import validation as v

# --------------------------------------------------------------------------
# gamma
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "gamma, error, match",
    [
        (True, TypeError, "my_gamma must be a real number, got bool"),
        (np.True_, TypeError, "my_gamma must be a real number"),
        (np.array(True), TypeError, "my_gamma must be a real number, got bool"),
        ("2", TypeError, "my_gamma must be a real number, got str"),
        (None, TypeError, "my_gamma must be a real number, got NoneType"),
        ([2.0], TypeError, "my_gamma must be a real number, got list"),
        (np.nan, ValueError, "my_gamma must be finite"),
        (-np.inf, ValueError, "my_gamma must be finite"),
        (-0.5, ValueError, r"my_gamma must be >= 0, got -0.5"),
    ],
)
def test_check_gamma_errors(gamma, error, match):
    with pytest.raises(error, match=match):
        v.check_gamma(gamma, "my_gamma")


def test_check_gamma_signed_accepts_negative_orders():
    assert v.check_gamma(-2, signed=True) == -2.0
    with pytest.raises(TypeError, match="gamma must be a real number"):
        v.check_gamma(True, signed=True)
    with pytest.raises(ValueError, match="gamma must be finite"):
        v.check_gamma(-np.inf, signed=True)


@pytest.mark.parametrize(
    "gamma, expected",
    [(0, 0.0), (2, 2.0), (np.float32(0.5), 0.5), (np.array(3.0), 3.0), (1e300, 1e300)],
)
def test_check_gamma_returns_float(gamma, expected):
    out = v.check_gamma(gamma)
    assert type(out) is float
    assert out == expected


@given(st.floats(min_value=0, max_value=1e308))
def test_check_gamma_accepts_every_finite_nonnegative_float(gamma):
    assert v.check_gamma(gamma) == gamma


@given(st.floats(max_value=-1e-300, allow_nan=False, allow_infinity=False))
def test_check_gamma_refuses_every_negative_float(gamma):
    with pytest.raises(ValueError, match="gamma must be >= 0"):
        v.check_gamma(gamma)


@pytest.mark.parametrize(
    "gamma, error, match",
    [
        (
            [True, 1.0],
            TypeError,
            r"g must be real numbers \(not bool or str\), got True",
        ),
        (["1"], TypeError, "g must be real numbers"),
        (np.array([True]), TypeError, "g must be real numbers"),
        (np.array(["1"]), TypeError, "g must be real numbers"),
        ([], ValueError, "g is empty"),
        ([1.0, np.nan], ValueError, "g must be finite"),
        ((1.0, -1.0), ValueError, "g must be >= 0"),
        (True, TypeError, "g must be a real number"),
    ],
)
def test_check_gamma_array_errors(gamma, error, match):
    with pytest.raises(error, match=match):
        v.check_gamma_array(gamma, "g")


def test_check_gamma_array_shapes():
    assert v.check_gamma_array(2).shape == ()
    assert v.check_gamma_array(np.array(2.0)).shape == ()
    out = v.check_gamma_array([[0, 1], [2, 3]])
    assert out.dtype == np.float64 and out.shape == (2, 2)


@pytest.mark.parametrize("bad", [True, "2", -1.0, np.nan])
def test_every_module_uses_the_one_gamma_rule(bad):
    """theory, rate_distortion and the validators raise the same error."""
    with pytest.raises(Exception) as expected:
        v.check_gamma(bad)
    for call in (
        lambda: theory.psi([0.5, 0.5], bad),
        lambda: theory.phi(0.5, bad),
        lambda: rate_distortion.gamma_entropy([0.5, 0.5], bad),
        lambda: rate_distortion.exact_distortion([0.5, 0.5], 2, bad),
    ):
        with pytest.raises(type(expected.value), match=str(expected.value)[:20]):
            call()


@pytest.mark.parametrize(
    "make",
    [
        lambda g: FocalPosteriorRecovery(gamma=g),
        lambda g: TemperatureScaling(objective="focal", gamma=g),
    ],
)
def test_calibrators_refuse_a_bool_gamma(make):
    """scikit-learn's Interval(Real) accepts True; the gamma rule does not."""
    q = np.array([[0.7, 0.3], [0.2, 0.8], [0.6, 0.4]])
    y = np.array([0, 1, 1])
    with pytest.raises(TypeError, match="gamma must be a real number, got bool"):
        make(True).fit(q, y)
    assert make(1).fit(q, y).gamma_ == 1.0


# --------------------------------------------------------------------------
# integers and bases
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, error, match",
    [
        (True, TypeError, "n_bins must be an integer, got bool"),
        (np.bool_(False), TypeError, "n_bins must be an integer"),
        (2.0, TypeError, "n_bins must be an integer, got float"),
        ("3", TypeError, "n_bins must be an integer, got str"),
        (0, ValueError, "n_bins must be an integer >= 1, got 0"),
    ],
)
def test_check_integer_errors(value, error, match):
    with pytest.raises(error, match=match):
        v.check_integer(value, "n_bins", minimum=1)


@pytest.mark.parametrize("value", [3, np.int8(3), np.uint64(3), np.array(3)])
def test_check_integer_accepts_integral(value):
    out = v.check_integer(value, "n", minimum=1)
    assert type(out) is int and out == 3


@pytest.mark.parametrize(
    "values, error, match",
    [
        ([2, True], TypeError, "m must hold integers, got True"),
        ([2, 4.0], TypeError, "m must hold integers"),
        ([2, "4"], TypeError, "m must hold integers"),
        (np.array([2.0]), TypeError, "m must hold integers, got dtype float64"),
        ([2, 0], ValueError, "m must hold integers >= 1, got 0"),
    ],
)
def test_check_integer_array_errors(values, error, match):
    with pytest.raises(error, match=match):
        v.check_integer_array(values, "m", minimum=1)


def test_check_integer_array_values():
    out = v.check_integer_array(np.array([1, 2], dtype=np.int8), "m")
    assert out.dtype == np.int64 and out.tolist() == [1, 2]
    assert v.check_integer_array(5, "m") == np.int64(5)


@pytest.mark.parametrize(
    "base, error, match",
    [
        (True, TypeError, "base must be a real number or None"),
        ("2", TypeError, "base must be a real number or None"),
        (1, ValueError, "base must be a finite number > 1"),
        (0.5, ValueError, "base must be a finite number > 1"),
        (np.inf, ValueError, "base must be a finite number > 1"),
        (np.nan, ValueError, "base must be a finite number > 1"),
    ],
)
def test_check_base_errors(base, error, match):
    with pytest.raises(error, match=match):
        v.check_base(base)
    with pytest.raises(error, match=match):
        v.log_base(base)


@given(st.floats(min_value=1.0, max_value=1e300, exclude_min=True))
def test_log_base_is_the_log(base):
    assert v.log_base(base) == math.log(base)
    assert v.check_base(base) == base


def test_log_base_none_is_nats():
    assert v.check_base(None) is None
    assert v.log_base(None) == 1.0


# --------------------------------------------------------------------------
# probability rows and pmfs
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "P, error, match",
    [
        ([["a", "b"]], TypeError, "q must hold real numbers"),
        ([[0.5, 0.5], [1.0]], ValueError, "q could not be converted"),
        (np.zeros((2, 2, 2)), ValueError, "q must be 1-D .* or 2-D"),
        (np.zeros((0, 2)), ValueError, "q is empty"),
        ([1.0], ValueError, "q needs at least 2 classes"),
        (
            [[0.5, 0.5], [np.nan, 1.0]],
            ValueError,
            r"q contains NaN or inf \(first in row 1\)",
        ),
        ([[0.5, 0.5], [1.5, -0.5]], ValueError, r"q contains negative .* row 1"),
        (
            [[0.5, 0.5], [0.5, 0.6]],
            ValueError,
            "q rows must sum to 1; row 1 sums to 1.1",
        ),
    ],
)
def test_check_distribution_errors(P, error, match):
    with pytest.raises(error, match=match):
        v.check_distribution(P, "q")


@pytest.mark.parametrize("defect", ["nan", "negative", "sum"])
def test_fused_check_names_the_same_row(defect):
    """Large arrays go through the compiled check, with the same messages."""
    n = v._FUSED_CHECK_MIN_SIZE // 2 + 10
    rows = np.full((n, 2), 0.5)
    if defect == "nan":
        rows[n - 3, 0], match = np.nan, "contains NaN or inf"
    elif defect == "negative":
        rows[n - 3] = (1.5, -0.5)
        match = "contains negative probabilities"
    else:
        rows[n - 3, 0], match = 0.6, "rows must sum to 1"
    with pytest.raises(ValueError, match=f"{match}.*row {n - 3}"):
        v.check_distribution(rows, "q")
    with pytest.raises(ValueError, match=f"{match}.*row 7"):
        v.check_distribution(rows[n - 10 :], "q")


def test_check_distribution_keeps_dtype_and_views():
    rows32 = np.full((3, 4), 0.25, dtype=np.float32)
    out, one_row = v.check_distribution(rows32)
    assert out is rows32 and not one_row
    out, one_row = v.check_distribution([0.25, 0.75])
    assert out.shape == (1, 2) and one_row
    rows, _ = v.check_distribution([[2.0, 3.0]], check_values=False)
    assert rows.tolist() == [[2.0, 3.0]]


def test_float32_softmax_rows_pass_in_float64():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50, 1000)).astype(np.float32)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    proba = (e / e.sum(axis=1, keepdims=True)).astype(np.float64)
    v.check_distribution(proba)
    assert v.as_float64_proba(proba.astype(np.float32), "X").dtype == np.float64


@given(st.integers(min_value=1, max_value=10**6))
def test_row_sum_tolerance_grows_with_classes(n_classes):
    t64 = v.row_sum_tolerance(np.float64, n_classes)
    t32 = v.row_sum_tolerance(np.float32, n_classes)
    assert t64 >= 4 * np.finfo(np.float32).eps * math.sqrt(n_classes) * (1 - 1e-12)
    assert t32 >= t64
    assert v.row_sum_tolerance(np.float64, n_classes + 1) >= t64


@pytest.mark.parametrize(
    "pmf, match",
    [
        (["a", "b"], "pmf must hold real numbers"),
        ([[0.5, 0.5]], "pmf must be 1-D"),
        ([], "pmf must not be empty"),
        ([np.inf, 0.0], "pmf must be finite"),
        ([1.5, -0.5], "pmf must be nonnegative"),
        ([0.5, 0.6], "pmf must sum to 1"),
    ],
)
def test_check_pmf_errors(pmf, match):
    # The documented exception to the policy: non-numeric is a ValueError.
    with pytest.raises(ValueError, match=match):
        v.check_pmf(pmf)


def test_check_pmf_renormalizes():
    p = v.check_pmf(np.array([0.1] * 10, dtype=np.float32))
    assert p.dtype == np.float64
    assert math.fsum(p) == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize(
    "y_prob, error, match",
    [
        ([], ValueError, "y_prob is empty"),
        (np.array(["a"]), TypeError, "y_prob must hold real numbers"),
        ([0.5, np.nan], ValueError, r"y_prob contains NaN or inf \(first in row 1\)"),
        ([0.5, 1.5], ValueError, r"must lie in \[0, 1\]; row 1 is 1.5"),
        (np.zeros((1, 1, 2)), ValueError, "y_prob must be 1-D .* or 2-D"),
        ([[0.5, 0.6]], ValueError, "y_prob rows must sum to 1; row 0"),
    ],
)
def test_check_y_prob_errors(y_prob, error, match):
    with pytest.raises(error, match=match):
        v.check_y_prob(y_prob)


def test_check_probability_rows():
    with pytest.raises(ValueError, match="X has 1 feature.*Owner"):
        v.check_probability_rows(np.ones((3, 1)), "Owner")
    with pytest.raises(ValueError, match="Negative values .*Owner"):
        v.check_probability_rows(np.array([[1.5, -0.5]]), "Owner")
    with pytest.raises(ValueError, match="X rows must sum to 1"):
        v.check_probability_rows(np.array([[0.5, 0.6]]), "Owner")
    v.check_probability_rows(np.array([[0.5, 0.5]]), "Owner")


def test_check_unit_interval():
    with pytest.raises(ValueError, match="v is empty"):
        v.check_unit_interval([])
    with pytest.raises(ValueError, match="v contains NaN or inf"):
        v.check_unit_interval([np.nan])
    with pytest.raises(ValueError, match=r"v must lie in \[0, 1\]"):
        v.check_unit_interval([1.5])
    with pytest.raises(TypeError, match="v must hold real numbers"):
        v.check_unit_interval(["a"])


# --------------------------------------------------------------------------
# weights
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "alpha, match",
    [
        ([1.0], r"alpha must be a 1-D array with one weight per class \(2\)"),
        ([[1.0, 1.0]], "alpha must be a 1-D array"),
        ([1.0, 0.0], "alpha must be finite and > 0"),
        ([1.0, np.inf], "alpha must be finite and > 0"),
    ],
)
def test_check_alpha_errors(alpha, match):
    with pytest.raises(ValueError, match=match):
        v.check_alpha(alpha, 2)


def test_check_alpha_none():
    assert v.check_alpha(None, 3) is None


@pytest.mark.parametrize(
    "weights, error, match",
    [
        (["a", "b"], TypeError, "sample_weight must hold real numbers"),
        ([True, False], TypeError, "sample_weight must hold real numbers"),
        ([[1.0, 1.0]], ValueError, "sample_weight must be 1-D"),
        ([1.0], ValueError, "sample_weight has 1 entries, expected 2"),
        ([1.0, -1.0], ValueError, "finite and >= 0; row 1 is -1.0"),
        ([np.nan, 1.0], ValueError, "finite and >= 0; row 0 is nan"),
        ([0.0, 0.0], ValueError, "sample_weight sums to zero"),
        ([1e308, 1e308], ValueError, "sample_weight sums to infinity"),
    ],
)
def test_check_sample_weight_errors(weights, error, match):
    with pytest.raises(error, match=match):
        v.check_sample_weight(weights, 2)


@given(
    st.lists(st.floats(min_value=0, max_value=1e100), min_size=1, max_size=20).filter(
        lambda w: sum(w) > 0
    )
)
@settings(max_examples=50)
def test_check_sample_weight_copies_valid_weights(weights):
    given_array = np.asarray(weights)
    out = v.check_sample_weight(given_array, len(weights))
    assert out.dtype == np.float64 and out is not given_array
    np.testing.assert_array_equal(out, given_array)


def test_check_sample_weight_none_is_ones():
    np.testing.assert_array_equal(v.check_sample_weight(None, 3), np.ones(3))


def test_check_sample_weight_allow_zero_sum_relaxes_only_the_zero_total():
    # a chunk of a dask array may carry no weight; every other rule stays
    out = v.check_sample_weight([0, 0.0], 2, allow_zero_sum=True)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [0.0, 0.0])
    for weights, match in [
        ([0.0, -1.0], "row 1 is -1.0"),
        ([np.nan, 0.0], "row 0 is nan"),
        ([1e308, 1e308], "sums to infinity"),
        ([0.0], "has 1 entries, expected 2"),
    ]:
        with pytest.raises(ValueError, match=match):
            v.check_sample_weight(weights, 2, allow_zero_sum=True)
    with pytest.raises(ValueError, match="sums to zero"):
        v.check_weight_total(0.0)
    with pytest.raises(ValueError, match="sums to infinity"):
        v.check_weight_total(np.inf)
    v.check_weight_total(1e-300)  # positive and finite: accepted


@pytest.mark.parametrize(
    "weights, match",
    [
        ([[0.5, 0.5]], "weights must be 1-D"),
        ([0.2, 0.3, 0.5, 0.0], "weights must have length n_classes=3"),
        ([0.5, -0.5], "weights must be positive"),
        ([0.6, 0.6], "must sum to less than 1"),
        ([0.2, 0.2, 0.2], "weights of length n_classes must sum to 1"),
    ],
)
def test_check_class_priors_errors(weights, match):
    with pytest.raises(ValueError, match=match):
        v.check_class_priors(weights, 3)


def test_check_class_priors_values():
    np.testing.assert_allclose(v.check_class_priors(None, 4), np.full(4, 0.25))
    np.testing.assert_allclose(v.check_class_priors([0.2, 0.3], 3), [0.2, 0.3, 0.5])


# --------------------------------------------------------------------------
# The old private names are the validators themselves
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda g: theory.psi([0.6, 0.4], g),
        lambda g: theory.tau_oc(g),
        lambda g: theory.focal_entropy([0.5, 0.5], [0.5, 0.5], g),
        lambda g: rate_distortion.gamma_entropy([0.5, 0.5], g),
    ],
    ids=["psi", "tau_oc", "focal_entropy", "gamma_entropy"],
)
@pytest.mark.parametrize(
    "gamma, error",
    [("2", TypeError), (True, TypeError), (-1.0, ValueError), (np.nan, ValueError)],
)
def test_every_entry_point_gives_the_one_gamma_error(call, gamma, error):
    """The one validator's message, whatever module the gamma enters by."""
    with pytest.raises(error) as direct:
        v.check_gamma(gamma)
    with pytest.raises(error) as through:
        call(gamma)
    assert str(through.value) == str(direct.value)


# --------------------------------------------------------------------------
# The one numpy focal-terms function
# --------------------------------------------------------------------------


@given(
    st.floats(min_value=1e-300, max_value=1.0),
    st.floats(min_value=0.0, max_value=50.0),
)
def test_focal_terms_forms_agree(q, gamma):
    """q, log q, 1 - q and log(1 - q) give the same term where all are exact."""
    q_arr = np.array([q])
    log_q = np.log(q_arr)
    plain = focal_terms(q_arr, gamma)
    from_log = focal_terms(None, gamma, log_q=log_q)
    from_log_complement = focal_terms(
        None, gamma, log_q=log_q, log_complement=log1mexp(log_q)
    )
    expected = (1.0 - q) ** gamma * -math.log(q)
    for value in (plain, from_log, from_log_complement):
        assert value[0] == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_focal_terms_conventions():
    q = np.array([0.0, 0.5, 1.0])
    assert focal_terms(q, 2.0)[0] == np.inf
    assert focal_terms(q, 2.0)[2] == 0.0
    # weight 0 on q = 0 is 0, not NaN
    out = focal_terms(q, 2.0, weights=np.array([0.0, 1.0, 0.0]))
    np.testing.assert_array_equal(out, [0.0, 0.25 * math.log(2.0), 0.0])
    # gamma = 0 is the log loss
    np.testing.assert_array_equal(focal_terms(q[1:], 0.0), -np.log(q[1:]))
    # gamma broadcasts
    assert focal_terms(np.array([0.5]), np.array([[0.0], [1.0]])).shape == (2, 1)


def test_entropy_nats():
    assert entropy_nats(np.array([1.0, 0.0])) == 0.0
    assert entropy_nats(np.full(8, 0.125)) == pytest.approx(math.log(8), rel=1e-15)


@pytest.mark.parametrize("value", [np.array("2"), np.array(b"2"), np.array(True)])
def test_check_gamma_refuses_non_numeric_0d_arrays(value):
    """A 0-d string array was parsed by float() (found in review)."""
    with pytest.raises(TypeError, match="gamma"):
        v.check_gamma(value)


@pytest.mark.parametrize("alpha", [[True, True], np.array([True, False]), [True, 2.0]])
def test_check_alpha_refuses_bools(alpha):
    with pytest.raises(TypeError, match="alpha"):
        v.check_alpha(alpha, 2)


def test_check_integer_array_refuses_uint64_beyond_int64():
    """2**63 as uint64 wrapped to -2**63 (found in review)."""
    with pytest.raises(ValueError, match="n must hold integers <="):
        v.check_integer_array(np.array([2**63], dtype=np.uint64), "n", minimum=1)
    np.testing.assert_array_equal(
        v.check_integer_array(np.array([2**62], dtype=np.uint64), "n"), [2**62]
    )
