"""`masa evaluate`: a released classifier on one split of a store.

Writes metrics.json (Top-1/Top-5 per instance and per class, counts, optional label-range
groups, the largest confusions), scores.npz (ids, labels, class probabilities: the input of
`masa fuse`), confusion.csv/.png, confusion_top.csv and per_class.csv beside it.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from torch.utils.data import DataLoader

from masa import release
from masa.data.dataset import ClipDataset, collate_clips
from masa.data.store import PoseStore
from masa.evaluate import metrics, report
from masa.evaluate.scores import predict
from masa.device import pick


def evaluate(checkpoint: Path | str, data: Path | str, split: str, out: Path | str, clips: int = 1,
             groups: dict[str, tuple[int, int]] | None = None, batch_size: int = 64, device: str = "auto",
             progress: bool = True) -> dict:
    dev = pick(device)
    model, meta = release.load(checkpoint, dev)
    store = PoseStore(data)
    if store.classes and store.classes != meta["classes"]:
        raise ValueError(f"{data} names {len(store.classes)} classes that differ from the model's {len(meta['classes'])}")
    idx = store.labelled(split)
    if len(idx) == 0:
        raise ValueError(f"{data} has no labelled samples in split {split!r}")
    scores, labels = score_samples(model, meta, store, idx, clips, batch_size, dev, progress)
    classes = meta["classes"]
    result = {"checkpoint": str(checkpoint), "data": str(data), "split": split, "clips": clips,
              **metrics.summarise(scores, labels, len(classes))}
    if groups:
        result["groups"] = metrics.by_label_range(scores, labels, groups)
    out = Path(out)
    folder = out.parent if out.suffix == ".json" else out
    folder.mkdir(parents=True, exist_ok=True)
    top = report.write_confusion(folder / "confusion", metrics.confusion(scores, labels, len(classes)), classes)
    result["top_confusions"] = [{"true": t, "predicted": p, "count": n} for t, p, n in top[:10]]
    metrics_file = out if out.suffix == ".json" else out / "metrics.json"
    metrics_file.write_text(json.dumps(result, indent=2))
    np.savez(folder / "scores.npz", ids=np.array([store.ids[i] for i in idx]), labels=labels, scores=scores,
             classes=np.array(classes))
    hits = metrics.topk_hits(scores, labels, 1)
    report.write_per_class(folder / "per_class.csv", metrics.per_class(hits, labels, len(classes)),
                           np.bincount(labels, minlength=len(classes)), classes)
    return result


def score_samples(model, meta: dict, store: PoseStore, idx, clips: int = 1, batch_size: int = 64, device="cpu",
                  progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Class scores (N, C) and labels (N,) of the samples `idx`, sampled as the release `meta`
    says; a sample with a non-finite score is refused, named."""
    dataset = ClipDataset(store, idx, meta["normalise"], meta["num_frames"], meta["sampling"], clips=clips)
    scores, labels = predict(model, DataLoader(dataset, batch_size=batch_size, collate_fn=collate_clips), device, progress)
    refuse_non_finite(store, idx, ~np.isfinite(scores).all(axis=1))
    return scores, labels


def refuse_non_finite(store: PoseStore, idx, bad) -> None:
    """NaN must never be ranked into a top-1: name the samples and stop. `predict` gives a
    sample with non-finite frames NaN scores, so one check covers inputs and model."""
    bad = np.flatnonzero(bad)
    if len(bad):
        ids = ", ".join(store.ids[idx[k]] for k in bad[:5])
        raise ValueError(f"{store.path}: {len(bad)} of {len(idx)} samples have non-finite frames or class scores (NaN or inf), "
                         f"e.g. {ids}; nothing was scored (re-import the data, or check the model)")


def format_metrics(m: dict) -> str:
    lines = [f"{m['split']}: {m['samples']} samples, {m['classes_present']} classes present",
             "  per instance  top-1 {top1_per_instance:.2%}  top-5 {top5_per_instance:.2%}".format(**m),
             "  per class     top-1 {top1_per_class:.2%}  top-5 {top5_per_class:.2%}".format(**m)]
    for name, g in m.get("groups", {}).items():
        lines.append(f"  {name:<12}  top-1 {g['top1_per_instance']:.2%}  top-5 {g['top5_per_instance']:.2%}  ({g['samples']} samples)")
    return "\n".join(lines)
