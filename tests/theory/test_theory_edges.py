"""Trust at the edges (issue #11): the focal-entropy minimizer on extreme rows
and gammas, and the thresholds at huge gamma, against mpmath.

The mpmath references are written from the definitions: ``q*`` solves
``h(q_i) = p_i / lambda`` with ``sum(q) = 1``, where
``log h(v) = log v - (gamma - 1) log(1 - v) - log(1 - v - gamma v log v)``;
tau_oc solves ``2(1 - v) + (1 - gamma v) log v = 0`` and tau_uc ``phi(v) = 1``.
"""

import json
from pathlib import Path

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mptestutils import mp_bracketed_root, mp_log_h_logit

from sklearn_focal import FocalPosteriorRecovery, theory
from sklearn_focal.rate_distortion import exact_distortion

DIGITS = 40


def mp_focal_minimizer(p, gamma):
    """q* by a root in the logit t0 of the largest class (sum(q) grows in t0)."""
    with mpmath.workdps(DIGITS):
        targets = [mpmath.mpf(v) for v in p]
        active = [i for i, v in enumerate(targets) if v > 0]
        top = max(active, key=targets.__getitem__)

        def solution(t0):
            log_lam = mpmath.log(targets[top]) - mp_log_h_logit(t0, gamma)
            q = [mpmath.mpf(0)] * len(p)
            for i in active:
                level = mpmath.log(targets[i]) - log_lam
                t = (
                    t0
                    if i == top
                    else mp_bracketed_root(
                        lambda t, level=level: mp_log_h_logit(t, gamma) - level,
                        -800,
                        800,
                        1e-22,
                    )
                )
                q[i] = 1 / (1 + mpmath.exp(-t))
            return q

        def excess(t0):
            # sum(q) - 1 as the sum of the others - (1 - q_top): q_top may be
            # closer to 1 than the working precision resolves.
            others = [v for i, v in enumerate(solution(t0)) if i != top]
            return mpmath.fsum(others) - 1 / (1 + mpmath.exp(t0))

        # q_top = 1/n: sum(q) <= 1; 1 - q_top = e^-800, below every double
        # (the others sum to at least 1e-324): sum(q) > 1.
        t0 = mp_bracketed_root(
            excess,
            -mpmath.log(len(active) - 1),
            800,
            1e-20,
        )
        assert abs(excess(t0)) < 1e-18
        return solution(t0)


def _assert_matches_reference(q, reference, rtol=1e-10):
    for value, ref in zip(q, reference, strict=True):
        if ref == 0:
            assert value == 0
        else:
            assert abs(value - float(ref)) <= rtol * float(ref), (value, ref)


REPORTED_ROWS = [
    ([1e-46, 1.0], 1000.0),
    ([1e-196, 1.0], 700.0),
    ([0.5, 0.3, 0.2], 1e50),
    ([6.28873725e-286, 2.95293867e-271, 1.0], 1e100),
    ([1.0, 2.16217307e-256, 2.37870559e-138], 1e150),
    ([0.6, 1e-30, 1e-120, 0.4 - 1e-30], 1e5),
    ([0.5, 1e-300, 1e-200, 1e-100, 0.3, 0.2 - 1e-100], 1e12),
    ([1e-290, 1e-150, 1e-10, 1.0 - 1e-10], 1e20),
]


# mp_focal_minimizer of REPORTED_ROWS, precomputed (about 10 s): regenerate
# with ``python tests/test_theory_edges.py``.
REFERENCE_FILE = Path(__file__).parents[1] / "data" / "focal_minimizer_edges.json"


def _stored_references():
    stored = json.loads(REFERENCE_FILE.read_text())
    return {(tuple(item["p"]), item["gamma"]): item["q"] for item in stored}


@pytest.mark.parametrize("row, gamma", REPORTED_ROWS)
def test_focal_minimizer_reported_rows_match_mpmath(row, gamma):
    q = theory.focal_minimizer(row, gamma)
    with mpmath.workdps(DIGITS):
        reference = [mpmath.mpf(v) for v in _stored_references()[tuple(row), gamma]]
    _assert_matches_reference(q, reference)
    if gamma <= 1e3:  # psi is well conditioned there: the suite's tolerance
        assert np.max(np.abs(theory.psi(q, gamma) - row)) <= 1e-12


