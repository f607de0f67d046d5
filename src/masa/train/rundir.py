"""A training run's folder, the same for pre-training and fine-tuning:

    RUN/
      config.json      the resolved settings (resume reads them back: masa.settings)
      run.json         what kind of run it is (pretrain | finetune) and what it started from: its data
                       and initial weights
      history.jsonl    settings changed on resume, one line per resume
      metrics.jsonl    one JSON line per logged step (pretrain) or epoch (finetune)
      tb/              TensorBoard events of the same numbers
      checkpoints/     last.pt (+ last.previous.pt), kept epoch_NNNN.pt

Only the main process writes (torchrun runs have one RunDir per process, all but one silent).
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from masa import config as cfgmod
from masa import settings
from masa.files import atomic_open, read_jsonl
from masa.train import checkpoint


class RunDir:
    def __init__(self, path: Path | str, cfg: cfgmod.Config, section: str, resume: bool, writer: bool = True):
        """Refuses to overwrite a run, to resume nothing, or to resume under settings that change
        the model or its data (masa.settings.resume_changes)."""
        self.path = Path(path)
        self.section = section
        self.resume = resume
        self.writer = writer
        self.last = checkpoint.last_of_run(self.path, resume)
        has_config = resume and (self.path / "config.json").exists()
        self.changes = settings.resume_changes(self.path, cfg, section) if has_config else {}
        self.metrics = self.path / "metrics.jsonl"
        self._tb = None
        self._started = time.perf_counter()
        self._elapsed_before = 0.0
        self.threads = 0

    def start(self, cfg: cfgmod.Config, started_on: dict, keep_row=None, tb_step: int | None = None, threads: int = 0):
        """Write config.json (a resume's changes go to history.jsonl first), cut metrics.jsonl back
        to the checkpoint being resumed (`keep_row(row)` says which lines stay) and open TensorBoard.
        `threads`: the CPU threads in use, recorded on every metrics line (the setting may say auto)."""
        self.threads = threads
        if not self.writer:
            return
        settings.record_resume(self.path, self.changes)
        if self.resume and keep_row is not None:
            rows = checkpoint.truncate_metrics(self.metrics, keep_row)
            self._elapsed_before = rows[-1].get("time", 0.0) if rows else 0.0
        self.path.mkdir(parents=True, exist_ok=True)
        with atomic_open(self.path / "config.json") as f:  # resume reads it back: never half-written
            f.write(cfgmod.dumps(cfg))
        if not self.resume or not (self.path / "run.json").exists():
            with atomic_open(self.path / "run.json") as f:
                json.dump({"kind": self.section, **started_on}, f, indent=2)
        from tensorboardX import SummaryWriter

        self._tb = SummaryWriter(str(self.path / "tb"), purge_step=tb_step if self.resume else None)

    def elapsed(self) -> float:
        """Training seconds so far, over every resume."""
        return self._elapsed_before + time.perf_counter() - self._started

    def log(self, row: dict, step: int, prefix: str):
        """Append a metrics line (with the elapsed time) and its TensorBoard scalars."""
        if not self.writer:
            return
        row = {**row, "time": round(self.elapsed(), 2), "threads": self.threads}
        with open(self.metrics, "a") as f:
            f.write(json.dumps(row) + "\n")
        for k, v in row.items():
            if k not in ("epoch", "step", "time", "threads") and isinstance(v, (int, float)):
                self._tb.add_scalar(f"{prefix}/{k}", v, step)

    def close(self):
        if self._tb is not None:
            self._tb.close()


def run_kind(path: Path | str) -> str | None:
    """'pretrain' or 'finetune' for a run folder (from run.json; runs written before it had one
    are told by their first metrics line), None for anything else."""
    path = Path(path)
    if (path / "run.json").exists():
        return json.loads((path / "run.json").read_text()).get("kind")
    rows = read_jsonl(path / "metrics.jsonl")[:1]
    return ("pretrain" if "step" in rows[0] else "finetune") if rows else None
