"""The end-to-end demo behind ``sklearn-focal demo``.

Cross-entropy and focal-loss networks on the digits dataset and on the 1-D
3-class problem of Charoenphakdee et al. (2021, Fig. 3), with their raw,
Psi-recovered, temperature-scaled and focal-temperature-scaled
probabilities compared on held-out data. The closing words are computed from
the tables: which output has the lowest test NLL per model, and whether Psi
at the training gamma helped or hurt on each dataset.
"""
# SPDX-License-Identifier: BSD-3-Clause

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sklearn_focal import theory
from sklearn_focal.datasets import make_focal_synthetic
from sklearn_focal.metrics import (
    expected_calibration_error,
    multiclass_brier_score,
    posterior_kl_divergence,
)

GAMMAS = (0.0, 1.0, 3.0)


@dataclass
class _Split:
    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_cal: np.ndarray
    y_cal: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    posterior_test: np.ndarray | None = None


def _digits_split(quick, random_state):
    X, y = load_digits(return_X_y=True)
    if quick:
        X, y = X[:600], y[:600]
    X_train, X_rest, y_train, y_rest = train_test_split(
        X, y, test_size=0.4, stratify=y, random_state=random_state
    )
    X_cal, X_test, y_cal, y_test = train_test_split(
        X_rest, y_rest, test_size=0.5, stratify=y_rest, random_state=random_state
    )
    scaler = StandardScaler().fit(X_train)
    return _Split(
        "digits",
        *(
            scaler.transform(a).astype(np.float32) if a.ndim == 2 else a
            for a in (X_train, y_train, X_cal, y_cal, X_test, y_test)
        ),
    )


def _synthetic_split(quick, random_state):
    n_train, n_cal, n_test = (600, 300, 600) if quick else (3000, 1000, 3000)
    rng = np.random.RandomState(random_state)
    X_train, y_train, _ = make_focal_synthetic(n_train, random_state=rng)
    X_cal, y_cal, _ = make_focal_synthetic(n_cal, random_state=rng)
    X_test, y_test, eta = make_focal_synthetic(n_test, random_state=rng)
    return _Split(
        "synthetic",
        X_train.astype(np.float32),
        y_train,
        X_cal.astype(np.float32),
        y_cal,
        X_test.astype(np.float32),
        y_test,
        eta,
    )


def _progress_callback(label, out):
    from skorch.callbacks import Callback

    interactive = hasattr(out, "isatty") and out.isatty()

    class EpochProgress(Callback):
        """One status line per model, rewritten every epoch."""

        def on_train_begin(self, net, **kwargs):
            self.start_ = time.perf_counter()

        def on_epoch_end(self, net, **kwargs):
            epoch = net.history[-1]
            self.line_ = (
                f"  training {label:<26} epoch {epoch['epoch']:3d}/{net.max_epochs}"
                f"  train loss {epoch['train_loss']:.4f}"
            )
            if interactive:
                out.write("\r" + self.line_)
                out.flush()

        def on_train_end(self, net, **kwargs):
            prefix = "" if interactive else self.line_
            out.write(f"{prefix}  ({time.perf_counter() - self.start_:.1f} s)\n")
            out.flush()

    return EpochProgress()


def _metrics_row(split, proba, classes):
    y = split.y_test
    row = {
        "acc": accuracy_score(y, classes[np.argmax(proba, axis=1)]),
        "NLL": log_loss(y, proba, labels=classes),
        "ECE": expected_calibration_error(y, proba, labels=classes),
        "Brier": multiclass_brier_score(y, proba, labels=classes),
    }
    if split.posterior_test is not None:
        row["KL"] = posterior_kl_divergence(split.posterior_test, proba)
    return row


def _fit_models(split, epochs, random_state, out):
    from sklearn_focal import FocalClassifier

    models = {}
    for gamma in GAMMAS:
        label = "cross-entropy" if gamma == 0 else f"focal gamma={gamma:g}"
        model = FocalClassifier(
            gamma=gamma,
            posterior="raw",
            hidden_layer_sizes=(64, 64),
            max_epochs=epochs,
            lr=3e-3,
            random_state=random_state,
            callbacks=[_progress_callback(f"{split.name}: {label}", out)],
        )
        models[label] = model.fit(split.X_train, split.y_train)
    return models


OUTPUTS = ("raw", "Psi", "TS_NLL", "FTS")
OUTPUT_TEXT = {
    "raw": "the raw output",
    "Psi": "Psi at the training gamma",
    "TS_NLL": "temperature scaling",
    "FTS": "FocalTemperatureScaling",
}


def _evaluate(split, models):
    from sklearn_focal import FocalTemperatureScaling, TemperatureScaling

    results = []
    for label, model in models.items():
        classes = model.classes_
        raw = model.predict_raw_proba(split.X_test)
        raw_cal = model.predict_raw_proba(split.X_cal)
        recovered = theory.psi(raw, model.gamma, alpha=model.alpha_)
        scaled = TemperatureScaling().fit(raw_cal, split.y_cal).transform(raw)
        joint = FocalTemperatureScaling().fit(raw_cal, split.y_cal).transform(raw)
        outputs = dict(zip(OUTPUTS, (raw, recovered, scaled, joint), strict=True))
        for output, proba in outputs.items():
            results.append((label, output, proba, _metrics_row(split, proba, classes)))
    return results


