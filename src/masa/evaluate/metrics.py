"""Recognition metrics as the field reports them (spec §8).

P-I (per instance): accuracy over all test samples. P-C (per class): the mean over the
classes that occur in the test split of each class's accuracy — classes with no test sample
are left out, not counted as zero.
"""
from __future__ import annotations

import numpy as np


def topk_hits(scores: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """(N,) bool: the true class is among the k highest scores."""
    k = min(k, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return (top == labels[:, None]).any(axis=1)


def per_class(hits: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(C,) accuracy of each class; NaN for classes absent from `labels`."""
    count = np.bincount(labels, minlength=num_classes).astype(float)
    good = np.bincount(labels, weights=hits.astype(float), minlength=num_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, good / count, np.nan)


def confusion(scores: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(C, C) counts, rows = true class, columns = predicted class."""
    out = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(out, (labels, scores.argmax(1)), 1)
    return out


def summarise(scores: np.ndarray, labels: np.ndarray, num_classes: int | None = None) -> dict:
    """Top-1 / Top-5, per instance and per class, with sample and class counts."""
    num_classes = num_classes or scores.shape[1]
    out = {"samples": int(len(labels)), "classes_present": int(len(np.unique(labels)))}
    for k in (1, 5):
        hits = topk_hits(scores, labels, k)
        out[f"top{k}_per_instance"] = float(hits.mean()) if len(hits) else float("nan")
        out[f"top{k}_per_class"] = float(np.nanmean(per_class(hits, labels, num_classes))) if len(hits) else float("nan")
    return out


def by_label_range(scores: np.ndarray, labels: np.ndarray, groups: dict[str, tuple[int, int]]) -> dict:
    """Metrics restricted to test samples whose label lies in [lo, hi] (NMFs-CSL confusing/normal)."""
    out = {}
    for name, (lo, hi) in groups.items():
        sel = (labels >= lo) & (labels <= hi)
        out[name] = summarise(scores[sel], labels[sel], scores.shape[1])
    return out


NMFS_CSL_GROUPS = {"confusing": (0, 609), "normal": (610, 1066), "total": (0, 1066)}
