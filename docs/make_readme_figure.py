"""Draw the README's figure: a reliability diagram on digits, raw output vs Psi^gamma.

Run from the repository root::

    python docs/make_readme_figure.py

It trains the README's first snippet's model (a focal-loss MLP, gamma = 2, on
scikit-learn's digits), draws its raw softmax and its recovered posterior on
the held-out quarter of the data with the demo's readable reliability figure
(bins of fewer than 5 points merged, of fewer than 20 hollow, points
per bin below), prints the test NLL and ECE of
both, and writes ``docs/_static/reliability_raw_vs_psi.png``.
"""
# SPDX-License-Identifier: BSD-3-Clause

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import torch
from sklearn.datasets import load_digits
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split

from sklearn_focal import FocalClassifier
from sklearn_focal.cli._demo import reliability_figure
from sklearn_focal.metrics import expected_calibration_error

OUTPUT = Path(__file__).resolve().parent / "_static" / "reliability_raw_vs_psi.png"


def main(output=OUTPUT):
    torch.set_num_threads(1)
    # The README's first snippet, line for line.
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    clf = FocalClassifier(gamma=2.0, max_epochs=100, random_state=0)
    clf.fit(X_train, y_train)
    outputs = {
        "raw softmax q": clf.predict_raw_proba(X_test),
        "Ψ(q), recovered": clf.predict_proba(X_test),
    }
    for name, proba in outputs.items():
        print(
            f"{name}: test NLL {log_loss(y_test, proba):.4f}, "
            f"ECE {expected_calibration_error(y_test, proba):.4f}"
        )
    fig = reliability_figure(y_test, outputs, "Focal-loss MLP (γ = 2) on digits")
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return output


if __name__ == "__main__":
    print(main())
