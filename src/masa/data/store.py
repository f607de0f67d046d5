"""The packed pose store: every frame of every sample in one memory-mapped array.

    STORE/
      meta.json          format version, joints, channels, normalisation, class names, counts
      frames.f32         float32 (num_frames, 49, 3): x, y (256-unit boxes), raw confidence
      index.csv          id, offset, length, label (-1 = none), split, signer, source
      import_report.json what the import skipped and why

A sample is `frames[offset : offset + length]`, read without loading the rest. The memory
map is opened lazily in each process, so a store can be handed to DataLoader workers.
A store is written into a temporary folder and renamed into place only when complete.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from masa.files import temp_dir

from masa.skeleton import JOINT_NAMES, NUM_JOINTS

FORMAT = "masa-pose-store"
VERSION = 1
CHANNELS = ("x", "y", "conf")
INDEX_FIELDS = ("id", "offset", "length", "label", "split", "signer", "source")


class StoreError(ValueError):
    pass


@dataclass
class SampleInfo:
    id: str
    offset: int
    length: int
    label: int
    split: str
    signer: str
    source: str


def is_store(path: Path) -> bool:
    """Whether `path` holds a masa store (what --overwrite may replace)."""
    try:
        return json.loads((Path(path) / "meta.json").read_text()).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def checksum(path: Path) -> str:
    """Cheap integrity check of a store folder: CRC32 of index.csv, and of frames.f32's size
    and its first and last MiB (reading every frame would not be cheap)."""
    crc = zlib.crc32((path / "index.csv").read_bytes())
    frames = path / "frames.f32"
    size = frames.stat().st_size
    with open(frames, "rb") as f:
        crc = zlib.crc32(f.read(1 << 20), zlib.crc32(str(size).encode(), crc))
        f.seek(max(size - (1 << 20), 0))
        crc = zlib.crc32(f.read(), crc)
    return f"crc32:{crc:08x}"


class StoreWriter:
    """Append samples, then `close()` to publish the store atomically at `path`."""

    def __init__(self, path: Path | str, meta: dict, overwrite: bool = False):
        self.path = Path(path)
        if self.path.exists() and not overwrite:
            raise FileExistsError(f"{self.path} exists; choose another --out or pass --overwrite")
        if self.path.exists() and not (is_store(self.path) or (self.path.is_dir() and not any(self.path.iterdir()))):
            raise FileExistsError(f"{self.path} is not a masa pose store (no meta.json of format {FORMAT}): "
                                  "--overwrite only ever replaces a store; choose another --out")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = temp_dir(self.path.parent, self.path.name)
        self.meta = dict(meta)
        self.rows: list[SampleInfo] = []
        self.ids: set[str] = set()
        self.offset = 0
        self._frames = open(self.tmp / "frames.f32", "wb")

    def __contains__(self, sample_id: str) -> bool:
        return sample_id in self.ids

    def add(self, sample_id: str, frames: np.ndarray, label: int = -1, split: str = "", signer: str = "", source: str = ""):
        """frames (T, 49, 3) float32."""
        frames = np.ascontiguousarray(frames, dtype="<f4")
        if frames.ndim != 3 or frames.shape[1:] != (NUM_JOINTS, 3) or len(frames) == 0:
            raise StoreError(f"sample {sample_id}: frames of shape {frames.shape}, expected (T>0, {NUM_JOINTS}, 3)")
        if sample_id in self.ids:
            raise StoreError(f"duplicate sample id {sample_id!r}")
        self._frames.write(frames.tobytes())
        self.rows.append(SampleInfo(sample_id, self.offset, len(frames), int(label), split or "", signer or "", source))
        self.ids.add(sample_id)
        self.offset += len(frames)

    def close(self, report: dict | None = None) -> Path:
        self._frames.close()
        with open(self.tmp / "index.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(INDEX_FIELDS)
            for r in self.rows:
                w.writerow([r.id, r.offset, r.length, r.label, r.split, r.signer, r.source])
        meta = {
            "format": FORMAT, "version": VERSION, "joints": list(JOINT_NAMES), "channels": list(CHANNELS),
            "num_samples": len(self.rows), "num_frames": self.offset, **self.meta,
        }
        meta["checksum"] = checksum(self.tmp)
        (self.tmp / "meta.json").write_text(json.dumps(meta, indent=2))
        (self.tmp / "import_report.json").write_text(json.dumps(report or {}, indent=2))
        if self.path.exists():  # --overwrite: the old store goes only once the new one is whole
            old = self.path.with_name(f".{self.path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(self.path, old)
            os.replace(self.tmp, self.path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(self.tmp, self.path)
        return self.path

    def abort(self):
        try:
            self._frames.close()  # may fail again on a full disk; the folder goes anyway
        except OSError:
            pass
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)


class PoseStore:
    """Read access to one store: `store[i]` -> (frames (T, 49, 3) float32, label int)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        meta_file = self.path / "meta.json"
        if not meta_file.exists():
            raise StoreError(f"{self.path} is not a pose store (no meta.json); create one with `masa data import`")
        try:
            self.meta = json.loads(meta_file.read_text())
        except ValueError:
            self.meta = None
        if not isinstance(self.meta, dict):
            raise StoreError(f"{self.path}: damaged store: meta.json is not valid JSON; import it again")
        if self.meta.get("format") != FORMAT or self.meta.get("version") != VERSION:
            raise StoreError(f"{self.path}: unsupported store format {self.meta.get('format')} v{self.meta.get('version')}")
        try:
            self._read_index()
        except (OSError, ValueError, KeyError, TypeError) as err:
            what = f"{err.filename} is missing or unreadable" if isinstance(err, OSError) else err
            raise StoreError(f"{self.path}: damaged store: {what}; import it again (masa data import ... --overwrite)") from None
        self._frames = None
        self._pid = None

    def _read_index(self):
        """Read index.csv and check it against the metadata and the frames file's size."""
        meta = self.meta
        with open(self.path / "index.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        if len(rows) != int(meta["num_samples"]):
            raise ValueError(f"index.csv lists {len(rows)} samples, meta.json says {meta['num_samples']}")
        bad = next((n for n, r in enumerate(rows, start=2) if None in r.values() or None in r), None)
        if bad is not None or (rows and set(INDEX_FIELDS) - set(rows[0])):
            raise ValueError(f"index.csv is cut short or malformed (line {bad or 1})")
        self.ids = [r["id"] for r in rows]
        self.offsets = np.array([int(r["offset"]) for r in rows], np.int64)
        self.lengths = np.array([int(r["length"]) for r in rows], np.int64)
        self.labels = np.array([int(r["label"]) for r in rows], np.int64)
        self.splits = [r["split"] for r in rows]
        self.signers = [r["signer"] for r in rows]
        self.sources = [r["source"] for r in rows]
        self.classes: list[str] = list(meta.get("classes", []))
        num_frames = int(meta["num_frames"])
        ends = self.offsets + self.lengths
        outside = (self.lengths < 1) | (self.offsets < 0) | (ends > num_frames)
        if outside.any():
            i = int(np.flatnonzero(outside)[0])
            raise ValueError(f"sample {self.ids[i]!r} has frames {self.offsets[i]}..{ends[i]} outside the "
                             f"{num_frames} frames of frames.f32")
        if self.classes and (self.labels >= len(self.classes)).any():
            raise ValueError(f"a label is beyond the {len(self.classes)} classes of meta.json")
        expected = num_frames * NUM_JOINTS * len(CHANNELS) * 4
        size = (self.path / "frames.f32").stat().st_size
        if size != expected:
            raise ValueError(f"frames.f32 has {size} bytes, expected {expected}")
        if "checksum" in meta and checksum(self.path) != meta["checksum"]:  # last: the checks above say more
            raise ValueError("its files do not match the checksum in meta.json (changed since the import)")

    @property
    def frames(self) -> np.memmap:
        """All frames (num_frames, 49, 3), mapped on first use in each process."""
        if self._frames is None or self._pid != os.getpid():
            n = int(self.meta["num_frames"])
            if n == 0:  # an empty file cannot be mapped
                return np.zeros((0, NUM_JOINTS, len(CHANNELS)), "<f4")
            self._frames = np.memmap(self.path / "frames.f32", dtype="<f4", mode="r", shape=(n, NUM_JOINTS, len(CHANNELS)))
            self._pid = os.getpid()
        return self._frames

    def __getstate__(self):  # never pickle the map itself (that would copy the data)
        state = dict(self.__dict__)
        state["_frames"] = None
        return state

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        o, n = self.offsets[i], self.lengths[i]
        return np.array(self.frames[o : o + n]), int(self.labels[i])

    def info(self, i: int) -> SampleInfo:
        return SampleInfo(self.ids[i], int(self.offsets[i]), int(self.lengths[i]), int(self.labels[i]),
                          self.splits[i], self.signers[i], self.sources[i])

    def indices(self, split: str | None = None) -> np.ndarray:
        """Sample indices of one split (all when None)."""
        if split is None:
            return np.arange(len(self))
        return np.flatnonzero(np.asarray(self.splits) == split)

    def labelled(self, splits: str | tuple[str, ...] | list[str]) -> np.ndarray:
        """Indices of the labelled samples (label >= 0) in one split or several."""
        splits = [splits] if isinstance(splits, str) else list(splits)
        return np.flatnonzero(np.isin(np.asarray(self.splits), splits) & (self.labels >= 0))

    def find(self, sample_id: str) -> int:
        try:
            return self.ids.index(sample_id)
        except ValueError:
            raise KeyError(f"{self.path}: no sample {sample_id!r}") from None


class StoreSet:
    """Several stores read as one list of samples, optionally restricted to some splits
    (pre-training reads the train splits of all four benchmarks)."""

    def __init__(self, paths, splits: list[str] | None = None, exclude: list[str] | None = None):
        self.stores = [p if isinstance(p, PoseStore) else PoseStore(p) for p in paths]
        self.items: list[tuple[int, int]] = []
        for s, store in enumerate(self.stores):
            keep = [i for i in range(len(store))
                    if (not splits or store.splits[i] in splits) and not (exclude and store.splits[i] in exclude)]
            self.items += [(s, i) for i in keep]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, k: int) -> tuple[np.ndarray, int]:
        s, i = self.items[k]
        return self.stores[s][i]

    def lengths(self) -> np.ndarray:
        return np.array([self.stores[s].lengths[i] for s, i in self.items], np.int64)

    def id_of(self, k: int) -> str:
        """'store:sample id' of item k, for messages."""
        s, i = self.items[k]
        return f"{self.stores[s].path.name}:{self.stores[s].ids[i]}"
