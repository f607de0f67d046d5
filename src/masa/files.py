"""Folders that are written in full, then renamed into place."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def temp_dir(parent: Path, name: str) -> Path:
    """A fresh hidden folder beside `parent / name`, with the permissions a plain mkdir would
    give (mkdtemp's are 0700 whatever the umask, which would hide stores from a team)."""
    path = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=parent))
    umask = os.umask(0)
    os.umask(umask)
    path.chmod(0o777 & ~umask)
    return path
