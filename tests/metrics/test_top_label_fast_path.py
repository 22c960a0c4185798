"""The calibration errors' fast paths (issue #17) against direct transcriptions.

Integer labels are encoded by counts instead of a sort, and the top-label
score and outcome come from one compiled pass instead of ``np.argmax``, a
gather and a comparison. Both must give exactly what the general forms give.
"""

import numpy as np
import pytest

from sklearn_focal.metrics import expected_calibration_error
from sklearn_focal.metrics._calibration_error import _scores_and_outcomes
from sklearn_focal.metrics._common import _encode_labels


def _reference_encoding(y):
    """Sorted distinct labels and each label's position among them."""
    classes = np.unique(y)
    return np.searchsorted(classes, y), classes


@pytest.mark.parametrize(
    "y",
    [
        np.array([2, 0, 1, 1, 0, 2]),
        np.array([5, 9, 7, 5], dtype=np.int32),
        np.array([0, 3, 70_000, 3], dtype=np.uint32),  # beyond 2**16: sorted path
        np.array([1, 4, 4, 1, 9], dtype=np.int8),
    ],
)
def test_integer_labels_are_encoded_as_by_sorting(y):
    n_classes = np.unique(y).size
    index, classes = _encode_labels(y, None, n_classes)
    expected_index, expected_classes = _reference_encoding(y)
    np.testing.assert_array_equal(index, expected_index)
    np.testing.assert_array_equal(classes, expected_classes)
    assert classes.dtype == expected_classes.dtype


def test_integer_labels_with_a_missing_class_still_raise():
    with pytest.raises(ValueError, match="2 distinct labels but y_prob has 3"):
        _encode_labels(np.array([0, 2, 2]), None, 3)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_top_label_pass_is_argmax_gather_compare(dtype):
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(6), size=3000).astype(dtype)
    probs[:10] = 1 / 6  # ties: the first column wins, as np.argmax
    probs[10, :2] = probs[10, :2].sum() / 2
    y_index = rng.integers(0, 6, size=3000)
    scores, outcomes = _scores_and_outcomes(y_index, probs, "top_label")
    predicted = np.argmax(probs, axis=1)
    np.testing.assert_array_equal(scores[:, 0], probs[np.arange(3000), predicted])
    np.testing.assert_array_equal(outcomes[:, 0], predicted == y_index)
    assert scores.dtype == probs.dtype and outcomes.dtype == np.float64
    # A non-contiguous view takes numpy's path: the same values.
    wide = np.zeros((3000, 12), dtype=dtype)
    wide[:, ::2] = probs
    view_scores, view_outcomes = _scores_and_outcomes(
        y_index, wide[:, ::2], "top_label"
    )
    np.testing.assert_array_equal(view_scores, scores)
    np.testing.assert_array_equal(view_outcomes, outcomes)


def test_expected_calibration_error_matches_a_transcription():
    rng = np.random.default_rng(1)
    probs = rng.dirichlet(np.full(4, 0.7), size=5000)
    y = rng.integers(0, 4, size=5000)
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y
    bins = np.minimum((confidence * 10).astype(int), 9)
    expected = sum(
        np.mean(bins == b)
        * abs(correct[bins == b].mean() - confidence[bins == b].mean())
        for b in range(10)
        if np.any(bins == b)
    )
    assert expected_calibration_error(y, probs, n_bins=10) == pytest.approx(
        expected, rel=1e-12
    )
