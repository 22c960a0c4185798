"""Tests of FocalRateDistortion and RateDistortionDisplay."""

import math
import sys

import numpy as np
import pytest
from scipy.stats import binom

from sklearn_focal import FocalRateDistortion
from sklearn_focal import rate_distortion as rd
from sklearn_focal.plotting._rate_distortion import RateDistortionDisplay


def binomial(k, p):
    pmf = binom.pmf(np.arange(k + 1), k, p)
    return pmf / pmf.sum()


LABELS = np.array(["a", "a", "b", "c", "a", "b", "d", "a", "e", "c"], dtype=object)


def test_fit_on_string_labels():
    est = FocalRateDistortion(gamma=1.0, n_codewords=2).fit(LABELS)
    assert est.symbols_.tolist() == ["a", "b", "c", "d", "e"]
    np.testing.assert_allclose(est.pmf_, [0.4, 0.2, 0.2, 0.1, 0.1])
    assert est.is_optimal_ and est.n_messages_ == 2
    assert est.distortion_ == pytest.approx(rd.exact_distortion(est.pmf_, 2, 1.0))
    assert est.entropy_ == pytest.approx(-np.sum(est.pmf_ * np.log2(est.pmf_)))
    assert est.gamma_entropy_ == pytest.approx(rd.gamma_entropy(est.pmf_, 1.0))
    assert est.converse_bound_ == pytest.approx(rd.converse_bound(est.pmf_, 2, 1.0))
    assert set(est.achievability_bounds_) == {"eq22", "eq23", "eq28"}
    assert est.converse_bound_ <= est.distortion_ <= est.achievability_bounds_["eq28"]
    assert est.codebook_.shape == (2, 5)
    np.testing.assert_allclose(est.codebook_.sum(1), 1.0)


def test_transform_inverse_transform_and_score():
    est = FocalRateDistortion(gamma=2.0, n_codewords=3).fit(LABELS)
    messages = est.transform(LABELS)
    assert messages.shape == (10,) and messages.dtype.kind == "i"
    np.testing.assert_array_equal(
        messages, est.encoder_[np.searchsorted(est.symbols_, LABELS)]
    )
    recon = est.inverse_transform(messages)
    assert recon.shape == (10, 5)
    np.testing.assert_allclose(recon, est.codebook_[messages])
    # score on the training samples is minus the expected distortion
    assert est.score(LABELS) == pytest.approx(-est.distortion_)
    # score of single symbols, from the reconstruction directly
    q = recon[np.arange(10), np.searchsorted(est.symbols_, LABELS)]
    expected = (1 - q) ** 2.0 * -np.log2(q)
    np.testing.assert_allclose(est.score_samples(LABELS), expected)
    # column input keeps the column layout
    assert est.transform(LABELS.reshape(-1, 1)).shape == (10, 1)
    with pytest.raises(ValueError, match="integers in"):
        est.inverse_transform([0, 3])


def test_unseen_symbol_error():
    est = FocalRateDistortion().fit(LABELS)
    with pytest.raises(ValueError, match="not seen in fit: 'zz'"):
        est.transform(["a", "zz"])
    with pytest.raises(ValueError, match="not seen in fit"):
        est.score(["q"])


def test_from_pmf_uniform_ternary():
    for gamma in (0.5, 1.0, 3.0):
        est = FocalRateDistortion.from_pmf([1 / 3] * 3, gamma=gamma, n_codewords=2)
        assert est.distortion_ == pytest.approx((2 / 3) * 0.5**gamma)
        np.testing.assert_array_equal(est.symbols_, [0, 1, 2])
    est = FocalRateDistortion.from_pmf([0.5, 0.5], symbols=["x", "y"], n_codewords=2)
    assert est.distortion_ == 0.0 and est.transform(["y"]).tolist() == [1]
    with pytest.raises(ValueError, match="distinct"):
        FocalRateDistortion.from_pmf([0.5, 0.5], symbols=["x", "x"])
    with pytest.raises(ValueError, match="sum to 1"):
        FocalRateDistortion.from_pmf([0.5, 0.6])
    with pytest.raises(ValueError, match="gamma"):
        FocalRateDistortion.from_pmf([0.5, 0.5], gamma=-1)


