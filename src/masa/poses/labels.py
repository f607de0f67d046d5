"""Labels, splits and signers: a CSV, or the official split files of the benchmarks.

Every reader returns a `LabelTable`: per sample key an `Annotation`, and the class names
in class-index order. Keys are matched against a sample's id ('book/07069') and then its
last path component ('07069').

  CSV             file,label[,split][,signer] (header optional); file relative to the import root
  WLASL           nslt_{100,300,1000,2000}.json ({video_id: {subset, action: [class, start, end]}}),
                  class names from wlasl_class_list.txt beside it or --class-list;
                  WLASL_v0.3.json ([{gloss, instances: [{video_id, split, signer_id}]}]), --subset N
                  keeps the first N glosses
  MS-ASL          MSASL_{train,val,test}.json (+ MSASL_classes.json beside them); a clip's key is
                  '{split}_{index:05d}' (its position in the file); --subset N keeps labels < N
  NMFs-CSL,       list files, one sample a line: 'name label' or 'label/path' (the label is the
  SLR500, WLASL   prefix before '/', the key is the path without extension); the split comes from
  lists           'FILE:split' or from train/val/test in the file name
"""
from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

SPLITS = ("train", "val", "test")


class LabelError(ValueError):
    """A label file that cannot be read; the message names the file (and row)."""


@dataclass
class Annotation:
    label: int | None = None  # class index, None = unlabelled
    split: str | None = None
    signer: str | None = None


@dataclass
class LabelTable:
    entries: dict[str, Annotation] = field(default_factory=dict)
    classes: list[str] = field(default_factory=list)
    unknown: dict[str, str] = field(default_factory=dict)  # key -> label not among the classes

    def match(self, sample_id: str) -> str | None:
        """The key this sample is listed under: its id, else its last path component."""
        for key in (sample_id, sample_id.rsplit("/", 1)[-1]):
            if key in self.entries:
                return key
        return None

    def lookup(self, sample_id: str) -> Annotation | None:
        key = self.match(sample_id)
        return None if key is None else self.entries[key]

    def unknown_label(self, sample_id: str) -> str | None:
        for key in (sample_id, sample_id.rsplit("/", 1)[-1]):
            if key in self.unknown:
                return self.unknown[key]
        return None


def _split_of(path: Path, given: str | None) -> str | None:
    if given:
        return given
    name = path.name.lower()
    for split, words in (("train", ("train",)), ("val", ("val", "dev")), ("test", ("test",))):
        if any(w in name for w in words):
            return split
    return None


def _read_class_list(path: Path) -> list[str]:
    """'idx<TAB>gloss' or one gloss per line -> names in index order."""
    names = {}
    for i, line in enumerate(l for l in path.read_text().splitlines() if l.strip()):
        parts = line.split(maxsplit=1)
        if len(parts) == 2 and parts[0].isdigit():
            names[int(parts[0])] = parts[1].strip()
        else:
            names[i] = line.strip()
    return [names.get(i, str(i)) for i in range(max(names) + 1)] if names else []


def _name_classes(table: LabelTable, raw: dict[str, tuple[str, str | None, str | None]], classes: list[str] | None, numeric: bool):
    """raw {key: (label text, split, signer)} -> entries with class indices."""
    if classes is None:
        labels = {lab for lab, _, _ in raw.values()}
        if numeric:
            classes = [str(i) for i in range(max((int(l) for l in labels), default=-1) + 1)]
        else:
            classes = sorted(labels)
    index = {name: i for i, name in enumerate(classes)}
    for key, (lab, split, signer) in raw.items():
        if numeric:
            idx = int(lab)
            ok = 0 <= idx < len(classes)
        else:
            idx = index.get(lab, -1)
            ok = idx >= 0
        if ok:
            table.entries[key] = Annotation(idx, split, signer)
        else:
            table.unknown[key] = lab
    table.classes = classes
    return table


def read_csv(path: Path, classes: list[str] | None = None) -> LabelTable:
    raw, where = {}, {}
    with open(path, newline="", encoding="utf-8-sig") as f:  # -sig: a BOM is not part of the header
        rows = [(n, r) for n, r in enumerate(csv.reader(f), start=1) if r and any(c.strip() for c in r)]
    if rows and rows[0][1][0].strip().lower() == "file":
        rows = rows[1:]
    for n, row in rows:
        if len(row) < 2:
            raise LabelError(f"{path}: row {n} has {len(row)} column(s), expected file,label[,split][,signer]")
        key = Path(row[0].strip()).with_suffix("").as_posix()
        split = row[2].strip() or None if len(row) > 2 else None
        if split is not None and split not in SPLITS:
            raise LabelError(f"{path}: row {n} has split {split!r}, expected one of {SPLITS}")
        signer = row[3].strip() or None if len(row) > 3 else None
        entry = (row[1].strip(), split, signer)
        if key in raw and raw[key] != entry:
            raise LabelError(f"{path}: rows {where[key]} and {n} both list {key!r}, with different labels, "
                             f"splits or signers ({', '.join(map(str, raw[key]))} / {', '.join(map(str, entry))}); keep one")
        raw[key], where[key] = entry, n
    return _name_classes(LabelTable(), raw, classes, numeric=False)


