"""Files and folders: written in full then renamed into place, JSON-lines files."""
from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


def temp_dir(parent: Path, name: str) -> Path:
    """A fresh hidden folder beside `parent / name`, with the permissions a plain mkdir would
    give (mkdtemp's are 0700 whatever the umask, which would hide stores from a team)."""
    path = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=parent))
    umask = os.umask(0)
    os.umask(umask)
    path.chmod(0o777 & ~umask)
    return path


def read_jsonl(path: Path) -> list[dict]:
    """The objects of a JSON-lines file (metrics.jsonl); [] when it does not exist."""
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@contextmanager
def atomic_open(path: Path, mode: str = "w"):
    """Write `path` whole or not at all: into a hidden temporary file beside it, renamed into
    place when the block ends without an error (a killed job never leaves half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, mode) as f:
            yield f
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
