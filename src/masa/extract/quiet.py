"""MediaPipe's C++ side and FFmpeg write set-up messages straight to file descriptor 2: they say
nothing a user can act on, and they break the progress bars."""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager

@contextmanager
def native_stderr_silenced():
    """Native writes to fd 2 go nowhere inside the block; Python exceptions still come through."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def silence_worker():
    """Initializer of extraction worker processes: their only output is the Outcome they return."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
