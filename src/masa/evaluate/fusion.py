"""`masa fuse`: late score fusion of two models, the paper's "Ours (+R)" (spec §7.4).

fused = w * p_A + (1 - w) * p_B on class probabilities (logits are turned into
probabilities by a softmax), with w chosen on the validation split by Top-1 (ties go to the
w nearest 0.5), then reported on the test split with the same metrics as `masa evaluate`.

Score files: scores.npz from `masa evaluate` (ids, labels, scores); a CSV with a header
`id[,label],<one column per class>`; or a bare .npy matrix whose rows follow the other
file's sample order.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from masa.evaluate import metrics


@dataclass
class Scores:
    ids: np.ndarray | None
    labels: np.ndarray | None
    probs: np.ndarray


def as_probabilities(s: np.ndarray) -> np.ndarray:
    s = np.asarray(s, np.float64)
    if (s >= 0).all() and np.allclose(s.sum(1), 1.0, atol=1e-3):
        return s
    e = np.exp(s - s.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def read_scores(path: Path | str) -> Scores:
    path = Path(path)
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:
            return Scores(z["ids"].astype(str), z["labels"] if "labels" in z else None, as_probabilities(z["scores"]))
    if path.suffix == ".npy":
        return Scores(None, None, as_probabilities(np.load(path, allow_pickle=False)))
    if path.suffix == ".csv":
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
        head, body = rows[0], rows[1:]
        has_label = len(head) > 1 and head[1].strip().lower() == "label"
        first = 2 if has_label else 1
        return Scores(np.array([r[0] for r in body]), np.array([int(r[1]) for r in body]) if has_label else None,
                      as_probabilities(np.array([[float(v) for v in r[first:]] for r in body])))
    raise ValueError(f"{path}: scores must be .npz (masa evaluate), .csv or .npy")


def align(a: Scores, b: Scores, where: str) -> tuple[Scores, Scores]:
    """Put b's rows in a's sample order (by id; a bare .npy is taken as already aligned)."""
    if a.probs.shape[1] != b.probs.shape[1]:
        raise ValueError(f"{where}: the two score files have {a.probs.shape[1]} and {b.probs.shape[1]} classes")
    if a.ids is None or b.ids is None:
        if len(a.probs) != len(b.probs):
            raise ValueError(f"{where}: {len(a.probs)} and {len(b.probs)} rows, and no ids to align them")
        ids = a.ids if a.ids is not None else b.ids
        return Scores(ids, a.labels if a.labels is not None else b.labels, a.probs), Scores(ids, b.labels, b.probs)
    pos = {sid: i for i, sid in enumerate(b.ids)}
    missing = [sid for sid in a.ids if sid not in pos]
    if missing:
        raise ValueError(f"{where}: {len(missing)} samples have no score in the second file, e.g. {missing[:3]}")
    order = np.array([pos[sid] for sid in a.ids])
    return a, Scores(a.ids, b.labels[order] if b.labels is not None else None, b.probs[order])


def choose_weight(a: np.ndarray, b: np.ndarray, labels: np.ndarray, steps: int = 21) -> tuple[float, float]:
    """-> (w, validation top-1) maximising Top-1 of w a + (1 - w) b over an even grid."""
    best = (-1.0, 0.5)
    for w in np.linspace(0.0, 1.0, steps):
        acc = float(((w * a + (1 - w) * b).argmax(1) == labels).mean())
        if acc > best[0] + 1e-12 or (abs(acc - best[0]) <= 1e-12 and abs(w - 0.5) < abs(best[1] - 0.5)):
            best = (acc, float(w))
    return best[1], best[0]


def fuse(val: tuple[str, str], test: tuple[str, str], steps: int = 21) -> dict:
    va, vb = align(read_scores(val[0]), read_scores(val[1]), "validation")
    ta, tb = align(read_scores(test[0]), read_scores(test[1]), "test")
    for name, s in (("validation", va), ("test", ta)):
        if s.labels is None:
            raise ValueError(f"{name}: neither score file carries labels (use scores.npz from masa evaluate)")
    w, val_top1 = choose_weight(va.probs, vb.probs, va.labels, steps)
    fused = w * ta.probs + (1 - w) * tb.probs
    return {"weight_a": w, "val_top1": val_top1, "test": metrics.summarise(fused, ta.labels),
            "test_a": metrics.summarise(ta.probs, ta.labels), "test_b": metrics.summarise(tb.probs, ta.labels)}