def test_weights_are_importance_weights_of_definition_1():
    w = {"a": 1.0, "b": 3.0, "c": 0.5, "d": 2.0, "e": 1.0}
    est = FocalRateDistortion(gamma=1.5, n_codewords=2, weights=w).fit(LABELS)
    p = np.array([0.4, 0.2, 0.2, 0.1, 0.1])
    warr = np.array([1.0, 3.0, 0.5, 2.0, 1.0])
    r = p * warr / np.dot(p, warr)
    np.testing.assert_allclose(est.reweighted_pmf_, r)
    np.testing.assert_allclose(est.pmf_, p)
    ref = FocalRateDistortion.from_pmf(r, gamma=1.5, n_codewords=2)
    assert est.distortion_ == pytest.approx(ref.distortion_)
    # the array form, aligned with symbols_, is equivalent
    est2 = FocalRateDistortion(gamma=1.5, n_codewords=2, weights=warr).fit(LABELS)
    assert est2.distortion_ == pytest.approx(est.distortion_)
    # score = - mean of omega(x) d(x), omega normalized by eq. (6)
    assert est.score(LABELS) == pytest.approx(-est.distortion_)
    with pytest.raises(ValueError, match="no entry"):
        FocalRateDistortion(weights={"a": 1.0}).fit(LABELS)
    with pytest.raises(ValueError, match="one weight per symbol"):
        FocalRateDistortion(weights=[1.0, 2.0]).fit(LABELS)


def test_sample_weight_is_repetition():
    x = np.array([0, 1, 2, 3, 1])
    sw = np.array([2, 1, 0.5, 3, 1])
    a = FocalRateDistortion(gamma=1.0, n_codewords=2).fit(x, sample_weight=sw)
    np.testing.assert_allclose(a.pmf_, np.array([2, 2, 0.5, 3]) / 7.5)
    xr = np.repeat(x, [4, 2, 1, 6, 2])
    b = FocalRateDistortion(gamma=1.0, n_codewords=2).fit(xr)
    assert a.distortion_ == pytest.approx(b.distortion_)


@pytest.mark.parametrize("gamma", [0.5, 2.0])
def test_methods(gamma):
    pmf = binomial(11, 0.35)
    exact = FocalRateDistortion.from_pmf(
        pmf, gamma=gamma, n_codewords=3, method="exact"
    )
    auto = FocalRateDistortion.from_pmf(pmf, gamma=gamma, n_codewords=3)
    local = FocalRateDistortion.from_pmf(
        pmf, gamma=gamma, n_codewords=3, method="local_search"
    )
    greedy = FocalRateDistortion.from_pmf(
        pmf, gamma=gamma, n_codewords=3, method="greedy"
    )
    assert exact.is_optimal_ and auto.is_optimal_ and not greedy.is_optimal_
    assert auto.distortion_ == exact.distortion_
    assert exact.distortion_ <= local.distortion_ * (1 + 1e-12) + 1e-15
    assert local.distortion_ <= greedy.distortion_ + 1e-15
    assert greedy.distortion_ <= greedy.achievability_bounds_["eq28"]
    big = binomial(30, 0.5)
    with pytest.raises(ValueError, match="optimized_code"):
        FocalRateDistortion.from_pmf(big, method="exact")
    assert not FocalRateDistortion.from_pmf(big, n_codewords=4).is_optimal_


