"""`masa data import`: samples -> normalised frames -> a packed store, never dying on one
bad sample.

Each sample that cannot be used (unreadable file, NaN, wrong shape, no frames, no
detected joint, no hand in any frame, unknown label, duplicate id) is skipped and
reported with its file and the reason; `strict=True` stops at the first one instead.
Either way no half-written store appears under the output name.
"""
from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Iterable

from tqdm import tqdm

from masa.config import NormaliseConfig
from masa.data.store import StoreWriter
from masa.poses.labels import LabelTable
from masa.poses.normalise import normalise
from masa.poses.source import SampleSource

log = logging.getLogger(__name__)


class ImportFailed(RuntimeError):
    pass


@dataclasses.dataclass
class Skip:
    id: str
    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: sample {self.id}: {self.reason}"


def import_samples(
    sources: Iterable[SampleSource],
    out: Path | str,
    norm: NormaliseConfig,
    labels: LabelTable | None = None,
    strict: bool = False,
    overwrite: bool = False,
    meta: dict | None = None,
    progress: bool = True,
) -> dict:
    """Write the store at `out`; return the import report (also saved in the store)."""
    meta = dict(meta or {})
    meta["normalise"] = dataclasses.asdict(norm)
    meta["classes"] = list(labels.classes) if labels else []
    writer = StoreWriter(out, meta, overwrite=overwrite)
    skipped: list[Skip] = []
    estimated = 0
    matched: set[str] = set()
    try:
        for src in tqdm(sources, desc="import", unit=" samples", disable=None if progress else True):
            reason, label, split, signer = None, -1, "", ""
            if src.id in writer:
                reason = "duplicate sample id"
            elif labels is not None:
                key = labels.match(src.id)
                if key is None:
                    unknown = labels.unknown_label(src.id)
                    reason = f"unknown label {unknown!r}" if unknown is not None else "not listed in the label files"
                else:
                    ann = labels.entries[key]
                    label, split, signer = ann.label, ann.split or "", ann.signer or ""
                    matched.add(key)
            if reason is None:
                try:
                    pose = src.load()
                    frames, _ = normalise(pose, norm)
                    if len(frames) == 0:
                        reason = "no frame in which a hand was found"
                    else:
                        estimated += bool(pose.meta.get("image_size_estimated"))
                        writer.add(src.id, frames, label, split, signer, str(src.path))
                except Exception as err:  # one bad sample must not stop the import
                    reason = str(err) or type(err).__name__
                    log.debug("sample %s failed", src.id, exc_info=True)
            if reason is not None:
                skip = Skip(src.id, str(src.path), reason)
                if strict:
                    raise ImportFailed(f"{skip} (strict import: nothing written)")
                skipped.append(skip)
                log.warning("skipped %s", skip)
        listed = len(labels.entries) if labels else 0
        report = {
            "imported": len(writer.rows),
            "skipped": [dataclasses.asdict(s) for s in skipped],
            "labelled_but_not_found": max(listed - len(matched), 0),
            "image_size_estimated": estimated,
        }
        writer.close(report)
    except BaseException:
        writer.abort()
        raise
    return report
