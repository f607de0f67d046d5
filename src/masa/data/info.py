"""`masa data info`: what is in a store."""
from __future__ import annotations

from collections import Counter

import numpy as np
import torch

from masa.data.store import PoseStore
from masa.inputs import part_presence
from masa.skeleton import PARTS


def parts_present(frames: np.ndarray) -> np.ndarray:
    """(T, 49, 3) -> (T, 3) bool: whether right hand, left hand, body (skeleton.PARTS order) have
    a detected joint; the same rule as the model's part presence."""
    return part_presence(torch.from_numpy(np.ascontiguousarray(frames[..., 2]))).numpy()


def frame_presence(store: PoseStore, rows: np.ndarray | None = None, chunk: int = 1 << 18) -> np.ndarray:
    """parts_present over the store's frames `rows` (default: all), (F, 3) bool, read in chunks:
    a large store does not fit in memory."""
    frames = store.frames
    n = len(frames) if rows is None else len(rows)
    pick = (lambda i: frames[i : i + chunk]) if rows is None else (lambda i: frames[rows[i : i + chunk]])
    return np.concatenate([parts_present(pick(i)) for i in range(0, n, chunk)] or [np.zeros((0, len(PARTS)), bool)])


def part_frames(frames: np.ndarray) -> dict[str, int]:
    """(T, 49, 3) -> {part: frames in which it has a detected joint}."""
    return dict(zip(PARTS, parts_present(frames).sum(0).tolist()))


def part_shares(store: PoseStore, idx) -> dict[str, float]:
    """The share of the samples' frames in which each part (right_hand, left_hand, body) was
    detected: what a model trained on them expects to see."""
    lengths = store.lengths[idx]
    rows = np.repeat(store.offsets[idx] - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
    seen = frame_presence(store, rows).sum(0)  # only the samples' frames are read
    return {name: round(int(n) / max(len(rows), 1), 4) for name, n in zip(PARTS, seen)}


def summarise(store: PoseStore) -> dict:
    """Counts per split and class, length statistics and missing-hand ratios."""
    present = frame_presence(store)
    right, left = int(present[:, 0].sum()), int(present[:, 1].sum())
    either = int((present[:, 0] | present[:, 1]).sum())
    frames = store.frames
    n = max(len(frames), 1)
    lengths = store.lengths
    per_split = Counter(s or "(none)" for s in store.splits)
    per_class: dict[str, Counter] = {}
    for label, split in zip(store.labels, store.splits):
        name = store.classes[label] if 0 <= label < len(store.classes) else "(unlabelled)"
        per_class.setdefault(name, Counter())[split or "(none)"] += 1
    return {
        "path": str(store.path),
        "samples": len(store),
        "frames": int(len(frames)),
        "classes": len(store.classes),
        "classes_with_samples": len({int(v) for v in store.labels if 0 <= v < len(store.classes)}),
        "per_split": dict(per_split),
        "per_class": {k: dict(v) for k, v in sorted(per_class.items())},
        "length": {
            "min": int(lengths.min()) if len(lengths) else 0, "mean": float(lengths.mean()) if len(lengths) else 0.0,
            "median": float(np.median(lengths)) if len(lengths) else 0.0, "max": int(lengths.max()) if len(lengths) else 0,
        },
        "missing": {
            "right_hand": 1 - right / n, "left_hand": 1 - left / n, "both_hands": 1 - either / n,
        },
        "normalise": store.meta.get("normalise", {}),
    }


def format_summary(s: dict, max_classes: int = 30) -> str:
    lines = [
        f"store    {s['path']}",
        f"samples  {s['samples']}   frames {s['frames']}   classes {s['classes_with_samples']} with samples"
        + (f" (of {s['classes']} named)" if s["classes"] != s["classes_with_samples"] else ""),
        "splits   " + "   ".join(f"{k} {v}" for k, v in sorted(s["per_split"].items())),
        "length   min {min}  mean {mean:.1f}  median {median:.0f}  max {max}".format(**s["length"]),
        "missing  right hand {right_hand:.1%}  left hand {left_hand:.1%}  both {both_hands:.1%} of frames".format(**s["missing"]),
    ]
    if s["per_class"]:
        lines.append("per class (split counts):")
        for i, (name, counts) in enumerate(s["per_class"].items()):
            if i == max_classes:
                lines.append(f"  ... {len(s['per_class']) - max_classes} more (--all to list them)")
                break
            lines.append(f"  {name:<24} " + "  ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return "\n".join(lines)
