"""`masa data import`: samples -> normalised frames -> a packed store, never dying on one
bad sample.

Each sample that cannot be used (unreadable file, NaN, wrong shape, no frames, no
detected joint, no hand in any frame, unknown label, duplicate id) is skipped and
reported with its file and the reason; `strict=True` stops at the first one instead.
Either way no half-written store appears under the output name.
"""
from __future__ import annotations

import dataclasses
import errno
import logging
import os
from collections import Counter
from pathlib import Path
from typing import Iterable

from tqdm import tqdm

from masa.config import NormaliseConfig
from masa.data.store import StoreWriter
from masa.extras import MissingExtra
from masa.poses.labels import LabelTable
from masa.poses.normalise import normalise
from masa.poses.source import SampleSource
from masa.skeleton import LEFT_HAND, RIGHT_HAND

log = logging.getLogger(__name__)
HANDS = slice(RIGHT_HAND.start, LEFT_HAND.stop)  # both hands' joints, contiguous


class ImportFailed(RuntimeError):
    pass


@dataclasses.dataclass
class Skip:
    id: str
    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: sample {self.id}: {self.reason}"


def printable(text: str | Path) -> str:
    """A file name as it can be printed and written to UTF-8 files: bytes that are not valid
    UTF-8 (kept by Python as surrogates) are shown as \\xNN escapes."""
    return os.fsencode(str(text)).decode("utf-8", "backslashreplace")


def refuse_unsafe_out(src: Path | str, out: Path | str):
    """`--out` must not be the source folder, inside it, or around it: replacing the store
    (--overwrite) would then delete the user's poses."""
    s, o = Path(src).resolve(), Path(out).resolve()
    if o == s or s in o.parents or o in s.parents:
        relation = "is" if o == s else "is inside" if s in o.parents else "contains"
        raise ValueError(f"--out {out} {relation} the source {src}: choose an output folder outside the source")


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
    """Write the store at `out`; return the import report (also saved in the store).
    Importing nothing raises ImportFailed saying why, and writes no store."""
    sources = list(sources)  # handles only: nothing is read yet
    if not sources:
        raise ImportFailed("found no samples to import")
    meta = dict(meta or {})
    meta["normalise"] = dataclasses.asdict(norm)
    meta["classes"] = list(labels.classes) if labels else []
    ambiguous = ambiguous_matches(sources, labels) if labels is not None else {}
    writer = StoreWriter(out, meta, overwrite=overwrite)
    skipped: list[Skip] = []
    counts = {"image_size_estimated": 0, "normalised_without_size": 0, "no_hand_detected": 0, "single_frame": 0,
              "outside_image": 0}
    matched: set[str] = set()
    try:
        for src in tqdm(sources, desc="import", unit=" samples", disable=None if progress else True):
            reason, label, split, signer = None, -1, "", ""
            if printable(src.path) != str(src.path):  # the id is part of the path
                reason = "the file name is not valid UTF-8; rename the file"
            elif src.id in writer:
                reason = "duplicate sample id"
            elif src.id in ambiguous:
                reason = ambiguous[src.id]
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
                        writer.add(src.id, frames, label, split, signer, str(src.path))
                        estimated = bool(pose.meta.get("image_size_estimated"))
                        counts["image_size_estimated"] += estimated
                        counts["normalised_without_size"] += bool(pose.meta.get("normalised_without_size"))
                        counts["no_hand_detected"] += not (pose.conf[:, HANDS] > 0).any()
                        counts["single_frame"] += len(frames) == 1
                        counts["outside_image"] += not estimated and pose.outside_image()
                except Exception as err:  # one bad sample must not stop the import ...
                    if isinstance(err, OSError) and err.errno == errno.ENOSPC or isinstance(err, MissingExtra):
                        raise  # ... but a full disk, or a reader that is not installed, does
                    reason = str(err) or type(err).__name__
                    log.debug("sample %s failed", src.id, exc_info=True)
            if reason is not None:
                skip = Skip(printable(src.id), printable(src.path), reason)
                if strict:
                    raise ImportFailed(f"{skip} (strict import: nothing written)")
                skipped.append(skip)
                log.warning("skipped %s", skip)
        if not writer.rows:
            raise ImportFailed(nothing_imported(sources, skipped, labels))
        listed = len(labels.entries) if labels else 0
        report = {"imported": len(writer.rows), "skipped": [dataclasses.asdict(s) for s in skipped],
                  "labelled_but_not_found": max(listed - len(matched), 0), **counts}
        writer.close(report)
    except BaseException:
        writer.abort()
        raise
    return report


def ambiguous_matches(sources: list[SampleSource], labels: LabelTable) -> dict[str, str]:
    """Samples that match a label entry only by their file name, where several samples share
    that name ('book/07069' and 'drink/07069' against '07069'): sample id -> reason."""
    by_key: dict[str, list[str]] = {}
    for src in sources:
        key = labels.match(src.id)
        if key is not None and key != src.id:
            by_key.setdefault(key, []).append(src.id)
    out = {}
    for key, ids in by_key.items():
        if len(ids) > 1:
            for i in ids:
                out[i] = (f"ambiguous: the label entry {key!r} matches {len(ids)} samples ({', '.join(ids[:3])}"
                          f"{', ...' if len(ids) > 3 else ''}); list them by their path under the import folder")
    return out


def nothing_imported(sources: list[SampleSource], skipped: list[Skip], labels: LabelTable | None) -> str:
    """Why an import found samples but kept none, in one message."""
    if labels is not None and all(s.reason == "not listed in the label files" for s in skipped):
        names = ", ".join(repr(k) for k in list(labels.entries)[:3])
        ids = ", ".join(repr(printable(s.id)) for s in sources[:3])
        return (f"0 of {len(sources)} samples matched the label files' names: label names look like {names}, "
                f"sample ids look like {ids} (ids are paths under the import folder, without extension)")
    reasons = Counter(s.reason for s in skipped).most_common(2)
    return (f"all {len(sources)} samples were skipped; most often: "
            + "; ".join(f"{r} ({n}x, e.g. {next(s.source for s in skipped if s.reason == r)})" for r, n in reasons))
