"""Checkpoints: written atomically, read back with weights_only (no arbitrary unpickling)."""
from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import numpy as np
import torch


def save(path: Path | str, state: dict):
    """Write to a temporary file beside `path`, then rename: a crash never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(state, tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def copy(src: Path | str, dst: Path | str):
    """Copy a written checkpoint under another name, atomically (no second serialisation)."""
    dst = Path(dst)
    tmp = dst.with_name(f".{dst.name}.tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def load(path: Path | str, map_location="cpu") -> dict:
    """Load a checkpoint of tensors, numbers, strings and containers only."""
    return torch.load(path, map_location=map_location, weights_only=True)


def last_of_run(out: Path | str, resume: bool) -> Path:
    """The run's resume checkpoint, refusing to overwrite a run or to resume a missing one."""
    last = Path(out) / "checkpoints" / "last.pt"
    if last.exists() and not resume:
        raise FileExistsError(f"{out} already holds a run; pass --resume to continue it or choose another --out")
    if resume and not last.exists():
        raise FileNotFoundError(f"nothing to resume: {last} does not exist")
    return last


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