def read_wlasl_nslt(path: Path, classes: list[str] | None = None) -> LabelTable:
    data = json.loads(path.read_text())
    if classes is None and (path.parent / "wlasl_class_list.txt").exists():
        classes = _read_class_list(path.parent / "wlasl_class_list.txt")
    raw = {vid: (str(v["action"][0]), v["subset"], None) for vid, v in data.items()}
    if classes is not None:  # the class list covers all 2000 glosses; nslt_N uses the first N
        used = max(int(lab) for lab, _, _ in raw.values()) + 1 if raw else 0
        classes = classes[: max(used, _subset_size(path) or used)]
    return _name_classes(LabelTable(), raw, classes, numeric=True)


def _subset_size(path: Path) -> int | None:
    m = re.search(r"nslt_(\d+)", path.name)
    return int(m.group(1)) if m else None


def read_wlasl_v03(path: Path, subset: int | None = None) -> LabelTable:
    glosses = json.loads(path.read_text())
    if subset:
        glosses = glosses[:subset]
    raw = {}
    for idx, entry in enumerate(glosses):
        for inst in entry["instances"]:
            signer = inst.get("signer_id")
            raw[str(inst["video_id"])] = (str(idx), inst.get("split"), None if signer is None else str(signer))
    return _name_classes(LabelTable(), raw, [g["gloss"] for g in glosses], numeric=True)


def read_msasl(paths: list[Path], subset: int | None = None) -> LabelTable:
    classes = None
    raw = {}
    for path in paths:
        cls_file = path.parent / "MSASL_classes.json"
        if classes is None and cls_file.exists():
            classes = json.loads(cls_file.read_text())
        split = _split_of(path, None)
        for i, clip in enumerate(json.loads(path.read_text())):
            if subset and clip["label"] >= subset:
                continue
            signer = clip.get("signer_id")
            raw[f"{split}_{i:05d}"] = (str(clip["label"]), split, None if signer is None else str(signer))
    if classes is not None and subset:
        classes = classes[:subset]
    return _name_classes(LabelTable(), raw, classes, numeric=True)


def read_list(path: Path, split: str | None = None, classes: list[str] | None = None) -> LabelTable:
    split = _split_of(path, split)
    raw = {}
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) >= 2:
            key, lab = Path(parts[0]).with_suffix("").as_posix(), parts[1]
        elif "/" in line:
            key, lab = Path(line).with_suffix("").as_posix(), line.split("/", 1)[0]
        else:
            raise LabelError(f"{path}: line {n} is neither 'name label' nor 'label/name': {line!r}")
        if not lab.lstrip("-").isdigit():
            raise LabelError(f"{path}: line {n} has a non-integer label {lab!r}")
        raw[key] = (str(int(lab)), split, None)
    return _name_classes(LabelTable(), raw, classes, numeric=True)


def merge(tables: list[LabelTable]) -> LabelTable:
    """Several label files of one dataset (a train list and a test list, say) -> one table."""
    out = LabelTable()
    for t in tables:
        if len(t.classes) > len(out.classes):
            if out.classes and t.classes[: len(out.classes)] != out.classes:
                raise LabelError("the label files disagree on the class names")
            out.classes = t.classes
        out.entries.update(t.entries)
        out.unknown.update(t.unknown)
    return out


def read_labels(specs: list[str], class_list: Path | None = None, subset: int | None = None) -> LabelTable:
    """Read label files given as 'PATH' or 'PATH:split', choosing the reader by file name.
    Any file that cannot be read raises LabelError naming it."""
    classes = _guarded(class_list, "class list", lambda: _read_class_list(class_list)) if class_list else None
    tables, msasl = [], []
    for spec in specs:
        path_text, _, split = spec.partition(":") if not Path(spec).exists() else (spec, "", "")
        path = Path(path_text)
        if not path.exists():
            raise LabelError(f"label file {path} does not exist")
        name = path.name.lower()
        if name.endswith(".csv"):
            tables.append(_guarded(path, "CSV label", lambda: read_csv(path, classes)))
        elif name.startswith("nslt_") and name.endswith(".json"):
            tables.append(_guarded(path, "WLASL nslt", lambda: read_wlasl_nslt(path, classes)))
        elif name.startswith("wlasl_v") and name.endswith(".json"):
            tables.append(_guarded(path, "WLASL_v0.3", lambda: read_wlasl_v03(path, subset)))
        elif name.startswith("msasl_") and name.endswith(".json"):
            msasl.append(path)
        elif name.endswith(".txt"):
            tables.append(_guarded(path, "list", lambda: read_list(path, split or None, classes)))
        else:
            raise LabelError(f"{path}: unknown label file (expected .csv, nslt_N.json, WLASL_v0.3.json, MSASL_*.json or a .txt list)")
    if msasl:
        tables.append(_guarded(", ".join(map(str, msasl)), "MS-ASL", lambda: read_msasl(msasl, subset)))
    return merge(tables)


def _guarded(path, kind: str, read):
    """read(), with any failure turned into one LabelError that names the file(s) `path`."""
    try:
        return read()
    except LabelError:
        raise
    except UnicodeDecodeError:
        raise LabelError(f"{path}: not a text file (is it binary?); expected a {kind} file") from None
    except json.JSONDecodeError as err:
        raise LabelError(f"{path}: not valid JSON ({err}); expected a {kind} file") from None
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as err:
        what = f"missing field {err}" if isinstance(err, KeyError) else str(err) or type(err).__name__
        raise LabelError(f"{path}: not a valid {kind} file ({what})") from None
    except OSError as err:
        raise LabelError(f"{path}: cannot be read ({err.strerror or err})") from None
