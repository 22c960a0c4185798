"""Draw the README's figure: a reliability diagram, raw output vs Psi^gamma.

Run from the repository root::

    python docs/make_readme_figure.py

It trains a focal-loss MLP (gamma = 3) on a synthetic five-class problem
(large enough for smooth reliability curves) and writes
``docs/_static/reliability_raw_vs_psi.png``.
"""
# SPDX-License-Identifier: BSD-3-Clause

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import torch
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sklearn_focal import FocalClassifier
from sklearn_focal.datasets import make_classification_with_posteriors
from sklearn_focal.plotting import ReliabilityDisplay

OUTPUT = Path(__file__).resolve().parent / "_static" / "reliability_raw_vs_psi.png"


def main(output=OUTPUT):
    torch.set_num_threads(1)
    X, y, _ = make_classification_with_posteriors(
        20_000, 5, n_features=5, class_sep=0.6, random_state=0
    )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, train_size=5000, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    gamma = 3.0
    clf = FocalClassifier(gamma=gamma, max_epochs=40, random_state=0)
    clf.fit(X_train, y_train)

    fig, ax = plt.subplots(figsize=(5.5, 5))
    ReliabilityDisplay.from_estimator(
        clf,
        X_test,
        y_test,
        response_method="predict_raw_proba",
        name="raw softmax",
        ax=ax,
        color="tab:red",
    )
    ReliabilityDisplay.from_estimator(
        clf,
        X_test,
        y_test,
        name="Ψ (recovered)",
        ax=ax,
        color="tab:green",
    )
    ax.set_title(f"Focal-loss MLP (γ = {gamma:g}) on 15 000 test points")
    ax.legend(loc="upper left", fontsize=9)
    fig.tight_layout()
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, dpi=110)
    plt.close(fig)
    return output


if __name__ == "__main__":
    print(main())