def test_bound_curve_dataframe_and_dict(monkeypatch):
    pd = pytest.importorskip("pandas")
    est = FocalRateDistortion.from_pmf(binomial(10, 0.5), gamma=1.0)
    table = est.bound_curve(n_codewords=[2, 4, 8], gammas=[0.5, 2.0])
    assert isinstance(table, pd.DataFrame) and len(table) == 6
    assert {"gamma", "n_codewords", "rate", "converse", "eq22", "eq23", "eq28"} <= set(
        table.columns
    )
    assert {"asymptotic", "code", "code_is_optimal"} <= set(table.columns)
    row = table[(table.gamma == 2.0) & (table.n_codewords == 4)].iloc[0]
    assert row.converse == pytest.approx(rd.converse_bound(est.pmf_, 4, 2.0))
    assert row.eq22 == pytest.approx(rd.achievability_bounds(est.pmf_, 4, 2.0)["eq22"])
    assert row.rate == pytest.approx(2.0)
    assert np.all(table.converse <= table.code) and np.all(table.code <= table.eq28)
    monkeypatch.setitem(sys.modules, "pandas", None)
    plain = est.bound_curve(n_codewords=[2, 4], code=False)
    assert isinstance(plain, dict) and "code" not in plain
    np.testing.assert_array_equal(plain["n_codewords"], [2, 4])
    np.testing.assert_array_equal(plain["gamma"], [1.0, 1.0])


def test_dataframe_column_and_vector_source():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"letter": list("aabbbc")})
    est = FocalRateDistortion(n_codewords=2).fit(frame)
    assert est.n_features_in_ == 1 and list(est.feature_names_in_) == ["letter"]
    assert est.transform(frame).shape == (6, 1)
    pairs = np.array([[0, 1], [0, 1], [1, 1], [2, 0]])
    est = FocalRateDistortion(n_codewords=2).fit(pairs)
    assert est.symbols_.tolist() == [(0, 1), (1, 1), (2, 0)]
    with pytest.raises(ValueError, match="Reshape"):
        est.transform(np.array([0, 1]))


def test_base_nats():
    bits = FocalRateDistortion.from_pmf([0.5, 0.3, 0.2], gamma=1.0)
    nats = FocalRateDistortion.from_pmf([0.5, 0.3, 0.2], gamma=1.0, base=None)
    assert nats.distortion_ == pytest.approx(bits.distortion_ * math.log(2))
    assert nats.converse_bound_ == pytest.approx(bits.converse_bound_ * math.log(2))


# --------------------------------------------------------------------------
# Display
# --------------------------------------------------------------------------


def test_display_against_n_codewords():
    pytest.importorskip("matplotlib")
    pmf = binomial(14, 0.5)
    m = np.array([1, 2, 4, 8, 16])
    disp = RateDistortionDisplay.from_pmf(pmf, n_codewords=m, gamma=2.0)
    assert set(disp.lines_) == {
        "converse",
        "eq22",
        "eq23",
        "eq28",
        "code",
        "asymptotic",
    }
    assert disp.line_ is disp.lines_["code"]
    np.testing.assert_array_equal(disp.lines_["converse"].get_xdata(), m)
    np.testing.assert_allclose(
        disp.lines_["converse"].get_ydata(), rd.converse_bound(pmf, m, 2.0)
    )
    np.testing.assert_allclose(
        disp.lines_["eq23"].get_ydata(), rd.achievability_bounds(pmf, m, 2.0)["eq23"]
    )
    np.testing.assert_allclose(
        disp.lines_["asymptotic"].get_ydata(),
        rd.asymptotic_distortion(pmf, np.log2(m)),
    )
    code = disp.lines_["code"].get_ydata()
    assert np.all(code <= disp.lines_["eq28"].get_ydata())
    assert disp.ax_.get_xscale() == "log" and disp.figure_ is disp.ax_.figure
    labels = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert "converse (17)" in labels and "optimized code" in labels


