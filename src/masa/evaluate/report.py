"""Files people look at: the confusion matrix as CSV and PNG, per-class accuracies, curves."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_confusion(path_stem: Path, matrix: np.ndarray, classes: list[str], max_labels: int = 60):
    """PATH.csv (with class names) and PATH.png (row-normalised)."""
    with open(path_stem.with_suffix(".csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["true \\ predicted"] + list(classes))
        for name, row in zip(classes, matrix):
            w.writerow([name] + row.tolist())
    plt = _pyplot()
    rows = matrix.sum(1, keepdims=True)
    norm = np.divide(matrix, rows, out=np.zeros(matrix.shape, float), where=rows > 0)
    size = min(4 + 0.18 * len(classes), 20)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    if len(classes) <= max_labels:
        ax.set_xticks(range(len(classes)), classes, rotation=90, fontsize=7)
        ax.set_yticks(range(len(classes)), classes, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("confusion (row-normalised)")
    fig.tight_layout()
    fig.savefig(path_stem.with_suffix(".png"), dpi=100)
    plt.close(fig)


def write_per_class(path: Path, accuracy: np.ndarray, counts: np.ndarray, classes: list[str]):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["class", "test_samples", "top1_accuracy"])
        for name, n, acc in zip(classes, counts, accuracy):
            w.writerow([name, int(n), "" if np.isnan(acc) else f"{acc:.4f}"])


def plot_curves(path: Path, series: dict[str, tuple[list, list]], title: str, ylabel: str):
    """One line per name: (x values, y values)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name, (x, y) in series.items():
        ax.plot(x, y, label=name)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
