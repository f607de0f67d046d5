"""Progress of a training job, one epoch at a time, readable on a terminal and in a log file.

On a terminal: a bar over the epochs that stays on screen (epochs done of all, loss, accuracy,
ETA) above a passing bar over the current epoch's batches. Off a terminal (nohup, SLURM, CI,
`> log.txt`) bars would print nothing useful, so each epoch ends with one line:

    finetune epoch 3/30  loss 1.234  train top-1 45.2%  val top-1 40.0%  312 seq/s  elapsed 0:01:12  ETA 0:10:48
"""
from __future__ import annotations

import sys
import time
from typing import Iterable, TextIO

from tqdm import tqdm


def clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _value(name: str, v) -> str:
    if isinstance(v, float) and ("top-1" in name or "acc" in name):
        return f"{v:.1%}"
    return f"{v:.4g}" if isinstance(v, float) else str(v)


class EpochProgress:
    """`for batch in progress.batches(loader): ...` then `progress.end_epoch(epoch, {...}, samples)`."""

    def __init__(self, name: str, epochs: int, start_epoch: int = 0, enabled: bool = True, stream: TextIO | None = None):
        self.name, self.epochs, self.start_epoch, self.enabled = name, epochs, start_epoch, enabled
        self.stream = stream or sys.stderr
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.started = self.epoch_started = time.perf_counter()
        self.bar = tqdm(total=epochs, initial=start_epoch, desc=name, unit="epoch", leave=True,
                        file=self.stream, dynamic_ncols=True) if self.tty else None

    def batches(self, loader: Iterable, total: int | None = None) -> Iterable:
        self.epoch_started = time.perf_counter()
        if not self.tty:
            return loader
        return tqdm(loader, total=total, desc="  batches", leave=False, file=self.stream, dynamic_ncols=True)

    def end_epoch(self, epoch: int, values: dict, samples: int) -> str:
        """Report epoch `epoch` (0-based); returns the line (also when not shown)."""
        now = time.perf_counter()
        done = epoch + 1 - self.start_epoch
        eta = (now - self.started) / max(done, 1) * (self.epochs - epoch - 1)
        speed = samples / max(now - self.epoch_started, 1e-9)
        shown = "  ".join(f"{k} {_value(k, v)}" for k, v in values.items())
        line = (f"{self.name} epoch {epoch + 1}/{self.epochs}  {shown}  {speed:.0f} seq/s  "
                f"elapsed {clock(now - self.started)}  ETA {clock(eta)}")
        if self.bar is not None:
            self.bar.set_postfix_str(shown, refresh=False)
            self.bar.update(1)
        elif self.enabled:
            print(line, file=self.stream, flush=True)
        return line

    def close(self):
        if self.bar is not None:
            self.bar.close()