def test_display_against_gamma_and_overlay():
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    est = FocalRateDistortion.from_pmf([0.4, 0.3, 0.2, 0.1], n_codewords=2)
    gammas = np.linspace(0, 3, 4)
    fig, ax = plt.subplots()
    disp = RateDistortionDisplay.from_estimator(est, gamma=gammas, ax=ax, name="P")
    assert disp.ax_ is ax and "asymptotic" not in disp.lines_
    np.testing.assert_allclose(disp.lines_["code"].get_xdata(), gammas)
    expected = [rd.exact_distortion(est.pmf_, 2, g) for g in gammas]
    np.testing.assert_allclose(disp.lines_["code"].get_ydata(), expected)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "P: optimal d*(M; γ)" in labels
    # the stored arrays can be re-plotted on new axes
    again = disp.plot()
    assert again.ax_ is not ax and len(again.ax_.lines) == len(disp.lines_)
    with pytest.raises(ValueError, match="Only one"):
        RateDistortionDisplay.from_estimator(est, gamma=gammas, n_codewords=[2, 3])
    plt.close("all")


def test_display_requires_matplotlib(monkeypatch):
    disp = RateDistortionDisplay(
        x=np.array([1, 2]), curves={"converse": [1, 0]}, x_name="gamma"
    )
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="pip install"):
        disp.plot()


# --------------------------------------------------------------------------
# Trust at the edges: parameters, sample weights, persistence
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sample_weight, match",
    [
        ([1.0, -1.0, 1.0, 1.0], "row 1 is -1.0"),
        ([1.0, -1.0, 0.0, 0.0], "row 1 is -1.0"),  # used to drop "b" silently
        ([0.0, 0.0, 0.0, 0.0], "sums to zero"),
        ([0.0, 1.0, np.nan, 1.0], "row 2 is nan"),
        ([1.0, np.inf, 1.0, 1.0], "row 1 is inf"),
        ([1.0, 1.0], "2 entries, expected 4"),
    ],
)
def test_fit_and_score_refuse_bad_sample_weight(sample_weight, match):
    X = ["a", "b", "c", "a"]
    with pytest.raises(ValueError, match="sample_weight") as info:
        FocalRateDistortion().fit(X, sample_weight=sample_weight)
    assert info.match(match)
    fitted = FocalRateDistortion().fit(X)
    with pytest.raises(ValueError, match="sample_weight") as info:
        fitted.score(X, sample_weight=sample_weight)
    assert info.match(match)


def test_sample_weight_must_be_real_numbers():
    with pytest.raises(TypeError, match="sample_weight must hold real numbers"):
        FocalRateDistortion().fit(["a", "b"], sample_weight=[True, False])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"gamma": True}, "gamma"),
        ({"gamma": np.True_}, "gamma"),
        ({"n_codewords": True}, "n_codewords"),
        ({"n_codewords": np.True_}, "n_codewords"),
        ({"n_codewords": 2.0}, "n_codewords"),  # as the functions: ints only
        ({"gamma": "2"}, "gamma"),
        ({"base": "2"}, "base"),
        ({"base": True}, "base"),
    ],
)
def test_bools_and_strings_are_not_numbers(params, match):
    with pytest.raises(TypeError, match=match):
        FocalRateDistortion(**params).fit(LABELS)
    with pytest.raises(TypeError, match=match):
        FocalRateDistortion.from_pmf([0.5, 0.5], **params)


def test_integer_parameters_agree_with_the_functions():
    """The estimator and exact_distortion accept and refuse the same M."""
    p = np.array([0.5, 0.25, 0.25])
    for m in (2, np.int64(2), np.uint8(2)):
        est = FocalRateDistortion.from_pmf(p, n_codewords=m, method="exact")
        assert est.distortion_ == rd.exact_distortion(p, int(m), 1.0)
    for m in (True, 2.0):
        with pytest.raises(TypeError):
            FocalRateDistortion.from_pmf(p, n_codewords=m)
        with pytest.raises(TypeError):
            rd.exact_distortion(p, m, 1.0)