def _print_table(split_name, results, out):
    columns = ["acc", "NLL", "ECE", "Brier"]
    if any("KL" in row for *_, row in results):
        columns.append("KL")
    out.write(f"\n{split_name}: held-out test set\n")
    header = f"  {'model':<18} {'output':<7}" + "".join(f"{c:>9}" for c in columns)
    out.write(header + "\n  " + "-" * (len(header) - 2) + "\n")
    for label, output, _, row in results:
        values = "".join(f"{row[c]:9.4f}" for c in columns)
        out.write(f"  {label:<18} {output:<7}{values}\n")


def _summarize(results):
    """Per model: the NLL of each output, and what the table says."""
    nll = {}
    accuracy = {}
    for label, output, _, row in results:
        nll.setdefault(label, {})[output] = row["NLL"]
        accuracy.setdefault(label, set()).add(round(row["acc"], 12))
    focal = [label for label in nll if label != "cross-entropy"]
    return {
        "winners": {
            label: min(values, key=values.get) for label, values in nll.items()
        },
        "psi_helps": [
            label for label in focal if nll[label]["Psi"] < nll[label]["raw"]
        ],
        "psi_hurts": [
            label for label in focal if nll[label]["Psi"] > nll[label]["raw"]
        ],
        "n_focal": len(focal),
        "same_predictions": all(len(values) == 1 for values in accuracy.values()),
    }


def _print_winners(split_name, summary, out):
    out.write(f"  lowest test NLL per model ({split_name}):")
    out.write(
        "".join(f"  {label}: {output}" for label, output in summary["winners"].items())
        + "\n"
    )


def _closing_words(summaries):
    """Sentences that follow from the tables: one per dataset, then one overall."""
    lines = []
    for name, summary in summaries.items():
        n_focal = summary["n_focal"]
        helps, hurts = summary["psi_helps"], summary["psi_hurts"]
        counts = {}
        for output in summary["winners"].values():
            counts[output] = counts.get(output, 0) + 1
        best = ", ".join(
            f"{output} for {k} model{'s' if k > 1 else ''}"
            for output, k in sorted(counts.items(), key=lambda item: -item[1])
        )
        if hurts and not helps:
            psi = (
                f"Psi at the training gamma raised the test NLL of every "
                f"focal-loss network ({len(hurts)} of {n_focal}): these networks "
                "are past the focal-risk minimizer (over-fitted, over-confident), "
                "and Psi, which sharpens, makes that worse"
            )
        elif helps and not hurts:
            psi = (
                f"Psi at the training gamma lowered the test NLL of every "
                f"focal-loss network ({len(helps)} of {n_focal}): their outputs "
                "are less confident than the data support, as the focal loss "
                "makes them, and Psi sharpens them"
            )
        else:
            psi = (
                f"Psi at the training gamma lowered the test NLL of {len(helps)} "
                f"and raised it for {len(hurts)} of {n_focal} focal-loss networks"
            )
        lines.append(f"{name}: {psi}. Lowest test NLL: {best}.")
    same = all(summary["same_predictions"] for summary in summaries.values())
    if same:
        lines.append(
            "No calibrator changed a prediction: each model's accuracy is the "
            "same for all its outputs."
        )
    lines.append(
        "Where Psi at the training gamma hurts, fit the map on held-out data: "
        "FocalTemperatureScaling (temperature and focal order jointly) or "
        "FocalPosteriorRecovery(gamma='fit')."
    )
    return lines


# Reliability diagrams: bins of fewer test points than MERGE_BELOW are merged
# into a neighbour; bins of fewer than MARK_BELOW are drawn with hollow markers
# (their accuracy is uncertain: a 95% interval is about +-0.2 at 20 points).
MERGE_BELOW = 5
MARK_BELOW = 20


def _merged_bins(confidence, n_bins, min_points):
    """Uniform bin edges on [0, 1], sparse bins merged into their sparser neighbour."""
    edges = list(np.linspace(0.0, 1.0, n_bins + 1))
    while True:
        counts, _ = np.histogram(confidence, bins=edges)
        if len(counts) == 1 or counts.min() >= min_points:
            return np.array(edges), counts
        i = int(np.argmin(counts))
        if i == 0:
            j = 1
        elif i == len(counts) - 1:
            j = i - 1
        else:
            j = i - 1 if counts[i - 1] <= counts[i + 1] else i + 1
        del edges[max(i, j)]  # the edge between bins i and j


