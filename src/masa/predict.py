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
from masa.data.info import part_frames
from masa.data.sampling import sample_clip
from masa.device import pick
from masa.extras import MissingExtra
from masa.inputs import model_inputs
from masa.poses import ImportOptions, find_samples, guess_format
from masa.poses.normalise import normalise, prepare_frames


def _samples(paths, fmt, options):
    for path in map(Path, paths):
        try:
            yield from find_samples(path, fmt or guess_format(path), options)
        except MissingExtra:
            raise
        except Exception as err:  # an unreadable argument: report it, go on with the others
            yield path, err


def missing_parts(frames, trained: dict[str, float]) -> str | None:
    """A warning when the input has no joint of a part the model mostly saw in training."""
    absent = [name for name, n in part_frames(frames).items() if n == 0 and trained.get(name, 0) > 0.5]
    if not absent:
        return None
    names = " or ".join(name.replace("_", " ") for name in absent)
    shares = ", ".join(f"{name.replace('_', ' ')} in {trained[name]:.0%} of its training frames" for name in absent)
    return f"this input has no {names} joints, which the model was trained with ({shares}); expect lower accuracy"


class Predictor:
    """A released classifier with its own settings: SignPose -> clip -> top-k glosses."""

    def __init__(self, checkpoint, device: str = "auto", top_k: int = 5):
        self.device = pick(device)
        self.model, self.meta = release.load(checkpoint, self.device)
        self.classes, self.norm, self.top_k = self.meta["classes"], self.meta["normalise"], top_k

    def clip(self, sign) -> tuple[np.ndarray, str | None]:
        """A SignPose -> (clip (N, 49, 3), warning or None); ValueError when no hand is seen."""
        frames, _ = normalise(sign, self.norm)
        if len(frames) == 0:
            raise ValueError("no frame in which a hand was found")
        warning = missing_parts(frames, self.meta.get("trained_parts", {}))
        return sample_clip(prepare_frames(frames, self.norm), self.meta["num_frames"], self.meta["sampling"]), warning

    @torch.inference_mode()  # no autograd bookkeeping: ~10 % faster than no_grad for one sign
    def rank(self, clips: list[np.ndarray]) -> list[list[dict] | None]:
        """Top-k [{'gloss', 'probability'}] per clip; None where the scores are not finite."""
        x = torch.from_numpy(np.stack(clips)).to(self.device)
        probs = self.model(*model_inputs(x[..., :2], x[..., 2])).float().softmax(-1).cpu().numpy()
        return [[{"gloss": self.classes[i], "probability": float(p[i])} for i in np.argsort(-p)[: self.top_k]]
                if np.isfinite(p).all() else None for p in probs]


NOT_FINITE = "the model's class scores are not finite (NaN): a damaged model or input"


def predict_files(checkpoint, paths, fmt: str | None = None, options: ImportOptions | None = None, top_k: int = 5,
                  batch_size: int = 64, device: str = "auto") -> list[dict]:
    """-> one dict per sample: {'file', 'id', 'top': [{'gloss', 'probability'}...]} (and 'warning' when
    the input lacks a part the model was trained with) or {'file', 'error'}."""
    predictor = Predictor(checkpoint, device, top_k)
    results, pending = [], []

    def flush():
        if pending:
            for (entry, _), top in zip(pending, predictor.rank([c for _, c in pending])):
                entry.update({"top": top} if top is not None else {"error": NOT_FINITE})
            pending.clear()

    for item in _samples(paths, fmt, options or ImportOptions()):
        if isinstance(item, tuple):
            results.append({"file": str(item[0]), "error": str(item[1]).removeprefix(f"{item[0]}: ")})
            continue
        entry = {"file": str(item.path), "id": item.id}
        results.append(entry)
        try:
            clip, warning = predictor.clip(item.load())
            if warning:
                entry["warning"] = warning
            pending.append((entry, clip))
        except MissingExtra:
            raise
        except Exception as err:
            entry["error"] = str(err).removeprefix(f"{item.path}: ")  # the line starts with the file already
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
            if r.get("warning"):
                lines.append(f"  warning: {r['warning']}")
    return "\n".join(lines)
