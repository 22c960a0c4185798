"""Calibration benchmark on data no one tuned for: which calibrator to use when.

A plain script, not a test. For each dataset (digits, breast_cancer and wine
from scikit-learn, an imbalanced ``make_classification`` and
``make_focal_synthetic``), each model (FocalClassifier at gamma in
{1, 2, 3, 5}, trained to convergence and early-stopped on a validation split
of its training data; scikit-learn's MLPClassifier,
GradientBoostingClassifier, RandomForestClassifier and LogisticRegression)
and each of 5 stratified train/calibration/test splits (60/20/20), every
calibrator is fitted on the calibration part of the frozen model and scored
on the test part:

- ``raw``: the model's probabilities (a FocalClassifier's raw softmax);
- ``Psi``: FocalPosteriorRecovery(gamma="auto"), Psi at the training order
  (focal models only);
- ``signed``: FocalPosteriorRecovery(gamma="fit"), the fitted signed map;
- ``TS``: TemperatureScaling (NLL);
- ``FTS``: FocalTemperatureScaling (NLL, joint T and g);
- ``sigmoid``, ``isotonic``, ``temperature``: CalibratedClassifierCV with a
  FrozenEstimator (``temperature`` needs scikit-learn >= 1.8).

It prints, per cell (dataset, model), the mean held-out NLL of each
calibrator, the paired difference FTS - best(TS, signed) and FTS - best
CalibratedClassifierCV method (mean and standard deviation over the splits),
the mean Brier score and ECE, and the two goals:

- FTS's mean NLL within 0.5% of the best of TS and the signed map, in every
  cell;
- FTS's mean NLL at or below the best CalibratedClassifierCV method in at
  least 80% of the cells.

Run: ``python benchmarks/bench_calibration.py [--quick] [--json PATH]``.
``--quick`` runs one split, fewer models and short training (a minute or
two); the full run takes tens of minutes on one core. ``--json`` writes every
per-split score, and ``--from-json PATH`` prints the tables again from such a
file without refitting anything. ``--cache PATH`` keeps the trained models'
outputs on the calibration and test parts, and ``--from-cache PATH`` reruns
only the calibration step on them.
"""
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import json
import os
import pickle
import platform
import time
import warnings

import numpy as np
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_wine,
    make_classification,
)
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.utils.fixes import parse_version

from sklearn_focal import (
    FocalPosteriorRecovery,
    FocalTemperatureScaling,
    TemperatureScaling,
)
from sklearn_focal.datasets import make_focal_synthetic
from sklearn_focal.metrics import expected_calibration_error, multiclass_brier_score

HAS_TEMPERATURE = parse_version(sklearn.__version__) >= parse_version("1.8")
CCCV_METHODS = ("sigmoid", "isotonic") + (("temperature",) if HAS_TEMPERATURE else ())
METHODS = ("raw", "Psi", "signed", "TS", "FTS") + CCCV_METHODS


def load_datasets(quick):
    X_d, y_d = load_digits(return_X_y=True)
    X_b, y_b = load_breast_cancer(return_X_y=True)
    X_w, y_w = load_wine(return_X_y=True)
    X_i, y_i = make_classification(
        n_samples=1500 if quick else 3000,
        n_features=20,
        n_informative=6,
        n_redundant=2,
        n_classes=3,
        weights=[0.85, 0.10, 0.05],
        flip_y=0.02,
        random_state=0,
    )
    X_s, y_s, _ = make_focal_synthetic(1500 if quick else 3000, random_state=0)
    return {
        "digits": (X_d, y_d),
        "breast_cancer": (X_b, y_b),
        "wine": (X_w, y_w),
        "imbalanced": (X_i, y_i),
        "focal_synthetic": (X_s, y_s),
    }


def _quiet(*args):
    """EarlyStopping's sink: the benchmark prints its own progress."""


def make_models(quick, seed):
    from skorch.callbacks import EarlyStopping
    from skorch.dataset import ValidSplit

    from sklearn_focal import FocalClassifier

    epochs = 40 if quick else 100
    gammas = (1.0, 3.0) if quick else (1.0, 2.0, 3.0, 5.0)
    models = {}
    for gamma in gammas:
        common = dict(
            gamma=gamma,
            posterior="raw",
            hidden_layer_sizes=(64, 64),
            lr=3e-3,
            max_epochs=epochs,
            random_state=seed,
        )
        models[f"focal{gamma:g}"] = FocalClassifier(**common)
        models[f"focal{gamma:g}-es"] = FocalClassifier(
            **common,
            train_split=ValidSplit(0.2, stratified=True, random_state=seed),
            callbacks=[EarlyStopping(patience=10, load_best=True, sink=_quiet)],
        )
    models["MLP"] = MLPClassifier(
        hidden_layer_sizes=(64, 64), max_iter=60 if quick else 500, random_state=seed
    )
    if not quick:
        models["GBC"] = GradientBoostingClassifier(random_state=seed)
    models["RF"] = RandomForestClassifier(n_estimators=200, random_state=seed)
    models["LR"] = LogisticRegression(max_iter=5000)
    return models


