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


def top_confusions(matrix: np.ndarray, classes: list[str], n: int = 20) -> list[tuple[str, str, int]]:
    """The n largest off-diagonal counts as (true, predicted, count), largest first."""
    off = matrix.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(-off, axis=None, kind="stable")[:n]
    return [(classes[i], classes[j], int(off[i, j])) for i, j in zip(*np.unravel_index(order, off.shape)) if off[i, j] > 0]


def cluster_order(matrix: np.ndarray) -> np.ndarray:
    """An order of the classes that puts classes confused with each other next to each other:
    the Fiedler vector of the symmetric confusion graph (spectral seriation)."""
    w = (matrix + matrix.T).astype(float)
    np.fill_diagonal(w, 0)
    if w.sum() == 0:
        return np.arange(len(matrix))
    laplacian = np.diag(w.sum(1)) - w
    _, vectors = np.linalg.eigh(laplacian)
    return np.argsort(vectors[:, 1], kind="stable")


def write_confusion(path_stem: Path, matrix: np.ndarray, classes: list[str], max_shown: int = 30) -> list[tuple]:
    """PATH.csv (every class, with names), PATH_top.csv (the largest confusions: true, predicted,
    count) and PATH.png: row-normalised, classes ordered so that confusions cluster, with a
    colour bar. Above `max_shown` classes the picture keeps only the most confused classes.
    Returns the top confusions."""
    with open(path_stem.with_suffix(".csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["true \\ predicted"] + list(classes))
        for name, row in zip(classes, matrix):
            w.writerow([name] + row.tolist())
    top = top_confusions(matrix, classes)
    with open(path_stem.with_name(path_stem.name + "_top.csv"), "w", newline="") as f:
        csv.writer(f).writerows([("true", "predicted", "count"), *top])
    keep = np.arange(len(classes))
    title = "confusion (row-normalised; confused classes side by side)"
    if len(classes) > max_shown:  # a 100 x 100 grid shows nothing: keep the classes the errors are between
        off = matrix.copy()
        np.fill_diagonal(off, 0)
        keep = np.sort(np.argsort(-(off.sum(0) + off.sum(1)), kind="stable")[:max_shown])
        title = f"the {len(keep)} most confused of {len(classes)} classes (row-normalised)"
    sub = matrix[np.ix_(keep, keep)]
    order = keep[cluster_order(sub)]
    rows = matrix.sum(1, keepdims=True)[order]
    norm = np.divide(matrix[np.ix_(order, order)], rows, out=np.zeros((len(order), len(order))), where=rows > 0)
    plt = _pyplot()
    size = min(4 + 0.22 * len(order), 14)
    fig, ax = plt.subplots(figsize=(size + 1.2, size))
    image = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the true class's samples")
    names = [classes[i] for i in order]
    ax.set_xticks(range(len(order)), names, rotation=90, fontsize=7)
    ax.set_yticks(range(len(order)), names, fontsize=7)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path_stem.with_suffix(".png"), dpi=100)
    plt.close(fig)
    return top


def write_per_class(path: Path, accuracy: np.ndarray, counts: np.ndarray, classes: list[str]):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["class", "test_samples", "top1_accuracy"])
        for name, n, acc in zip(classes, counts, accuracy):
            w.writerow([name, int(n), "" if np.isnan(acc) else f"{acc:.4f}"])


def plot_curves(path: Path, series: dict[str, tuple[list, list]], title: str, ylabel: str, xlabel: str):
    """One line per name: (x values, y values)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name, (x, y) in series.items():
        ax.plot(x, y, label=name)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.set_xlabel(xlabel)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
