"""The real-data tasks of the accuracy benchmark, built from `../shared/data`.

  wlasl100       WLASL100 MediaPipe-hands sample, official split (87 glosses, 389/80/73)
  asl-signers    hello / thanks / iloveyou (ASL) by the 8 webcam signers who recorded all three:
                 leave-signers-out, 5 signers train, 1 val, 2 test (fixed)
  granthgg       ISL letters and words, 32 classes, split within the repository 60/20/20
  divyashC       BSL, 15 words, likewise
  DimasWibowo    BISINDO, 13 words, likewise
Splits are drawn once with fixed seeds, so every run and every model sees the same ones.
`corpus_store` gathers the unlabelled pre-training corpus: every real pose in shared except
the test samples of these tasks.
"""
from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np

from masa.config import NormaliseConfig
from masa.data.ingest import import_samples
from masa.data.store import PoseStore, StoreWriter
from masa.poses import ImportOptions, find_samples
from masa.poses.labels import read_labels

WEBCAM = "webcam-mediapipe"
ASL_WORDS = ("hello", "thanks", "iloveyou")
WITHIN_REPO = {"granthgg": "granthgg+ISL-Sign-Language-Detection-Transformer",
               "divyashC": "divyashC+BSL-Word-Level",
               "DimasWibowo": "DimasWibowo+BISINDO-Sign-Language"}
TASKS = ("wlasl100", "asl-signers", *WITHIN_REPO)
WEBCAM_SIZE = (640.0, 480.0)  # SOURCE.md: unknown, usually 640x480


def _rows(data: Path) -> list[dict]:
    with open(data / WEBCAM / "holistic" / "labels.csv", newline="") as f:
        return list(csv.DictReader(f))


def asl_signers_split(rows: list[dict]) -> dict[str, str]:
    """signer -> split for the 8 signers with all three ASL words."""
    words: dict[str, set] = {}
    for r in rows:
        if r["label"] in ASL_WORDS:
            words.setdefault(r["signer"], set()).add(r["label"])
    signers = sorted(s for s, w in words.items() if w == set(ASL_WORDS))
    order = np.random.default_rng(0).permutation(len(signers))
    splits = ["test", "test", "val"] + ["train"] * (len(signers) - 3)
    return {signers[i]: splits[k] for k, i in enumerate(order)}


def within_repo_split(files: list[str], labels: list[str], seed: int = 0) -> list[str]:
    """60/20/20 train/val/test within each class, seeded."""
    rng = np.random.default_rng(seed)
    split = [""] * len(files)
    for label in sorted(set(labels)):
        idx = rng.permutation([i for i, lab in enumerate(labels) if lab == label])
        n_test, n_val = round(0.2 * len(idx)), round(0.2 * len(idx))
        for k, i in enumerate(idx):
            split[i] = "test" if k < n_test else "val" if k < n_test + n_val else "train"
    return split


def task_labels(task: str, data: Path) -> tuple[Path, list[tuple[str, str, str, str]]]:
    """-> (import root, rows (file relative to the root, label, split, signer))."""
    rows = _rows(data)
    root = data / WEBCAM / "holistic"
    if task == "asl-signers":
        split = asl_signers_split(rows)
        return root, [(r["file"], r["label"], split[r["signer"]], r["signer"]) for r in rows
                      if r["signer"] in split and r["label"] in ASL_WORDS]
    repo = WITHIN_REPO[task]
    mine = [r for r in rows if r["signer"] == repo]
    files = [r["file"].split("/", 1)[1] for r in mine]
    splits = within_repo_split(files, [r["label"] for r in mine])
    return root / repo, [(f, r["label"], s, repo) for f, r, s in zip(files, mine, splits)]


# Applied when samples are read, so one store serves every value; left out of the store's name,
# which keeps the stores named before it was added (the older read-time settings stay in).
READ_TIME = ("fill_gaps",)


def _key(norm: NormaliseConfig) -> str:
    settings = {k: v for k, v in dataclasses.asdict(norm).items() if k not in READ_TIME}
    return hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:8]


def task_store(task: str, data: Path, work: Path, norm: NormaliseConfig) -> Path:
    """Import one task (once per normalisation) and return its store."""
    out = work / f"{task}-{_key(norm)}"
    if (out / "meta.json").exists():
        return out
    if task == "wlasl100":
        src = data / "wlasl100-hands-devtushar"
        samples = find_samples(src / "landmarks", "mediapipe-hands", ImportOptions(image_size=(640.0, 480.0)))
        labels = read_labels([str(src / "nslt_100.json")])
    else:
        root, rows = task_labels(task, data)
        csv_path = work / f"{task}-labels.csv"
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        with open(csv_path, "w", newline="") as f:
            csv.writer(f).writerows([("file", "label", "split", "signer"), *rows])
        listed = {Path(r[0]).with_suffix("").as_posix() for r in rows}
        samples = (s for s in find_samples(root, "mediapipe-holistic", ImportOptions(image_size=WEBCAM_SIZE))
                   if s.id in listed)
        labels = read_labels([str(csv_path)])
    import_samples(samples, out, norm, labels, progress=False, meta={"importer": {"task": task}})
    return out


def _unlabelled(root: Path, fmt: str, out: Path, norm: NormaliseConfig, skip: set[str], options: ImportOptions) -> Path:
    if not (out / "meta.json").exists():
        import_samples((s for s in find_samples(root, fmt, options) if s.id not in skip), out, norm, progress=False)
    return out


def corpus_store(data: Path, work: Path, norm: NormaliseConfig, fraction: float = 1.0, seed: int = 0,
                 webcam: bool = True) -> Path | None:
    """All unlabelled real poses in shared but the tasks' test samples, as one store (a seeded
    `fraction` of them); None for fraction 0. webcam=False: WLASL100 and the .pose files only."""
    if fraction <= 0:
        return None
    key = _key(norm)
    out = work / (f"corpus-{key}-{fraction:g}" + ("" if webcam else "-small"))
    if (out / "meta.json").exists():
        return out
    test = set()
    for task in TASKS[1:]:
        root, rows = task_labels(task, data)
        prefix = root.relative_to(data / WEBCAM / "holistic").as_posix()
        test |= {Path(f"{prefix}/{r[0]}" if prefix != "." else r[0]).with_suffix("").as_posix()
                 for r in rows if r[2] == "test"}
    sources = [
        PoseStore(task_store("wlasl100", data, work, norm)),  # its non-test samples below
        PoseStore(_unlabelled(data / "pose-format-samples", "pose", work / f"posefiles-{key}", norm, set(), ImportOptions())),
    ]
    if webcam:
        sources += [
            PoseStore(_unlabelled(data / WEBCAM / "holistic", "mediapipe-holistic", work / f"holistic-{key}", norm, test,
                                  ImportOptions(image_size=WEBCAM_SIZE))),
            PoseStore(_unlabelled(data / WEBCAM / "hands", "mediapipe-hands", work / f"hands-{key}", norm, set(),
                                  ImportOptions(image_size=WEBCAM_SIZE))),
        ]
    items = [(s, i) for s in sources for i in range(len(s)) if s.splits[i] != "test"]
    rng = np.random.default_rng(seed)
    chosen = sorted(rng.permutation(len(items))[: int(round(fraction * len(items)))])
    writer = StoreWriter(out, {"normalise": dataclasses.asdict(norm), "classes": []})
    for k in chosen:
        store, i = items[k]
        writer.add(f"{store.path.name}/{store.ids[i]}", store[i][0], split="train", source=str(store.path))
    writer.close({"imported": len(chosen), "skipped": []})
    return out