def split(X, y, seed):
    X_train, X_rest, y_train, y_rest = train_test_split(
        X, y, test_size=0.4, stratify=y, random_state=seed
    )
    X_cal, X_test, y_cal, y_test = train_test_split(
        X_rest, y_rest, test_size=0.5, stratify=y_rest, random_state=seed
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_cal, X_test = (
        scaler.transform(a).astype(np.float32) for a in (X_train, X_cal, X_test)
    )
    return X_train, y_train, X_cal, y_cal, X_test, y_test


def calibrators(model_name):
    out = {}
    if model_name.startswith("focal"):
        out["Psi"] = lambda m: FocalPosteriorRecovery(m, gamma="auto")
    out["signed"] = lambda m: FocalPosteriorRecovery(m, gamma="fit")
    out["TS"] = lambda m: TemperatureScaling(m)
    out["FTS"] = lambda m: FocalTemperatureScaling(m)
    for method in CCCV_METHODS:
        out[method] = lambda m, method=method: CalibratedClassifierCV(m, method=method)
    return out


def scores(y, proba, classes):
    return (
        float(log_loss(y, proba, labels=classes)),
        float(multiclass_brier_score(y, proba, labels=classes)),
        float(expected_calibration_error(y, proba, labels=classes)),
    )


class StoredModel(ClassifierMixin, BaseEstimator):
    """A trained model's stored probabilities, looked up by row number.

    ``X`` holds one column: the row's index into the stored outputs. The
    calibrators see a fitted classifier (``classes_``, ``predict_proba``,
    and ``gamma_`` for a focal model, which ``gamma="auto"`` reads), so the
    slow training runs once and the calibration step can be rerun alone
    (``--from-cache``). It has no ``decision_function``: every calibrator,
    CalibratedClassifierCV included, reads the same probabilities.
    """

    def __init__(self, proba=None, classes=None, gamma=None):
        self.proba = proba
        self.classes = classes
        self.gamma = gamma

    def fit(self, X=None, y=None):
        self.classes_ = np.asarray(self.classes)
        if self.gamma is not None:
            self.gamma_ = self.gamma
        return self

    def predict_proba(self, X):
        return self.proba[np.asarray(X, dtype=np.intp)[:, 0]]

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def train(args):
    """Fit every model on every split; return their cal and test outputs."""
    import torch

    torch.set_num_threads(1)
    outputs = []
    n_splits = 1 if args.quick else args.splits
    datasets = load_datasets(args.quick)
    start = time.perf_counter()
    for data_name, (X, y) in datasets.items():
        for seed in range(n_splits):
            X_train, y_train, X_cal, y_cal, X_test, y_test = split(X, y, seed)
            for model_name, model in make_models(args.quick, seed).items():
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model.fit(X_train, y_train)
                fit_s = time.perf_counter() - t0
                outputs.append(
                    {
                        "dataset": data_name,
                        "model": model_name,
                        "split": seed,
                        "fit_s": fit_s,
                        "classes": model.classes_,
                        "gamma": getattr(model, "gamma_", None),
                        "proba_cal": model.predict_proba(X_cal).astype(np.float64),
                        "proba_test": model.predict_proba(X_test).astype(np.float64),
                        "y_cal": y_cal,
                        "y_test": y_test,
                    }
                )
                print(
                    f"  trained {data_name:<15} split {seed} {model_name:<10} "
                    f"in {fit_s:5.1f} s",
                    flush=True,
                )
    print(f"training: {time.perf_counter() - start:.0f} s", flush=True)
    return outputs


def calibrate(outputs):
    """Fit every calibrator on the stored calibration outputs; score on test."""
    records = []
    start = time.perf_counter()
    for out in outputs:
        proba = np.vstack([out["proba_cal"], out["proba_test"]])
        proba /= proba.sum(axis=1, keepdims=True)  # float32 outputs, in float64
        n_cal = len(out["y_cal"])
        rows_cal = np.arange(n_cal)[:, None]
        rows_test = np.arange(n_cal, len(proba))[:, None]
        model = StoredModel(proba, out["classes"], out["gamma"]).fit()
        frozen = FrozenEstimator(model)
        classes, y_test = model.classes_, out["y_test"]
        row = {"raw": scores(y_test, model.predict_proba(rows_test), classes)}
        for method, make in calibrators(out["model"]).items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cal = make(frozen).fit(rows_cal, out["y_cal"])
            row[method] = scores(y_test, cal.predict_proba(rows_test), classes)
        records.append(
            {
                "dataset": out["dataset"],
                "model": out["model"],
                "split": out["split"],
                "fit_s": out["fit_s"],
                "scores": row,
            }
        )
    print(f"calibration: {time.perf_counter() - start:.0f} s")
    return records


def sd(values):
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def cells(records):
    table = {}
    for r in records:
        table.setdefault((r["dataset"], r["model"]), []).append(r["scores"])
    return table


def report(records):
    table = cells(records)
    methods = [m for m in METHODS if any(m in s for v in table.values() for s in v)]
    short = {"temperature": "temp", "isotonic": "iso", "sigmoid": "sigm"}

    def head(title):
        names = "".join(f"{short.get(m, m):>8}" for m in methods)
        print(f"\n{title}\n  {'dataset':<15} {'model':<10}{names}")

    for index, metric in enumerate(("NLL", "Brier", "ECE")):
        head(f"Mean held-out {metric} over the splits (lower is better)")
        for (data, model), runs in table.items():
            cols = ""
            for m in methods:
                vals = [s[m][index] for s in runs if m in s]
                cols += f"{np.mean(vals):8.4f}" if vals else f"{'-':>8}"
            print(f"  {data:<15} {model:<10}{cols}")

    print(
        "\nPaired NLL differences over the splits (mean +- sd): FTS - best of "
        "(TS, signed), and FTS - best CalibratedClassifierCV method; winner per "
        "cell by mean NLL"
    )
    print(
        f"  {'dataset':<15} {'model':<10} {'FTS-best1D':>20} {'rel':>7} "
        f"{'FTS-bestCCCV':>20} {'best CCCV':>9} {'winner':>8}"
    )
    goal1 = goal2 = 0
    wins = {}
    for (data, model), runs in table.items():
        mean = {m: np.mean([s[m][0] for s in runs]) for m in methods if m in runs[0]}
        fts = np.array([s["FTS"][0] for s in runs])
        one_d = min(("TS", "signed"), key=lambda m: mean[m])
        cccv = min(CCCV_METHODS, key=lambda m: mean[m])
        d1 = fts - np.array([s[one_d][0] for s in runs])
        d2 = fts - np.array([s[cccv][0] for s in runs])
        rel = mean["FTS"] / mean[one_d] - 1.0
        ok1 = mean["FTS"] <= 1.005 * mean[one_d]
        ok2 = mean["FTS"] <= mean[cccv]
        goal1 += ok1
        goal2 += ok2
        winner = min(mean, key=mean.get)
        wins[winner] = wins.get(winner, 0) + 1
        print(
            f"  {data:<15} {model:<10} {d1.mean():+9.4f} +- {sd(d1):.4f}"
            f" {100 * rel:+6.2f}% {d2.mean():+9.4f} +- {sd(d2):.4f}"
            f" {short.get(cccv, cccv):>9} {short.get(winner, winner):>8}"
            f"{'' if ok1 else '  <- goal 1 missed'}"
        )
    n = len(table)
    print(
        f"\nGoal 1 (FTS mean NLL within 0.5% of best of TS and signed map): "
        f"{goal1}/{n} cells -> {'met' if goal1 == n else 'NOT met'}"
    )
    print(
        f"Goal 2 (FTS mean NLL <= best CalibratedClassifierCV method in >= 80% "
        f"of cells): {goal2}/{n} = {100 * goal2 / n:.0f}% -> "
        f"{'met' if goal2 >= 0.8 * n else 'NOT met'}"
    )
    print(
        "Cells won (lowest mean NLL): "
        + ", ".join(f"{m} {k}" for m, k in sorted(wins.items(), key=lambda t: -t[1]))
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--json", help="write the per-split scores here")
    parser.add_argument("--from-json", help="report from a file written by --json")
    parser.add_argument("--cache", help="pickle the trained models' outputs here")
    parser.add_argument(
        "--from-cache", help="calibrate the outputs pickled by --cache (no training)"
    )
    args = parser.parse_args()
    if args.from_json:
        with open(args.from_json) as f:
            records = json.load(f)
    else:
        print(
            f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
            f"scikit-learn {sklearn.__version__}, numpy {np.__version__}; "
            f"{'quick' if args.quick else 'full'} run"
        )
        if args.from_cache:
            with open(args.from_cache, "rb") as f:
                outputs = pickle.load(f)
        else:
            outputs = train(args)
            if args.cache:
                with open(args.cache, "wb") as f:
                    pickle.dump(outputs, f)
        records = calibrate(outputs)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(records, f)
    report(records)


if __name__ == "__main__":
    main()