def _reliability_display(y, proba, classes, name, min_points):
    from sklearn_focal.plotting import ReliabilityDisplay

    confidence = proba.max(axis=1)
    correct = (classes[np.argmax(proba, axis=1)] == y).astype(np.float64)
    edges, counts = _merged_bins(confidence, 10, min_points)
    index = np.clip(
        np.searchsorted(edges, confidence, side="right") - 1, 0, len(counts) - 1
    )
    with np.errstate(invalid="ignore"):
        mean_confidence = np.bincount(index, confidence, len(counts)) / counts
        accuracy = np.bincount(index, correct, len(counts)) / counts
    display = ReliabilityDisplay(
        mean_confidence=mean_confidence[None],
        accuracy=accuracy[None],
        bin_weight=counts[None].astype(np.float64),
        bin_edges=edges[None],
        ece=expected_calibration_error(y, proba, labels=classes),
        kind="top_label",
        estimator_name=name,
    )
    return display, edges, counts


def reliability_figure(
    y, outputs, title, merge_below=MERGE_BELOW, mark_below=MARK_BELOW
):
    """A readable top-label reliability figure of several outputs of one model.

    The curves share one axes, each with its own line style and marker, on
    ten uniform bins, of which those with fewer than ``merge_below`` test
    points are merged into a neighbour and those with fewer than
    ``mark_below`` drawn with hollow markers; a panel below draws the points
    per bin of each output (labelled, log scale). ``outputs`` maps a name to
    its probabilities. Returns the matplotlib figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullFormatter

    styles = ("-", "--", "-.", ":")
    markers = ("o", "s", "^", "D")
    classes = np.unique(y)
    fig, (ax, hist_ax) = plt.subplots(
        2,
        1,
        figsize=(6, 7),
        sharex=True,
        gridspec_kw={"height_ratios": [3, 1.2], "hspace": 0.08},
    )
    for k, (name, proba) in enumerate(outputs.items()):
        display, edges, counts = _reliability_display(
            y, proba, classes, name, merge_below
        )
        style, marker = styles[k % len(styles)], markers[k % len(markers)]
        display.plot(ax=ax, histogram=False, linestyle=style, marker=marker)
        sparse = counts < mark_below
        ax.plot(
            display.mean_confidence[0][sparse],
            display.accuracy[0][sparse],
            linestyle="none",
            marker=marker,
            color=display.line_.get_color(),  # no step of the colour cycle
            markerfacecolor="white",
        )
        hist_ax.stairs(
            counts,
            edges,
            color=display.line_.get_color(),
            linestyle=style,
            linewidth=1.6,
            label=f"{name} ({len(counts)} bins)",
        )
    ax.set_title(
        f"{title}\n(top label, {len(y)} test points; bins of < {merge_below} "
        f"points merged, hollow: < {mark_below})"
    )
    ax.set_xlabel("")
    ax.legend(loc="upper left")
    hist_ax.set_ylabel("points per bin")
    hist_ax.set_xlabel("confidence (largest predicted probability)")
    hist_ax.set_yscale("log")
    hist_ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    hist_ax.yaxis.set_minor_formatter(NullFormatter())
    hist_ax.legend(loc="upper left", fontsize="small")
    return fig


def _plot_reliability(split, results, output_dir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    labels = list(dict.fromkeys(label for label, *_ in results))
    for label in labels:
        outputs = {
            output: proba for model, output, proba, _ in results if model == label
        }
        fig = reliability_figure(split.y_test, outputs, f"{split.name}: {label}")
        slug = label.replace(" ", "_").replace("=", "")
        path = output_dir / f"reliability_{split.name}_{slug}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        paths.append(path)
    return paths


def run_demo(*, quick=False, output_dir=None, random_state=0, out=None):
    """Train, recover, calibrate and report; return the written figure paths.

    ``out`` defaults to the ``sys.stdout`` of the call, not of the import.
    """
    if out is None:
        out = sys.stdout
    if output_dir is None:
        output_dir = Path.cwd() / time.strftime("sklearn-focal-demo-%Y%m%d-%H%M%S")
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    epochs = 5 if quick else 40
    try:
        import matplotlib  # noqa: F401

        plotting = True
    except ImportError:
        plotting = False
    start = time.perf_counter()
    figures = []
    summaries = {}
    import torch

    # The demo's networks are tiny: a second thread only adds overhead.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for make_split in (_digits_split, _synthetic_split):
            split = make_split(quick, random_state)
            out.write(
                f"\n== {split.name}: {len(split.y_train)} train / "
                f"{len(split.y_cal)} calibration / {len(split.y_test)} test rows ==\n"
            )
            models = _fit_models(split, epochs, random_state, out)
            results = _evaluate(split, models)
            _print_table(split.name, results, out)
            summaries[split.name] = _summarize(results)
            _print_winners(split.name, summaries[split.name], out)
            if plotting:
                figures += _plot_reliability(split, results, output_dir)
    finally:
        torch.set_num_threads(threads)
    out.write("\n" + "\n".join(_closing_words(summaries)) + "\n")
    if plotting:
        out.write(f"Reliability diagrams written to {output_dir}:\n")
        for path in figures:
            out.write(f"  {path.name}\n")
    else:
        out.write(
            "No reliability diagrams: matplotlib is missing "
            '(pip install "sklearn-focal[plot]").\n'
        )
    out.write(f"Total time: {time.perf_counter() - start:.1f} s\n")
    return figures