@pytest.mark.parametrize("base", [0.5, 1, 1.0, 0, -2, np.nan, np.inf])
def test_base_must_exceed_one(base):
    """A base below 1 made every distortion and bound negative."""
    with pytest.raises(ValueError, match="base"):
        FocalRateDistortion(base=base).fit(LABELS)
    with pytest.raises(ValueError, match="base"):
        FocalRateDistortion.from_pmf([0.5, 0.5], base=base)


def _fitted_attributes(est):
    return {k: v for k, v in vars(est).items() if k.endswith("_") and k[0] != "_"}


def _assert_same_attributes(a, b):
    left, right = _fitted_attributes(a), _fitted_attributes(b)
    assert left.keys() == right.keys()
    for key, value in left.items():
        if isinstance(value, np.ndarray):
            assert value.dtype == right[key].dtype, key
            np.testing.assert_array_equal(value, right[key], err_msg=key)
        elif isinstance(value, dict):
            assert value.keys() == right[key].keys()
            for k in value:
                np.testing.assert_array_equal(value[k], right[key][k])
        else:
            assert value == right[key], key


@pytest.mark.parametrize(
    "X, X_test",
    [
        (LABELS, np.array(["e", "a", "d"], dtype=object)),
        (np.array([3, 1, 1, 2, 7, 1]), np.array([7, 1])),
        (
            np.array([[0, 1], [0, 1], [1, 1], [2, 0], [1, 1]]),
            np.array([[2, 0], [0, 1]]),
        ),
        (
            np.array([["a", "x"], ["b", "x"], ["a", "y"], ["a", "x"]], dtype=object),
            np.array([["a", "y"], ["b", "x"]], dtype=object),
        ),
        (np.array([[0.5], [1.5], [0.5]]), np.array([[1.5]])),
    ],
    ids=["strings", "ints", "int-pairs", "string-pairs", "one-column"],
)
def test_skops_round_trip(X, X_test):
    sio = pytest.importorskip("skops.io")
    est = FocalRateDistortion(gamma=2.0, n_codewords=2).fit(X)
    est.transform(X_test)  # a transform must not make the state unsavable
    data = sio.dumps(est)
    untrusted = sio.get_untrusted_types(data=data)
    assert untrusted, "the estimator's own type must need trust"
    assert all(name.startswith("sklearn_focal.") for name in untrusted), untrusted
    loaded = sio.loads(data, trusted=untrusted)
    _assert_same_attributes(est, loaded)
    np.testing.assert_array_equal(loaded.transform(X_test), est.transform(X_test))
    np.testing.assert_array_equal(loaded.score_samples(X), est.score_samples(X))
    np.testing.assert_array_equal(
        loaded.inverse_transform([0, 1]), est.inverse_transform([0, 1])
    )
    unseen = np.full_like(X_test[:1], 9 if X_test.dtype.kind in "if" else "zz")
    with pytest.raises(ValueError, match="not seen in fit"):
        loaded.transform(unseen)


def test_pickle_does_not_carry_the_lookup_table():
    import pickle

    est = FocalRateDistortion().fit(np.array([[0, 1], [1, 1], [2, 0]]))
    est.transform(np.array([[0, 1]]))
    state = est.__getstate__()
    assert "_index" not in state and "_index" in vars(est)
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(
        loaded.transform(np.array([[2, 0], [0, 1]])), est.transform([[2, 0], [0, 1]])
    )


@pytest.mark.parametrize(
    "weights", [[True, False, True, True, True], {"a": True, "b": 1.0}, ["1"] * 5]
)
def test_importance_weights_must_be_real_numbers(weights):
    if isinstance(weights, dict):
        weights = {**dict.fromkeys("abcde", 1.0), **weights}
    with pytest.raises(TypeError, match="weights must hold real numbers"):
        FocalRateDistortion(weights=weights).fit(LABELS)
