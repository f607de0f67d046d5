"""Checkpoints: written atomically, read back with weights_only (no arbitrary unpickling)."""
from __future__ import annotations

import json
import logging
import os
import pickle
import random
import shutil
from pathlib import Path

import numpy as np
import torch

from masa.files import atomic_open, read_jsonl

log = logging.getLogger(__name__)


class CheckpointError(ValueError):
    """A checkpoint that cannot be read (cut short, damaged, or not plain tensors)."""


def save(path: Path | str, state: dict, keep_previous: bool = False):
    """Write to a temporary file beside `path`, then rename: a crash never leaves half a file,
    and a failure (a full disk) leaves no temporary file. keep_previous: the file being
    replaced stays as PREVIOUS (last.pt -> last.previous.pt), a fallback if the new one is lost."""
    path = Path(path)
    with atomic_open(path, "wb") as f:
        torch.save(state, f)
        f.flush()
        os.fsync(f.fileno())  # on disk before it replaces the last good checkpoint
        if keep_previous and path.exists():
            os.replace(path, previous_of(path))


def previous_of(path: Path) -> Path:
    return path.with_name(f"{path.stem}.previous{path.suffix}")


def copy(src: Path | str, dst: Path | str):
    """Copy a written checkpoint under another name, atomically (no second serialisation)."""
    with open(src, "rb") as f, atomic_open(dst, "wb") as g:
        shutil.copyfileobj(f, g)


def load(path: Path | str, map_location="cpu") -> dict:
    """Load a checkpoint of tensors, numbers, strings and containers only; a damaged one raises
    CheckpointError naming it."""
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise
    except pickle.UnpicklingError as err:
        raise CheckpointError(f"{path}: refused: not a plain checkpoint of tensors ({str(err).splitlines()[0]})") from None
    except (RuntimeError, EOFError, ValueError, OSError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise CheckpointError(f"{path}: damaged or cut-short checkpoint ({reason})") from None


def last_of_run(out: Path | str, resume: bool) -> Path:
    """The run's resume checkpoint, refusing to overwrite a run or to resume a missing one."""
    last = Path(out) / "checkpoints" / "last.pt"
    if last.exists() and not resume:
        raise FileExistsError(f"{out} already holds a run; pass --resume to continue it or choose another --out")
    if resume and not any(p.exists() for p in resume_candidates(last)):
        raise FileNotFoundError(f"nothing to resume: {last} does not exist")
    return last


def resume_candidates(last: Path) -> list[Path]:
    """Where a run may resume from, newest first: last.pt, the one it replaced, then the
    kept epoch_NNNN.pt."""
    return [last, previous_of(last), *sorted(last.parent.glob("epoch_*.pt"), reverse=True)]


def load_for_resume(last: Path) -> tuple[dict, Path]:
    """The newest intact checkpoint of a run -> (state, its path); says so when it is not last.pt."""
    damaged = []
    for path in resume_candidates(last):
        if not path.exists():
            continue
        try:
            state = load(path)
        except CheckpointError as err:
            damaged.append(str(err))
            continue
        if damaged:
            log.warning("%s; resuming from %s, the newest intact checkpoint", "; ".join(damaged), path)
        return state, path
    raise CheckpointError("no intact checkpoint to resume from: " + "; ".join(damaged))


def truncate_metrics(path: Path, keep) -> list[dict]:
    """Drop the metric lines written after the checkpoint a run resumes from (`keep(row)` says
    which stay), so that a resumed run's metrics.jsonl has each step once; -> the rows kept."""
    rows = read_jsonl(path)
    kept = [row for row in rows if keep(row)]
    if len(kept) != len(rows):
        with atomic_open(path) as f:
            f.write("".join(json.dumps(row) + "\n" for row in kept))
    return kept


def rng_state(generator: torch.Generator | None = None) -> dict:
    state = {
        "python": list(random.getstate()[1]) + [random.getstate()[2] or 0],
        "python_version": random.getstate()[0],
        "numpy": np.random.get_state()[1].tolist() + [int(np.random.get_state()[2])],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    if generator is not None:
        state["generator"] = generator.get_state()
    return state


def set_rng_state(state: dict, generator: torch.Generator | None = None):
    py = state["python"]
    random.setstate((state["python_version"], tuple(py[:-1]), py[-1] or None))
    np_state = state["numpy"]
    np.random.set_state(("MT19937", np.array(np_state[:-1], dtype=np.uint32), np_state[-1]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    if generator is not None and "generator" in state:
        generator.set_state(state["generator"])
