"""Speed and memory of the calibrators and calibration metrics (issue #17).

A plain script, not a timed test. Every ratio is measured in the same run,
from interleaved repeats (medians), with both sides on the same number of
threads (1, then 2; labelled), after one warm-up call of each contender:

- ``TemperatureScaling(objective="nll").fit`` on n x C probabilities /
  ``CalibratedClassifierCV(FrozenEstimator(identity), method="temperature")``
  on the same probabilities (goal <= 1.0), and its peak memory over the
  input's (tracemalloc, goal <= 2);
- ``FocalPosteriorRecovery(gamma="fit").fit`` / the same baseline (goal <= 2);
- ``expected_calibration_error`` (10 uniform bins, top label) on N x C /
  ``torchmetrics`` ``MulticlassCalibrationError`` on the same arrays, as
  tensors (goal <= 1.0);
- ``min_focal_entropy`` on N x C: peak memory over the input's (goal <= 2).

Run: ``python benchmarks/bench_calibration_speed.py [--rows 100000]
[--ece-rows 1000000] [--classes 10] [--repeats 7] [--threads 1 2]
[--parts calibrators ece memory]`` (``--parts calibrators`` times the
calibrators alone). The load average is printed before and after: on a
shared machine the times are inflated, the same-run ratios much less. (The
quality of the calibrators is benchmarks/bench_calibration.py.)
"""
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import os
import statistics
import time
import tracemalloc

import numba  # noqa: F401  (imported first: threads() limits numba only once loaded)
import numpy as np
from _machine import describe, threads
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator

from sklearn_focal.calibration import FocalPosteriorRecovery, TemperatureScaling
from sklearn_focal.metrics import expected_calibration_error
from sklearn_focal.theory import min_focal_entropy


class _Identity(ClassifierMixin, BaseEstimator):
    """A fitted classifier whose predict_proba returns its input."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return X

    def predict(self, X):
        return self.classes_[np.argmax(X, axis=1)]


def _data(n, c, seed=0):
    rng = np.random.default_rng(seed)
    logits = 2.5 * rng.standard_normal((n, c))
    # Labels drawn at temperature 1.6: the fitted T is far from 1.
    truth = softmax(logits / 1.6, axis=1)
    y = (truth.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    return softmax(logits, axis=1), y


def _medians(contenders, repeats):
    for function in contenders.values():
        function()
    times = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, function in contenders.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def _peak(function):
    function()  # warm: compiled kernels loaded outside the measurement
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _report(title, medians, ratios):
    print(title)
    for name, value in medians.items():
        print(f"  {name:<44s} median {value * 1e3:9.1f} ms")
    for text, (num, den, goal) in ratios.items():
        ratio = medians[num] / medians[den]
        verdict = "ok" if ratio <= goal else "MISSED"
        print(f"  {text:<44s} {ratio:9.2f}   (goal <= {goal:g}) {verdict}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--ece-rows", type=int, default=1_000_000)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=["calibrators", "ece", "memory"],
        default=["calibrators", "ece", "memory"],
    )
    args = parser.parse_args()
    print(describe())
    print(_load())

    proba, y = _data(args.rows, args.classes)
    baseline = CalibratedClassifierCV(
        FrozenEstimator(_Identity().fit(proba[:, :1], np.arange(args.classes))),
        method="temperature",
    )
    contenders = {
        "TemperatureScaling(nll).fit": lambda: TemperatureScaling().fit(proba, y),
        "CalibratedClassifierCV(temperature).fit": lambda: baseline.fit(proba, y),
        "FocalPosteriorRecovery(gamma='fit').fit": lambda: FocalPosteriorRecovery(
            gamma="fit"
        ).fit(proba, y),
    }
    ece_proba, ece_y = _data(
        args.ece_rows if "ece" in args.parts or "memory" in args.parts else 10,
        args.classes,
        seed=1,
    )
    ece = {
        "expected_calibration_error": lambda: expected_calibration_error(
            ece_y, ece_proba, n_bins=10
        )
    }
    try:
        import torch
        from torchmetrics.classification import MulticlassCalibrationError

        metric = MulticlassCalibrationError(
            num_classes=args.classes, n_bins=10, norm="l1"
        )
        preds, target = torch.from_numpy(ece_proba), torch.from_numpy(ece_y)
        ece["torchmetrics MulticlassCalibrationError"] = lambda: metric(preds, target)
    except ImportError:
        print("torchmetrics not installed: the ECE ratio is skipped")

    for n_threads in args.threads:
        with threads(n_threads):
            label = f"[{n_threads} thread{'s' if n_threads > 1 else ''} each]"
            if "calibrators" in args.parts:
                medians = _medians(contenders, args.repeats)
                _report(
                    f"\n{label} calibrators, {proba.shape} probabilities",
                    medians,
                    {
                        "TemperatureScaling / CalibratedClassifierCV": (
                            "TemperatureScaling(nll).fit",
                            "CalibratedClassifierCV(temperature).fit",
                            1.0,
                        ),
                        "FocalPosteriorRecovery / CalibratedClassifierCV": (
                            "FocalPosteriorRecovery(gamma='fit').fit",
                            "CalibratedClassifierCV(temperature).fit",
                            2.0,
                        ),
                    },
                )
            if "ece" in args.parts:
                medians = _medians(ece, args.repeats)
                ratios = {}
                if len(ece) == 2:
                    ratios["ECE / torchmetrics"] = (
                        "expected_calibration_error",
                        "torchmetrics MulticlassCalibrationError",
                        1.0,
                    )
                _report(f"{label} ECE, {ece_proba.shape}", medians, ratios)

    if "calibrators" in args.parts:
        fitted = TemperatureScaling().fit(proba, y)
        reference = baseline.fit(proba, y).calibrated_classifiers_[0].calibrators[0]
        print(
            f"\nT: TemperatureScaling {fitted.temperature_:.6f}, scikit-learn "
            f"{1 / float(reference.beta_):.6f} (it takes log(p + eps)); "
            "FocalPosteriorRecovery gamma_ "
            f"{FocalPosteriorRecovery(gamma='fit').fit(proba, y).gamma_:.9f}"
        )
    if "memory" in args.parts:
        print("peak memory / input (tracemalloc, input float64 of the shape shown)")
        memory = {
            f"TemperatureScaling.fit {proba.shape}": (
                lambda: TemperatureScaling().fit(proba, y),
                proba.nbytes,
            ),
            f"CalibratedClassifierCV.fit {proba.shape}": (
                lambda: baseline.fit(proba, y),
                proba.nbytes,
            ),
            f"min_focal_entropy {ece_proba.shape}": (
                lambda: min_focal_entropy(ece_proba, 2.0),
                ece_proba.nbytes,
            ),
        }
        for name, (function, size) in memory.items():
            ratio = _peak(function) / size
            print(f"  {name:<44s} {ratio:6.2f}   (goal <= 2)")
    print(_load())


def _load():
    one, five, _ = os.getloadavg()
    return (
        f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