def random_rows(n_rows=40, seed=20261129):
    """Rows of 2 to 8 classes spanning up to 300 orders of magnitude, some
    with a top entry of 1.0 beside tiny ones; gamma log-uniform in
    [1e-19, 1e200]."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n_rows):
        k = int(rng.integers(2, 9))
        row = 10.0 ** -rng.uniform(0, rng.uniform(0, 300), size=k)
        if rng.random() < 0.3:
            row[0] = 1.0
            row[1:] *= 10.0 ** -rng.uniform(12, 100)
        row /= row.sum()
        cases.append((row.tolist(), float(10.0 ** rng.uniform(-19, 200))))
    return cases


RANDOM_FILE = REFERENCE_FILE.with_name("focal_minimizer_random.json")


def test_focal_minimizer_random_rows_match_mpmath():
    stored = json.loads(RANDOM_FILE.read_text())
    assert len(stored) == len(random_rows())
    worst = 0.0
    with mpmath.workdps(DIGITS):
        for item in stored:
            q = theory.focal_minimizer(item["p"], item["gamma"])
            for value, text in zip(q, item["q"], strict=True):
                ref = mpmath.mpf(text)
                if ref == 0:
                    assert value == 0
                elif ref > 1e-290:  # below, subnormal outputs
                    worst = max(worst, float(abs((value - ref) / ref)))
    assert worst <= 1e-10


def test_stored_references_are_mpmath():
    # Guard the data file: the cheapest row, recomputed.
    row, gamma = REPORTED_ROWS[1]
    stored = _stored_references()[tuple(row), gamma]
    live = mp_focal_minimizer(tuple(row), gamma)
    with mpmath.workdps(DIGITS):
        for value, ref in zip(stored, live, strict=True):
            assert abs(mpmath.mpf(value) - ref) <= mpmath.mpf(10) ** -20 * abs(ref)


def test_reported_rows_reach_every_caller():
    row, gamma = [1e-46, 1.0], 1000.0
    reference = mp_focal_minimizer(tuple(row), gamma)
    # FE(p, q*): both terms underflow below the smallest double.
    with mpmath.workdps(DIGITS):
        minimum = mpmath.fsum(
            mpmath.mpf(p) * (1 - qi) ** gamma * -mpmath.log(qi)
            for p, qi in zip(row, reference, strict=True)
        )
    assert theory.min_focal_entropy(row, gamma) == float(minimum)
    regimes = theory.focal_regimes(row, gamma)
    _assert_matches_reference(regimes.q[0], reference)
    assert list(regimes.regime[0]) == [1, -1]  # the tiny class is amplified
    # The signed map of FocalPosteriorRecovery: negative order is the inverse.
    recovery = FocalPosteriorRecovery(gamma=gamma).fit(np.array([[0.5, 0.5]]))
    _assert_matches_reference(recovery.inverse_transform(np.array([row]))[0], reference)
    distortion = exact_distortion([1.0, 1e-46, 0.0], 1, gamma)
    assert np.isfinite(distortion) and distortion >= 0


@settings(max_examples=60, deadline=None)
@given(
    k=st.integers(2, 3000),
    log_gamma=st.floats(-19, 200),
    span=st.floats(0, 300),
    seed=st.integers(0, 2**32 - 1),
    zeros=st.booleans(),
)
def test_focal_minimizer_converges_everywhere(k, log_gamma, span, seed, zeros):
    # Rows spanning up to 300 orders of magnitude, any K, any gamma.
    gamma = 10.0**log_gamma
    rng = np.random.default_rng(seed)
    p = 10.0 ** -rng.uniform(0, span, size=k)
    if zeros:
        p[rng.random(k) < 0.2] = 0.0
        p[0] = max(p[0], 1e-3)
    p /= p.sum()
    q = theory.focal_minimizer(p, gamma)
    assert np.all(np.isfinite(q)) and abs(q.sum() - 1) <= 1e-12
    assert np.array_equal(q == 0, p == 0)
    # Psi is order preserving, so is its inverse (ties allowed by rounding).
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(q[order]) >= -4 * np.finfo(float).eps * q[order][1:])
    if gamma <= 1e3:
        assert np.max(np.abs(theory.psi(q, gamma) - p)) <= 1e-12


# --------------------------------------------------------------------------
# Thresholds at huge gamma
# --------------------------------------------------------------------------


def mp_thresholds(gamma):
    """(tau_oc, tau_uc) from Thm 8's equations, solved in v = y / gamma."""
    with mpmath.workdps(DIGITS):
        g = mpmath.mpf(gamma)

        def oc(y):
            v = y / g
            return 2 * (1 - v) + (1 - g * v) * mpmath.log(v)

        def phi_minus_one(y):
            v = y / g
            # (1 - v)^g as exp(g log1p(-v)): v is as small as 1e-300.
            power = mpmath.exp((g - 1) * mpmath.log1p(-v))
            return power * (1 - v) - g * power * v * mpmath.log(v) - 1

        y_oc = mp_bracketed_root(oc, "1e-3", 1 - mpmath.mpf("1e-30"), 1e-20)

        y_uc = mp_bracketed_root(lambda y: -phi_minus_one(y), y_oc, 40, 1e-20)

        return y_oc / g, y_uc / g


