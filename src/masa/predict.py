"""`masa predict`: pose files in, the most likely glosses out.

Any file an importer reads (a folder is read in batch). Each sample is normalised with the
model's own settings, centre-sampled to its frame count and classified; a file that cannot
be read gets an error line instead of stopping the rest.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from masa import release
from masa.data.sampling import sample_clip
from masa.evaluate.scores import batch_inputs
from masa.poses import ImportOptions, find_samples, guess_format
from masa.poses.normalise import normalise, prepare_frames
from masa.train.distributed import setup


def _samples(paths, fmt, options):
    for path in map(Path, paths):
        try:
            yield from find_samples(path, fmt or guess_format(path), options)
        except Exception as err:  # an unreadable argument: report it, go on with the others
            yield path, err


@torch.inference_mode()  # no autograd bookkeeping: ~10 % faster than no_grad for one sign
def predict_files(checkpoint, paths, fmt: str | None = None, options: ImportOptions | None = None, top_k: int = 5,
                  batch_size: int = 64, device: str = "auto") -> list[dict]:
    """-> one dict per sample: {'file', 'id', 'top': [{'gloss', 'probability'}...]} or {'file', 'error'}."""
    dev, _, _ = setup(device)
    model, meta = release.load(checkpoint, dev)
    classes, norm = meta["classes"], meta["normalise"]
    results, pending = [], []

    def flush():
        if not pending:
            return
        clips = torch.from_numpy(np.stack([c for _, c in pending]))
        xy, present, valid = batch_inputs({"xy": clips[..., :2], "conf": clips[..., 2]}, dev)
        probs = model(xy, present, valid).float().softmax(-1).cpu().numpy()
        for (entry, _), p in zip(pending, probs):
            if not np.isfinite(p).all():  # never rank NaN
                entry["error"] = "the model's class scores are not finite (NaN): a damaged model or input"
                continue
            best = np.argsort(-p)[:top_k]
            entry["top"] = [{"gloss": classes[i], "probability": float(p[i])} for i in best]
        pending.clear()

    for item in _samples(paths, fmt, options or ImportOptions()):
        if isinstance(item, tuple):
            results.append({"file": str(item[0]), "error": str(item[1])})
            continue
        entry = {"file": str(item.path), "id": item.id}
        results.append(entry)
        try:
            frames, _ = normalise(item.load(), norm)
            if len(frames) == 0:
                raise ValueError("no frame in which a hand was found")
            pending.append((entry, sample_clip(prepare_frames(frames, norm), meta["num_frames"], meta["sampling"])))
        except Exception as err:
            entry["error"] = str(err)
        if len(pending) >= batch_size:
            flush()
    flush()
    return results


def format_predictions(results: list[dict]) -> str:
    lines = []
    for r in results:
        if "error" in r:
            lines.append(f"{r['file']}: error: {r['error']}")
        else:
            lines.append(f"{r['file']}: " + ", ".join(f"{t['gloss']} {t['probability']:.1%}" for t in r["top"]))
    return "\n".join(lines)