@pytest.mark.parametrize("gamma", [1e3, 1e10, 1e50, 1e150, 1e200, 1e300])
def test_thresholds_at_huge_gamma_match_mpmath(gamma):
    oc, uc = mp_thresholds(gamma)
    assert abs(theory.tau_oc(gamma) - float(oc)) <= 1e-13 * float(oc)
    assert abs(theory.tau_uc(gamma) - float(uc)) <= 1e-13 * float(uc)


def test_confidence_regime_at_huge_gamma():
    result = theory.confidence_regime([0.6, 0.4], 1e200)
    # Psi sends [0.6, 0.4] to one-hot at gamma = 1e200, and 0.6 >= tau_uc.
    assert list(result.max_posterior) == [1.0]
    assert list(result.confidence) == [-1]
    assert list(result.region) == [-1]


@pytest.mark.parametrize("function", [theory.tau_oc, theory.tau_uc])
@pytest.mark.parametrize(
    "gamma, error, match",
    [
        ("2", TypeError, "gamma must be a real number"),
        (True, TypeError, "gamma must be a real number"),
        ([True, False], TypeError, "gamma must be real numbers"),
        (["2"], TypeError, "gamma must be real numbers"),
        (np.nan, ValueError, "gamma must be finite"),
        ([1.0, np.inf], ValueError, "gamma must be finite"),
        (-1.0, ValueError, "gamma must be >= 0"),
    ],
)
def test_thresholds_follow_the_gamma_policy(function, gamma, error, match):
    with pytest.raises(error, match=match):
        function(gamma)
    if isinstance(gamma, str | bool):  # the same error as psi's
        with pytest.raises(error, match=match):
            theory.psi([0.5, 0.5], gamma)


if __name__ == "__main__":
    REFERENCE_FILE.parent.mkdir(exist_ok=True)
    items = []
    for row, gamma in REPORTED_ROWS:
        q = mp_focal_minimizer(tuple(row), gamma)
        items.append({"p": row, "gamma": gamma, "q": [mpmath.nstr(v, 30) for v in q]})
    REFERENCE_FILE.write_text(json.dumps(items, indent=1) + "\n")
    items = []
    for row, gamma in random_rows():
        q = mp_focal_minimizer(tuple(row), gamma)
        items.append({"p": row, "gamma": gamma, "q": [mpmath.nstr(v, 30) for v in q]})
    RANDOM_FILE.write_text(json.dumps(items, indent=1) + "\n")


@pytest.mark.parametrize("function", ["focal_entropy", "min_focal_entropy"])
@pytest.mark.parametrize("base", [0.5, 1.0, 0.0, -2.0, np.nan, np.inf])
def test_focal_entropy_base_must_exceed_one(function, base):
    """A base in (0, 1) made the focal-entropy negative (issue #11, item 15)."""
    p = [0.5, 0.5]
    args = (p, p, 1.0) if function == "focal_entropy" else (p, 1.0)
    with pytest.raises(ValueError, match="base must be a finite number > 1"):
        getattr(theory, function)(*args, base=base)


def test_focal_entropy_in_bits_is_the_nats_value_over_log_2():
    # FE_1([.5, .5], [.5, .5]) = 0.5 * ln 2 nats = 0.5 bits.
    assert theory.focal_entropy([0.5, 0.5], [0.5, 0.5], 1.0, base=2) == pytest.approx(
        0.5, rel=1e-15
    )
